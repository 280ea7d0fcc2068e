// settings.js plugwatch.httpServer limits applied to Node-RED's shared HTTP server, logged through the node that applies them.
import type { Node, NodeAPI } from "node-red";
import { applyHttpLimits, parseHttpLimits } from "../../lib/http-limits";
import type { NodeKit } from "./kit";

/**
 * Closes idle and trickling sockets on the shared server (logged once as `log.httpLimits`). The idle timer also runs
 * while a request waits for a reply, so an idle timeout not above `requestTimeoutMs` is warned about (`errors.idleBelowTimeout`).
 */
export function applyServerLimits(RED: NodeAPI, node: Node, kit: NodeKit, requestTimeoutMs: number): void {
  const limits = parseHttpLimits(RED.settings);
  if (!limits) return;
  if (RED.server && applyHttpLimits(RED.server, limits)) node.log(kit.t("log.httpLimits", { ...limits }));
  if (limits.idleTimeoutMs > 0 && limits.idleTimeoutMs <= requestTimeoutMs)
    node.warn(kit.t("errors.idleBelowTimeout", { idle: limits.idleTimeoutMs, timeout: requestTimeoutMs }));
}
