// The shipped flow (flows/plugwatch.json) in a real Node-RED runtime with real services: broker, influxd, a small simulated office.
import { eventually as waitUntil } from "./wait";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Device, DeviceEntry } from "../../lib/contracts";
import { buildRegistry } from "../../lib/registry";
import { SimulatedOffice } from "../sim/office";
import { flowEnv, type FlowEnvName } from "../services/flow-env";
import { installFlow } from "../services/install-flow";
import { startInfluxd, type InfluxdInstance } from "./influxd";
import { startMosquitto, type MosquittoInstance } from "./mosquitto";
import { startNodeRed, repoRoot, type FlowNode, type NodeRedInstance } from "./nodered";
import { freePort, waitForPort } from "./ports";
import type { Teardown } from "./services";

/** The credential secret test/support/nodered.ts gives every runtime. */
const TEST_CREDENTIAL_SECRET = "plugwatch-test-secret";

/** Read + control token the pipeline runtime accepts (REST API credential from ${PLUGWATCH_API_TOKENS}). */
export const PIPELINE_TOKEN = "pipeline-e2e-token-rc-0123456789";
export const READ_TOKEN = "pipeline-e2e-token-ro-0123456789";
/** Password of the runtime's identity on the flow's embedded broker (embedded mode). */
export const EMBEDDED_RUNTIME_PASSWORD = "pipeline-e2e-mqtt-runtime-0123";
/** Password of the collector's identity (user "collector") on the flow's embedded broker (embedded mode). */
export const EMBEDDED_COLLECTOR_PASSWORD = "pipeline-e2e-mqtt-collector-01";

/** A small office: typed factory, one device per kind and two rooms with several devices (ports filled in by the simulator). */
export function pipelineDevices(): DeviceEntry[] {
  let port = 29900; // placeholder addresses, unique as the registry requires; startPipeline lets the OS pick the real ones
  const dev = (id: string, kind: DeviceEntry["kind"], floor: string, room: string): DeviceEntry => ({
    id,
    name: `Test ${id}`,
    model: "HS110",
    host: "127.0.0.1",
    port: ++port,
    kind,
    location: { building: "hq", floor, room },
  });
  return [
    dev("ws-1-01", "workplace", "1", "open-space-1"),
    dev("ws-1-02", "workplace", "1", "open-space-1"),
    dev("ws-2-01", "workplace", "2", "open-space-2"),
    dev("mr-1-board", "meeting-room", "1", "boardroom"),
    dev("pr-2-01", "printer", "2", "print-corner-2"),
  ];
}

export interface PipelineStack {
  red: NodeRedInstance;
  office: SimulatedOffice;
  influxd?: InfluxdInstance | undefined;
  /** URL of the broker the flow connects to (Mosquitto, or the flow's embedded aedes). */
  mqttUrl: string;
  /** The Mosquitto the flow connects to (broker "mosquitto"), for tests that stop it. */
  mosquitto?: MosquittoInstance | undefined;
  /** Every device as the registry gives it (strip outlets as devices of their own), with the ports listened on. */
  devices: Device[];
  registryFile: string;
  /** The shipped flow as deployed. */
  flow: FlowNode[];
  env: Record<FlowEnvName, string>;
}

export interface PipelineOptions {
  /** "mosquitto" (default): a real Mosquitto, the flow's aedes listens on an unused port; "embedded": the flow's own aedes. */
  broker?: "mosquitto" | "embedded";
  /** Start influxd (default true); false = an InfluxDB URL where nothing listens. */
  influx?: boolean;
  devices?: DeviceEntry[];
  pollIntervalS?: number;
  /**
   * How the flow gets into the runtime: "deploy" (default) = POST /flows like the editor's deploy; "file" = the demo's
   * way (scripts/services/install-flow.ts writes flows.json + encrypted flows_cred.json, then the runtime restarts).
   */
  install?: "deploy" | "file";
  /** Changes the shipped flow before it is deployed (e.g. short thresholds); the default deploys it as shipped. */
  patch?: (flow: FlowNode[]) => FlowNode[];
}

/** The shipped flow file, parsed (never a copy: the test deploys exactly what the repository ships). */
export function shippedFlow(): FlowNode[] {
  return JSON.parse(readFileSync(path.join(repoRoot(), "flows", "plugwatch.json"), "utf8")) as FlowNode[];
}

/**
 * Starts everything, deploys the shipped flow through the admin API (so its ${ENV} credentials are stored like an
 * editor import does) and registers every cleanup on `td`.
 */
export async function startPipeline(td: Teardown, opts: PipelineOptions = {}): Promise<PipelineStack> {
  const tmp = td.add(mkdtempSync(path.join(os.tmpdir(), "plugwatch-pipeline-")), (d) => rmSync(d, { recursive: true, force: true }));
  // Entries may be KLAP/Tapo plugs or strips (one entry, one device per outlet). Their simulators use blank
  // credentials: the shipped flow has no TP-Link account node.
  const entries = opts.devices ?? pipelineDevices();
  const office = td.add(await SimulatedOffice.start(buildRegistry({ devices: entries }).devices, { portFor: () => 0, credentialsFor: () => undefined }), (o) =>
    o.stop(),
  );
  const devices: Device[] = office.registryDevices();
  const registryFile = path.join(tmp, "registry.json");
  const actualPort = (e: DeviceEntry): number => (devices.find((d) => d.id === e.id || d.strip?.id === e.id) as Device).port;
  writeFileSync(
    registryFile,
    JSON.stringify({ version: 1, measurements: ["teleinfo"], devices: entries.map((e) => ({ ...e, port: actualPort(e) })) }, null, 2),
  );

  let mqttPort: number;
  let brokerPort: number;
  let mosq: MosquittoInstance | undefined;
  if ((opts.broker ?? "mosquitto") === "mosquitto") {
    mosq = td.add(await startMosquitto(), (m) => m.stop());
    mqttPort = mosq.port;
    brokerPort = await freePort(); // the flow's embedded broker idles there
  } else {
    brokerPort = await freePort();
    mqttPort = brokerPort;
  }
  const influxd = opts.influx === false ? undefined : td.add(await startInfluxd(), (i) => i.destroy());
  const influxUrl = influxd ? influxd.url : `http://127.0.0.1:${await freePort()}`;
  const env = flowEnv({
    PLUGWATCH_REGISTRY: registryFile,
    PLUGWATCH_MQTT_HOST: "127.0.0.1",
    PLUGWATCH_MQTT_PORT: String(mqttPort),
    PLUGWATCH_BROKER_PORT: String(brokerPort),
    PLUGWATCH_POLL_INTERVAL: String(opts.pollIntervalS ?? 1),
    PLUGWATCH_INFLUX_URL: influxUrl,
    PLUGWATCH_INFLUX_RPC: influxd ? influxd.rpcAddress : `127.0.0.1:${await freePort()}`,
    PLUGWATCH_API_TOKENS: `${PIPELINE_TOKEN} read,control\n${READ_TOKEN} read`,
    // The embedded broker lets anonymous clients only read: the runtime (role agents) and the collector (role
    // collector) authenticate, like npm start.
    ...(opts.broker === "embedded"
      ? {
          PLUGWATCH_MQTT_USER: "runtime",
          PLUGWATCH_MQTT_PASSWORD: EMBEDDED_RUNTIME_PASSWORD,
          PLUGWATCH_COLLECTOR_USER: "collector",
          PLUGWATCH_COLLECTOR_PASSWORD: EMBEDDED_COLLECTOR_PASSWORD,
        }
      : {}),
  });
  const red = td.add(await startNodeRed({ env }), (r) => r.stop());
  const flow = opts.patch ? opts.patch(shippedFlow()) : shippedFlow();
  if (opts.install === "file") {
    installFlow(path.join(repoRoot(), "flows", "plugwatch.json"), path.join(red.userDir, "flows.json"), TEST_CREDENTIAL_SECRET);
    await red.restart();
  } else {
    await red.deploy(flow);
  }
  await waitForPort(brokerPort, "127.0.0.1", 20000).catch((err: Error) => {
    throw new Error(`${err.message} (the flow's embedded broker):\n${red.logTail(40)}`);
  });
  return { red, office, influxd, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, mosquitto: mosq, devices, registryFile, flow, env };
}

/** Polls `fn` until `ok` holds; the last value and `what` are in the timeout error (test/support/wait.ts). */
export function eventually<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 15000, everyMs = 200): Promise<T> {
  return waitUntil(what, fn, ok, { timeoutMs, everyMs });
}
