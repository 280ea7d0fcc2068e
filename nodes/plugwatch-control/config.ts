// plugwatch-control's editor config → typed config (the ranges are lib/control.ts's).
import { DEFAULT_QUEUE_MAX, QUEUE_LIMITS } from "../../lib/command-queue";
import { checkControllerOptions, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS } from "../../lib/control";
import { DEFAULT_QUEUE_RETRY_MS, QUEUE_RETRY_LIMITS } from "../../lib/queued-control";
import { ConfigError } from "../shared/kit";
import type { PlugwatchControlNodeDef } from "./types";

export interface ControlConfig {
  registry: string;
  account: string | undefined;
  concurrency: number;
  timeoutMs: number;
  /** Most device commands waiting for offline plugs. */
  queueSize: number;
  /** Pause between delivery rounds of waiting commands, ms. */
  queueRetryMs: number;
}

const numberOr = (v: unknown, fallback: number): number => (v === undefined || v === null || v === "" ? fallback : Number(v));

export function parseControlConfig(def: PlugwatchControlNodeDef): ControlConfig {
  const concurrency = numberOr(def.concurrency, DEFAULT_CONCURRENCY);
  const timeoutMs = numberOr(def.timeout, DEFAULT_TIMEOUT_MS);
  const problem = checkControllerOptions(concurrency, timeoutMs);
  if (problem) throw new ConfigError(problem);
  const queueSize = numberOr(def.queueSize, DEFAULT_QUEUE_MAX);
  if (!Number.isInteger(queueSize) || queueSize < QUEUE_LIMITS.max.min || queueSize > QUEUE_LIMITS.max.max) {
    throw new ConfigError(`queue size must be an integer from ${QUEUE_LIMITS.max.min} to ${QUEUE_LIMITS.max.max} (got ${String(def.queueSize)})`);
  }
  const queueRetryMs = Math.round(numberOr(def.queueRetry, DEFAULT_QUEUE_RETRY_MS / 1000) * 1000);
  if (!Number.isFinite(queueRetryMs) || queueRetryMs < QUEUE_RETRY_LIMITS.min || queueRetryMs > QUEUE_RETRY_LIMITS.max) {
    throw new ConfigError(`queue retry must be from 0.1 to 3600 s (got ${String(def.queueRetry)})`);
  }
  return { registry: def.registry, account: def.account || undefined, concurrency, timeoutMs, queueSize, queueRetryMs };
}
