// Rejected-input reporting of the alert engine stays bounded: random device ids neither grow memory forever nor flood Catch.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { AlertEngine, MAX_MEASUREMENTS_PER_DEVICE } from "../../lib/alerts/engine";
import { DEFAULT_REPORT_LIMITS, MAX_KEY_LENGTH, ReportLimiter } from "../../lib/alerts/report-limiter";
import { parseRules } from "../../lib/alerts/rules";

const T0 = Date.parse("2026-01-06T10:00:00Z");
const MIN = 60_000;
const badReading = (device: string) => ({ v: 1, device, ts: T0, power: "lots", voltage: 230, current: 0, energy: 1, relay: true });
const goodReading = (device: string, ts: number) => ({ v: 1, device, ts, power: 5, voltage: 230, current: 0.02, energy: 1, relay: true });
const randomId = (): string => `x-${randomBytes(6).toString("hex")}`;

function setup(reportLimits?: { maxKeys?: number; perMinute?: number }) {
  let now = T0;
  const engine = new AlertEngine({
    rules: parseRules([{ id: "hot", type: "threshold", field: "power", op: "above", value: 100 }], "Europe/Paris"),
    clock: () => now,
    reportLimits,
  });
  return { engine, set: (t: number) => (now = t) };
}

describe("alert engine: bounded rejected-input reports", function () {
  it("a spray of invalid readings with random device ids: at most perMinute reports a minute, memory capped at maxKeys", function () {
    const h = setup({ maxKeys: 100, perMinute: 10 });
    let reports = 0;
    for (let minute = 0; minute < 30; minute++) {
      h.set(T0 + minute * MIN);
      let thisMinute = 0;
      for (let i = 0; i < 200; i++) {
        const out = h.engine.onReading(badReading(randomId()));
        assert.equal(out.accepted, false);
        assert.equal(out.events.length, 0);
        thisMinute += out.warnings.length;
      }
      assert.equal(thisMinute, 10, `minute ${minute}: exactly perMinute reports`);
      reports += thisMinute;
      assert.ok(h.engine.rejectedInputs().remembered <= 100);
    }
    const c = h.engine.rejectedInputs();
    assert.equal(reports, 300);
    assert.equal(c.remembered, 100);
    assert.equal(c.evicted, 200);
    assert.equal(c.suppressed, 30 * 200 - 300);
  });

  it("the first report after suppressed ones says how many were not reported", function () {
    const h = setup({ perMinute: 2 });
    const msgs = ["a", "b", "c", "d", "e"].map((d) => h.engine.onReading(badReading(d)).warnings[0]?.message);
    assert.equal(msgs.filter((m) => m !== undefined).length, 2);
    h.set(T0 + MIN);
    const next = h.engine.onReading(badReading("f")).warnings[0];
    assert.equal(next?.code, "INVALID_READING");
    assert.match(next?.message ?? "", /^f: invalid reading ignored \(.*\) \[3 other rejected input\(s\) not reported: more than 2 new per minute\]$/);
    // Suppressed devices were not remembered: they are reported when the budget allows.
    assert.equal(h.engine.onReading(badReading("c")).warnings.length, 1);
    assert.equal(h.engine.onReading(badReading("c")).warnings.length, 0);
  });

  it("normal case unchanged: once per device until a valid reading, then reported again", function () {
    const h = setup();
    for (const d of ["ws-1", "ws-2", "ws-3"]) {
      assert.equal(h.engine.onReading(badReading(d)).warnings.length, 1);
      for (let i = 0; i < 50; i++) assert.equal(h.engine.onReading(badReading(d)).warnings.length, 0);
    }
    assert.equal(h.engine.onAvailability({ v: 1, device: "ws-4", online: "no" }).warnings.length, 1);
    assert.equal(h.engine.onAvailability({ v: 1, device: "ws-4", online: "no" }).warnings.length, 0);
    assert.equal(h.engine.onReading(goodReading("ws-1", T0)).accepted, true);
    assert.equal(h.engine.onReading(badReading("ws-1")).warnings.length, 1);
    assert.equal(h.engine.onReading(badReading("ws-2")).warnings.length, 0);
    assert.equal(h.engine.onAvailability({ v: 1, device: "ws-4", online: true, ts: T0, reason: "poll ok" }).accepted, true);
    assert.equal(h.engine.onAvailability({ v: 1, device: "ws-4", online: "no" }).warnings.length, 1);
    assert.deepEqual(h.engine.rejectedInputs(), { remembered: 4, suppressed: 0, evicted: 0 });
  });

  it("very long device ids and topics are remembered cut to MAX_KEY_LENGTH", function () {
    const h = setup();
    const long = "d".repeat(100_000);
    const w = h.engine.onReading(badReading(long)).warnings[0];
    assert.equal(w?.key.length, MAX_KEY_LENGTH + 1);
    assert.ok((w?.message.length ?? 0) <= 400);
    assert.equal(h.engine.onReading(badReading(long)).warnings.length, 0);
    assert.equal(h.engine.onReading("garbage", { source: `pw/${"t".repeat(5000)}/reading` }).warnings[0]?.key.length, MAX_KEY_LENGTH + 1);
  });

  it("ReportLimiter: defaults and argument checks", function () {
    assert.deepEqual({ ...DEFAULT_REPORT_LIMITS }, { maxKeys: 10_000, perMinute: 30 });
    assert.throws(() => new ReportLimiter(() => 0, { maxKeys: 0 }), RangeError);
    assert.throws(() => new ReportLimiter(() => 0, { perMinute: 0 }), RangeError);
    const l = new ReportLimiter(() => 0, { maxKeys: 2, perMinute: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 1000; i++) l.admit(`k${i}`);
    assert.deepEqual(l.counts(), { remembered: 2, suppressed: 0, evicted: 998 });
  });
});

describe("alert engine: bounded device memory", function () {
  const valid = (device: string, ts: number) => ({ v: 1, device, ts, power: 5, voltage: 230, current: 0.02, energy: 1, relay: true });

  it("valid readings and availabilities with random ids: at most maxDevices tracked, the rest refused (LIMIT_EXCEEDED, counted)", function () {
    let now = T0;
    const engine = new AlertEngine({
      rules: parseRules([{ id: "stale", type: "stale", afterSeconds: 60 }], "UTC"),
      clock: () => now,
      devices: [{ id: "reg-1" }],
      maxDevices: 50,
      reportLimits: { perMinute: 5 },
    });
    let warnings = 0;
    for (let i = 0; i < 2000; i++) {
      const id = randomId();
      const out = i % 2 ? engine.onReading(valid(id, now)) : engine.onAvailability({ v: 1, device: id, online: true, ts: now, reason: "poll ok" });
      warnings += out.warnings.length;
      if (i >= 49) assert.equal(out.accepted, false);
      for (const w of out.warnings) assert.equal(w.code, "LIMIT_EXCEEDED");
    }
    assert.deepEqual(engine.deviceCounts(), { tracked: 50, refused: 2000 - 49, max: 50 });
    assert.equal(warnings, 5, "refusals are reported through the same rate limit");
    assert.equal(engine.snapshot().devices.length, 50, "the saved state is bounded too");
    // Known devices (the registry's and those learnt before the limit) keep working.
    now += 1000;
    assert.equal(engine.onReading(valid("reg-1", now)).accepted, true);
    assert.equal(engine.deviceCounts().tracked, 50);
  });

  it("default limit is 20 000 devices; one device's generic measurements are capped", function () {
    const engine = new AlertEngine({ rules: [] });
    assert.equal(engine.deviceCounts().max, 20_000);
    for (let i = 0; i < 500; i++) {
      assert.equal(engine.onReading({ v: 1, device: "th-1", ts: T0, measurement: `m${i}`, fields: { x: i } }).accepted, true);
    }
    assert.equal(engine.deviceCounts().tracked, 1);
    // Internal map (no public accessor): the newest MAX_MEASUREMENTS_PER_DEVICE measurements remain.
    const samples = (engine as unknown as { samples: Map<string, Map<string, unknown>> }).samples.get("th-1");
    assert.equal(samples?.size, MAX_MEASUREMENTS_PER_DEVICE);
    assert.ok(samples?.has("m499") && !samples.has("m0"));
  });
});
