// plugwatch-control's editor config → typed config (the ranges are lib/control.ts's).
import { checkControllerOptions, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS } from "../../lib/control";
import { ConfigError } from "../shared/kit";
import type { PlugwatchControlNodeDef } from "./types";

export interface ControlConfig {
  registry: string;
  account: string | undefined;
  concurrency: number;
  timeoutMs: number;
}

const numberOr = (v: unknown, fallback: number): number => (v === undefined || v === null || v === "" ? fallback : Number(v));

export function parseControlConfig(def: PlugwatchControlNodeDef): ControlConfig {
  const concurrency = numberOr(def.concurrency, DEFAULT_CONCURRENCY);
  const timeoutMs = numberOr(def.timeout, DEFAULT_TIMEOUT_MS);
  const problem = checkControllerOptions(concurrency, timeoutMs);
  if (problem) throw new ConfigError(problem);
  return { registry: def.registry, account: def.account || undefined, concurrency, timeoutMs };
}
