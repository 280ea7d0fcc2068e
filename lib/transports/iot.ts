// Kasa IOT payloads (the legacy JSON) for any transport: poll and relay of single plugs and of strip outlets (HS300).
import { PlugwatchError } from "../contracts/errors";
import { parsePollResponse, type PlugSample } from "../plug-client";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Sends one JSON text and resolves with the reply text (legacy TCP or KLAP). */
export type SendText = (text: string) => Promise<string>;

export const IOT_POLL = { system: { get_sysinfo: {} }, emeter: { get_realtime: {} } };
/** The poll request as text, built once (the collector sends it to every plug every interval). */
const IOT_POLL_TEXT = JSON.stringify(IOT_POLL);

function parse(text: string): Json {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PlugwatchError("PROTOCOL_ERROR", "plug sent a reply that is not JSON");
  }
  if (!isObj(json)) throw new PlugwatchError("PROTOCOL_ERROR", "plug sent a reply that is not a JSON object");
  return json;
}

/** The ids of a strip's outlets, in outlet order, from its sysinfo. */
export function stripChildIds(text: string): string[] {
  const json = parse(text);
  const sys = isObj(json.system) ? json.system.get_sysinfo : undefined;
  const children = isObj(sys) ? sys.children : undefined;
  if (!Array.isArray(children)) throw new PlugwatchError("DEVICE_ERROR", "sysinfo lists no children: not a power strip");
  const deviceId = isObj(sys) && typeof sys.deviceId === "string" ? sys.deviceId : "";
  // HS300 lists full ids (device id + 2 digits); some strips list only the 2 digits.
  return children.map((c) => (isObj(c) && typeof c.id === "string" ? (c.id.length <= 2 ? deviceId + c.id : c.id) : ""));
}

/** Parses one outlet's reply: the strip's sysinfo (relay from its child entry) and the outlet's realtime emeter. */
export function parseOutletResponse(text: string, childId: string): PlugSample {
  const json = parse(text);
  const sys = isObj(json.system) ? json.system.get_sysinfo : undefined;
  if (!isObj(sys) || !Array.isArray(sys.children)) throw new PlugwatchError("DEVICE_ERROR", "strip reply has no sysinfo children");
  const child = sys.children.find((c): c is Json => isObj(c) && typeof c.id === "string" && (c.id === childId || childId.endsWith(c.id)));
  if (!child || (child.state !== 0 && child.state !== 1)) throw new PlugwatchError("DEVICE_ERROR", `strip has no outlet '${childId}'`);
  // Reuse the single-plug parser for the emeter part (V1 and V2 units) with the outlet's relay state.
  const sample = parsePollResponse(
    JSON.stringify({ system: { get_sysinfo: { relay_state: child.state, alias: child.alias, model: sys.model } }, emeter: json.emeter }),
  );
  if (typeof child.alias !== "string") delete sample.alias;
  return sample;
}

/** An outlet of a strip as the plug addresses it. */
export interface OutletRef {
  /** 0-based outlet index. */
  index: number;
}

export class IotFamily {
  /** Child ids per strip address, learnt from its sysinfo once. */
  private readonly children = new Map<string, string[]>();

  private async childId(key: string, send: SendText, outlet: OutletRef): Promise<string> {
    let ids = this.children.get(key);
    if (!ids) {
      ids = stripChildIds(await send(JSON.stringify({ system: { get_sysinfo: {} } })));
      this.children.set(key, ids);
    }
    const id = ids[outlet.index];
    if (!id) throw new PlugwatchError("DEVICE_ERROR", `strip has ${ids.length} outlets, no outlet ${outlet.index + 1}`);
    return id;
  }

  async poll(key: string, send: SendText, outlet?: OutletRef): Promise<PlugSample> {
    if (!outlet) return parsePollResponse(await send(IOT_POLL_TEXT));
    const id = await this.childId(key, send, outlet);
    try {
      return parseOutletResponse(await send(JSON.stringify({ context: { child_ids: [id] }, ...IOT_POLL })), id);
    } catch (err) {
      // A strip that was replaced or reset has other child ids: learn them again on the next poll.
      if (err instanceof PlugwatchError && err.code === "DEVICE_ERROR") this.forget(key);
      throw err;
    }
  }

  async setRelay(key: string, send: SendText, on: boolean, outlet?: OutletRef): Promise<void> {
    const cmd: Json = { system: { set_relay_state: { state: on ? 1 : 0 } } };
    if (outlet) cmd.context = { child_ids: [await this.childId(key, send, outlet)] };
    const json = parse(await send(JSON.stringify(cmd)));
    const r = isObj(json.system) ? json.system.set_relay_state : undefined;
    if (!isObj(r) || (typeof r.err_code === "number" && r.err_code !== 0))
      throw new PlugwatchError("DEVICE_ERROR", `set_relay_state failed: ${JSON.stringify(r)}`);
  }

  /** Forgets what was learnt about a plug (after it was replaced or reset). */
  forget(key: string): void {
    this.children.delete(key);
  }
}
