// What one answered query means for the query node: its metric result, its status line, and the error Catch nodes hear.
import { PlugwatchError, type ErrorCode } from "../contracts/errors";
import type { QueryReply } from "../contracts/query";

/** Codes that mean this node or its storage is failing (Catch nodes hear them), not that the client asked wrongly. */
export const SERVER_SIDE: ReadonlySet<string> = new Set<ErrorCode>(["STORAGE_UNAVAILABLE", "TIMEOUT", "INTERNAL", "REGISTRY_INVALID", "TARIFF_INVALID"]);

export interface QueryOutcome {
  /** "ok" or the error code (metrics label). */
  result: string;
  kind: "ok" | "warn" | "error";
  text: string;
  /** For done(): only server-side failures. */
  error?: PlugwatchError;
}

/** The outcome of a `type` query answered with `reply` after `ms` ms. */
export function queryOutcome(type: string, reply: Pick<QueryReply, "ok" | "error">, ms: number): QueryOutcome {
  if (reply.ok) return { result: "ok", kind: "ok", text: `${type} ${ms} ms` };
  const code = reply.error?.code;
  const text = `${type}: ${code ?? "error"}`;
  if (code && SERVER_SIDE.has(code)) return { result: code, kind: "error", text, error: new PlugwatchError(code, reply.error?.message ?? code) };
  return { result: code ?? "error", kind: "warn", text };
}
