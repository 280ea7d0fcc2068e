// Simulated plugs on new firmware: Kasa over KLAP (HS110 hw 4, KP115, HS300 strip) and Tapo P110/P115, with their own accounts.
//
// Answers follow python-kasa's device fixtures: iot/KP115(US)_1.0_1.0.21 and HS300(US)_2.0_1.0.12 (V2 emeter units
// power_mw/voltage_mv/current_ma/total_wh, strip children with ids = deviceId + 2 digits, `context.child_ids`),
// smart/P110(EU)_1.0_1.2.3 (get_device_info with base64 nickname, get_energy_usage in mW/Wh, get_current_power in W)
// plus get_emeter_data of energy_monitoring v2 firmware. Each outlet follows the office's load profiles (load-model.ts).
import * as dgram from "node:dgram";
import type { Device } from "../../lib/contracts/device";
import { itemAt } from "../../lib/arrays";
import { frame, unframe } from "../../lib/transports/discovery-20002";
import type { Credentials } from "../../lib/transports/klap";
import { hashString } from "./profiles";
import { KlapServer, type KlapFaults } from "./klap-server";
import { LoadModel, type ForcedValues, type Metered } from "./load-model";

export type KlapModel = "HS110" | "KP115" | "HS300" | "P110" | "P115";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export function macFor(id: string, sep = ":"): string {
  const h = hashString(id);
  const h2 = hashString(`${id}#mac`);
  return [0x50, 0xc7, 0xbf, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h2 & 0xff].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(sep);
}

export function deviceIdFor(id: string): string {
  let out = "";
  for (let i = 0; out.length < 40; i++) out += hashString(`${id}#${i}`).toString(16).padStart(8, "0").toUpperCase();
  return out.slice(0, 40);
}

/** One outlet (a plug is a device with one outlet) and the handles a test uses to steer it. */
export class SimOutlet {
  constructor(
    readonly entry: Device,
    readonly device: SimulatedKlapDevice,
    readonly model: LoadModel,
    readonly childId: string,
  ) {}
  get id(): string {
    return this.entry.id;
  }
  get host(): string {
    return this.device.host;
  }
  get port(): number {
    return this.device.port;
  }
  get online(): boolean {
    return this.device.online;
  }
  get relay(): boolean {
    return this.model.relay;
  }
  set relay(on: boolean) {
    this.model.setRelay(on);
  }
  get realtime(): Metered {
    return this.model.realtime;
  }
  get energyKWh(): number {
    return this.model.energyKWh;
  }
  get forcedValues(): ForcedValues | undefined {
    return this.model.forcedValues;
  }
  force(v: ForcedValues): void {
    this.model.force(v);
  }
  release(): void {
    this.model.release();
  }
  setEnergy(kWh: number): void {
    this.model.setEnergy(kWh);
  }
  /** Takes the whole device (all outlets of a strip) online. */
  start(): Promise<void> {
    return this.device.start();
  }
  stop(): Promise<void> {
    return this.device.stop();
  }
}

export interface KlapDeviceOptions {
  model: KlapModel;
  /** The registry devices it serves: one, or one per outlet of a strip (in outlet order). */
  entries: Device[];
  address: string;
  port: number;
  credentials: Credentials | undefined;
  nowMs: number;
  offsetFor: (ms: number) => number;
  seed: number;
  relayOn: boolean;
  sessionTimeoutS?: number;
  /** Serve HTTPS with this key and certificate (PEM), like plugs on port 4433. */
  tls?: { key: string; cert: string };
  /** Answer the newer discovery (UDP, 20002 on real plugs) on this port of its address; undefined = no UDP. */
  discoveryPort?: number;
}

export class SimulatedKlapDevice {
  readonly model: KlapModel;
  readonly server: KlapServer;
  readonly outlets: SimOutlet[];
  readonly deviceId: string;
  readonly mac: string;
  /** Requests the device could not parse or did not know (answered with an error code). */
  unknownRequests = 0;
  /**
   * Tapo methods this firmware does not know, e.g. "get_emeter_data" for P110 firmware 1.2.3 (the python-kasa
   * fixture lacks it), or "multipleRequest" for firmware that takes one method per request. Answered as the
   * reference's fake device does (tests/fakeprotocol_smart.py): a `get_*` it lacks → PARAMS_ERROR -1008 with the
   * method's name; any other unknown method → UNKNOWN_METHOD_ERROR -1002 (SmartErrorCode in kasa/exceptions.py).
   */
  readonly unsupportedMethods = new Set<string>();
  private readonly address: string;
  private readonly tls: { key: string; cert: string } | undefined;
  private readonly discoveryPort: number | undefined;
  private udp: dgram.Socket | undefined;
  /** Discovery queries answered. */
  discoveryQueries = 0;
  private wantedPort: number;
  private readonly monthStartKWh: number[];
  private readonly dayStartKWh: number[];
  /** The first outlet: the plug itself, or a strip's first socket. */
  private readonly main: SimOutlet;

  constructor(opts: KlapDeviceOptions) {
    this.model = opts.model;
    const [first] = opts.entries;
    if (first === undefined) throw new RangeError("a simulated KLAP device needs at least one registry entry");
    const key = first.strip?.id ?? first.id;
    this.deviceId = deviceIdFor(key);
    this.mac = macFor(key);
    this.address = opts.address;
    this.tls = opts.tls;
    this.discoveryPort = opts.discoveryPort;
    this.wantedPort = opts.port;
    this.outlets = opts.entries.map(
      (e, i) =>
        new SimOutlet(
          { ...e, host: opts.address, port: opts.port },
          this,
          new LoadModel(e, { nowMs: opts.nowMs, offsetFor: opts.offsetFor, seed: opts.seed, relayOn: opts.relayOn }),
          `${this.deviceId}${String(i).padStart(2, "0")}`,
        ),
    );
    this.main = itemAt(this.outlets, 0);
    // Tapo counters restart each day and month; start the month a plausible few kWh ago.
    this.monthStartKWh = this.outlets.map((o) => Math.max(0, o.energyKWh - 1 - (hashString(o.id) % 40) / 10));
    this.dayStartKWh = this.outlets.map((o) => Math.max(0, o.energyKWh - (hashString(`${o.id}#d`) % 10) / 10));
    const serverOpts: ConstructorParameters<typeof KlapServer>[0] = { version: this.isTapo ? 2 : 1, handle: (t) => this.handle(t) };
    if (opts.credentials) serverOpts.credentials = opts.credentials;
    if (opts.sessionTimeoutS !== undefined) serverOpts.sessionTimeoutS = opts.sessionTimeoutS;
    this.server = new KlapServer(serverOpts);
  }

  get isTapo(): boolean {
    return this.model === "P110" || this.model === "P115";
  }
  get host(): string {
    return this.server.listening ? this.server.host : this.address;
  }
  get port(): number {
    return this.server.listening ? this.server.port : this.wantedPort;
  }
  get online(): boolean {
    return this.server.listening;
  }
  get faults(): KlapFaults {
    return this.server.faults;
  }
  set faults(f: KlapFaults) {
    this.server.faults = f;
  }

  async start(): Promise<void> {
    await this.server.listen(this.address, this.wantedPort, this.tls);
    if (this.discoveryPort !== undefined && !this.udp) {
      const udp = dgram.createSocket({ type: "udp4" });
      udp.on("error", () => undefined);
      udp.on("message", (msg, rinfo) => {
        const q = unframe(msg);
        if (typeof q !== "object" || q === null || !("params" in q)) return;
        this.discoveryQueries++;
        udp.send(frame({ error_code: 0, result: this.discoveryResult() }, msg.readUInt32BE(8)), rinfo.port, rinfo.address, () => undefined);
      });
      await new Promise<void>((resolve, reject) => {
        udp.once("error", reject);
        udp.bind(this.discoveryPort, this.address, () => {
          udp.off("error", reject);
          resolve();
        });
      });
      this.udp = udp;
    }
    // Keep the port across stop/start (as the legacy simulated plugs do).
    this.wantedPort = this.server.port;
    for (const o of this.outlets) o.entry.port = this.server.port;
  }

  async stop(): Promise<void> {
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    await this.server.close();
  }

  /** What the plug says about itself in the newer discovery (python-kasa's `discovery_result` fixtures). */
  discoveryResult(): Json {
    return {
      device_id: this.deviceId,
      owner: "00000000000000000000000000000000",
      device_type: this.isTapo ? "SMART.TAPOPLUG" : "IOT.SMARTPLUGSWITCH",
      device_model: this.isTapo ? `${this.model}(EU)` : this.model === "KP115" ? "KP115(EU)" : this.model === "HS300" ? "HS300(EU)" : "HS110(EU)",
      ip: this.host,
      mac: this.mac.replace(/:/g, "-"),
      is_support_iot_cloud: true,
      obd_src: "tplink",
      factory_default: false,
      mgt_encrypt_schm: { is_support_https: this.tls !== undefined, encrypt_type: "KLAP", http_port: this.port, lv: 2 },
    };
  }

  tick(nowMs: number): void {
    for (const o of this.outlets) o.model.tick(nowMs);
  }

  /** One request in, one reply out (Kasa IOT or Tapo SMART JSON). */
  handle(text: string): string {
    let req: unknown;
    try {
      req = JSON.parse(text);
    } catch {
      this.unknownRequests++;
      return this.isTapo ? JSON.stringify({ error_code: -1003 }) : JSON.stringify({ err_code: -1, err_msg: "json decode error" });
    }
    if (!isObj(req)) return JSON.stringify({ error_code: -1003 });
    return JSON.stringify(this.isTapo ? this.smartCall(req) : this.iotCall(req));
  }

  // -- Kasa IOT --------------------------------------------------------------------------------

  private isStrip(): boolean {
    return this.model === "HS300";
  }

  private sysinfo(): Json {
    const first = this.main;
    const base: Json = {
      sw_ver:
        this.model === "KP115" ? "1.0.21 Build 231129 Rel.171238" : this.model === "HS300" ? "1.0.12 Build 220121 Rel.175814" : "1.0.4 Build 191111 Rel.143500",
      hw_ver: this.model === "HS300" ? "2.0" : this.model === "KP115" ? "1.0" : "4.0",
      model: this.model === "KP115" ? "KP115(EU)" : this.model === "HS300" ? "HS300(EU)" : "HS110(EU)",
      deviceId: this.deviceId,
      oemId: "00000000000000000000000000000000",
      hwId: "00000000000000000000000000000000",
      rssi: -52,
      latitude_i: 0,
      longitude_i: 0,
      alias: first.entry.strip ? first.entry.strip.id : first.entry.name,
      status: "new",
      obd_src: "tplink",
      mic_type: "IOT.SMARTPLUGSWITCH",
      feature: "TIM:ENE",
      mac: this.mac,
      updating: 0,
      led_off: 0,
      err_code: 0,
    };
    if (this.isStrip()) {
      base.child_num = this.outlets.length;
      base.children = this.outlets.map((o) => ({ id: o.childId, state: o.relay ? 1 : 0, alias: o.entry.name, on_time: 0, next_action: { type: -1 } }));
    } else {
      base.dev_name = this.model === "KP115" ? "Smart Wi-Fi Plug Mini" : "Smart Wi-Fi Plug With Energy Monitoring";
      base.relay_state = first.relay ? 1 : 0;
      base.on_time = 0;
      base.active_mode = "none";
      base.icon_hash = "";
      base.next_action = { type: -1 };
      base.ntc_state = 0;
    }
    return base;
  }

  private iotCall(req: Json): Json {
    const ctx = isObj(req.context) && Array.isArray(req.context.child_ids) ? (req.context.child_ids as unknown[]).map(String) : undefined;
    let targets = this.outlets;
    if (ctx) {
      targets = this.outlets.filter((o) => ctx.some((c) => c === o.childId || (c.length <= 2 && o.childId.endsWith(c))));
      if (targets.length === 0) return { err_code: -14, err_msg: "entry not exist" };
    }
    const out: Json = {};
    for (const [module, body] of Object.entries(req)) {
      if (module === "context") continue;
      if (!isObj(body)) continue;
      const answers: Json = {};
      for (const [method, args] of Object.entries(body)) answers[method] = this.iotMethod(module, method, args, targets);
      out[module] = answers;
    }
    return out;
  }

  private iotMethod(module: string, method: string, args: unknown, targets: SimOutlet[]): Json {
    if (module === "system" && method === "get_sysinfo") return this.sysinfo();
    if (module === "system" && method === "set_relay_state") {
      const state = isObj(args) ? args.state : undefined;
      if (state !== 0 && state !== 1) return { err_code: -3, err_msg: "invalid argument" };
      for (const o of targets) o.relay = state === 1;
      return { err_code: 0 };
    }
    if (module === "emeter" && method === "get_realtime") {
      const [first] = targets;
      if (first === undefined) return { err_code: -14, err_msg: "entry not exist" };
      const rt = first.realtime;
      const out: Json = {
        voltage_mv: Math.round(rt.voltage * 1000),
        current_ma: Math.round(rt.current * 1000),
        power_mw: Math.round(rt.power * 1000),
        total_wh: Math.round(rt.total * 1000),
        err_code: 0,
      };
      if (this.isStrip()) out.slot_id = this.outlets.indexOf(first);
      return out;
    }
    if (module === "emeter" && (method === "get_daystat" || method === "get_monthstat")) {
      return { [method === "get_daystat" ? "day_list" : "month_list"]: [], err_code: 0 };
    }
    this.unknownRequests++;
    return module === "system" || module === "emeter" ? { err_code: -2, err_msg: "member not support" } : { err_code: -1, err_msg: "module not support" };
  }

  // -- Tapo SMART ------------------------------------------------------------------------------

  private smartCall(req: Json): Json {
    const method = typeof req.method === "string" ? req.method : "";
    const params = isObj(req.params) ? req.params : {};
    if (this.unsupportedMethods.has(method)) return unknownMethod(method);
    if (method === "multipleRequest") {
      const list = Array.isArray(params.requests) ? params.requests : [];
      const responses: Json[] = [];
      for (const r of list.filter(isObj)) {
        const m = typeof r.method === "string" ? r.method : "";
        const res = this.smartMethod(m, isObj(r.params) ? r.params : {});
        // Devices do not continue a batch after an error (the reference's fake device): later methods get no answer.
        if (res.error_code !== 0) break;
        responses.push({ method: m, ...res });
      }
      return { error_code: 0, result: { responses } };
    }
    return this.smartMethod(method, params);
  }

  private smartMethod(method: string, params: Json): Json {
    if (this.unsupportedMethods.has(method)) return unknownMethod(method);
    const o = this.main;
    const rt = o.realtime;
    const ok = (result: Json): Json => ({ error_code: 0, result });
    switch (method) {
      case "get_device_info":
        return ok({
          device_id: this.deviceId,
          fw_ver: "1.3.1 Build 240621 Rel.162048",
          hw_ver: "1.0",
          type: "SMART.TAPOPLUG",
          model: this.model,
          mac: macFor(o.entry.id, "-"),
          hw_id: "00000000000000000000000000000000",
          fw_id: "00000000000000000000000000000000",
          oem_id: "00000000000000000000000000000000",
          ip: this.host,
          time_diff: 60,
          ssid: Buffer.from("plugwatch-office").toString("base64"),
          rssi: -42,
          signal_level: 3,
          latitude: 0,
          longitude: 0,
          lang: "en_US",
          avatar: "plug",
          region: "Europe/Berlin",
          specs: "",
          nickname: Buffer.from(o.entry.name).toString("base64"),
          has_set_location_info: false,
          device_on: o.relay,
          on_time: 0,
          default_states: { type: "last_states", state: {} },
          overheated: false,
          power_protection_status: "normal",
          auto_off_status: "off",
          auto_off_remain_time: 0,
        });
      case "set_device_info":
        if ("device_on" in params) {
          if (typeof params.device_on !== "boolean") return { error_code: -1008 };
          o.relay = params.device_on;
        }
        return ok({});
      case "get_current_power":
        return ok({ current_power: Math.round(rt.power) });
      case "get_energy_usage": {
        const now = new Date();
        return ok({
          today_runtime: now.getHours() * 60 + now.getMinutes(),
          month_runtime: (now.getDate() - 1) * 1440 + now.getHours() * 60,
          today_energy: Math.round((o.energyKWh - (this.dayStartKWh[0] ?? 0)) * 1000),
          month_energy: Math.round((o.energyKWh - (this.monthStartKWh[0] ?? 0)) * 1000),
          local_time: now.toISOString().slice(0, 19).replace("T", " "),
          electricity_charge: [0, 0, 0],
          current_power: Math.round(rt.power * 1000),
        });
      }
      case "get_emeter_data":
        return ok({
          power_mw: Math.round(rt.power * 1000),
          voltage_mv: Math.round(rt.voltage * 1000),
          current_ma: Math.round(rt.current * 1000),
          energy_wh: Math.round(rt.total * 1000),
        });
      case "component_nego":
        return ok({
          component_list: ["device", "firmware", "time", "energy_monitoring", "led", "countdown", "schedule"].map((id) => ({
            id,
            ver_code: id === "energy_monitoring" || id === "device" ? 2 : 1,
          })),
        });
      default:
        this.unknownRequests++;
        return unknownMethod(method);
    }
  }
}

/** SmartErrorCode.PARAMS_ERROR / UNKNOWN_METHOD_ERROR (python-kasa's kasa/exceptions.py). */
export const SMART_PARAMS_ERROR = -1008;
export const SMART_UNKNOWN_METHOD_ERROR = -1002;

function unknownMethod(method: string): Json {
  return method.startsWith("get") ? { error_code: SMART_PARAMS_ERROR, method } : { error_code: SMART_UNKNOWN_METHOD_ERROR };
}
