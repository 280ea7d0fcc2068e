// Flow node factories shared by tests, benches and the harness (benches import no test code, so they live here).
import type { FlowNode } from "./nodered";

/** An mqtt in (QoS 1) on broker `o.broker` (default "b") wired to `to`, at (`o.x` (default 100), `y`) on tab `z`. */
export const mqttInNode = (
  id: string,
  z: string,
  topic: string,
  to: string,
  y: number,
  o: { datatype?: "json" | "auto-detect" | "utf8" | "buffer"; rh?: 0 | 1 | 2; broker?: string; x?: number } = {},
): FlowNode => ({
  id,
  type: "mqtt in",
  z,
  name: "",
  topic,
  qos: "1",
  datatype: o.datatype ?? "json",
  broker: o.broker ?? "b",
  nl: false,
  rap: true,
  rh: o.rh ?? 0,
  inputs: 0,
  x: o.x ?? 100,
  y,
  wires: [[to]],
});
