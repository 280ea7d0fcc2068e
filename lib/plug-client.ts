// Talks to HS110-class plugs: one combined request per poll, relay set + read back, energy statistics (tplink-smarthome-api, or keep-alive sockets).
import { Client } from "tplink-smarthome-api";
import type { Device } from "./contracts/device";
import { PlugwatchError } from "./contracts/errors";
import { PlugConnections } from "./plug-connection";
import { CONTRACT_VERSION } from "./contracts/common";
import type { Reading } from "./contracts/reading";
import { showValue } from "./show-value";

/** What one poll returns before it is stamped into a Reading. */
export interface PlugSample {
  power: number; // W
  voltage: number; // V
  current: number; // A
  energy: number; // kWh, cumulative
  relay: boolean;
  alias?: string;
  model?: string;
  /** Identity the plug reports (sysinfo deviceId and mac / mic_mac). */
  deviceId?: string;
  mac?: string;
}

/** One entry of a plug's energy statistics: a day (year, month, day) or a month (year, month), in kWh. */
export interface EnergyStat {
  year: number;
  month?: number;
  day?: number;
  kWh: number;
}

export interface PlugClientOptions {
  /** Per-request socket timeout in ms (independent of any polling interval). */
  timeoutMs?: number;
  /**
   * Keep one TCP connection per plug open between requests (lib/plug-connection.ts) instead of one connection per
   * request through tplink-smarthome-api. For pollers: far less CPU per poll on both ends. Call close() when done.
   */
  keepAlive?: boolean;
}

const POLL_COMMAND = { system: { get_sysinfo: {} }, emeter: { get_realtime: {} } };

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
// Any JSON number, even one that overflows to Infinity (1e400): the plausibility check reports it, it is not "missing".
const num = (v: unknown): number | undefined => (typeof v === "number" && !Number.isNaN(v) ? v : undefined);

/** Parses the combined sysinfo + emeter response; accepts both V1 (W, V, A, kWh) and V2 (mW, mV, mA, Wh) emeters. */
export function parsePollResponse(text: string): PlugSample {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PlugwatchError("DEVICE_ERROR", "plug sent a response that is not JSON");
  }
  const sys = isObj(json) && isObj(json.system) ? json.system.get_sysinfo : undefined;
  const rt = isObj(json) && isObj(json.emeter) ? json.emeter.get_realtime : undefined;
  if (!isObj(sys)) throw new PlugwatchError("DEVICE_ERROR", "response has no system.get_sysinfo");
  if (typeof sys.err_code === "number" && sys.err_code !== 0) {
    throw new PlugwatchError("DEVICE_ERROR", `get_sysinfo failed: ${showValue(sys.err_msg ?? sys.err_code)}`);
  }
  if (!isObj(rt)) throw new PlugwatchError("DEVICE_ERROR", "response has no emeter.get_realtime (plug without energy metering?)");
  if (typeof rt.err_code === "number" && rt.err_code !== 0) {
    throw new PlugwatchError("DEVICE_ERROR", `emeter.get_realtime failed: ${showValue(rt.err_msg ?? rt.err_code)}`);
  }
  const power = num(rt.power) ?? (num(rt.power_mw) !== undefined ? (rt.power_mw as number) / 1000 : undefined);
  const voltage = num(rt.voltage) ?? (num(rt.voltage_mv) !== undefined ? (rt.voltage_mv as number) / 1000 : undefined);
  const current = num(rt.current) ?? (num(rt.current_ma) !== undefined ? (rt.current_ma as number) / 1000 : undefined);
  const energy = num(rt.total) ?? (num(rt.total_wh) !== undefined ? (rt.total_wh as number) / 1000 : undefined);
  const relayRaw = sys.relay_state;
  if (power === undefined || voltage === undefined || current === undefined || energy === undefined) {
    throw new PlugwatchError("DEVICE_ERROR", "emeter response lacks power, voltage, current or total");
  }
  if (relayRaw !== 0 && relayRaw !== 1) throw new PlugwatchError("DEVICE_ERROR", "sysinfo lacks relay_state");
  // Values are kept as the plug sent them (never clamped): the collector flags implausible ones (lib/plausibility.ts).
  const sample: PlugSample = { power, voltage, current, energy, relay: relayRaw === 1 };
  if (typeof sys.deviceId === "string") sample.deviceId = sys.deviceId;
  const mac = sys.mac ?? sys.mic_mac ?? sys.ethernet_mac;
  if (typeof mac === "string") sample.mac = mac;
  if (typeof sys.alias === "string") sample.alias = sys.alias;
  if (typeof sys.model === "string") sample.model = sys.model;
  return sample;
}

/** Maps a socket or library error to a stable code. */
export function classifyError(err: unknown): PlugwatchError {
  if (err instanceof PlugwatchError) return err;
  const e = err as { code?: string; message?: string };
  const msg = String(e?.message ?? err);
  if (/ECONNRESET|socket hang up|closed|EPIPE/i.test(msg) || e?.code === "ECONNRESET") {
    // Newer firmware accepts the TCP connection on 9999 and closes it without answering the legacy protocol.
    return new PlugwatchError("UNSUPPORTED_FIRMWARE", `connection closed without a reply (${msg}): firmware may not support the legacy protocol on this port`);
  }
  return new PlugwatchError("DEVICE_UNREACHABLE", msg);
}

export function toReading(device: Pick<Device, "id" | "kind">, sample: PlugSample, ts: number): Reading {
  return {
    v: CONTRACT_VERSION,
    device: device.id,
    ts,
    power: sample.power,
    voltage: sample.voltage,
    current: sample.current,
    energy: sample.energy,
    relay: sample.relay,
    kind: device.kind,
  };
}

export class PlugClient {
  private readonly client: Client;
  private readonly connections: PlugConnections | undefined;
  readonly timeoutMs: number;

  constructor(opts: PlugClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.client = new Client({ defaultSendOptions: { timeout: this.timeoutMs, transport: "tcp" }, logLevel: "silent" });
    if (opts.keepAlive) this.connections = new PlugConnections();
  }

  private async send(device: Pick<Device, "host" | "port">, payload: Json, timeoutMs = this.timeoutMs): Promise<string> {
    try {
      if (this.connections) return await this.connections.request(device.host, device.port, JSON.stringify(payload), timeoutMs);
      return await this.client.send(payload, device.host, device.port, { timeout: timeoutMs, transport: "tcp" });
    } catch (err) {
      throw classifyError(err);
    }
  }

  /** One legacy request of any JSON text (lib/transports uses it for strip outlets and probing). */
  sendText(device: Pick<Device, "host" | "port">, text: string, timeoutMs = this.timeoutMs): Promise<string> {
    let payload: Json;
    try {
      payload = JSON.parse(text) as Json;
    } catch {
      return Promise.reject(new PlugwatchError("INVALID_REQUEST", "request is not JSON"));
    }
    return this.send(device, payload, timeoutMs);
  }

  /** Open keep-alive sockets (0 without keepAlive). */
  get openSockets(): number {
    return this.connections?.openSockets ?? 0;
  }

  /** Closes the keep-alive sockets; requests in flight fail with DEVICE_UNREACHABLE. */
  close(): void {
    this.connections?.close();
  }

  /** One combined request: sysinfo (relay) + emeter realtime. */
  async poll(device: Pick<Device, "host" | "port">, timeoutMs?: number): Promise<PlugSample> {
    return parsePollResponse(await this.send(device, POLL_COMMAND, timeoutMs));
  }

  /** Sets the relay; throws DEVICE_ERROR if the plug rejects the command. */
  async setRelay(device: Pick<Device, "host" | "port">, on: boolean, timeoutMs?: number): Promise<void> {
    const text = await this.send(device, { system: { set_relay_state: { state: on ? 1 : 0 } } }, timeoutMs);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PlugwatchError("DEVICE_ERROR", "plug sent a response that is not JSON");
    }
    const r = isObj(json) && isObj(json.system) ? json.system.set_relay_state : undefined;
    if (!isObj(r) || (typeof r.err_code === "number" && r.err_code !== 0)) {
      throw new PlugwatchError("DEVICE_ERROR", `set_relay_state failed: ${JSON.stringify(r)}`);
    }
  }

  /** Energy statistics per day of a month (period "day") or per month of a year (period "month"), in kWh. */
  async stats(
    device: Pick<Device, "host" | "port">,
    period: "day" | "month",
    year: number,
    month?: number,
    sendText?: (text: string) => Promise<string>,
  ): Promise<EnergyStat[]> {
    if (!Number.isInteger(year) || year < 2000 || year > 2100)
      throw new PlugwatchError("INVALID_REQUEST", `year must be an integer between 2000 and 2100, got ${year}`);
    if (period === "day" && (!Number.isInteger(month) || (month as number) < 1 || (month as number) > 12)) {
      throw new PlugwatchError("INVALID_REQUEST", `month must be an integer between 1 and 12 for daily statistics, got ${month}`);
    }
    const method = period === "day" ? "get_daystat" : "get_monthstat";
    const cmd = period === "day" ? { emeter: { get_daystat: { year, month } } } : { emeter: { get_monthstat: { year } } };
    const text = sendText ? await sendText(JSON.stringify(cmd)) : await this.send(device, cmd);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PlugwatchError("DEVICE_ERROR", "plug sent a response that is not JSON");
    }
    const body = isObj(json) && isObj(json.emeter) ? json.emeter[method] : undefined;
    if (isObj(body) && typeof body.err_code === "number" && body.err_code !== 0) {
      throw new PlugwatchError("DEVICE_ERROR", `emeter.${method} failed: ${showValue(body.err_msg ?? body.err_code)}`);
    }
    const list = isObj(body) ? body[period === "day" ? "day_list" : "month_list"] : undefined;
    if (!Array.isArray(list)) throw new PlugwatchError("DEVICE_ERROR", `emeter.${method} returned no list`);
    return list.filter(isObj).map((e) => {
      // V1 emeters report kWh in `energy`, V2 report Wh in `energy_wh`.
      const kWh = num(e.energy) ?? (num(e.energy_wh) !== undefined ? (e.energy_wh as number) / 1000 : 0);
      const out: EnergyStat = { year: Number(e.year), kWh };
      if (e.month !== undefined) out.month = Number(e.month);
      if (e.day !== undefined) out.day = Number(e.day);
      return out;
    });
  }
}
