// Types of the plugwatch-ha-discovery node: what the editor saves, the runtime instance.
import type { Node, NodeDef } from "node-red";

export interface PlugwatchHaDiscoveryNodeDef extends NodeDef {
  /** Id of the core mqtt-broker config node. */
  broker: string;
  /** Id of the plugwatch-registry config node. */
  registry: string;
  /** Plugwatch's topic root (readings, availability, commands). */
  root: string;
  /** Home Assistant's discovery prefix. */
  prefix: string;
  /** node_id level of the config topics and prefix of unique_id. */
  nodeId: string;
}

export type PlugwatchHaDiscoveryNode = Node;
