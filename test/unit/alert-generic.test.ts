// Alert engine on generic readings ({fields:{…}}): thresholds on any field, measurement filter, boolean fields, stale.
import assert from "node:assert/strict";
import { parseRules, AlertRulesError } from "../../lib/alerts/rules";
import type { AlertEvent } from "../../lib/contracts/alert";
import type { GenericReading, Reading } from "../../lib/contracts/reading";
import { alertClock } from "../support/alert-clock";

const T0 = Date.parse("2026-01-06T10:00:00Z");
const S = 1000;

function setup(rules: unknown[]) {
  const c = alertClock({ rules, timezone: "UTC", start: T0 });
  return {
    engine: c.engine,
    set: c.set,
    /** A generic reading; returns the whole output so warnings can be checked. */
    generic(device: string, fields: GenericReading["fields"], measurement?: string) {
      const g: GenericReading = { v: 1, device, ts: c.now, ...(measurement ? { measurement } : {}), fields };
      const out = c.engine.onReading(g);
      assert.ok(out.accepted, JSON.stringify(out.warnings));
      c.check(out.events);
      return out;
    },
    read(device: string, fields: GenericReading["fields"], measurement?: string): string[] {
      return brief(this.generic(device, fields, measurement).events);
    },
    plug(device: string, values: Partial<Reading> = {}): string[] {
      const out = c.engine.onReading({ v: 1, device, ts: c.now, power: 10, voltage: 230, current: 0.05, energy: 1, relay: true, ...values });
      assert.ok(out.accepted);
      return brief(c.check(out.events));
    },
    tick: c.tick,
  };
}

const brief = (events: AlertEvent[]) => events.map((e) => `${e.state} ${e.id}`);

describe("alert engine: generic readings", function () {
  const hot = { id: "hot", type: "threshold", measurement: "climate", field: "temperature", unit: "°C", op: "above", value: 30, forSeconds: 20, hysteresis: 2 };

  it("a threshold on a generic field waits forSeconds, raises once with the rule's unit, clears after hysteresis and forSeconds", function () {
    const h = setup([hot]);
    assert.deepEqual(h.read("th-1", { temperature: 31, humidity: 40 }, "climate"), []);
    assert.deepEqual(brief(h.tick(T0 + 19 * S)), []);
    const raised = h.tick(T0 + 20 * S);
    assert.deepEqual(brief(raised), ["raised hot:th-1"]);
    assert.equal(raised[0]?.value, 31);
    assert.equal(raised[0]?.message, "th-1 temperature 31 °C above 30 °C for 20 s");
    assert.deepEqual(brief(h.tick(T0 + 60 * S)), []);
    // 29 °C is below the limit but not below limit − hysteresis (28 °C): stays raised.
    h.set(T0 + 61 * S);
    assert.deepEqual(h.read("th-1", { temperature: 29 }, "climate"), []);
    assert.deepEqual(brief(h.tick(T0 + 120 * S)), []);
    h.set(T0 + 121 * S);
    assert.deepEqual(h.read("th-1", { temperature: 27.5 }, "climate"), []);
    assert.deepEqual(brief(h.tick(T0 + 140 * S)), []);
    const cleared = h.tick(T0 + 141 * S);
    assert.deepEqual(brief(cleared), ["cleared hot:th-1"]);
    assert.equal(cleared[0]?.message, "th-1 temperature back to 27.5 °C (limit 30 °C)");
    assert.equal(h.engine.activeCount, 0);
  });

  it("a short excursion (shorter than forSeconds) raises nothing", function () {
    const h = setup([hot]);
    h.read("th-1", { temperature: 35 }, "climate");
    h.set(T0 + 10 * S);
    h.read("th-1", { temperature: 25 }, "climate");
    assert.deepEqual(h.tick(T0 + 100 * S), []);
  });

  it("hysteresis on a below rule: no flapping around the threshold", function () {
    const h = setup([{ id: "cold", type: "threshold", field: "temperature", op: "below", value: 10, hysteresis: 1 }]);
    const seq = [9.5, 10.2, 9.9, 10.9, 11, 10.5, 9.99];
    const events = seq.map((temperature, i) => {
      h.set(T0 + i * S);
      return h.read("th-1", { temperature });
    });
    assert.deepEqual(events, [["raised cold:th-1"], [], [], [], ["cleared cold:th-1"], [], ["raised cold:th-1"]]);
  });

  it("measurement: only readings of that measurement count; without it, any reading with the field (plug ones too)", function () {
    const h = setup([
      { id: "papp", type: "threshold", measurement: "teleinfo", field: "papp", unit: "VA", op: "above", value: 7000 },
      { id: "any-power", type: "threshold", field: "power", op: "above", value: 2000 },
    ]);
    assert.deepEqual(h.read("meter", { papp: 9000 }, "other"), []); // another measurement
    assert.deepEqual(h.read("meter", { papp: 9200, base: 12_345_678 }, "teleinfo"), ["raised papp:meter"]);
    assert.equal(h.engine.activeAlerts()[0]?.message, "meter papp 9200 VA above 7000 VA");
    // A reading of another measurement of the same device neither clears nor changes it.
    assert.deepEqual(h.read("meter", { papp: 100 }, "other"), []);
    assert.equal(h.engine.activeAlerts()[0]?.value, 9200);
    assert.deepEqual(h.read("meter", { papp: 2100 }, "teleinfo"), ["cleared papp:meter"]);
    // Plug fields keep their meaning and unit; a generic reading with a power field (default measurement) counts too.
    assert.deepEqual(h.plug("heater", { power: 2500 }), ["raised any-power:heater"]);
    assert.equal(h.engine.activeAlerts()[0]?.message, "heater power 2500 W above 2000 W");
    assert.deepEqual(h.read("inverter", { power: 2600 }), ["raised any-power:inverter"]);
    // A device whose readings lack the field is not evaluated at all.
    assert.deepEqual(h.read("th-1", { temperature: 5000 }, "climate"), []);
    assert.deepEqual(h.tick(T0 + 10 * S), []);
    assert.deepEqual(
      h.engine.activeAlerts().map((a) => a.id),
      ["any-power:heater", "any-power:inverter"],
    );
  });

  it("without measurement, the newest reading that has the field decides (on readings and on ticks)", function () {
    const h = setup([{ id: "hot", type: "threshold", field: "temperature", op: "above", value: 30, forSeconds: 5 }]);
    h.read("node-1", { temperature: 40 }, "battery");
    h.set(T0 + 1 * S);
    h.read("node-1", { voltage: 12.5 }, "status"); // no temperature: the battery sample still decides
    assert.deepEqual(brief(h.tick(T0 + 5 * S)), ["raised hot:node-1"]);
    h.set(T0 + 6 * S);
    h.read("node-1", { temperature: 20 }, "board");
    assert.deepEqual(brief(h.tick(T0 + 11 * S)), ["cleared hot:node-1"]);
  });

  it("boolean fields: ignored by above/below (no raise, no clear), reported once per rule and device as INVALID_REQUEST", function () {
    const h = setup([
      { id: "occupied", type: "threshold", field: "occupied", op: "above", value: 0 },
      { id: "relay", type: "threshold", field: "relay", op: "below", value: 1 },
    ]);
    const first = h.generic("th-1", { occupied: true, temperature: 20 }, "climate");
    assert.deepEqual(first.events, []);
    assert.deepEqual(
      first.warnings.map((w) => [w.key, w.code, w.message]),
      [["th-1", "INVALID_REQUEST", "rule 'occupied': field 'occupied' of th-1 (climate) is boolean; threshold rules compare numbers, so it is ignored"]],
    );
    assert.deepEqual(h.generic("th-1", { occupied: false }, "climate").warnings, []);
    assert.equal(h.generic("th-2", { occupied: true }).warnings.length, 1);
    // The plug's relay is a boolean field too.
    const out = h.engine.onReading({ v: 1, device: "ws-1", ts: T0, power: 1, voltage: 230, current: 0, energy: 1, relay: false });
    assert.deepEqual(
      out.warnings.map((w) => w.message),
      ["rule 'relay': field 'relay' of ws-1 (plug) is boolean; threshold rules compare numbers, so it is ignored"],
    );
    assert.deepEqual(h.tick(T0 + 60 * S), []);
    assert.equal(h.engine.activeCount, 0);
  });

  it("a raised alert is not cleared by a reading whose field turned boolean or disappeared", function () {
    const h = setup([{ id: "hot", type: "threshold", field: "temperature", op: "above", value: 30 }]);
    assert.deepEqual(h.read("th-1", { temperature: 35 }), ["raised hot:th-1"]);
    assert.deepEqual(h.read("th-1", { temperature: false }), []);
    assert.deepEqual(h.read("th-1", { humidity: 50 }), []);
    assert.equal(h.engine.activeCount, 1);
  });

  it("stale rules count generic readings as data", function () {
    const h = setup([{ id: "stale", type: "stale", afterSeconds: 60 }]);
    h.read("th-1", { temperature: 20 }, "climate");
    h.plug("ws-1");
    h.set(T0 + 50 * S);
    h.read("th-1", { temperature: 21 }, "climate");
    assert.deepEqual(brief(h.tick(T0 + 60 * S)), ["raised stale:ws-1"]);
    assert.deepEqual(brief(h.tick(T0 + 110 * S)), ["raised stale:th-1"]);
    h.set(T0 + 120 * S);
    assert.deepEqual(h.read("th-1", { temperature: 21 }), ["cleared stale:th-1"]);
  });

  it("waste and budget rules ignore generic readings (even with power/energy fields)", function () {
    const h = setup([
      { id: "budget", type: "budget", kWhPerDay: 1 },
      { id: "waste", type: "waste", watts: 5, schedule: {} },
    ]);
    assert.deepEqual(h.read("inverter", { power: 5000, energy: 10 }), []);
    h.set(T0 + S);
    assert.deepEqual(h.read("inverter", { power: 5000, energy: 100 }), []);
    assert.deepEqual(h.tick(T0 + 2 * S), []);
    assert.deepEqual(h.plug("heater", { power: 50 }), ["raised waste:heater"]);
  });

  it("invalid generic readings never raise or clear and are reported once per device", function () {
    const h = setup([{ id: "hot", type: "threshold", field: "temperature", op: "above", value: 30 }]);
    assert.deepEqual(h.read("th-1", { temperature: 35 }), ["raised hot:th-1"]);
    const bad: unknown[] = [
      { v: 1, device: "th-1", ts: T0, fields: { temperature: NaN } },
      { v: 1, device: "th-1", ts: T0, fields: {} },
      { v: 1, device: "th-1", ts: T0, fields: { temperature: "20" } },
      { v: 1, device: "th-1", ts: T0, measurement: "Bad", fields: { temperature: 20 } },
      { v: 1, device: "th-1", ts: T0, fields: { "bad name": 20 } },
      { v: 1, device: "th-1", ts: T0, fields: { temperature: 20 }, tags: { "Bad Tag": "x" } },
    ];
    const outs = bad.map((b) => h.engine.onReading(b));
    assert.ok(outs.every((o) => !o.accepted && o.events.length === 0));
    assert.deepEqual(
      outs.map((o) => o.warnings.length),
      [1, 0, 0, 0, 0, 0],
    );
    assert.equal(outs[0]?.warnings[0]?.code, "INVALID_READING");
    assert.match(outs[0]?.warnings[0]?.message ?? "", /^th-1: invalid generic reading ignored \(\$\.fields\.temperature: /);
    assert.equal(h.engine.activeCount, 1);
    assert.deepEqual(h.read("th-1", { temperature: 20 }), ["cleared hot:th-1"]);
    assert.equal(h.engine.onReading(bad[2]).warnings.length, 1, "re-armed by a valid reading");
  });

  describe("rule config", function () {
    it("accepts any field name and a measurement; saved plug rules still parse unchanged", function () {
      const rules = parseRules(
        [
          { id: "hot", type: "threshold", field: "power", op: "above", value: 2000, forSeconds: 30, hysteresis: 100 },
          { id: "papp", type: "threshold", measurement: "teleinfo", field: "T1_PAPP", unit: "VA", op: "above", value: 7000 },
        ],
        "UTC",
      );
      assert.deepEqual(rules[0], {
        id: "hot",
        type: "threshold",
        field: "power",
        op: "above",
        value: 2000,
        forSeconds: 30,
        hysteresis: 100,
        severity: "warning",
      });
      assert.equal(rules[1]?.type === "threshold" && rules[1].measurement, "teleinfo");
    });

    it("rejects field and measurement names that generic readings cannot have, with their paths", function () {
      let issues: { path: string; message: string }[] = [];
      try {
        parseRules(
          [
            { id: "a", type: "threshold", field: "9lives", op: "above", value: 1 },
            { id: "b", type: "threshold", field: "temperature", measurement: "Climate", op: "above", value: 1 },
            { id: "c", type: "threshold", field: "x", unit: "a-very-long-unit-name", op: "below", value: 1 },
          ],
          "UTC",
        );
      } catch (err) {
        assert.ok(err instanceof AlertRulesError);
        issues = err.details ?? [];
      }
      const paths = issues.map((i) => i.path);
      assert.ok(paths.includes("$[0].field"), paths.join());
      assert.ok(paths.includes("$[1].measurement"), paths.join());
      assert.ok(paths.includes("$[2].unit"), paths.join());
    });
  });
});
