// What the API does with an MQTT message on one of its subscriptions: a reply to correlate, or state to ingest.
import type { ApiService } from "./service";
import type { ApiState } from "./state";

/** A message that was not used, as a warning: a rate-limit key, its kind and the figures for the text. */
export interface InboxWarning {
  key: string;
  kind: "bad-reply" | "bad-message" | "overflow";
  subs: Record<string, string | number>;
}

/** Handles `payload` received on `topic` through the subscription `subscribed`; returns a warning when it was not used. */
export function apiInbox(service: Pick<ApiService, "onReply">, state: ApiState, replyTopic: string) {
  return (subscribed: string, topic: string, payload: unknown): InboxWarning | undefined => {
    if (subscribed === replyTopic) return service.onReply(payload) === "invalid" ? { key: "reply", kind: "bad-reply", subs: { topic } } : undefined;
    const result = state.ingest(topic, payload);
    if (result === "invalid") return { key: `invalid:${subscribed}`, kind: "bad-message", subs: { topic } };
    if (result !== "overflow") return undefined;
    return { key: "overflow", kind: "overflow", subs: { topic, devices: state.overflow, alerts: state.alertOverflow, components: state.statusOverflow } };
  };
}
