// Flow and data factories for the storage e2e tests and bench/ingest: MQTT in → plugwatch-influx-hook, MQTT in → plugwatch-influx-query → MQTT out.
import type { DeviceEntry } from "../../lib/contracts";
import { itemAt } from "../../lib/arrays";
import { mqttInNode } from "./flow-nodes";
import type { FlowNode } from "./nodered";

export interface StorageFlowOptions {
  /** Unique topic root of the test (readings on {root}/+/+/+/+/reading, queries on {root}/api/request/query). */
  root: string;
  mqttPort: number;
  influxUrl: string;
  database: string;
  devices: DeviceEntry[];
  /** plugwatch-influx-hook settings (defaults: batch 5000, flush 50 ms, spool 64 MiB, reject, stats every second). */
  hook?: {
    batchSize?: number;
    flushInterval?: number;
    maxSpoolMB?: number;
    spoolPolicy?: "reject" | "drop-oldest";
    statsInterval?: number;
    maxInFlight?: number;
  };
  /** Add the query path (mqtt in → plugwatch-influx-query → mqtt out); default true. */
  query?: boolean;
  /** mqtt-in datatype for readings (default "buffer": plugwatch-influx-hook parses the JSON itself). */
  datatype?: "buffer" | "json" | "utf8" | "auto-detect";
  /** Timeout of the plugwatch-influx config node, ms (default 2000). */
  timeoutMs?: number;
}

/** Topic on which the flow republishes what Catch saw from plugwatch-influx-hook ({message, code, source}). */
export const errorTopic = (root: string): string => `${root}/test/errors`;
/** Topic of plugwatch-influx-hook's periodic stats. */
export const statsTopic = (root: string): string => `${root}/status/influx-hook`;

/** The flow: one tab, one broker, registry + influx config nodes, the hook with a scoped Catch, and the query path. */
export function storageFlow(o: StorageFlowOptions): FlowNode[] {
  const tab = "storage-tab";
  const h = o.hook ?? {};
  const nodes: FlowNode[] = [
    { id: tab, type: "tab", label: "storage e2e" },
    {
      id: "broker",
      type: "mqtt-broker",
      name: "test broker",
      broker: "127.0.0.1",
      port: String(o.mqttPort),
      clientid: "",
      autoConnect: true,
      usetls: false,
      protocolVersion: "4",
      keepalive: "15",
      cleansession: true,
      autoUnsubscribe: true,
    },
    { id: "registry", type: "plugwatch-registry", source: "json", json: JSON.stringify({ devices: o.devices }) },
    {
      id: "influx",
      type: "plugwatch-influx",
      url: o.influxUrl,
      flavour: "1.x",
      database: o.database,
      timeout: o.timeoutMs ?? 2000,
      gzip: true,
      rejectUnauthorized: true,
      caFile: "",
    },
    mqttInNode("readings-in", tab, `${o.root}/+/+/+/+/reading`, "hook", 100, { datatype: o.datatype ?? "buffer", broker: "broker" }),
    {
      id: "hook",
      type: "plugwatch-influx-hook",
      z: tab,
      x: 300,
      y: 100,
      influx: "influx",
      registry: "registry",
      measurement: "plug",
      batchSize: h.batchSize ?? 5000,
      flushInterval: h.flushInterval ?? 50,
      maxSpoolMB: h.maxSpoolMB ?? 64,
      spoolPolicy: h.spoolPolicy ?? "reject",
      acceptUnknown: false,
      maxInFlight: h.maxInFlight ?? 1,
      createDatabase: true,
      statsInterval: h.statsInterval ?? 1,
      topicRoot: o.root,
      spoolDir: "",
      wires: [["stats-out"]],
    },
    { id: "stats-out", type: "mqtt out", z: tab, x: 500, y: 100, topic: "", qos: "0", retain: "false", broker: "broker", wires: [] },
    { id: "hook-catch", type: "catch", z: tab, x: 100, y: 200, scope: ["hook"], uncaught: false, wires: [["error-body"]] },
    {
      id: "error-body",
      type: "change",
      z: tab,
      x: 300,
      y: 200,
      rules: [{ t: "set", p: "payload", pt: "msg", to: "error", tot: "msg" }],
      wires: [["errors-out"]],
    },
    { id: "errors-out", type: "mqtt out", z: tab, x: 500, y: 200, topic: errorTopic(o.root), qos: "1", retain: "false", broker: "broker", wires: [] },
  ];
  if (o.query !== false) {
    nodes.push(
      mqttInNode("query-in", tab, `${o.root}/api/request/query`, "query", 300, { datatype: "auto-detect", broker: "broker" }),
      {
        id: "query",
        type: "plugwatch-influx-query",
        z: tab,
        x: 300,
        y: 300,
        influx: "influx",
        registry: "registry",
        database: "",
        maxSpanDays: 366,
        maxRawSpanDays: 31,
        maxRows: 100000,
        timeout: 10000,
        concurrency: 4,
        wires: [["query-out"]],
      },
      { id: "query-out", type: "mqtt out", z: tab, x: 500, y: 300, topic: "", qos: "1", retain: "false", broker: "broker", wires: [] },
    );
  }
  return nodes;
}

/** Topic of a device's readings under `root`. */
export function readingTopic(root: string, d: DeviceEntry): string {
  return `${root}/${d.location.building}/${d.location.floor}/${d.location.room}/${d.id}/reading`;
}

/** `n` simulated plugs spread over 2 buildings, 2 floors, 2 rooms per floor and every kind. */
export function simulatedDevices(n: number): DeviceEntry[] {
  const kinds = ["workplace", "meeting-room", "printer", "other"] as const;
  return Array.from({ length: n }, (_, i) => ({
    id: `dev-${i}`,
    name: `Device ${i}`,
    model: "HS110",
    host: "127.0.0.1",
    port: 30000 + i,
    kind: itemAt(kinds, i % kinds.length),
    location: { building: i % 2 === 0 ? "hq" : "annex", floor: String(Math.floor(i / 2) % 2), room: `room-${Math.floor(i / 4) % 2}` },
  }));
}
