// Types of the plugwatch-scheduler node: what the editor saves and the runtime instance.
import type { Node, NodeDef } from "node-red";

export interface PlugwatchSchedulerNodeDef extends NodeDef {
  /** Id of the plugwatch-registry config node. */
  registry: string;
  /** Id of the plugwatch-schedule config node. */
  schedule: string;
  /** Id of a plugwatch-tariff config node pricing the savings (empty: the schedule document's flat price, if any). */
  tariff?: string;
  /** MQTT topic root (default plugwatch). */
  root: string;
  /** "system": the node's own timer; "input": time comes from msg.topic "clock" messages (simulations, replays). */
  clock: "system" | "input";
  /** Seconds between two checks with the system clock (editor saves a number or a numeric string). */
  tick: number | string;
}

export type PlugwatchSchedulerNode = Node;
