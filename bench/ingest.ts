// Ingest benchmark: MQTT (Mosquitto) → plugwatch-influx-hook in a real Node-RED → InfluxDB, against node-red-contrib-influxdb and raw batched /write.
//
//   node dist/bench/ingest.js [--readings 200000] [--contrib-readings 5000] [--devices 500] [--batch 5000] [--gzip false]
//     [--per-message 1,100] [--in-flight 1] [--flush-interval 100] [--only hook,contrib,raw,broker] [--profile DIR]
//
// Every run starts its own influxd, Mosquitto and Node-RED on free loopback ports and stops them at the end.
// Figures are readings/s from the first publish until the last reading is in InfluxDB (counted there), i.e.
// sustained end-to-end throughput, not the rate at which the broker accepted messages.
import { readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import * as path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import type { DeviceEntry } from "../lib/contracts";
import { itemAt } from "../lib/arrays";
import { startInfluxd, type InfluxdInstance } from "../scripts/harness/influxd";
import { mqttInNode } from "../scripts/harness/flow-nodes";
import { startMosquitto } from "../scripts/harness/mosquitto";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../scripts/harness/nodered";
import { readingTopic, simulatedDevices, storageFlow } from "../scripts/harness/storage-flow";

/** The tags plugwatch-influx-hook derives from the registry (device, kind and location). */
function deviceTags(d: DeviceEntry): Record<string, string> {
  return { device: d.id, kind: d.kind, building: d.location.building, floor: d.location.floor, room: d.location.room };
}

interface Args {
  readings: number;
  contribReadings: number;
  devices: number;
  batch: number;
  gzip: boolean;
  flushInterval: number;
  /** Pipelines to run (default all three). */
  only: string[];
  /** plugwatch-influx-hook's Max in flight (write requests at a time). */
  inFlight: number;
  /** Readings per MQTT message for plugwatch-influx-hook runs (1 = the contract's one reading per message; more = JSON arrays). */
  perMessage: number[];
  /** Directory for a V8 CPU profile of the Node-RED process (--cpu-prof), or "" for none. */
  profile: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    readings: 200_000,
    contribReadings: 5_000,
    devices: 500,
    batch: 5000,
    gzip: false,
    flushInterval: 100,
    only: ["hook", "contrib", "raw", "broker"],
    profile: "",
    perMessage: [1, 100],
    inFlight: 1,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1] ?? "";
    const n = Number(v);
    if (k === "--readings") a.readings = n;
    else if (k === "--contrib-readings") a.contribReadings = n;
    else if (k === "--devices") a.devices = n;
    else if (k === "--batch") a.batch = n;
    else if (k === "--flush-interval") a.flushInterval = n;
    else if (k === "--gzip") a.gzip = v !== "false";
    else if (k === "--only") a.only = v.split(",");
    else if (k === "--profile") a.profile = v;
    else if (k === "--in-flight") a.inFlight = n;
    else if (k === "--per-message") a.perMessage = v.split(",").map(Number);
    else throw new Error(`unknown option ${k} (see the header of bench/ingest.ts)`);
  }
  if (!a.perMessage.every((n) => Number.isInteger(n) && n > 0)) throw new Error("--per-message: comma-separated positive integers expected");
  for (const [k, v] of Object.entries(a)) if (typeof v === "number" && !(Number.isInteger(v) && v > 0)) throw new Error(`--${k}: positive integer expected`);
  return a;
}

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);

/** Reading n of the stream: device n % devices, one reading per device per second. */
interface Stream {
  topics: string[];
  payloads: Buffer[];
  lines: string[];
  /** Readings in the stream (payloads may hold several). */
  readings: number;
  /** The stream's last second of timestamps and how many readings fall in it (a cheap "is the tail stored?" probe). */
  tail?: { from: number; readings: number };
}

function makeStream(devices: DeviceEntry[], n: number, offset = 0): Stream {
  const s: Stream = { topics: [], payloads: [], lines: [], readings: n };
  const keys = devices.map((d) => {
    const tags = deviceTags(d);
    return (
      "plug" +
      Object.keys(tags)
        .sort()
        .map((k) => `,${k}=${tags[k]}`)
        .join("")
    );
  });
  for (let i = offset; i < offset + n; i++) {
    const di = i % devices.length;
    const d = itemAt(devices, di);
    const ts = T0 + Math.floor(i / devices.length) * 1000;
    const r = {
      v: 1,
      device: d.id,
      ts,
      power: 20 + (i % 997) / 10,
      voltage: 229 + (i % 7),
      current: 0.1 + (i % 13) / 100,
      energy: 100 + i / 1000,
      relay: i % 5 !== 0,
      kind: d.kind,
    };
    s.topics.push(readingTopic(ROOT, d));
    s.payloads.push(Buffer.from(JSON.stringify(r)));
    if (ts !== s.tail?.from) s.tail = { from: ts, readings: 0 };
    s.tail.readings++;
    s.lines.push(`${keys[di]} power=${r.power},voltage=${r.voltage},current=${r.current},energy=${r.energy},relay=${r.relay ? "T" : "F"} ${ts}`);
  }
  return s;
}

const ROOT = `bench${process.pid}`;

/** The same readings, `k` per MQTT message (a JSON array, which plugwatch-influx-hook stores as one batch). */
function grouped(s: Stream, k: number): Stream {
  if (k === 1) return s;
  const out: Stream = { topics: [], payloads: [], lines: s.lines, readings: s.readings, ...(s.tail ? { tail: s.tail } : {}) };
  for (let i = 0; i < s.payloads.length; i += k) {
    out.topics.push(itemAt(s.topics, i));
    out.payloads.push(Buffer.concat([Buffer.from("["), ...s.payloads.slice(i, i + k).flatMap((p, j) => (j ? [Buffer.from(","), p] : [p])), Buffer.from("]")]));
  }
  return out;
}

/** Publishes with QoS 1 keeping at most `window` PUBACKs outstanding (the broker never has to drop anything). */
async function publishAll(client: MqttClient, s: Stream, window = 2000): Promise<void> {
  let inflight = 0;
  let i = 0;
  await new Promise<void>((resolve, reject) => {
    const next = () => {
      while (inflight < window && i < s.payloads.length) {
        const k = i++;
        inflight++;
        client.publish(itemAt(s.topics, k), itemAt(s.payloads, k), { qos: 1 }, (err) => {
          if (err) return reject(err);
          inflight--;
          if (i < s.payloads.length) next();
          else if (inflight === 0) resolve();
        });
      }
    };
    next();
  });
}

async function count(influxd: InfluxdInstance, db: string): Promise<number> {
  const r = await influxd.query(`SELECT count("power") FROM "plug"`, db);
  const v = r.results[0]?.series?.[0]?.values[0]?.[1];
  return typeof v === "number" ? v : 0;
}

/** Points of the stream's last second in `db` (a query over 1 s of data: cheap, unlike a full count). */
async function tailCount(influxd: InfluxdInstance, db: string, tail: { from: number }): Promise<number> {
  const r = await influxd.query(`SELECT count("power") FROM "plug" WHERE time >= ${tail.from}ms AND time < ${tail.from + 1000}ms`, db);
  const v = r.results[0]?.series?.[0]?.values[0]?.[1];
  return typeof v === "number" ? v : 0;
}

/**
 * Resolves with the time (ms since epoch) at which `db` holds `n` points; polls every `everyMs`. Gives up when
 * the count has not moved for `stallMs` (readings were lost) and resolves with what arrived by then. With `tail`,
 * it polls only the stream's last second until it is complete (a full count on every poll would load influxd
 * while it ingests), then confirms with a full count.
 */
async function waitCount(
  influxd: InfluxdInstance,
  db: string,
  n: number,
  timeoutMs: number,
  everyMs = 200,
  stallMs = 20_000,
  tail?: { from: number; readings: number },
): Promise<{ at: number; count: number }> {
  const deadline = Date.now() + timeoutMs;
  if (tail) {
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      const t = await tailCount(influxd, db, tail);
      if (t >= tail.readings) break;
      if (t !== last) {
        last = t;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > stallMs) break;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    const at = Date.now();
    const c = await count(influxd, db);
    if (c >= n) return { at, count: c };
  }
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const c = await count(influxd, db);
    if (c >= n) return { at: Date.now(), count: c };
    if (c !== last) {
      last = c;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) return { at: lastChange, count: c };
    if (Date.now() > deadline) throw new Error(`only ${c} of ${n} points in ${db} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The node-red-contrib-influxdb way: mqtt in (json) → function building [fields, tags] → influxdb out (1.x). */
function contribFlow(o: { mqttPort: number; influxPort: number; db: string; devices: DeviceEntry[] }): FlowNode[] {
  const tab = "contrib-tab";
  const tags = Object.fromEntries(o.devices.map((d) => [d.id, deviceTags(d)]));
  return [
    { id: tab, type: "tab", label: "node-red-contrib-influxdb" },
    {
      id: "broker",
      type: "mqtt-broker",
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
    {
      id: "contrib-db",
      type: "influxdb",
      hostname: "127.0.0.1",
      port: String(o.influxPort),
      protocol: "http",
      database: o.db,
      name: "",
      usetls: false,
      influxdbVersion: "1.x",
      url: "",
      rejectUnauthorized: true,
      timeout: 10,
    },
    mqttInNode("in", tab, `${ROOT}/+/+/+/+/reading`, "fn", 100, { broker: "broker" }),
    {
      id: "fn",
      type: "function",
      z: tab,
      x: 300,
      y: 100,
      name: "reading → [fields, tags]",
      // One reading → one [fields, tags] point; an array of readings → an array of points (one write).
      func: `const TAGS = ${JSON.stringify(tags)};\nconst point = (r) => [{ time: r.ts, power: r.power, voltage: r.voltage, current: r.current, energy: r.energy, relay: r.relay }, TAGS[r.device]];\nmsg.payload = Array.isArray(msg.payload) ? msg.payload.map(point) : point(msg.payload);\nreturn msg;`,
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: "",
      finalize: "",
      libs: [],
      wires: [["out"]],
    },
    {
      id: "out",
      type: "influxdb out",
      z: tab,
      x: 500,
      y: 100,
      influxdb: "contrib-db",
      name: "",
      measurement: "plug",
      precision: "ms",
      retentionPolicy: "",
      database: "database",
      precisionV18FluxV20: "ms",
      retentionPolicyV18Flux: "",
      org: "organisation",
      bucket: "bucket",
    },
  ];
}

/** A short stream of warm-up readings (another time range), written until they are all stored: the flow is connected and JIT-warm. */
async function warmUp(client: MqttClient, influxd: InfluxdInstance, db: string, devices: DeviceEntry[], n: number): Promise<void> {
  const w = makeStream(devices, n, 50_000_000);
  await publishAll(client, w);
  const got = await waitCount(influxd, db, n, 5_000, 100, 5_000);
  if (got.count < n) throw new Error(`${got.count} of ${n} warm-up readings stored`);
}

interface Result {
  name: string;
  readings: number;
  /** Readings found in InfluxDB at the end (fewer than `readings` means some were lost). */
  stored: number;
  ms: number;
  perSec: number;
  /** CPU time per reading in µs, per process (Node-RED, Mosquitto, influxd, the bench's publisher). */
  cpuUs: Record<string, number>;
}

/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime in USER_HZ (100 on Linux)
  } catch {
    return NaN;
  }
}

/** The pid whose command line (or environment: Node-RED rewrites its process title) contains `needle`. */
function pidOf(needle: string, where: "cmdline" | "environ" = "cmdline"): number | undefined {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/${where}`, "utf8").includes(needle)) return Number(d);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

type Pids = Record<string, number | undefined>;
function cpuSnapshot(pids: Pids): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) out[k] = pid === undefined ? NaN : cpuMs(pid);
  const u = process.cpuUsage();
  out.publisher = (u.user + u.system) / 1000;
  return out;
}
function cpuPerReading(before: Record<string, number>, after: Record<string, number>, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, b] of Object.entries(before)) out[k] = Math.round(((((after[k] ?? NaN) - b) * 1000) / n) * 10) / 10;
  return out;
}

async function runFlow(
  name: string,
  red: NodeRedInstance,
  flow: FlowNode[],
  client: MqttClient,
  influxd: InfluxdInstance,
  db: string,
  devices: DeviceEntry[],
  stream: Stream,
  warm: number,
  pids: Pids,
): Promise<Result> {
  await influxd.query(`CREATE DATABASE "${db}"`);
  await red.deploy(flow);
  // The flow's MQTT client subscribes asynchronously: warm-up readings are retried until they arrive.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await warmUp(client, influxd, db, devices, warm);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${name}: warm-up readings never arrived: ${(err as Error).message}\n${red.logTail(20)}`);
    }
  }
  const base = await count(influxd, db);
  const cpu0 = cpuSnapshot(pids);
  const t0 = Date.now();
  await publishAll(client, stream);
  const published = Date.now();
  const done = await waitCount(influxd, db, base + stream.readings, 600_000, 50, 20_000, stream.tail);
  const cpu1 = cpuSnapshot(pids);
  const stored = done.count - base;
  const ms = done.at - t0;
  process.stderr.write(`  ${name}: published in ${published - t0} ms, ${stored} stored in ${ms} ms\n`);
  return { name, readings: stream.readings, stored, ms, perSec: Math.round((stored * 1000) / ms), cpuUs: cpuPerReading(cpu0, cpu1, stored) };
}

async function runRaw(influxd: InfluxdInstance, db: string, stream: Stream, batch: number, pids: Pids): Promise<Result> {
  await influxd.query(`CREATE DATABASE "${db}"`);
  const bodies: string[] = [];
  for (let i = 0; i < stream.lines.length; i += batch) bodies.push(stream.lines.slice(i, i + batch).join("\n") + "\n");
  const cpu0 = cpuSnapshot(pids);
  const t0 = Date.now();
  for (const b of bodies) {
    const r = await fetch(`${influxd.url}/write?db=${db}&precision=ms`, { method: "POST", body: b });
    if (r.status !== 204) throw new Error(`raw write: ${r.status} ${await r.text()}`);
  }
  const done = await waitCount(influxd, db, stream.lines.length, 60_000, 50, 20_000, stream.tail);
  const cpu = cpuPerReading(cpu0, cpuSnapshot(pids), done.count);
  return {
    name: "raw batched /write",
    readings: stream.lines.length,
    stored: done.count,
    ms: done.at - t0,
    perSec: Math.round((done.count * 1000) / (done.at - t0)),
    cpuUs: cpu,
  };
}

/**
 * The broker's own ceiling for one reading per message: the same stream published at QoS 1 to Mosquitto and
 * received by a bare mqtt.js subscriber in this process (QoS 1) — no Node-RED, no InfluxDB. "stored" is the
 * number of messages received; the subscriber's CPU is in the publisher column (same process).
 */
async function runBrokerOnly(client: MqttClient, url: string, stream: Stream, pids: Pids): Promise<Result> {
  const sub = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: `bench-sub-${process.pid}` });
  try {
    let got = 0;
    let all!: () => void;
    const received = new Promise<void>((r) => (all = r));
    sub.on("message", () => {
      if (++got === stream.payloads.length) all();
    });
    await sub.subscribeAsync(`${ROOT}/+/+/+/+/reading`, { qos: 1 });
    const cpu0 = cpuSnapshot(pids);
    const t0 = Date.now();
    await publishAll(client, stream);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([received, new Promise((r) => (timer = setTimeout(r, 120_000)))]);
    clearTimeout(timer);
    const ms = Date.now() - t0;
    return {
      name: "Mosquitto alone (bare subscriber, no Node-RED, no InfluxDB)",
      readings: stream.readings,
      stored: got,
      ms,
      perSec: Math.round((got * 1000) / ms),
      cpuUs: cpuPerReading(cpu0, cpuSnapshot(pids), Math.max(1, got)),
    };
  } finally {
    await sub.endAsync(true).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const devices = simulatedDevices(args.devices);
  const influxd = await startInfluxd();
  const mosq = await startMosquitto({ extraConfig: ["max_queued_messages 0", "max_queued_bytes 0"] });
  let red: NodeRedInstance | undefined;
  let client: MqttClient | undefined;
  try {
    red = await startNodeRed({
      logLevel: "info",
      env: args.profile ? { NODE_OPTIONS: `--require ${path.join(__dirname, "cpu-profile.js")}`, BENCH_PROFILE_DIR: args.profile } : {},
    });
    client = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0, clientId: `bench-${process.pid}` });
    const stream = makeStream(devices, args.readings);
    const contribStream: Stream = makeStream(devices, Math.min(args.contribReadings, args.readings));
    const results: Record<string, Result> = {};
    const pids: Pids = { "node-red": pidOf(`PLUGWATCH_USER_DIR=${red.userDir}`, "environ"), mosquitto: pidOf(mosq.dir), influxd: pidOf(influxd.dir) };

    if (args.only.includes("hook")) {
      for (const k of args.perMessage) {
        const db = `bench_hook_${k}`;
        process.stderr.write(`plugwatch-influx-hook: ${args.readings} readings from ${args.devices} devices, ${k} per MQTT message\n`);
        const hookFlow = storageFlow({
          root: ROOT,
          mqttPort: mosq.port,
          influxUrl: influxd.url,
          database: db,
          devices,
          query: false,
          hook: { batchSize: args.batch, flushInterval: args.flushInterval, maxSpoolMB: 1024, statsInterval: 0, maxInFlight: args.inFlight },
          timeoutMs: 30_000,
        });
        (hookFlow.find((n) => n.type === "plugwatch-influx") as FlowNode).gzip = args.gzip;
        const name = k === 1 ? "plugwatch-influx-hook (1 reading per message)" : `plugwatch-influx-hook (${k} readings per message, JSON array)`;
        results[k === 1 ? "hook" : `hook${k}`] = await runFlow(name, red, hookFlow, client, influxd, db, devices, grouped(stream, k), 2000, pids);
      }
    }
    if (args.only.includes("contrib")) {
      // The same streams as the hook: one reading per message, and (for every --per-message k > 1) arrays of k
      // readings, which the function node turns into one multi-point write — node-red-contrib-influxdb's own
      // batching. Per reading it is much slower one per message, so that run uses --contrib-readings.
      for (const k of args.perMessage) {
        const db = `bench_contrib_${k}`;
        const n = k === 1 ? contribStream.readings : Math.min(args.readings, args.contribReadings * k);
        process.stderr.write(`node-red-contrib-influxdb: ${n} readings, ${k} per MQTT message\n`);
        const flow = contribFlow({ mqttPort: mosq.port, influxPort: influxd.httpPort, db, devices });
        const name =
          k === 1 ? "node-red-contrib-influxdb `influxdb out`" : `node-red-contrib-influxdb \`influxdb out\` (${k} readings per message, array of points)`;
        const stream1 = k === 1 ? contribStream : grouped(makeStream(devices, n), k);
        results[k === 1 ? "contrib" : `contrib${k}`] = await runFlow(name, red, flow, client, influxd, db, devices, stream1, 200 * Math.min(k, 10), pids);
      }
    }
    await red.deploy([]);
    if (args.only.includes("raw")) {
      process.stderr.write(`raw /write: ${args.readings} lines in batches of ${args.batch}\n`);
      results.raw = await runRaw(influxd, "bench_raw", stream, args.batch, pids);
    }
    if (args.only.includes("broker")) {
      process.stderr.write(`Mosquitto alone: ${args.readings} messages, QoS 1\n`);
      results.broker = await runBrokerOnly(client, mosq.url, stream, pids);
    }

    const cpu = cpus();
    const load = loadavg()
      .map((l) => l.toFixed(1))
      .join(" ");
    console.log(`Ingest benchmark — ${new Date().toISOString()}`);
    console.log(
      `machine: ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}; load average at the end ${load}`,
    );
    console.log(`command: node dist/bench/ingest.js ${process.argv.slice(2).join(" ")}`.trimEnd());
    console.log(
      `settings: ${args.devices} devices, batch ${args.batch} lines, flush ${args.flushInterval} ms, gzip ${args.gzip}, ${args.inFlight} write(s) in flight, QoS 1 end to end, readings per MQTT message: ${args.perMessage.join(", ")}`,
    );
    console.log("");
    console.log("| pipeline | readings sent | stored | time (ms) | readings/s | CPU µs/reading: Node-RED | Mosquitto | influxd | publisher |");
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of Object.values(results)) {
      const c = r.cpuUs;
      console.log(`| ${r.name} | ${r.readings} | ${r.stored} | ${r.ms} | ${r.perSec} | ${c["node-red"]} | ${c.mosquitto} | ${c.influxd} | ${c.publisher} |`);
    }
    console.log("");
    const { hook, contrib, raw, broker } = results;
    if (broker)
      console.log(
        `Mosquitto alone passes ${broker.perSec} single-reading QoS 1 messages/s here (Mosquitto ${broker.cpuUs.mosquitto} µs/message): the ceiling of any pipeline with one reading per message`,
      );
    if (hook && contrib) console.log(`plugwatch-influx-hook / node-red-contrib-influxdb = ${(hook.perSec / contrib.perSec).toFixed(1)} ×  (target ≥ 10 ×)`);
    if (hook && raw) console.log(`plugwatch-influx-hook / raw /write                = ${(hook.perSec / raw.perSec).toFixed(2)} ×  (target ≥ 0.4 ×)`);
    for (const [key, r] of Object.entries(results)) {
      if (!key.startsWith("hook") || key === "hook") continue;
      const same = results[`contrib${key.slice(4)}`];
      if (same) console.log(`${r.name} / node-red-contrib-influxdb on the same stream = ${(r.perSec / same.perSec).toFixed(1)} ×  (target ≥ 10 ×)`);
      if (contrib) console.log(`${r.name} / node-red-contrib-influxdb one reading per message = ${(r.perSec / contrib.perSec).toFixed(1)} ×`);
      if (raw) console.log(`${r.name} / raw /write = ${(r.perSec / raw.perSec).toFixed(2)} ×  (target ≥ 0.4 ×)`);
    }
    if (hook) {
      console.log(`plugwatch-influx-hook sustained                   = ${hook.perSec} readings/s  (target ≥ 50000)`);
      // What the pipeline would sustain with the machine to itself: Node-RED is one thread (≤ 1 core), and all
      // processes together share the cores.
      const total = Object.values(hook.cpuUs).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
      const nr = hook.cpuUs["node-red"] ?? NaN;
      console.log(
        `CPU-bound capacity on ${cpu.length} idle cores    ≈ ${Math.round(Math.min(1e6 / nr, (cpu.length * 1e6) / total))} readings/s (Node-RED ${nr} µs + all processes ${total.toFixed(1)} µs per reading)`,
      );
    }
  } finally {
    await client?.endAsync(true).catch(() => undefined);
    await red?.stop().catch(() => undefined);
    await mosq.stop().catch(() => undefined);
    await influxd.destroy().catch(() => undefined);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exitCode = 1;
});
