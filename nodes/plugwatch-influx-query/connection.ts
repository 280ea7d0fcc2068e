// The query node's own MQTT route (optional): requests from a plugwatch-mqtt connection (TCP_NODELAY) instead of an
// mqtt-in wire, and replies published on it instead of sent to an mqtt-out wire. docs/mqtt-connection.md.
import type { Node } from "node-red";
import type { MqttBrokerNode } from "../plugwatch-http-api/types";
import { subscribeAll } from "../shared/broker";
import type { NodeKit, Send } from "../shared/kit";

/** Where replies go: the wire's `send`, or the connection (QoS 1, not retained) when one is selected. */
export interface QueryRoute {
  reply(send: Send): Send;
  /** Unsubscribes and deregisters (close). */
  release(removed: boolean): Promise<void>;
}

/** Subscribes `node` to `topic` on the connection (each request reaches the node's input) and publishes its replies there. */
export function queryRoute(node: Node, kit: NodeKit, connection: MqttBrokerNode | undefined, topic: string): QueryRoute {
  if (!connection) return { reply: (send) => send, release: () => Promise.resolve() };
  // The node's status shows its queries; the connection's state is in /metrics and the broker self-alert.
  const user = { id: `${node.id}:connection`, status: () => undefined };
  const release = subscribeAll(connection, user, [topic], (_sub, t, payload) => node.receive({ topic: t, payload }));
  const publish: Send = (msg) => {
    const m = Array.isArray(msg) ? undefined : msg;
    if (!m || typeof m.topic !== "string") return;
    const payload = typeof m.payload === "string" ? m.payload : JSON.stringify(m.payload);
    connection.publish({ topic: m.topic, payload, qos: 1, retain: false }, (err) => {
      if (err) kit.warnLimited("reply-publish", kit.t("errors.replyPublish", { message: err instanceof Error ? err.message : String(err) }));
    });
  };
  return { reply: () => publish, release };
}
