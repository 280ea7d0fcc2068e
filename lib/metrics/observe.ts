// What the node adapters call when something happens: one line per event, no prom-client import in the nodes.
import { matchRoute } from "../api/spec";
import { apiDuration, apiRequests, pollDuration, queryDuration, queryRequests, seconds, writeDuration } from "./registry";

/** A successful poll of `collector` that took `ms`. */
export function observePoll(collector: string, ms: number): void {
  pollDuration.observe({ collector }, seconds(ms));
}

/** A write request of `hook` that took `ms`. */
export function observeWrite(hook: string, ms: number, ok: boolean): void {
  writeDuration.observe({ hook, result: ok ? "ok" : "error" }, seconds(ms));
}

/** A query of `kind` answered in `ms` with `outcome` ("ok" or its error code). */
export function observeQuery(kind: string, outcome: string, ms: number): void {
  queryRequests.inc({ kind, outcome });
  queryDuration.observe({ kind }, seconds(ms));
}

/** An API request: the route is its operationId (bounded, never the raw path), "unmatched" for unknown paths. */
export function observeApiRequest(status: number, ms: number, req: { method: string; path: string }): void {
  const m = matchRoute(req.method, req.path);
  const route = m && "op" in m ? m.op.id : "unmatched";
  apiRequests.inc({ route, status: String(status) });
  apiDuration.observe({ route }, seconds(ms));
}

/** Drops the duration series of a removed node (its counters go with its hub entry). */
export function forgetCollector(collector: string): void {
  pollDuration.remove({ collector });
}
export function forgetHook(hook: string): void {
  writeDuration.remove({ hook, result: "ok" });
  writeDuration.remove({ hook, result: "error" });
}
