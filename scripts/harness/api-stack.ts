// The REST API's whole stack for e2e tests and the bench: broker, influxd, simulated plugs, a real Node-RED runtime with the API flow, and an HTTP client whose every answer is checked against /openapi.json.
import { eventually as waitUntil } from "./wait";
import type { MqttClient } from "mqtt";
import type { Device, DeviceEntry } from "../../lib/contracts/device";
import { SimulatedOffice } from "../sim/office";
import { startInfluxd, type InfluxdInstance } from "./influxd";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "./nodered";
import { OpenApiValidator } from "./openapi-validator";
import { mqttInNode } from "./flow-nodes";
import { freePort } from "./ports";
import { connectClient, startBroker, uniqueRoot, type BrokerKind, type Teardown } from "./services";
import type { BrokerInstance } from "./mosquitto";

export const DB = "plugwatch";
export const BASE = "/api/v1";
/** An API with a topic root nobody answers on but the test itself (timeouts, late replies). */
export const SLOW_BASE = "/api/slow";
/** An API whose broker config points at a port where nothing listens. */
export const DEAD_BASE = "/api/dead";
export const SLOW_TIMEOUT_MS = 600;

/** Tokens of the main API (≥ 16 characters); they must never appear in the runtime's log. */
export const TOKENS = {
  read: "tok-read-4f9c1e7a2b3d5e6f",
  control: "tok-ctrl-9a8b7c6d5e4f3a2b",
  both: "tok-both-0123456789abcdef",
} as const;

/** A small typed office: unique ids, every kind, two floors. Ports are placeholders (the simulators choose theirs). */
export function apiDevices(): Device[] {
  const d = (id: string, kind: DeviceEntry["kind"], floor: string, room: string): Device => ({
    id,
    name: `Device ${id}`,
    model: "HS110",
    host: "127.0.0.1",
    port: 9999,
    kind,
    location: { building: "hq", floor, room },
  });
  return [
    d("ws-a", "workplace", "1", "open-1"),
    d("ws-b", "workplace", "1", "open-1"),
    d("pr-1", "printer", "2", "copy"),
    d("pr-2", "printer", "2", "copy"),
    d("mr-1", "meeting-room", "2", "board"),
    // Listed in the registry, but its simulator is stopped: commands to it fail with DEVICE_UNREACHABLE.
    d("gone-1", "other", "2", "store"),
  ];
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  /** Wall time of the request, ms. */
  ms: number;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Raw body text (sent as is). */
  raw?: string;
  headers?: Record<string, string>;
}

export interface ApiStack {
  kind: BrokerKind;
  root: string;
  slowRoot: string;
  broker: BrokerInstance;
  influxd: InfluxdInstance;
  office: SimulatedOffice;
  red: NodeRedInstance;
  /** A test MQTT client on the same broker. */
  mqtt: MqttClient;
  validator: OpenApiValidator;
  /** The deployed flow (with credentials), for redeploy tests. */
  flows: FlowNode[];
  /** Every response that broke the OpenAPI document (the suite asserts it stays empty). */
  violations: string[];
  /** HTTP request to the runtime; the answer is checked against the served OpenAPI document. */
  request<T = Record<string, unknown>>(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
}

export interface ApiStackOptions {
  /** Line protocol written to influxd before Node-RED starts. */
  data?: (devices: DeviceEntry[]) => string;
  /** Smartplug-control per-device budget, ms. */
  controlTimeoutMs?: number;
  logLevel?: "info" | "debug";
  /** Extra environment of the Node-RED process (e.g. NODE_OPTIONS=--cpu-prof for the bench). */
  env?: Record<string, string> | undefined;
  /** Changes the flow before it is deployed (e.g. a tariff config node on the query component). */
  flow?: (nodes: FlowNode[], stack: { port: number; kind: BrokerKind; root: string }) => FlowNode[];
}

export function brokerConfig(id: string, port: number, kind: BrokerKind): FlowNode {
  return {
    id,
    type: "mqtt-broker",
    name: `broker ${kind}`,
    broker: "127.0.0.1",
    port: String(port),
    clientid: "",
    autoConnect: true,
    usetls: false,
    // aedes speaks MQTT 3.1.1 only; Mosquitto runs the flow on MQTT 5.
    protocolVersion: kind === "aedes" ? "4" : "5",
    keepalive: "15",
    cleansession: true,
    autoUnsubscribe: true,
  };
}

/**
 * A plugwatch-mqtt connection (TCP_NODELAY) on the same broker, as the shipped flow has it: the API node `api` and the
 * query node `q` use it (the query node subscribes itself, so its mqtt in/out pair goes). Other nodes keep broker `b`.
 */
export function withConnection(nodes: FlowNode[], o: { port: number; kind: BrokerKind; root: string }): FlowNode[] {
  const connection: FlowNode = {
    id: "pm",
    type: "plugwatch-mqtt",
    name: "request/reply",
    broker: "127.0.0.1",
    port: String(o.port),
    clientid: "",
    usetls: false,
    keepalive: "15",
    protocolVersion: o.kind === "aedes" ? "4" : "5",
  };
  return [
    ...nodes
      .filter((n) => n.id !== "qin" && n.id !== "qout")
      .map((n) => {
        if (n.id === "api") return { ...n, connection: "pm" };
        if (n.id === "q") return { ...n, connection: "pm", topic: `${o.root}/api/request/query`, wires: [[]] };
        return n;
      }),
    connection,
  ];
}

/** The flow under test: the API in front of the real query component and control agent, all over one broker. */
export function apiFlow(o: {
  kind: BrokerKind;
  brokerPort: number;
  deadPort: number;
  root: string;
  slowRoot: string;
  influxUrl: string;
  devices: readonly DeviceEntry[];
  controlTimeoutMs: number;
}): FlowNode[] {
  const z = "api-tab";
  const api = (id: string, extra: Record<string, unknown>): FlowNode => ({
    id,
    type: "plugwatch-http-api",
    z,
    name: id,
    version: 1,
    broker: "b",
    registry: "reg",
    root: o.root,
    basePath: BASE,
    timeoutMs: 5000,
    inactiveAfterDays: 30,
    historySize: 100,
    auth: "none",
    openHealth: true,
    openSpec: true,
    x: 200,
    y: 300,
    wires: [],
    ...extra,
  });
  const tokens = [`${TOKENS.read} read reader`, `${TOKENS.control} control operator`, `${TOKENS.both} read,control admin`].join("\n");
  return [
    { id: z, type: "tab", label: "REST API e2e" },
    brokerConfig("b", o.brokerPort, o.kind),
    brokerConfig("bdead", o.deadPort, o.kind),
    { id: "reg", type: "plugwatch-registry", name: "office", source: "json", file: "", json: JSON.stringify({ devices: o.devices }) },
    {
      id: "ix",
      type: "plugwatch-influx",
      name: "influxd",
      url: o.influxUrl,
      flavour: "1.x",
      database: DB,
      retentionPolicy: "",
      org: "",
      bucket: "",
      timeout: 5000,
      gzip: false,
      rejectUnauthorized: true,
      caFile: "",
    },
    // control agent
    mqttInNode("cin", z, `${o.root}/api/request/command`, "ctl", 100, { datatype: "auto-detect" }),
    { id: "ctl", type: "plugwatch-control", z, name: "", registry: "reg", concurrency: 8, timeout: o.controlTimeoutMs, x: 300, y: 100, wires: [["cout"]] },
    { id: "cout", type: "mqtt out", z, name: "", topic: "", qos: "", retain: "", broker: "b", x: 500, y: 100, wires: [] },
    // query component
    mqttInNode("qin", z, `${o.root}/api/request/query`, "q", 200, { datatype: "auto-detect" }),
    {
      id: "q",
      type: "plugwatch-influx-query",
      z,
      name: "",
      influx: "ix",
      registry: "reg",
      database: "",
      maxSpanDays: 366,
      maxRawSpanDays: 31,
      maxRows: 100000,
      timeout: 5000,
      concurrency: 8,
      x: 300,
      y: 200,
      wires: [["qout"]],
    },
    { id: "qout", type: "mqtt out", z, name: "", topic: "", qos: "", retain: "", broker: "b", x: 500, y: 200, wires: [] },
    // scheduler (GET/PUT /schedules, GET /savings): an empty schedule, answering on {root}/api/request/schedule
    { id: "sch", type: "plugwatch-schedule", name: "schedules", source: "json", file: "", json: JSON.stringify({ schedules: [] }) },
    mqttInNode("sin", z, `${o.root}/api/request/schedule`, "sched", 400),
    mqttInNode("sain", z, `${o.root}/audit/command`, "sched", 440),
    {
      id: "sched",
      type: "plugwatch-scheduler",
      z,
      name: "",
      registry: "reg",
      schedule: "sch",
      root: o.root,
      clock: "system",
      tick: 15,
      x: 300,
      y: 420,
      wires: [["sout"]],
    },
    { id: "sout", type: "mqtt out", z, name: "", topic: "", qos: "", retain: "", broker: "b", x: 500, y: 420, wires: [] },
    // the APIs
    { ...api("api", { auth: "tokens" }), credentials: { tokens } },
    api("api-slow", { root: o.slowRoot, basePath: SLOW_BASE, timeoutMs: SLOW_TIMEOUT_MS }),
    api("api-dead", { broker: "bdead", basePath: DEAD_BASE }),
  ];
}

/** Starts everything; every part is registered on `td` (stopped in reverse order). */
export async function startApiStack(td: Teardown, kind: BrokerKind, opts: ApiStackOptions = {}): Promise<ApiStack> {
  const root = uniqueRoot("pwapi");
  const slowRoot = `${root}-slow`;
  const [broker, influxd, office] = await Promise.all([
    startBroker(td, kind),
    startInfluxd().then((i) => td.add(i, (x) => x.destroy())),
    SimulatedOffice.start(apiDevices(), { portFor: () => 0, tickMs: 0, relayOn: true }).then((o) => td.add(o, (x) => x.stop())),
  ]);
  const devices = office.registryDevices() as DeviceEntry[];
  await office.plug("gone-1").stop();
  await influxd.query(`CREATE DATABASE ${DB}`);
  const lines = opts.data?.(devices);
  if (lines) await influxd.write(DB, lines);
  const deadPort = await freePort();
  const built = apiFlow({
    kind,
    brokerPort: broker.port,
    deadPort,
    root,
    slowRoot,
    influxUrl: influxd.url,
    devices,
    controlTimeoutMs: opts.controlTimeoutMs ?? 2000,
  });
  const flows = opts.flow ? opts.flow(built, { port: broker.port, kind, root }) : built;
  // Deployed through the admin API (not the flow file) so the token credentials are stored like the editor does.
  const red = td.add(await startNodeRed({ logLevel: opts.logLevel ?? "info", env: opts.env }), (r) => r.stop());
  await red.deploy(flows);
  const mqtt = await connectClient(td, broker.url, kind === "aedes" ? { protocolVersion: 4 } : { protocolVersion: 5 });

  const violations: string[] = [];
  /** One validator per API (base path), each built from the document that API serves. */
  const validators = new Map<string, OpenApiValidator>();
  const validatorFor = (p: string) => [...validators.entries()].find(([base]) => p === base || p.startsWith(`${base}/`))?.[1];
  const request = async <T>(method: string, path: string, o: RequestOptions = {}): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers["content-type"] ??= "application/json";
    }
    const started = performance.now();
    const r = await fetch(red.url + path, { method, headers, body: body ?? null });
    const text = await r.text();
    const ms = performance.now() - started;
    let parsed: unknown;
    if (/^text\//.test(r.headers.get("content-type") ?? ""))
      parsed = text; // e.g. /metrics (Prometheus text)
    else {
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        violations.push(`${method} ${path} → ${r.status}: body is not JSON: ${text.slice(0, 200)}`);
      }
    }
    const [pathname = ""] = path.split("?");
    const validator = validatorFor(pathname);
    if (validator) {
      const { errors } = validator.check({ method, path, status: r.status, contentType: r.headers.get("content-type"), body: parsed });
      for (const e of errors) violations.push(`${method} ${path} → ${r.status}: ${e}`);
    }
    return { status: r.status, headers: r.headers, body: parsed as T, ms };
  };

  // Each API answers once the runtime started the flow; its document is the reference for every later answer.
  for (const base of [BASE, SLOW_BASE, DEAD_BASE]) {
    // Plain fetch while the deploy settles (a 404 from express before the route exists is not the API's answer).
    await eventually(
      () => fetch(`${red.url}${base}/openapi.json`).then(async (r) => (await r.arrayBuffer(), r.status)),
      (st) => st === 200,
      10000,
      `GET ${base}/openapi.json`,
    );
    const spec = await request<{ openapi: string }>("GET", `${base}/openapi.json`);
    const v = new OpenApiValidator(spec.body as unknown as ConstructorParameters<typeof OpenApiValidator>[0], base);
    for (const e of v.check({ method: "GET", path: `${base}/openapi.json`, status: 200, contentType: spec.headers.get("content-type"), body: spec.body })
      .errors)
      violations.push(e);
    validators.set(base, v);
  }
  const validator = validators.get(BASE) as OpenApiValidator;

  const stack: ApiStack = { kind, root, slowRoot, broker, influxd, office, red, mqtt, validator, flows, violations, request };
  await waitForHealthy(stack);
  return stack;
}

/** Waits until the query component and control agent answer through the API (their MQTT clients connect asynchronously). */
export async function waitForHealthy(s: ApiStack, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const r = await s.request<{ status: string }>("GET", `${BASE}/health`);
    if (r.status === 200 && r.body.status === "ok") return;
    last = JSON.stringify(r.body);
    if (Date.now() > deadline) throw new Error(`API not healthy within ${timeoutMs} ms: ${last}\n${s.red.logTail()}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** Polls `fn` until it returns a value that passes `ok`, or throws with the last value after `timeoutMs` (test/support/wait.ts). */
export function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10000, what = "condition"): Promise<T> {
  return waitUntil(what, fn, ok, { timeoutMs, everyMs: 100 });
}
