// The simulated office: one real-protocol HS110 simulator per registry device on loopback, driven by the load profiles.
import * as net from "node:net";
import { Device as SimDevice, UdpServer } from "tplink-smarthome-simulator";
import type { Device } from "../../lib/contracts/device";
import { loadRegistryFile } from "../../lib/registry";
import type { Credentials } from "../../lib/transports/klap";
import { SimulatedKlapDevice, type KlapModel, type SimOutlet } from "./klap-devices";
import { LoadModel, type ForcedValues } from "./load-model";
import { hashString, type LoadSample } from "./profiles";

/** The account the simulated KLAP/Tapo plugs are bound to unless `credentialsFor` says otherwise. */
export const DEMO_ACCOUNT: Credentials = { user: "office@plugwatch.example", password: "plugwatch-demo" };

export type FirmwareMode = "legacy" | "unsupported";

/** Values a test pins on a plug (W, V, A); any left out keep following the profile (current = P / V). */
export type { ForcedValues };

/** What the plug's emeter serves right now (W, V, A, kWh). */
export interface Realtime extends LoadSample {
  total: number;
}

export interface OfficeOptions {
  /** Epoch-ms clock used by the timer (default Date.now). */
  clock?: () => number;
  /** Model update period in ms (default 1000); 0 = no timer, the test calls `tick(nowMs)`. */
  tickMs?: number;
  /** Address every simulator listens on (default 127.0.0.1). */
  address?: string;
  /** Port for a device (default: the registry port); return 0 to let the OS choose. */
  portFor?: (d: Device) => number;
  /** Office local time as a fixed UTC offset in minutes (default: this machine's offset at each instant). */
  utcOffsetMinutes?: number;
  /** Office-wide seed for the profiles (default 0). */
  seed?: number;
  /** Relay state every plug starts with (default true: the loads are plugged in and on). */
  relayOn?: boolean;
  /** How many simulators start at once (default 64). */
  startConcurrency?: number;
  /** The account of a KLAP/Tapo device (default DEMO_ACCOUNT; undefined from the function = blank, never bound). */
  credentialsFor?: (d: Device) => Credentials | undefined;
  /** Address of a KLAP/Tapo device (default `address`); e.g. its own 127.x.y.z to serve port 80 like a real plug. */
  klapAddressFor?: (d: Device) => string;
  /** Session length the KLAP/Tapo devices give (TIMEOUT cookie), s (default 86 400). */
  klapSessionTimeoutS?: number;
  /** KLAP/Tapo devices answer the newer discovery on this UDP port of their address (real plugs: 20002); default none. */
  klapDiscoveryPort?: number;
}

/** The simulated model of a KLAP/Tapo registry device. */
function klapModelOf(d: Device): KlapModel {
  const m = d.model.toUpperCase();
  if (d.strip || m.startsWith("HS300")) return "HS300";
  if (m.startsWith("P115")) return "P115";
  if (m.startsWith("P110") || d.protocol === "tapo") return "P110";
  if (m.startsWith("KP115")) return "KP115";
  return "HS110";
}

/** Emeter realtime fields of the HS110 (V1 units: W, V, A, kWh) as held in the simulator's data. */
interface EmeterRealtime {
  power: number;
  voltage: number;
  current: number;
  total: number;
}
interface SimData {
  emeter: { realtime: EmeterRealtime };
  system: { sysinfo: { relay_state?: 0 | 1 } };
}
type ApiMethod = (args: unknown) => unknown;

const machineOffset = (ms: number): number => -new Date(ms).getTimezoneOffset();

function macFor(id: string): string {
  const h = hashString(id);
  const h2 = hashString(`${id}#mac`);
  // 50:C7:BF is a TP-Link OUI.
  const bytes = [0x50, 0xc7, 0xbf, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h2 & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

function deviceIdFor(id: string): string {
  let out = "";
  for (let i = 0; out.length < 40; i++) out += hashString(`${id}#${i}`).toString(16).padStart(8, "0").toUpperCase();
  return out.slice(0, 40);
}

/** One simulated plug and the handles a test uses to steer it. */
export class SimulatedPlug {
  /** The registry entry (host and port are the ones actually listened on). */
  readonly entry: Device;
  /** The underlying tplink-smarthome-simulator device (real protocol over TCP/UDP). */
  readonly sim: SimDevice;
  private readonly data: SimData;
  /** Relay, profile, forced values and energy counter (shared with the KLAP/Tapo devices); served through `data`. */
  private readonly load: LoadModel;
  private mode: FirmwareMode = "legacy";
  private listening = false;
  private blackhole: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private lifecycle: Promise<void> = Promise.resolve();
  /** Errors the simulator reported on its sockets (client resets etc.); kept so they never crash the process. */
  socketErrors = 0;

  constructor(entry: Device, opts: { address: string; port: number; nowMs: number; offsetFor: (ms: number) => number; seed: number; relayOn: boolean }) {
    this.entry = { ...entry, host: opts.address, port: opts.port };
    this.sim = new SimDevice({
      model: "hs110",
      address: opts.address,
      port: opts.port,
      alias: entry.name,
      data: {
        mac: macFor(entry.id),
        system: { sysinfo: { relay_state: opts.relayOn ? 1 : 0, deviceId: deviceIdFor(entry.id), model: "HS110(EU)" } },
      } as unknown as NonNullable<ConstructorParameters<typeof SimDevice>[0]["data"]>,
    });
    this.data = this.sim.data as unknown as SimData;
    // An EventEmitter 'error' without a listener would throw: a client resetting its socket must not crash the office.
    this.sim.deviceNetworking.on("error", () => {
      this.socketErrors++;
    });
    this.wrapRelayCommand();
    this.load = new LoadModel(entry, opts);
    this.serve();
  }

  get id(): string {
    return this.entry.id;
  }
  get host(): string {
    return this.entry.host;
  }
  get port(): number {
    return this.entry.port;
  }
  /** True while something listens on the plug's port (legacy protocol or the unsupported-firmware listener). */
  get online(): boolean {
    return this.listening;
  }
  get firmware(): FirmwareMode {
    return this.mode;
  }

  /** Relay as the plug holds it; set by real `set_relay_state` commands or here. */
  get relay(): boolean {
    return this.data.system.sysinfo.relay_state === 1;
  }
  set relay(on: boolean) {
    this.data.system.sysinfo.relay_state = on ? 1 : 0;
    this.serve();
  }

  /** Cumulative energy counter in kWh. */
  get energyKWh(): number {
    return this.load.energyKWh;
  }

  /** The forced values, if any. */
  get forcedValues(): ForcedValues | undefined {
    return this.load.forcedValues;
  }

  /** A copy of what the emeter serves now. */
  get realtime(): Realtime {
    const rt = this.data.emeter.realtime;
    return { power: rt.power, voltage: rt.voltage, current: rt.current, total: rt.total };
  }

  /** Pins values until `release()`; takes effect at once. Relay off still reads 0 W / 0 A. */
  force(values: ForcedValues): void {
    this.load.force(values);
    this.serve();
  }

  /** Back to the profile. */
  release(): void {
    this.load.release();
    this.serve();
  }

  /** Sets the energy counter (kWh), e.g. 0 to simulate a counter reset. */
  setEnergy(kWh: number): void {
    this.load.setEnergy(kWh);
    this.serve();
  }

  /**
   * Advances the model to `nowMs`: the power served since the previous tick is integrated into the
   * energy counter (kWh += P·dt), then the values for `nowMs` are computed and served.
   */
  tick(nowMs: number): void {
    this.load.tick(nowMs);
    this.serve();
  }

  /** Copies the model's values (for the relay the plug holds) into what the legacy simulator serves. */
  private serve(): void {
    if (this.load.relay !== this.relay) this.load.setRelay(this.relay);
    const m = this.load.realtime;
    const rt = this.data.emeter.realtime;
    rt.power = m.power;
    rt.voltage = m.voltage;
    rt.current = m.current;
    rt.total = m.total;
  }

  /** Makes real `set_relay_state` commands take effect on the served power at once, not at the next tick. */
  private wrapRelayCommand(): void {
    const system = (this.sim.api as unknown as { system: Record<string, ApiMethod> }).system;
    const original = system.set_relay_state;
    if (typeof original !== "function") return;
    system.set_relay_state = (args: unknown) => {
      const result = original.call(system, args);
      this.serve();
      return result;
    };
  }

  private serialize(op: () => Promise<void>): Promise<void> {
    const next = this.lifecycle.then(op, op);
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  /** Goes online on its port (the same port as before a `stop()`). */
  start(): Promise<void> {
    return this.serialize(async () => {
      if (this.listening) return;
      if (this.mode === "legacy") {
        await this.startSimulator();
        const server = this.sim.deviceNetworking.server;
        server?.on("connection", (s: net.Socket) => this.track(s));
        this.entry.port = this.sim.port;
      } else {
        this.blackhole = await listenBlackhole(this.entry.host, this.entry.port, (s) => this.track(s));
        const addr = this.blackhole.address();
        if (addr && typeof addr === "object") this.entry.port = addr.port;
      }
      this.listening = true;
    });
  }

  /**
   * Starts the simulator. It binds UDP first and then TCP on the same number; with port 0 that number may
   * already be taken for TCP, so an OS-chosen port is retried a few times before giving up.
   */
  private async startSimulator(): Promise<void> {
    const dn = this.sim.deviceNetworking;
    const ephemeral = dn.port === 0;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sim.start();
        return;
      } catch (err) {
        // Free whatever half got bound, and defuse the simulator's own delayed re-listen of the failed server
        // (it would otherwise bind behind our back and overwrite the port).
        const server = dn.server;
        if (server) {
          server.removeAllListeners("listening");
          server.removeAllListeners("error");
          server.on("error", () => undefined);
          server.on("listening", () => server.close());
        }
        dn.serverBound = false;
        await this.sim.stop().catch(() => undefined);
        const busy = (err as { code?: string }).code === "EADDRINUSE";
        if (!ephemeral || !busy || attempt >= 10) throw err;
        dn.port = 0;
      }
    }
  }

  /** Goes offline: the port refuses connections (open connections are cut). */
  stop(): Promise<void> {
    return this.serialize(async () => {
      if (!this.listening) return;
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
      if (this.mode === "legacy") {
        // The simulator closes its UDP socket without waiting for it; wait, so a stopped plug holds no handle.
        const udp = this.sim.deviceNetworking.udpSocket;
        const udpClosed =
          udp && this.sim.deviceNetworking.udpSocketBound ? new Promise<void>((resolve) => udp.once("close", () => resolve())) : Promise.resolve();
        await this.sim.stop();
        await udpClosed;
      } else if (this.blackhole) {
        const srv = this.blackhole;
        this.blackhole = undefined;
        await new Promise<void>((resolve) => srv.close(() => resolve()));
      }
      this.listening = false;
    });
  }

  /**
   * "legacy": the HS110 answers the legacy protocol. "unsupported": like newer firmware, the port accepts
   * TCP connections and closes them without answering. Keeps the port and the online/offline state.
   */
  async setFirmware(mode: FirmwareMode): Promise<void> {
    if (mode !== "legacy" && mode !== "unsupported") throw new RangeError(`unknown firmware mode '${String(mode)}'`);
    if (mode === this.mode) return;
    const wasOnline = this.listening;
    await this.stop();
    this.mode = mode;
    if (wasOnline) await this.start();
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on("error", () => {
      this.socketErrors++;
    });
    s.once("close", () => this.sockets.delete(s));
  }
}

/** A TCP server that accepts each connection and closes it without a byte of reply. */
function listenBlackhole(host: string, port: number, onSocket: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((s) => {
      onSocket(s);
      s.resume();
      s.end();
    });
    srv.once("error", reject);
    srv.listen({ port, host }, () => {
      srv.off("error", reject);
      srv.on("error", () => undefined);
      resolve(srv);
    });
  });
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first failure after all settle. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = items.values(); // shared by the workers: each item is taken once
  let first: { error: unknown } | undefined; // boxed: a thrown `undefined` still counts as a failure
  const worker = async (): Promise<void> => {
    for (const item of queue) {
      try {
        await fn(item);
      } catch (err) {
        first ??= { error: err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (first) throw first.error;
}

export class SimulatedOffice {
  private readonly plugs: Map<string, SimulatedPlug>;
  private readonly klapDevices: SimulatedKlapDevice[];
  private readonly outlets = new Map<string, SimOutlet>();
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(plugs: Map<string, SimulatedPlug>, klapDevices: SimulatedKlapDevice[], clock: () => number) {
    this.plugs = plugs;
    this.klapDevices = klapDevices;
    for (const d of klapDevices) for (const o of d.outlets) this.outlets.set(o.id, o);
    this.clock = clock;
  }

  /** Starts one HS110 simulator per device. On any failure, everything already started is stopped again. */
  static async start(devices: readonly Device[], opts: OfficeOptions = {}): Promise<SimulatedOffice> {
    const clock = opts.clock ?? Date.now;
    const address = opts.address ?? "127.0.0.1";
    const fixed = opts.utcOffsetMinutes;
    const offsetFor = fixed === undefined ? machineOffset : () => fixed;
    const now = clock();
    const plugs = new Map<string, SimulatedPlug>();
    const seen = new Set<string>();
    // KLAP/Tapo devices: one per registry entry (a strip's outlets share one device).
    /** KLAP/Tapo entries per physical device (a strip's outlets share one), in registry order. */
    const klapGroups = new Map<string, [Device, ...Device[]]>();
    for (const d of devices) {
      if (seen.has(d.id)) throw new Error(`duplicate device id '${d.id}'`);
      seen.add(d.id);
      const proto = d.protocol ?? "legacy";
      if (proto === "klap" || proto === "tapo") {
        const key = d.strip?.id ?? d.id;
        const group = klapGroups.get(key);
        if (group) group.push(d);
        else klapGroups.set(key, [d]);
        continue;
      }
      const port = opts.portFor ? opts.portFor(d) : d.port;
      plugs.set(d.id, new SimulatedPlug(d, { address, port, nowMs: now, offsetFor, seed: opts.seed ?? 0, relayOn: opts.relayOn ?? true }));
    }
    const klapDevices = [...klapGroups.values()].map((entries) => {
      const first = entries[0];
      const o: ConstructorParameters<typeof SimulatedKlapDevice>[0] = {
        model: klapModelOf(first),
        entries: [...entries].sort((a, b) => (a.strip?.index ?? 0) - (b.strip?.index ?? 0)),
        address: opts.klapAddressFor ? opts.klapAddressFor(first) : address,
        port: opts.portFor ? opts.portFor(first) : first.port,
        credentials: opts.credentialsFor ? opts.credentialsFor(first) : DEMO_ACCOUNT,
        nowMs: now,
        offsetFor,
        seed: opts.seed ?? 0,
        relayOn: opts.relayOn ?? true,
      };
      if (opts.klapSessionTimeoutS !== undefined) o.sessionTimeoutS = opts.klapSessionTimeoutS;
      if (opts.klapDiscoveryPort !== undefined) o.discoveryPort = opts.klapDiscoveryPort;
      return new SimulatedKlapDevice(o);
    });
    // Each simulator registers a listener on the library's shared UDP discovery emitter (default cap 25).
    if (plugs.size > 20) UdpServer.setMaxListeners(0);
    const office = new SimulatedOffice(plugs, klapDevices, clock);
    try {
      await eachLimited(klapDevices, opts.startConcurrency ?? 64, async (k) => {
        try {
          await k.start();
        } catch (err) {
          throw new Error(`cannot start simulated ${k.model} '${k.outlets[0]?.id ?? "?"}' on ${k.host}:${k.port}: ${(err as Error).message}`);
        }
      });
      await eachLimited([...plugs.values()], opts.startConcurrency ?? 64, async (p) => {
        try {
          await p.start();
        } catch (err) {
          throw new Error(`cannot start simulated plug '${p.id}' on ${p.host}:${p.port}: ${(err as Error).message}`);
        }
      });
    } catch (err) {
      await office.stop();
      throw err;
    }
    const tickMs = opts.tickMs ?? 1000;
    if (tickMs > 0) {
      office.timer = setInterval(() => office.tick(), tickMs);
      office.timer.unref();
    }
    return office;
  }

  /** Loads and validates a registry file (throws RegistryError), then starts its devices. */
  static async fromRegistryFile(file: string, opts: OfficeOptions = {}): Promise<SimulatedOffice> {
    return SimulatedOffice.start(loadRegistryFile(file).devices, opts);
  }

  /** Every legacy plug, in registry order (KLAP/Tapo devices: `klap`). */
  get all(): SimulatedPlug[] {
    return [...this.plugs.values()];
  }

  /** Every KLAP/Tapo device (a strip is one device with several outlets). */
  get klap(): SimulatedKlapDevice[] {
    return [...this.klapDevices];
  }

  /** Registry devices simulated (legacy plugs + KLAP/Tapo plugs and strip outlets). */
  get size(): number {
    return this.plugs.size + this.outlets.size;
  }

  /** The control surface of one legacy plug; throws on an unknown id (KLAP/Tapo devices: `outlet(id)`). */
  plug(id: string): SimulatedPlug {
    const p = this.plugs.get(id);
    if (!p) throw new Error(this.outlets.has(id) ? `'${id}' is a KLAP/Tapo device: use outlet('${id}')` : `no simulated plug '${id}'`);
    return p;
  }

  /** The control surface of a KLAP/Tapo plug or strip outlet (registry device id); throws on an unknown id. */
  outlet(id: string): SimOutlet {
    const o = this.outlets.get(id);
    if (!o) throw new Error(`no simulated KLAP/Tapo device '${id}'`);
    return o;
  }

  /** The port a device actually listens on. */
  port(id: string): number {
    return this.plugs.get(id)?.port ?? this.outlet(id).port;
  }

  /** A copy of the registry (every device, strip outlets included) with the host and port actually listened on. */
  registryDevices(): Device[] {
    const copy = (e: Device, host: string, port: number): Device => ({
      ...e,
      host,
      port,
      location: { ...e.location },
      ...(e.tags ? { tags: { ...e.tags } } : {}),
      ...(e.strip ? { strip: { ...e.strip } } : {}),
    });
    return [...this.all.map((p) => copy(p.entry, p.entry.host, p.entry.port)), ...[...this.outlets.values()].map((o) => copy(o.entry, o.host, o.port))];
  }

  /** Advances every plug's model to `nowMs` (default: the clock). */
  tick(nowMs: number = this.clock()): void {
    for (const p of this.plugs.values()) p.tick(nowMs);
    for (const k of this.klapDevices) k.tick(nowMs);
  }

  /** Stops the timer and every simulator; leaves no socket or timer behind. Idempotent. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    await Promise.all([...this.all.map((p) => p.stop()), ...this.klapDevices.map((k) => k.stop())]);
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}
