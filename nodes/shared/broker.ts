// The core mqtt-broker config node as lib/api's BrokerPort: connected(), and publish() as a promise.
import type { BrokerPort } from "../../lib/api/service";
import type { OutboxMessage, OutboxPort } from "../../lib/outbox";
import type { BrokerUser, MqttBrokerNode } from "../plugwatch-http-api/types";

/** Publishes at QoS 1, not retained; rejects with `notConnected()` while the broker is down (or none is selected). */
export function brokerPort(broker: MqttBrokerNode | undefined, notConnected: () => string): BrokerPort {
  return {
    connected: () => broker?.connected === true,
    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) => {
        if (!broker?.connected) return reject(new Error(notConnected()));
        broker.publish({ topic, payload, qos: 1, retain: false }, (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
      }),
  };
}

/**
 * Registers with the broker node as one of its users, the interface mqtt in/out use (register/deregister, and the
 * broker calls the user's `status` on every connect/disconnect). A separate user object, so the broker's
 * "connected" status does not overwrite the node's own; `onConnected` runs on every (re)connect.
 */
export function brokerUser(broker: MqttBrokerNode, id: string, onConnected: () => void): { release(removed: boolean): Promise<void> } {
  const user: BrokerUser = {
    id,
    status: (s) => {
      if (s.fill === "green" && broker.connected) onConnected();
    },
  };
  broker.register(user);
  return {
    release: (removed) => new Promise<void>((resolve) => broker.deregister(user, resolve, removed)),
  };
}

/**
 * The broker node as the collector outbox's port. The core node drops a publish silently (its callback is never
 * called) when the connection is down, so a publish that is not acknowledged within `timeoutMs` is a failure: the
 * outbox keeps the message and replays it after the next connect (at least once; readings are idempotent).
 */
export function outboxPort(broker: MqttBrokerNode, timeoutMs = 10_000): OutboxPort {
  return {
    connected: () => broker.connected === true,
    publish: (m: OutboxMessage) =>
      new Promise<void>((resolve, reject) => {
        if (!broker.connected) return reject(new Error("not connected"));
        const timer = setTimeout(() => reject(new Error(`no PUBACK within ${timeoutMs} ms`)), timeoutMs);
        const payload = typeof m.payload === "string" ? m.payload : JSON.stringify(m.payload);
        broker.publish({ topic: m.topic, payload, qos: m.qos, retain: m.retain }, (err) => {
          clearTimeout(timer);
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else resolve();
        });
      }),
  };
}

/**
 * Registers `node` with the broker node and subscribes it to `topics` (QoS 1), the way mqtt-in does. The returned
 * function unsubscribes and deregisters: `own` topics always drop their client subscription, the others follow
 * mqtt-in's rule (only when the node is removed).
 */
export function subscribeAll(
  broker: MqttBrokerNode,
  node: BrokerUser,
  topics: readonly string[],
  onMessage: (subscription: string, topic: string, payload: Buffer) => void,
  own: ReadonlySet<string> = new Set(),
): (removed: boolean) => Promise<void> {
  broker.register(node);
  for (const t of topics) broker.subscribe(t, { qos: 1 }, (topic, payload) => onMessage(t, topic, payload), node.id);
  return (removed) => {
    for (const t of topics) broker.unsubscribe(t, node.id, own.has(t) ? true : removed);
    return new Promise<void>((resolve) => broker.deregister(node, resolve, removed));
  };
}
