// Types of the plugwatch-ha-discovery node: what the editor saves, the runtime instance, and the broker's subscribe with the packet.
import type { Node, NodeDef } from "node-red";
import type { MqttBrokerNode } from "../plugwatch-http-api/types";

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

/** The core mqtt-broker node hands the MQTT packet (with its retain flag) to subscribers as the third argument. */
export type BrokerWithPacket = Omit<MqttBrokerNode, "subscribe"> & {
  subscribe(topic: string, options: { qos: 0 | 1 | 2 }, callback: (topic: string, payload: Buffer, packet?: { retain?: boolean }) => void, ref: string): void;
};
