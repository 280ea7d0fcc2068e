// plugwatch-mqtt: what the editor saves, its credentials, and the runtime node (the core mqtt-broker's interface).
import type { NodeDef } from "node-red";
import type { MqttBrokerNode } from "../plugwatch-http-api/types";

/** What the editor saves (numbers may be saved as typed strings). */
export interface PlugwatchMqttNodeDef extends NodeDef {
  /** Host name or address of the broker. */
  broker: string;
  port: number | string;
  usetls: boolean;
  /** Id of a core `tls-config` node (CA, client certificate, verification); optional with TLS. */
  tls?: string;
  /** Empty: a generated `plugwatch_<random>` id. */
  clientid: string;
  /** Keep-alive, s. */
  keepalive: number | string;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5. */
  protocolVersion: number | string;
}

export interface PlugwatchMqttCredentials {
  user?: string;
  password?: string;
}

/** The runtime node: usable wherever a core `mqtt-broker` node is (register/subscribe/publish/deregister). */
export interface PlugwatchMqttNode extends MqttBrokerNode {
  credentials: PlugwatchMqttCredentials;
}

/** The core `tls-config` node's public method, as contrib nodes use it. */
export interface TlsConfigNode {
  addTLSOptions(options: Record<string, unknown>): void;
}
