// Tapo SMART payloads (P110/P115 over KLAP v2): device info + energy in one multipleRequest, relay by set_device_info.
//
// Units as the devices send them: get_emeter_data power_mw/voltage_mv/current_ma/energy_wh (energy_monitoring v2
// firmware), get_current_power current_power in W, get_energy_usage current_power in mW and today/month_energy in Wh.
// Firmware without get_emeter_data does not measure voltage and current: the reading carries 0 V / 0 A then, and its
// energy counter is the month's (it restarts at each month, which the energy code treats as a counter reset).
import { PlugwatchError } from "../contracts/errors";
import type { PlugSample } from "../plug-client";
import type { SendText } from "./iot";
import { showValue } from "../show-value";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

export interface SmartRequest {
  method: string;
  params?: Json;
}

/**
 * Error codes a Tapo device uses for "I do not know this method": UNKNOWN_METHOD_ERROR -1002 and PARAMS_ERROR -1008
 * (python-kasa's SmartErrorCode), COMMON_FAILED -1, and -10000 / -40210 seen from older firmware.
 */
const UNKNOWN_METHOD = new Set([-1, -1002, -1008, -10000, -40210]);

function parseEnvelope(text: string): Json {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PlugwatchError("PROTOCOL_ERROR", "Tapo device sent a reply that is not JSON");
  }
  if (!isObj(json) || typeof json.error_code !== "number") throw new PlugwatchError("PROTOCOL_ERROR", "Tapo reply has no error_code");
  return json;
}

export class SmartDeviceError extends PlugwatchError {
  constructor(
    readonly method: string,
    readonly errorCode: number,
  ) {
    super("DEVICE_ERROR", `${method} failed with error_code ${errorCode}`);
  }
}

/** Sends one SMART request; resolves with its `result`. */
export async function callSmart(send: SendText, req: SmartRequest): Promise<Json> {
  const json = parseEnvelope(await send(JSON.stringify({ method: req.method, ...(req.params ? { params: req.params } : {}), request_time_milis: Date.now() })));
  if (json.error_code !== 0) throw new SmartDeviceError(req.method, json.error_code as number);
  return isObj(json.result) ? json.result : {};
}

/** Results per method of a batch; a method the device refused maps to its error code. */
export async function callMultiple(send: SendText, reqs: SmartRequest[]): Promise<Map<string, Json | number>> {
  const result = await callSmart(send, { method: "multipleRequest", params: { requests: reqs } });
  const out = new Map<string, Json | number>();
  const responses = Array.isArray(result.responses) ? result.responses : [];
  for (const r of responses) {
    if (!isObj(r) || typeof r.method !== "string") continue;
    out.set(r.method, r.error_code === 0 || r.error_code === undefined ? (isObj(r.result) ? r.result : {}) : Number(r.error_code));
  }
  return out;
}

/** Maps get_device_info + energy answers onto a sample (W, V, A, kWh). */
export function smartSample(info: Json, emeter: Json | undefined, usage: Json | undefined, currentPower: Json | undefined): PlugSample {
  if (typeof info.device_on !== "boolean") throw new PlugwatchError("DEVICE_ERROR", "get_device_info lacks device_on");
  const powerW =
    num(emeter?.power_mw) !== undefined
      ? (emeter?.power_mw as number) / 1000
      : (num(currentPower?.current_power) ?? (num(usage?.current_power) !== undefined ? (usage?.current_power as number) / 1000 : undefined));
  if (powerW === undefined) throw new PlugwatchError("DEVICE_ERROR", "Tapo device reports no power (no energy monitoring?)");
  const voltage = num(emeter?.voltage_mv) !== undefined ? (emeter?.voltage_mv as number) / 1000 : 0;
  const current = num(emeter?.current_ma) !== undefined ? (emeter?.current_ma as number) / 1000 : 0;
  const wh = num(emeter?.energy_wh) ?? num(usage?.month_energy);
  if (wh === undefined) throw new PlugwatchError("DEVICE_ERROR", "Tapo device reports no energy counter");
  const sample: PlugSample = {
    power: Math.max(0, powerW),
    voltage: Math.max(0, voltage),
    current: Math.max(0, current),
    energy: Math.max(0, wh / 1000),
    relay: info.device_on,
  };
  if (typeof info.nickname === "string") {
    const alias = Buffer.from(info.nickname, "base64").toString("utf8");
    if (alias) sample.alias = alias;
  }
  if (typeof info.model === "string") sample.model = info.model;
  return sample;
}

/** What a poll asks, device info first (it must never be cut off by a failing optional method). */
const POLL_METHODS = ["get_device_info", "get_energy_usage", "get_current_power", "get_emeter_data"];

export class SmartFamily {
  /** Addresses whose firmware refused multipleRequest: they get one request per method. */
  private readonly single = new Set<string>();

  /** Optional methods a plug answered "unknown method" to: left out of its later polls. */
  private readonly unknown = new Map<string, Set<string>>();

  async poll(key: string, send: SendText): Promise<PlugSample> {
    const skip = this.unknown.get(key);
    const methods = POLL_METHODS.filter((m) => !skip?.has(m));
    let answers: Map<string, Json | number>;
    if (!this.single.has(key)) {
      try {
        answers = await callMultiple(
          send,
          methods.map((method) => ({ method })),
        );
      } catch (err) {
        if (!(err instanceof SmartDeviceError) || !UNKNOWN_METHOD.has(err.errorCode)) throw err;
        this.single.add(key);
        return this.poll(key, send);
      }
    } else answers = new Map();
    // A plug stops a batch at its first failing method (python-kasa re-asks the rest too): the methods left
    // unanswered, or all of them for firmware without multipleRequest, are asked one by one.
    for (const method of methods) {
      if (answers.has(method)) continue;
      try {
        answers.set(method, await callSmart(send, { method }));
      } catch (err) {
        if (!(err instanceof SmartDeviceError)) throw err;
        answers.set(method, err.errorCode);
      }
    }
    for (const [method, a] of answers) {
      if (typeof a === "number" && UNKNOWN_METHOD.has(a) && method !== "get_device_info") {
        const set = this.unknown.get(key) ?? new Set<string>();
        set.add(method);
        this.unknown.set(key, set);
      }
    }
    const get = (m: string): Json | undefined => {
      const a = answers.get(m);
      return isObj(a) ? a : undefined;
    };
    const info = get("get_device_info");
    if (!info) throw new PlugwatchError("DEVICE_ERROR", `get_device_info failed (${showValue(answers.get("get_device_info") ?? "no answer")})`);
    return smartSample(info, get("get_emeter_data"), get("get_energy_usage"), get("get_current_power"));
  }

  async setRelay(send: SendText, on: boolean): Promise<void> {
    await callSmart(send, { method: "set_device_info", params: { device_on: on } });
  }
}
