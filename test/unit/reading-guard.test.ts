// Forged readings are never encoded for storage: topic/payload device mismatch, measurements outside the registry's
// list, implausible values for the plug's model, negative energy; each rejection carries its reason.
import assert from "node:assert/strict";
import { buildRegistry } from "../../lib/registry";
import { encodePayload, LineEncoder } from "../../lib/influx/points";
import { boundsFor, reasonOf } from "../../lib/influx/reading-guard";
import { parseDeviceTopic } from "../../lib/topics";

const TS = 1764000000000;
const registry = buildRegistry({
  measurements: ["teleinfo"],
  devices: [
    { id: "ws-1-01", name: "a", model: "HS110", host: "10.0.0.1", kind: "workplace", location: { building: "hq", floor: "1", room: "open-1" } },
    { id: "ws-1-05", name: "b", model: "HS110v2", host: "10.0.0.5", kind: "workplace", location: { building: "hq", floor: "1", room: "open-1" } },
    { id: "meter", name: "m", model: "other-meter", host: "10.0.0.9", kind: "other", location: { building: "hq", floor: "0", room: "plant" } },
  ],
});
const plug = (device: string, power: number, extra: Record<string, unknown> = {}) => ({
  v: 1,
  device,
  ts: TS,
  power,
  voltage: 230,
  current: power / 230,
  energy: 1,
  relay: true,
  ...extra,
});
const topicOf = (device: string) => parseDeviceTopic("plugwatch", `plugwatch/hq/1/open-1/${device}/reading`)?.device;

describe("reading guard (what the hook stores)", function () {
  const enc = new LineEncoder(registry);

  it("a reading naming another device than its topic is rejected (TOPIC_MISMATCH), the matching one stored", function () {
    const bad = encodePayload(enc, plug("ws-1-01", 50), topicOf("ws-1-05"));
    assert.deepEqual(bad.lines, []);
    assert.equal(reasonOf(bad.errors[0]), "TOPIC_MISMATCH");
    const good = encodePayload(enc, plug("ws-1-05", 50), topicOf("ws-1-05"));
    assert.equal(good.errors.length, 0);
    assert.match(good.lines[0] ?? "", /device=ws-1-05/);
    // Batches on a non-device topic are not tied to one device.
    assert.equal(encodePayload(enc, [plug("ws-1-01", 1), plug("ws-1-05", 1)], undefined).lines.length, 2);
  });

  it("a measurement outside the registry's list is rejected; the hook's own, plug and listed ones pass", function () {
    const g = (measurement: string) => ({ v: 1, device: "meter", ts: TS, measurement, fields: { x: 1 } });
    const r = encodePayload(enc, g("evil2"));
    assert.equal(reasonOf(r.errors[0]), "MEASUREMENT_NOT_ALLOWED");
    assert.match(r.errors[0]?.message ?? "", /'evil2'.*registry/);
    for (const m of ["plug", "teleinfo"]) assert.equal(encodePayload(enc, g(m)).errors.length, 0, m);
    assert.equal(encodePayload(new LineEncoder(registry, { measurement: "isems" }), g("isems")).errors.length, 0);
  });

  it("model-aware bounds: 99 999 W or 20 A on an HS110 is implausible, 3.5 kW is not; unknown models keep the schema limits", function () {
    assert.equal(reasonOf(encodePayload(enc, plug("ws-1-01", 99_999, { current: 15 })).errors[0]), "IMPLAUSIBLE");
    assert.equal(reasonOf(encodePayload(enc, plug("ws-1-05", 100, { current: 20 })).errors[0]), "IMPLAUSIBLE");
    assert.equal(reasonOf(encodePayload(enc, plug("ws-1-01", 50, { voltage: 400 })).errors[0]), "IMPLAUSIBLE");
    assert.equal(encodePayload(enc, plug("ws-1-01", 3500)).errors.length, 0);
    assert.equal(encodePayload(enc, plug("meter", 20_000, { current: 80 })).errors.length, 0);
    assert.equal(reasonOf(encodePayload(enc, plug("meter", 200_000)).errors[0]), "SCHEMA");
    assert.deepEqual(boundsFor("P110")?.currentA, 16 * 1.1);
    assert.equal(boundsFor("KL130"), undefined);
  });

  it("negative energy is rejected, in plug and generic readings", function () {
    assert.equal(reasonOf(encodePayload(enc, plug("ws-1-01", 5, { energy: -1 })).errors[0]), "SCHEMA");
    const g = { v: 1, device: "meter", ts: TS, measurement: "teleinfo", fields: { energy_kwh: -3 } };
    assert.equal(reasonOf(encodePayload(enc, g).errors[0]), "IMPLAUSIBLE");
  });

  it("unknown devices are rejected with their own reason", function () {
    assert.equal(reasonOf(encodePayload(enc, plug("card-1", 5)).errors[0]), "UNKNOWN_DEVICE");
  });
});
