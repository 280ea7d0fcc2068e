// Simulated ISEMS solar mesh nodes on loopback: each serves its status like the router's ISEMS package, or pushes it to MQTT.
//
// An ISEMS node (Independent Solar Energy Mesh System: an OpenWrt router on a Freifunk-Open-MPPT solar controller)
// writes one data set per measurement, as the isems-router Lua script does:
//   - /ISEMS/ffopenmppt.json: the latest data set as JSON, keys such as "Node-ID", "Battery voltage",
//     "Charge state (0-100%)", "Battery temperature (Celsius)", "Status code": "0x…";
//   - /ISEMS/ffopenmppt.log: every data set as a CSV line separated by ';' (revision 1, 19 fields:
//     node id; packet revision; epoch s; firmware; minutes to shutdown; power save; V_oc; V_mpp; V_battery;
//     charge %; health %; battery °C; low-voltage disconnect V; charge end V; battery Ah; module W; lat; long; status hex).
// The ISEMS data collector either downloads the CSV log over HTTP or subscribes to `isems/<node>/csvlog`, where nodes
// publish their CSV lines. This simulator serves both files and can publish the CSV lines to an MQTT broker.
import type * as http from "node:http";
import mqtt from "mqtt";
import { optionValue, runCli } from "./cli";
import { LoopbackHttpServer } from "./http-server";
import { itemAt } from "../../lib/arrays";

/** One ISEMS data set (packet revision 1). Units: V, %, °C, Ah, W, minutes, degrees. */
export interface IsemsStatus {
  nodeId: string;
  /** Epoch seconds of the measurement. */
  timestamp: number;
  firmware: string;
  nextRebootMin: number;
  powerSave: 0 | 1;
  openCircuitV: number;
  mppV: number;
  batteryV: number;
  chargePercent: number;
  healthPercent: number;
  batteryTempC: number;
  lowVoltageDisconnectV: number;
  chargeEndV: number;
  batteryAh: number;
  solarW: number;
  latitude: number;
  longitude: number;
  /** 12 status bits as the router writes them (bit 0 = charging, 3 = healthy, 4 = battery low, 8 = overheating, …). */
  status: number;
}

export type IsemsMode = "ok" | "refuse";

export interface IsemsNodeOptions {
  nodeId: string;
  host?: string;
  /** 0 (default) = a free port chosen by the OS. */
  port?: number;
  status?: Partial<Omit<IsemsStatus, "nodeId">>;
  /** Epoch-ms clock for new data sets (default Date.now). */
  now?: () => number;
}

export function defaultStatus(nodeId: string, nowMs: number): IsemsStatus {
  return {
    nodeId,
    timestamp: Math.floor(nowMs / 1000),
    firmware: "FF_OpenMPPT_ESP32_1",
    nextRebootMin: 1380,
    powerSave: 0,
    openCircuitV: 21.4,
    mppV: 17.9,
    batteryV: 13.1,
    chargePercent: 87,
    healthPercent: 96,
    batteryTempC: 24.5,
    lowVoltageDisconnectV: 11.5,
    chargeEndV: 14.2,
    batteryAh: 24,
    solarW: 50,
    latitude: 52.5,
    longitude: 13.4,
    status: 0b1001, // bit 0 charging + bit 3 healthy → "900"
  };
}

/** Three hex digits as the router writes them (bits 0-3, 4-7, 8-11, each nibble written big endian). */
export function statusHex(bits: number): string {
  let out = "";
  for (let nibble = 0; nibble < 3; nibble++) {
    let v = 0;
    for (let b = 0; b < 4; b++) if (bits & (1 << (nibble * 4 + b))) v |= 8 >> b;
    out += v.toString(16).toUpperCase();
  }
  return out;
}

/** The CSV line (revision 1, with status) the router appends to ffopenmppt.log. */
export function csvLine(s: IsemsStatus): string {
  return [
    s.nodeId,
    "1",
    s.timestamp,
    s.firmware,
    s.nextRebootMin,
    s.powerSave,
    s.openCircuitV,
    s.mppV,
    s.batteryV,
    s.chargePercent,
    s.healthPercent,
    s.batteryTempC,
    s.lowVoltageDisconnectV,
    s.chargeEndV,
    s.batteryAh,
    s.solarW,
    s.latitude,
    s.longitude,
    statusHex(s.status),
  ].join(";");
}

/** The router's status text for the bits it sets (the ones this simulator models). */
function summary(bits: number): string {
  const parts = [bits & 1 ? "Charging." : bits & 2 ? "Discharging." : bits & 4 ? "Fully charged." : "No information."];
  if (bits & 8) parts.push("Healthy.");
  if (bits & 16) parts.push("Warning: Battery level low. Increased battery wear.");
  if (bits & 256) parts.push("Battery overheating.");
  return parts.join(" ") + " ";
}

/** The single data set the router writes to ffopenmppt.json (its own key names). */
export function jsonDocument(s: IsemsStatus): Record<string, string | number> {
  return {
    "Node-ID": s.nodeId,
    Timestamp: s.timestamp,
    "System status summary": summary(s.status),
    "µC firmware and controller type": s.firmware,
    "Next reboot": s.nextRebootMin,
    "Power save level": s.powerSave,
    "Solar panel open circuit voltage": s.openCircuitV,
    "MPP-Tracking voltage": s.mppV,
    "Battery voltage": s.batteryV,
    "Charge state (0-100%)": s.chargePercent,
    "Battery temperature (Celsius)": s.batteryTempC,
    "Battery health estimate (0-100%)": s.healthPercent,
    "Low voltage disconnect voltage": s.lowVoltageDisconnectV,
    "Temperature corrected charge end voltage": s.chargeEndV,
    "Rated battery capacity in Ah (when new)": s.batteryAh,
    "Rated solar module power in Watt": s.solarW,
    Latitude: s.latitude,
    Longitude: s.longitude,
    "Status code": `0x${statusHex(s.status)}`,
  };
}

export class SimulatedIsemsNode {
  /** Every data set measured so far, oldest first; the last one is the current status. */
  readonly history: IsemsStatus[] = [];
  readonly requests = { json: 0, log: 0 };
  private readonly http: LoopbackHttpServer;
  private readonly now: () => number;

  private constructor(private readonly opts: IsemsNodeOptions) {
    this.now = opts.now ?? Date.now;
    this.history.push({ ...defaultStatus(opts.nodeId, this.now()), ...opts.status, nodeId: opts.nodeId });
    this.http = new LoopbackHttpServer((req, res) => this.handle(req, res), { host: opts.host, port: opts.port });
  }

  static async start(opts: IsemsNodeOptions): Promise<SimulatedIsemsNode> {
    const node = new SimulatedIsemsNode(opts);
    await node.http.start();
    return node;
  }

  get nodeId(): string {
    return this.opts.nodeId;
  }

  get status(): IsemsStatus {
    return itemAt(this.history, this.history.length - 1); // the constructor pushes the first status
  }

  /** Base URL, e.g. http://127.0.0.1:8101 (the data sets are under /ISEMS/). */
  get url(): string {
    return this.http.url;
  }

  /** A new measurement: the current status with these changes and (unless given) the clock's time. */
  measure(changes: Partial<Omit<IsemsStatus, "nodeId">> = {}): IsemsStatus {
    const next = { ...this.status, timestamp: Math.floor(this.now() / 1000), ...changes, nodeId: this.opts.nodeId };
    this.history.push(next);
    return next;
  }

  /** Publishes the last `lines` data sets as one CSV message on `isems/<node>/csvlog` (QoS 1), as a node pushes its log. */
  async push(brokerUrl: string, lines = 1, topic = `isems/${this.opts.nodeId}/csvlog`): Promise<void> {
    const client = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0, connectTimeout: 5000, clientId: `isems-${this.opts.nodeId}-${process.pid}` });
    try {
      await client.publishAsync(topic, this.history.slice(-lines).map(csvLine).join("\n") + "\n", { qos: 1 });
    } finally {
      await client.endAsync();
    }
  }

  async setMode(mode: IsemsMode): Promise<void> {
    if (mode === "refuse") await this.http.stop();
    else await this.http.start();
  }

  async stop(): Promise<void> {
    await this.http.stop();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method === "GET" && path === "/ISEMS/ffopenmppt.json") {
      this.requests.json++;
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(jsonDocument(this.status), null, 1));
    } else if (req.method === "GET" && path === "/ISEMS/ffopenmppt.log") {
      this.requests.log++;
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end(this.history.map(csvLine).join("\n") + "\n");
    } else {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("404 Not Found");
    }
  }
}

/**
 * `node <build>/scripts/sim/isems.js [--mqtt mqtt://127.0.0.1:1883] [--every 60]`: the example's three nodes —
 * solar-1 and solar-2 served over HTTP on ports 8101 and 8102, solar-3 pushing its CSV line to the broker every N s.
 */
async function main(argv: string[]): Promise<void> {
  const arg = (name: string, dflt: string): string => optionValue(argv, `--${name}`) ?? dflt;
  const broker = arg("mqtt", "mqtt://127.0.0.1:1883");
  const every = Number(arg("every", "60"));
  if (!Number.isFinite(every) || every < 1) throw new Error(`--every: expected seconds >= 1, got '${arg("every", "")}'`);
  const nodes = await Promise.all([
    SimulatedIsemsNode.start({ nodeId: "solar-1", port: 8101 }),
    SimulatedIsemsNode.start({ nodeId: "solar-2", port: 8102, status: { chargePercent: 54, batteryV: 12.5, batteryTempC: 31.2 } }),
    SimulatedIsemsNode.start({ nodeId: "solar-3", port: 0, status: { chargePercent: 71, batteryV: 12.8 } }),
  ]);
  const [http1, http2, pusher] = nodes;
  console.log(`ISEMS nodes over HTTP: ISEMS_HTTP_NODES=${http1.url},${http2.url}`);
  console.log(`ISEMS node solar-3 pushes to ${broker} on isems/solar-3/csvlog every ${every} s`);
  const tick = async () => {
    for (const n of nodes) n.measure({ batteryTempC: Math.round((n.status.batteryTempC + (Math.random() - 0.5)) * 10) / 10 });
    await pusher.push(broker).catch((err: unknown) => console.error(`push failed: ${err instanceof Error ? err.message : String(err)}`));
  };
  await tick();
  const timer = setInterval(() => void tick(), every * 1000);
  const stop = () => {
    clearInterval(timer);
    void Promise.all(nodes.map((n) => n.stop())).then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

runCli(module, main);
