// Types of the plugwatch-collector node: what the editor saves and the runtime instance.
import type { Node, NodeDef } from "node-red";

/** What the editor saves (numbers may arrive as strings from older or hand-written flows). */
export interface PlugwatchCollectorNodeDef extends NodeDef {
  /** Id of the plugwatch-registry config node. */
  registry: string;
  /** Id of the plugwatch-tplink-account config node (KLAP/Tapo plugs); empty = blank credentials. */
  account?: string;
  /** Id of a core mqtt-broker config node: when set, the collector publishes itself through a durable outbox. */
  broker?: string;
  /** Outbox cap in MB (default 64). */
  outboxSize?: number | string;
  /** MQTT topic root, default "plugwatch". */
  root: string;
  /** Device filter; empty = all. */
  kind: string;
  building: string;
  floor: string;
  room: string;
  /** Poll interval in s (min 0.2). */
  interval: number | string;
  /** Per-request socket timeout in ms. */
  timeout: number | string;
  /** Maximum polls in flight. */
  concurrency: number | string;
  /** Consecutive failed polls before a plug is reported offline. */
  offlineAfter: number | string;
}

export type PlugwatchCollectorNode = Node;
