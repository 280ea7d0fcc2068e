// The simulated KLAP/Tapo plugs answer like the real devices recorded in python-kasa's fixtures
// (smart/P110(EU)_1.0_1.2.3.json, iot/KP115(US)_1.0_1.0.21.json) and its fake devices' error codes.
import assert from "node:assert/strict";
import type { Device } from "../../lib/contracts/device";
import { SimulatedKlapDevice, type KlapModel } from "../../scripts/sim/klap-devices";

type Json = Record<string, unknown>;

function sim(model: KlapModel): SimulatedKlapDevice {
  const entry: Device = {
    id: `${model.toLowerCase()}-1`,
    name: "Desk lamp",
    model,
    host: "127.0.0.1",
    port: 0,
    kind: "workplace",
    location: { building: "hq", floor: "1", room: "r1" },
    protocol: model.startsWith("P") ? "tapo" : "klap",
  };
  return new SimulatedKlapDevice({
    model,
    entries: [entry],
    address: "127.0.0.1",
    port: 0,
    credentials: undefined,
    nowMs: Date.parse("2026-03-04T10:00:00Z"),
    offsetFor: () => 0,
    seed: 1,
    relayOn: true,
  });
}
const call = (d: SimulatedKlapDevice, req: Json): Json => JSON.parse(d.handle(JSON.stringify(req))) as Json;
const typesOf = (o: Json): Record<string, string> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? "array" : typeof v]));

// Field names and JSON types of the recorded P110 (EU) 1.0 / 1.2.3 get_device_info.
const P110_DEVICE_INFO: Record<string, string> = {
  auto_off_remain_time: "number",
  auto_off_status: "string",
  avatar: "string",
  default_states: "object",
  device_id: "string",
  device_on: "boolean",
  fw_id: "string",
  fw_ver: "string",
  has_set_location_info: "boolean",
  hw_id: "string",
  hw_ver: "string",
  ip: "string",
  lang: "string",
  latitude: "number",
  longitude: "number",
  mac: "string",
  model: "string",
  nickname: "string",
  oem_id: "string",
  on_time: "number",
  overheated: "boolean",
  power_protection_status: "string",
  region: "string",
  rssi: "number",
  signal_level: "number",
  specs: "string",
  ssid: "string",
  time_diff: "number",
  type: "string",
};
const P110_ENERGY_USAGE: Record<string, string> = {
  current_power: "number",
  electricity_charge: "array",
  local_time: "string",
  month_energy: "number",
  month_runtime: "number",
  today_energy: "number",
  today_runtime: "number",
};
// Field names and JSON types of the recorded KP115 (US) 1.0 / 1.0.21 sysinfo and realtime emeter.
const KP115_SYSINFO: Record<string, string> = {
  active_mode: "string",
  alias: "string",
  dev_name: "string",
  deviceId: "string",
  err_code: "number",
  feature: "string",
  hwId: "string",
  hw_ver: "string",
  icon_hash: "string",
  latitude_i: "number",
  led_off: "number",
  longitude_i: "number",
  mac: "string",
  mic_type: "string",
  model: "string",
  next_action: "object",
  ntc_state: "number",
  obd_src: "string",
  oemId: "string",
  on_time: "number",
  relay_state: "number",
  rssi: "number",
  status: "string",
  sw_ver: "string",
  updating: "number",
};
const KP115_REALTIME = { current_ma: "number", err_code: "number", power_mw: "number", total_wh: "number", voltage_mv: "number" };

const sorted = (o: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

describe("simulated plugs against python-kasa's device fixtures", function () {
  it("P110: get_device_info and get_energy_usage have the recorded fields with the recorded JSON types", function () {
    const d = sim("P110");
    const info = call(d, { method: "get_device_info" });
    assert.equal(info.error_code, 0);
    const result = info.result as Json;
    assert.deepEqual(sorted(typesOf(result)), sorted(P110_DEVICE_INFO));
    assert.equal(result.type, "SMART.TAPOPLUG");
    assert.equal(Buffer.from(result.nickname as string, "base64").toString(), "Desk lamp", "nickname is base64");
    assert.match(result.mac as string, /^([0-9A-F]{2}-){5}[0-9A-F]{2}$/, "Tapo MACs use dashes");
    const usage = call(d, { method: "get_energy_usage" });
    assert.deepEqual(sorted(typesOf(usage.result as Json)), sorted(P110_ENERGY_USAGE));
    assert.match((usage.result as Json).local_time as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.deepEqual(Object.keys(call(d, { method: "get_current_power" }).result as Json), ["current_power"]);
  });

  it("KP115: sysinfo and realtime emeter (V2 units) have the recorded fields and types", function () {
    const d = sim("KP115");
    const r = call(d, { system: { get_sysinfo: {} }, emeter: { get_realtime: {} } });
    const sys = (r.system as Json).get_sysinfo as Json;
    assert.deepEqual(sorted(typesOf(sys)), sorted(KP115_SYSINFO));
    assert.equal(sys.mic_type, "IOT.SMARTPLUGSWITCH");
    assert.match(sys.mac as string, /^([0-9A-F]{2}:){5}[0-9A-F]{2}$/, "Kasa MACs use colons");
    assert.deepEqual(sorted(typesOf((r.emeter as Json).get_realtime as Json)), sorted(KP115_REALTIME));
  });

  it("Tapo errors as the reference's fake device gives them: missing get_* → -1008 with the method, unknown method → -1002, bad JSON → -1003", function () {
    const d = sim("P110");
    d.unsupportedMethods.add("get_emeter_data");
    assert.deepEqual(call(d, { method: "get_emeter_data" }), { error_code: -1008, method: "get_emeter_data" });
    assert.deepEqual(call(d, { method: "frobnicate" }), { error_code: -1002 });
    assert.deepEqual(JSON.parse(d.handle("{not json")), { error_code: -1003 });
    d.unsupportedMethods.add("multipleRequest");
    assert.deepEqual(call(d, { method: "multipleRequest", params: { requests: [] } }), { error_code: -1002 });
  });

  it("a multipleRequest batch stops at the first failing method (devices do not continue after an error)", function () {
    const d = sim("P110");
    d.unsupportedMethods.add("get_energy_usage");
    const r = call(d, {
      method: "multipleRequest",
      params: { requests: [{ method: "get_device_info" }, { method: "get_energy_usage" }, { method: "get_current_power" }] },
    });
    assert.equal(r.error_code, 0);
    const responses = (r.result as Json).responses as Json[];
    assert.deepEqual(
      responses.map((x) => [x.method, x.error_code]),
      [["get_device_info", 0]],
    );
  });

  it("Kasa errors: unknown module → err_code -1 'module not support', unknown method → -2 'member not support'", function () {
    const d = sim("KP115");
    assert.deepEqual(call(d, { smartlife: { get_x: {} } }), { smartlife: { get_x: { err_code: -1, err_msg: "module not support" } } });
    assert.deepEqual(call(d, { system: { get_x: {} } }), { system: { get_x: { err_code: -2, err_msg: "member not support" } } });
  });
});
