// What plugwatch-control does with a controller's answer: the reply message, its status, and who hears about failures.
import type { ErrorCode } from "./contracts/errors";
import { PlugwatchError } from "./contracts/errors";
import type { HandleResult } from "./control";
import { auditTopic } from "./contracts/command";
import { requestRoot } from "./contracts/reply-topic";
import { DEFAULT_ROOT } from "./topics";

/** Reply errors caused by this side (not by the request): the reply is still sent, and Catch nodes hear about it. */
const SERVER_ERRORS = new Set<ErrorCode>(["REGISTRY_INVALID", "INTERNAL"]);

/**
 * The reply message for request `msg`: the request's properties, the reply as payload, QoS 1, never retained.
 * With replyTo it is the topic; without, the request topic is dropped (an mqtt out would publish the reply as a new
 * request), and an MQTT v5 request keeps msg.responseTopic/correlationData, which mqtt out uses when topic is unset.
 */
export interface ReplyMessage {
  [key: string]: unknown;
  payload: HandleResult["reply"];
  topic?: string;
  qos: 1;
  retain: false;
}

/**
 * Whether the reply is sent at all: a request from MQTT (mqtt in sets msg.qos) without any reply topic (replyTo or an
 * MQTT v5 response topic) is run but not answered, so nothing without a topic reaches an mqtt out node; from elsewhere
 * (inject, dashboard) the reply goes out without topic.
 */
export function shouldReply(msg: Readonly<Record<string, unknown>>, result: HandleResult): boolean {
  return result.replyTo !== undefined || msg.responseTopic !== undefined || typeof msg.qos !== "number";
}

/** The audit message of a switching action on {root}/audit/command (root from the request topic), or undefined. */
export function auditMessage(requestTopic: unknown, result: HandleResult): { topic: string; payload: unknown; qos: 1; retain: false } | undefined {
  if (!result.audit) return undefined;
  return { topic: auditTopic(requestRoot(requestTopic) ?? DEFAULT_ROOT), payload: result.audit, qos: 1, retain: false };
}

export function replyMessage(msg: Readonly<Record<string, unknown>>, result: HandleResult): ReplyMessage {
  const out: ReplyMessage = { ...msg, payload: result.reply, qos: 1, retain: false };
  delete out.topic;
  if (result.replyTo !== undefined) {
    out.topic = result.replyTo;
    delete out.responseTopic;
  }
  return out;
}

/** How a reply is reported: status kind and figures, an error for Catch nodes, a warning (key + text) for the log. */
export interface ReplyOutcome {
  ok: boolean;
  /** The error code (request refused as a whole) or the count of devices that succeeded. */
  summary: { verb: string; code?: ErrorCode; ok?: number; total?: number };
  catchError?: PlugwatchError;
  warning?: { kind: "refused" | "failed"; key: string; id: string; verb: string; detail: string };
}

export function replyOutcome(result: HandleResult): ReplyOutcome {
  const { reply } = result;
  const verb = result.action ?? "command";
  if (reply.error) {
    const { code, message, details } = reply.error;
    if (SERVER_ERRORS.has(code)) return { ok: false, summary: { verb, code }, catchError: new PlugwatchError(code, message, details) };
    return { ok: false, summary: { verb, code }, warning: { kind: "refused", key: code, id: reply.id, verb, detail: `${code}: ${message}` } };
  }
  const okCount = reply.results.filter((r) => r.ok).length;
  const summary = { verb, ok: okCount, total: reply.results.length };
  if (reply.ok) return { ok: true, summary };
  const failed = reply.results.filter((r) => !r.ok);
  const codes = [...new Set(failed.map((r) => r.error?.code ?? "INTERNAL"))].sort().join(",");
  const detail = failed.map((r) => `${r.device} (${r.error?.code ?? "?"}: ${r.error?.message ?? ""})`).join(", ");
  return { ok: false, summary, warning: { kind: "failed", key: `results:${codes}`, id: reply.id, verb, detail } };
}
