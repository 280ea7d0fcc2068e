// Engine snapshot/restore: active alerts survive a restart without being raised again, and still clear afterwards.
import assert from "node:assert/strict";
import { AlertEngine } from "../../lib/alerts/engine";
import { parseRules } from "../../lib/alerts/rules";
import type { Reading } from "../../lib/contracts/reading";
import { PlugwatchError } from "../../lib/contracts/errors";

const T0 = Date.parse("2026-01-06T10:00:00Z");
const S = 1000;
const RULES = [
  { id: "hot", type: "threshold", field: "power", op: "above", value: 2000, forSeconds: 30 },
  { id: "offline", type: "offline" },
  { id: "stale", type: "stale", afterSeconds: 600 },
  { id: "budget", type: "budget", kWhPerDay: 1, timezone: "UTC" },
];

const reading = (device: string, ts: number, power: number, energy = 1): Reading => ({
  v: 1,
  device,
  ts,
  power,
  voltage: 230,
  current: power / 230,
  energy,
  relay: true,
});

function engineAt(rules: unknown[], clock: { now: number }): AlertEngine {
  return new AlertEngine({ rules: parseRules(rules, "UTC"), clock: () => clock.now });
}

describe("alert engine persistence", function () {
  it("restore keeps the active set, does not re-raise, and clears still work", function () {
    const clock = { now: T0 };
    const before = engineAt(RULES, clock);
    before.onReading(reading("heater", T0, 2500));
    assert.equal(before.tick(T0 + 30 * S).length, 1);
    assert.equal(before.onAvailability({ v: 1, device: "pr-1", online: false, ts: T0, reason: "timeout" }).events.length, 1);
    const saved: unknown = JSON.parse(JSON.stringify(before.snapshot())); // as stored by a file context store

    clock.now = T0 + 60 * S;
    const after = engineAt(RULES, clock);
    assert.deepEqual(after.restore(saved), []);
    assert.deepEqual(after.activeAlerts(), before.activeAlerts());
    assert.equal(after.highestSeverity(), "warning");
    // the conditions still hold: nothing new
    assert.deepEqual(after.onReading(reading("heater", clock.now, 2600)).events, []);
    assert.deepEqual(after.onAvailability({ v: 1, device: "pr-1", online: false, ts: clock.now, reason: "timeout" }).events, []);
    assert.deepEqual(after.tick(clock.now + S), []);
    // and they clear once
    assert.deepEqual(
      after.onAvailability({ v: 1, device: "pr-1", online: true, ts: clock.now, reason: "poll ok" }).events.map((e) => `${e.state} ${e.id}`),
      ["cleared offline:pr-1"],
    );
    after.onReading(reading("heater", clock.now, 100));
    assert.deepEqual(
      after.tick(clock.now + 30 * S).map((e) => `${e.state} ${e.id}`),
      ["cleared hot:heater"],
    );
    assert.equal(after.activeCount, 0);
  });

  it("pending duration timers, last-seen times and budget totals continue after restore", function () {
    const clock = { now: T0 };
    const before = engineAt(RULES, clock);
    before.onReading(reading("heater", T0, 2500, 10));
    clock.now = T0 + 10 * S;
    before.onReading(reading("heater", clock.now, 2500, 10.8));
    const saved: unknown = JSON.parse(JSON.stringify(before.snapshot()));

    clock.now = T0 + 20 * S;
    const after = engineAt(RULES, clock);
    after.restore(saved);
    // the threshold has been above since T0: raised at T0+30 s, not 30 s after the restart
    clock.now = T0 + 30 * S;
    const events = after.onReading(reading("heater", clock.now, 2500, 11.1));
    assert.deepEqual(events.events.map((e) => `${e.state} ${e.id}`).sort(), ["raised budget:heater", "raised hot:heater"]);
    // budget went on from 0.8 kWh: 0.8 + 0.3
    assert.equal(events.events.find((e) => e.rule === "budget")?.value, 1.1);
    // stale counts from the last reading before the restart
    assert.deepEqual(
      after.tick(T0 + 30 * S + 599 * S).filter((e) => e.rule === "stale"),
      [],
    );
    assert.deepEqual(
      after
        .tick(T0 + 30 * S + 600 * S)
        .filter((e) => e.rule === "stale")
        .map((e) => e.id),
      ["stale:heater"],
    );
  });

  it("alerts of rules removed from the config are returned as cleared", function () {
    const clock = { now: T0 };
    const before = engineAt(RULES, clock);
    before.onAvailability({ v: 1, device: "pr-1", online: false, ts: T0, reason: "timeout" });
    const after = engineAt(
      RULES.filter((r) => r.id !== "offline"),
      clock,
    );
    const cleared = after.restore(before.snapshot());
    assert.deepEqual(
      cleared.map((e) => `${e.state} ${e.id}`),
      ["cleared offline:pr-1"],
    );
    assert.equal(after.activeCount, 0);
  });

  it("a malformed snapshot is rejected with INVALID_REQUEST and changes nothing", function () {
    const after = engineAt(RULES, { now: T0 });
    assert.throws(
      () => after.restore({ v: 1, active: "nope" }),
      (err: unknown) => err instanceof PlugwatchError && err.code === "INVALID_REQUEST" && /stored alert state is invalid/.test(err.message),
    );
    assert.equal(after.activeCount, 0);
  });
});
