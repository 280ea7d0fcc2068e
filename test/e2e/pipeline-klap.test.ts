// The shipped flow end to end with plugs on new firmware: a KLAP HS110, a Tapo P110 and an HS300 strip beside a legacy
// HS110 — real Mosquitto, real influxd, the REST API, driven only from outside (MQTT subscriber, HTTP client).
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { DeviceEntry, Reading } from "../../lib/contracts";
import { connectClient, Teardown } from "../../scripts/harness/services";
import { eventually, PIPELINE_TOKEN, startPipeline, type PipelineStack } from "../../scripts/harness/pipeline";

const ROOT = "plugwatch";
const loc = (room: string) => ({ building: "hq", floor: "3", room });

const DEVICES: DeviceEntry[] = [
  { id: "ws-legacy", name: "Legacy desk", model: "HS110", host: "127.0.0.1", port: 29951, kind: "workplace", location: loc("open-3") },
  { id: "ws-klap", name: "KLAP desk", model: "HS110", protocol: "klap", host: "127.0.0.1", port: 29952, kind: "workplace", location: loc("open-3") },
  { id: "mr-tapo", name: "Tapo room", model: "P110", protocol: "tapo", host: "127.0.0.1", port: 29953, kind: "meeting-room", location: loc("focus") },
  {
    id: "strip",
    name: "Desk strip",
    model: "HS300",
    protocol: "klap",
    host: "127.0.0.1",
    port: 29954,
    kind: "workplace",
    location: loc("open-3"),
    outlets: [{}, {}, {}, {}, {}, { kind: "printer", location: loc("copy-3") }],
  },
];

describe("shipped flow end to end with KLAP, Tapo and HS300 plugs (Mosquitto, influxd, REST API)", function () {
  this.timeout(120000);
  const td = new Teardown();
  let s: PipelineStack;
  let client: MqttClient;
  const readings: { topic: string; reading: Reading }[] = [];

  const api = (pathname: string, init: RequestInit = {}) =>
    fetch(`${s.red.url}/api/v1${pathname}`, {
      ...init,
      headers: { authorization: `Bearer ${PIPELINE_TOKEN}`, "content-type": "application/json", ...(init.headers ?? {}) },
    });

  before(async function () {
    s = await startPipeline(td, { devices: DEVICES });
    s.office.outlet("ws-klap").force({ power: 75 });
    s.office.outlet("mr-tapo").force({ power: 140 });
    for (let i = 1; i <= 6; i++) s.office.outlet(`strip-${i}`).force({ power: 10 * i });
    client = await connectClient(td, s.mqttUrl, { protocolVersion: 5 });
    client.on("message", (topic, payload) => {
      if (topic.endsWith("/reading")) readings.push({ topic, reading: JSON.parse(payload.toString()) as Reading });
    });
    await client.subscribeAsync([`${ROOT}/+/+/+/+/reading`], { qos: 1 });
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${s?.red.logTail(60)}`);
  });
  after(async function () {
    await td.run();
  });

  it("publishes contract readings of every device, strip outlets under their own ids and locations", async function () {
    const ids = s.devices.map((d) => d.id).sort();
    assert.equal(ids.length, 9);
    await eventually(
      "a reading of every device",
      () => new Set(readings.map((r) => r.reading.device)),
      (seen) => ids.every((id) => seen.has(id)),
    );
    const last = (id: string) => readings.filter((r) => r.reading.device === id).at(-1)!;
    assert.equal(last("strip-6").topic, `${ROOT}/hq/3/copy-3/strip-6/reading`);
    assert.equal(last("strip-6").reading.kind, "printer");
    assert.ok(Math.abs(last("ws-klap").reading.power - 75) < 0.01);
    assert.ok(Math.abs(last("mr-tapo").reading.power - 140) < 0.01);
    for (let i = 1; i <= 6; i++) assert.ok(Math.abs(last(`strip-${i}`).reading.power - 10 * i) < 0.01, `strip-${i}`);
    for (const id of ["ws-klap", "mr-tapo", "strip-1"]) assert.ok(last(id).reading.voltage > 200 && last(id).reading.voltage < 260);
  });

  it("InfluxDB stores the KLAP, Tapo and outlet readings", async function () {
    const counts = await eventually(
      "stored readings of the new-firmware devices",
      async () => {
        const r = await s.influxd!.query(
          `SELECT count("power") FROM "plug" WHERE "device"='ws-klap' OR "device"='mr-tapo' OR "device"='strip-4' GROUP BY "device"`,
          "plugwatch",
        );
        return new Map((r.results[0]?.series ?? []).map((x) => [String(x.tags?.device), Number(x.values[0]?.[1])]));
      },
      (m) => ["ws-klap", "mr-tapo", "strip-4"].every((id) => (m.get(id) ?? 0) > 0),
    );
    assert.equal(counts.size, 3);
  });

  it("the REST API switches a Tapo plug and one strip outlet, confirmed at the simulator", async function () {
    const off = await api("/devices/mr-tapo/power", { method: "POST", body: JSON.stringify({ state: "off" }) });
    const body = (await off.json()) as { ok: boolean; results: unknown[] };
    assert.equal(off.status, 200, JSON.stringify(body));
    assert.deepEqual(body.results, [{ device: "mr-tapo", ok: true, relay: false }]);
    assert.equal(s.office.outlet("mr-tapo").relay, false);
    const outlet = await api("/devices/strip-2/power", { method: "POST", body: JSON.stringify({ state: "off" }) });
    assert.equal(outlet.status, 200);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((i) => s.office.outlet(`strip-${i}`).relay),
      [true, false, true, true, true, true],
    );
    const list = await api("/devices?floor=3");
    const devices = ((await list.json()) as { devices: { id: string; protocol?: string; strip?: { id: string; index: number } }[] }).devices;
    assert.deepEqual(devices.find((d) => d.id === "strip-2")?.strip, { id: "strip", index: 1 });
    assert.equal(devices.find((d) => d.id === "mr-tapo")?.protocol, "tapo");
  });
});
