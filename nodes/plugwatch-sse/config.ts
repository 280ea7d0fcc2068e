// plugwatch-sse's editor config → typed options, with the limits checked (numbers may arrive as substituted text).
import { ConfigError } from "../shared/kit";
import type { PlugwatchSseNodeDef } from "./types";

export interface SseConfig {
  path: string;
  event: string | undefined;
  maxClients: number;
  heartbeatMs: number;
  historySize: number;
}

/** Reconnect delay the browser is told (ms). */
export const SSE_RETRY_MS = 2000;

function integer(name: string, v: string | number | undefined, fallback: number, min: number, max: number): number {
  const text = String(v ?? "").trim();
  if (text === "") return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, not '${text}'`);
  return n;
}

export function parseSseConfig(def: PlugwatchSseNodeDef): SseConfig {
  const path = (def.path ?? "").trim();
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(path) || path.includes("//") || path.length > 200)
    throw new ConfigError(`path must start with '/' and hold only letters, digits and . _ ~ - /, not '${path}'`);
  const event = (def.event ?? "").trim();
  if (event && !/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(event)) throw new ConfigError(`event type must be a word (letters, digits, _ or -), not '${event}'`);
  return {
    path: path.length > 1 ? path.replace(/\/$/, "") : path,
    event: event || undefined,
    maxClients: integer("maxClients", def.maxClients, 50, 1, 10_000),
    heartbeatMs: integer("heartbeatS", def.heartbeatS, 15, 0, 3600) * 1000,
    historySize: integer("history", def.history, 256, 0, 100_000),
  };
}
