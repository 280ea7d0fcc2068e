// Typed factories for the flow nodes the e2e tests deploy again and again: the broker config, the JSON registry, mqtt in/out, the control chain.
import { mqttInNode } from "../../scripts/harness/flow-nodes";
import type { FlowNode } from "../../scripts/harness/nodered";

export { mqttInNode };

/** The core mqtt-broker config node on 127.0.0.1:`port` (MQTT 5 unless told; aedes speaks 3.1.1 = "4"). */
export function brokerNode(id: string, port: number, o: { name?: string; protocolVersion?: "4" | "5" } = {}): FlowNode {
  return {
    id,
    type: "mqtt-broker",
    name: o.name ?? "mosquitto",
    broker: "127.0.0.1",
    port: String(port),
    clientid: "",
    autoConnect: true,
    usetls: false,
    protocolVersion: o.protocolVersion ?? "5",
    keepalive: "15",
    cleansession: true,
    autoUnsubscribe: true,
  };
}

/** A plugwatch-registry config node holding `registry` (a registry document: devices, timezone…) inline. */
export const registryNode = (id: string, registry: Record<string, unknown>): FlowNode => ({
  id,
  type: "plugwatch-registry",
  name: "office",
  source: "json",
  file: "",
  json: JSON.stringify(registry),
});

/** An mqtt out on broker "b" that publishes to each message's own topic. */
export const mqttOutNode = (id: string, z: string, x: number, y: number): FlowNode => ({
  id,
  type: "mqtt out",
  z,
  name: "",
  topic: "",
  qos: "",
  retain: "",
  broker: "b",
  x,
  y,
  wires: [],
});

/**
 * The control agent as the shipped flow wires it: `{root}/api/request/command` (mqtt in "cin") → plugwatch-control
 * "ctl" on registry "reg" → mqtt out `outId`. `control` adds or overrides the control node's fields.
 */
export function controlChain(z: string, root: string, control: Record<string, unknown> = {}, outId = "out"): FlowNode[] {
  return [
    mqttInNode("cin", z, `${root}/api/request/command`, "ctl", 100, { datatype: "auto-detect", rh: 2 }),
    { id: "ctl", type: "plugwatch-control", z, name: "", registry: "reg", concurrency: 4, timeout: 1000, x: 300, y: 100, wires: [[outId]], ...control },
    mqttOutNode(outId, z, 500, 100),
  ];
}

/** A plugwatch-collector on registry "reg" (all devices) wired to `to`; `o` sets the poll interval (s), timeout (ms) and the rest. */
export const collectorNode = (
  id: string,
  z: string,
  root: string,
  to: string,
  o: { interval: number; timeout: number; concurrency: number; offlineAfter: number; x: number; y: number },
): FlowNode => ({
  id,
  type: "plugwatch-collector",
  z,
  name: "",
  registry: "reg",
  root,
  kind: "",
  building: "",
  floor: "",
  room: "",
  ...o,
  wires: [[to]],
});

/** A plugwatch-http-api on broker "b" and registry "reg" under `basePath`, with bearer tokens (`tokens`: one "TOKEN scopes name" a line). */
export const httpApiNode = (id: string, z: string, root: string, basePath: string, tokens: string, at: { x: number; y: number }): FlowNode => ({
  id,
  type: "plugwatch-http-api",
  z,
  name: id,
  version: 1,
  broker: "b",
  registry: "reg",
  root,
  basePath,
  timeoutMs: 5000,
  inactiveAfterDays: 30,
  historySize: 100,
  auth: "tokens",
  openHealth: true,
  openSpec: true,
  ...at,
  wires: [],
  credentials: { tokens },
});
