// Octopus-style client simulator: two client companies' devices publishing office/room/device/attribute values,
// each device on its own authenticated MQTT connection (username = device id), as the shipped ACL expects.
import mqtt, { type MqttClient } from "mqtt";
import { optionValue, runCli } from "./cli";

/** One attribute value as a function of time (epoch ms); deterministic so tests can predict it. */
export type AttributeModel = (ts: number) => number | boolean;

export interface OctopusDevice {
  /** Client company = the office level of the topic, e.g. "acme". */
  office: string;
  room: string;
  /** Device id = MQTT username = the device level of the topic. */
  id: string;
  /** MQTT password (the demo passwords are listed in docs/examples/octopus.md). */
  password: string;
  attributes: Record<string, AttributeModel>;
}

const wave = (ts: number, periodMs: number, phase = 0): number => Math.sin((2 * Math.PI * ts) / periodMs + phase);
const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

const room = (ts: number, phase: number) => ({
  temperature: round(21.5 + 1.5 * wave(ts, 3_600_000, phase), 1),
  humidity: round(45 + 8 * wave(ts, 5_400_000, phase), 0),
  co2: round(650 + 250 * Math.max(0, wave(ts, 1_800_000, phase)), 0),
});

/** The two demo clients of deploy/octopus/passwd: ACME and Globex, one sensor and one plug each. */
export const DEMO_DEVICES: OctopusDevice[] = [
  {
    office: "acme",
    room: "meeting-1",
    id: "acme-sensor-1",
    password: "acme-sensor-1-demo",
    attributes: { temperature: (ts) => room(ts, 0).temperature, humidity: (ts) => room(ts, 0).humidity, co2: (ts) => room(ts, 0).co2 },
  },
  {
    office: "acme",
    room: "open-space",
    id: "acme-plug-1",
    password: "acme-plug-1-demo",
    attributes: { power: (ts) => round(60 + 25 * Math.abs(wave(ts, 600_000)), 1), on: () => true },
  },
  {
    office: "globex",
    room: "lab",
    id: "globex-sensor-1",
    password: "globex-sensor-1-demo",
    attributes: { temperature: (ts) => room(ts, 1).temperature, humidity: (ts) => room(ts, 1).humidity, co2: (ts) => room(ts, 1).co2 },
  },
  {
    office: "globex",
    room: "lab",
    id: "globex-plug-1",
    password: "globex-plug-1-demo",
    attributes: { power: (ts) => round(120 + 40 * Math.abs(wave(ts, 900_000, 2)), 1), on: () => true },
  },
];

export interface PublishedValue {
  topic: string;
  device: string;
  office: string;
  room: string;
  attribute: string;
  value: number | boolean;
  ts: number;
}

export interface OctopusClientsOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  url: string;
  /** First topic level (default "octopus"): topics are <root>/<office>/<room>/<device>/<attribute>. */
  root?: string;
  devices?: OctopusDevice[];
  clock?: () => number;
}

/** Connects every device with its own credentials; publishOnce() sends every attribute of every device (QoS 1). */
export class OctopusClients {
  private readonly clients = new Map<string, MqttClient>();
  private readonly root: string;
  private readonly devices: OctopusDevice[];
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: OctopusClientsOptions) {
    this.root = opts.root ?? "octopus";
    this.devices = opts.devices ?? DEMO_DEVICES;
    this.clock = opts.clock ?? Date.now;
  }

  topicOf(d: OctopusDevice, attribute: string): string {
    return `${this.root}/${d.office}/${d.room}/${d.id}/${attribute}`;
  }

  async connect(): Promise<void> {
    for (const d of this.devices) {
      const c = await mqtt.connectAsync(this.opts.url, {
        username: d.id,
        password: d.password,
        clientId: `${d.id}-${process.pid}`,
        protocolVersion: 5,
        reconnectPeriod: 1000,
        connectTimeout: 5000,
      });
      this.clients.set(d.id, c);
    }
  }

  /** Publishes the current value of every attribute; the value is the plain number/boolean as text. */
  async publishOnce(): Promise<PublishedValue[]> {
    const ts = this.clock();
    const out: PublishedValue[] = [];
    for (const d of this.devices) {
      const c = this.clients.get(d.id);
      if (!c) throw new Error(`device ${d.id} is not connected (call connect() first)`);
      for (const [attribute, model] of Object.entries(d.attributes)) {
        const value = model(ts);
        const topic = this.topicOf(d, attribute);
        await c.publishAsync(topic, String(value), { qos: 1 });
        out.push({ topic, device: d.id, office: d.office, room: d.room, attribute, value, ts });
      }
    }
    return out;
  }

  /** Publishes every `intervalMs` until stop(); errors are reported through `onError`. */
  run(intervalMs: number, onError: (err: Error) => void = () => undefined): void {
    this.timer = setInterval(() => void this.publishOnce().catch(onError), intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.clients.values()].map((c) => c.endAsync()));
    this.clients.clear();
  }
}

/** CLI: `node dist/scripts/sim/octopus-clients.js [--url mqtt://127.0.0.1:1883] [--interval-s 5]`. */
async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => optionValue(argv, name);
  const intervalS = Number(arg("--interval-s") ?? 5);
  if (!Number.isFinite(intervalS) || intervalS < 0.1) throw new Error("--interval-s must be a number >= 0.1");
  const sim = new OctopusClients({ url: arg("--url") ?? "mqtt://127.0.0.1:1883" });
  await sim.connect();
  console.log(`${DEMO_DEVICES.length} devices of 2 clients publishing every ${intervalS} s`);
  const first = await sim.publishOnce();
  for (const p of first) console.log(`${p.topic} ${String(p.value)}`);
  sim.run(intervalS * 1000, (err) => console.error(err.message));
  process.once("SIGINT", () => void sim.stop().then(() => process.exit(0)));
}

runCli(module, main);
