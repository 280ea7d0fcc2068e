// Alert events → MQTT publish messages: raised is retained; cleared is sent once, then a retained "" deletes the slot.
import type { AlertEvent } from "../contracts/alert";
import { alertTopic } from "../topics";

// A type alias (not an interface) so it is assignable to Node-RED's indexable NodeMessage.
export type AlertMessage = {
  topic: string;
  /** The event, or "" for the zero-length retained publish that deletes the retained alert. */
  payload: AlertEvent | "";
  qos: 1;
  retain: boolean;
};

/**
 * The messages for an `mqtt out` node (topic/QoS/retain left empty there): a raised event is published retained on
 * {root}/alerts/{device}/{rule}; a cleared event is published once without retain, then an empty retained message
 * removes the retained raised event, so a late subscriber sees exactly the active alerts.
 */
export function alertMessages(root: string, events: readonly AlertEvent[]): AlertMessage[] {
  const out: AlertMessage[] = [];
  for (const e of events) {
    const topic = alertTopic(root, e.device, e.rule);
    if (e.state === "raised") out.push({ topic, payload: e, qos: 1, retain: true });
    else out.push({ topic, payload: e, qos: 1, retain: false }, { topic, payload: "", qos: 1, retain: true });
  }
  return out;
}
