// Types of the plugwatch-http-api node and of the core mqtt-broker config node API it uses (register/subscribe/publish/deregister).
import type { Node, NodeDef, NodeStatus } from "node-red";

/** Auth mode: bearer tokens from the node's credentials, or none (when httpNodeAuth or a reverse proxy guards the API). */
export type HttpApiAuthMode = "tokens" | "none";

/** What the editor saves. */
export interface PlugwatchHttpApiNodeDef extends NodeDef {
  version?: number;
  broker: string;
  /** id of a plugwatch-mqtt connection (TCP_NODELAY) used instead of `broker` when set ('' or absent = `broker`). */
  connection?: string;
  registry: string;
  root: string;
  basePath: string;
  /** Reply timeout in ms (string when typed in older editors). */
  timeoutMs: number | string;
  inactiveAfterDays: number | string;
  historySize: number | string;
  auth: HttpApiAuthMode;
  openHealth: boolean;
  openSpec: boolean;
}

export interface PlugwatchHttpApiCredentials {
  /** JSON `[{"token":"…","scopes":["read","control"]}]` or lines `TOKEN read,control`. */
  tokens?: string;
  /** Bearer token for GET {basePath}/metrics; empty = /metrics is served without auth. */
  metricsToken?: string;
}

export interface PlugwatchHttpApiNode extends Node<PlugwatchHttpApiCredentials> {
  credentials: PlugwatchHttpApiCredentials;
}

/** A user of the broker node: what it reads of the users it registers (its id, and status on connect/disconnect). */
export interface BrokerUser {
  id: string;
  status(status: NodeStatus): void;
}

/** The core `mqtt-broker` config node (node_modules/@node-red/nodes/core/network/10-mqtt.js) as used by mqtt in/out. */
export interface MqttBrokerNode extends Node {
  connected: boolean;
  register(user: BrokerUser): void;
  deregister(user: BrokerUser, done: () => void, autoDisconnect?: boolean): void;
  /** `packet` is the MQTT packet as mqtt.js delivers it (retain flag). */
  subscribe(topic: string, options: { qos: 0 | 1 | 2 }, callback: (topic: string, payload: Buffer, packet?: { retain?: boolean }) => void, ref: string): void;
  unsubscribe(topic: string, ref: string, removeClientSubscription?: boolean): void;
  publish(msg: { topic: string; payload: string; qos: 0 | 1 | 2; retain: boolean }, done?: (err?: Error | string) => void): void;
}
