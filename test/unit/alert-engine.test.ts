// Alert engine, rule by rule, on a fake clock: raise once, hold quietly, clear once; reminders; bad input.
import assert from "node:assert/strict";
import type { DeviceInfo } from "../../lib/alerts/types";
import type { AlertEvent } from "../../lib/contracts/alert";
import type { Reading } from "../../lib/contracts/reading";
import { alertClock } from "../support/alert-clock";

const T0 = Date.parse("2026-01-06T10:00:00Z"); // a Tuesday, 11:00 in Paris
const S = 1000;

/** An engine on a fake clock, with helpers that feed it and collect every event (each one schema-checked). */
function setup(rules: unknown[], devices: DeviceInfo[] = [], start = T0) {
  const c = alertClock({ rules, timezone: "Europe/Paris", start, devices });
  return {
    engine: c.engine,
    set: c.set,
    get now() {
      return c.now;
    },
    read(device: string, fields: Partial<Reading> = {}, meta = {}): AlertEvent[] {
      const r: Reading = { v: 1, device, ts: c.now, power: 10, voltage: 230, current: 0.05, energy: 1, relay: true, ...fields };
      const out = c.engine.onReading(r, meta);
      assert.ok(out.accepted);
      return c.check(out.events);
    },
    avail(device: string, online: boolean): AlertEvent[] {
      return c.check(c.engine.onAvailability({ v: 1, device, online, ts: c.now, reason: online ? "poll ok" : "DEVICE_UNREACHABLE: timeout" }).events);
    },
    tick: c.tick,
  };
}

const brief = (events: AlertEvent[]) => events.map((e) => `${e.state} ${e.id}`);

describe("alert engine", function () {
  describe("threshold", function () {
    const hot = { id: "hot", type: "threshold", field: "power", op: "above", value: 2000, forSeconds: 30, severity: "critical" };

    it("a condition shorter than forSeconds never raises", function () {
      const h = setup([hot]);
      assert.deepEqual(h.read("heater", { power: 2100 }), []);
      h.set(T0 + 10 * S);
      assert.deepEqual(h.read("heater", { power: 2150 }), []);
      assert.deepEqual(h.tick(T0 + 29 * S), []);
      h.set(T0 + 29.5 * S);
      assert.deepEqual(h.read("heater", { power: 1500 }), []); // dropped before 30 s
      assert.deepEqual(h.tick(T0 + 60 * S), []);
      assert.equal(h.engine.activeCount, 0);
    });

    it("raises exactly once after forSeconds (on a tick), stays quiet while it holds, clears once", function () {
      const h = setup([hot]);
      h.read("heater", { power: 2100 });
      assert.deepEqual(h.tick(T0 + 29 * S), []);
      const raised = h.tick(T0 + 30 * S);
      assert.deepEqual(brief(raised), ["raised hot:heater"]);
      assert.equal(raised[0]?.severity, "critical");
      assert.equal(raised[0]?.value, 2100);
      assert.equal(raised[0]?.ts, T0 + 30 * S);
      assert.equal(raised[0]?.message, "heater power 2100 W above 2000 W for 30 s");
      assert.deepEqual(h.tick(T0 + 31 * S), []);
      h.set(T0 + 40 * S);
      assert.deepEqual(h.read("heater", { power: 2500 }), []);
      assert.equal(h.engine.activeAlerts()[0]?.value, 2500); // list shows the current value
      // clearing waits forSeconds too
      h.set(T0 + 50 * S);
      assert.deepEqual(h.read("heater", { power: 100 }), []);
      assert.deepEqual(h.tick(T0 + 79 * S), []);
      const cleared = h.tick(T0 + 80 * S);
      assert.deepEqual(brief(cleared), ["cleared hot:heater"]);
      assert.equal(cleared[0]?.message, "heater power back to 100 W (limit 2000 W)");
      assert.deepEqual(h.tick(T0 + 200 * S), []);
    });

    it("hysteresis: no flapping around the threshold", function () {
      const h = setup([{ id: "hot", type: "threshold", field: "power", op: "above", value: 2000, hysteresis: 100 }]);
      const seq = [2050, 1990, 2010, 1950, 2020, 1901, 1900, 1950, 1999, 2001];
      const events = seq.map((power, i) => {
        h.set(T0 + i * S);
        return brief(h.read("heater", { power }));
      });
      assert.deepEqual(events, [["raised hot:heater"], [], [], [], [], [], ["cleared hot:heater"], [], [], ["raised hot:heater"]]);
    });

    it("below, on voltage, only for devices in scope", function () {
      const h = setup([{ id: "sag", type: "threshold", field: "voltage", op: "below", value: 207, hysteresis: 3, kinds: ["workplace"] }]);
      assert.deepEqual(brief(h.read("ws-1", { voltage: 200, kind: "workplace" })), ["raised sag:ws-1"]);
      assert.deepEqual(h.read("pr-1", { voltage: 200, kind: "printer" }), []);
      assert.deepEqual(h.read("ws-1", { voltage: 208, kind: "workplace" }), []);
      assert.deepEqual(brief(h.read("ws-1", { voltage: 210, kind: "workplace" })), ["cleared sag:ws-1"]);
    });
  });

  describe("stale", function () {
    const stale = { id: "stale", type: "stale", afterSeconds: 60 };

    it("raises once when a device that published goes silent, clears on its next reading", function () {
      const h = setup([stale]);
      h.read("ws-1");
      assert.deepEqual(h.tick(T0 + 59 * S), []);
      const raised = h.tick(T0 + 60 * S);
      assert.deepEqual(brief(raised), ["raised stale:ws-1"]);
      assert.equal(raised[0]?.value, 60);
      assert.equal(raised[0]?.message, "ws-1: no reading for 60 s");
      assert.deepEqual(h.tick(T0 + 120 * S), []);
      h.set(T0 + 130 * S);
      assert.deepEqual(brief(h.read("ws-1")), ["cleared stale:ws-1"]);
      assert.deepEqual(h.tick(T0 + 150 * S), []);
    });

    it("raises for registry devices that never published since start", function () {
      const h = setup([stale], [{ id: "a" }, { id: "b", kind: "printer" }]);
      h.set(T0 + 10 * S);
      h.read("a");
      const raised = h.tick(T0 + 60 * S);
      assert.deepEqual(brief(raised), ["raised stale:b"]);
      assert.equal(raised[0]?.value, null);
      assert.match(raised[0]?.message ?? "", /b has not published since start/);
      assert.deepEqual(brief(h.tick(T0 + 70 * S)), ["raised stale:a"]);
    });

    it("without a registry, a device never seen raises nothing", function () {
      const h = setup([stale]);
      assert.deepEqual(h.tick(T0 + 3600 * S), []);
    });
  });

  describe("offline", function () {
    it("raises on online=false, clears on online=true, once each", function () {
      const h = setup([{ id: "offline", type: "offline", severity: "critical" }]);
      const raised = h.avail("pr-1", false);
      assert.deepEqual(brief(raised), ["raised offline:pr-1"]);
      assert.equal(raised[0]?.message, "pr-1 is offline: DEVICE_UNREACHABLE: timeout");
      assert.equal(raised[0]?.value, null);
      assert.deepEqual(h.avail("pr-1", false), []);
      assert.deepEqual(h.tick(T0 + 100 * S), []);
      assert.deepEqual(brief(h.avail("pr-1", true)), ["cleared offline:pr-1"]);
      assert.deepEqual(h.avail("pr-1", true), []);
      assert.deepEqual(h.avail("pr-2", true), []);
    });

    it("with forSeconds, a short outage raises nothing", function () {
      const h = setup([{ id: "offline", type: "offline", forSeconds: 30 }]);
      h.avail("pr-1", false);
      assert.deepEqual(h.tick(T0 + 20 * S), []);
      h.avail("pr-1", true);
      assert.deepEqual(h.tick(T0 + 40 * S), []);
      h.avail("pr-1", false);
      assert.deepEqual(brief(h.tick(T0 + 70 * S)), ["raised offline:pr-1"]);
    });
  });

  describe("waste", function () {
    const office = { mon: [["08:00", "19:00"]], tue: [["08:00", "19:00"]], wed: [["08:00", "19:00"]], thu: [["08:00", "19:00"]], fri: [["08:00", "19:00"]] };
    const waste = { id: "waste", type: "waste", kinds: ["printer", "meeting-room"], watts: 20, schedule: office, timezone: "Europe/Paris" };

    it("raises for a printer drawing 50 W at night, clears when it drops to 0 W; ignores other kinds", function () {
      const night = Date.parse("2026-01-06T21:00:00Z"); // Tue 22:00 Paris
      const h = setup([waste], [], night);
      assert.deepEqual(h.read("ws-1", { power: 80, kind: "workplace" }), []);
      const raised = h.read("pr-1", { power: 50, kind: "printer" });
      assert.deepEqual(brief(raised), ["raised waste:pr-1"]);
      assert.equal(raised[0]?.message, "pr-1 draws 50 W outside working hours (limit 20 W)");
      h.set(night + 60 * S);
      assert.deepEqual(h.read("pr-1", { power: 45, kind: "printer" }), []);
      h.set(night + 120 * S);
      assert.deepEqual(brief(h.read("pr-1", { power: 0, kind: "printer" })), ["cleared waste:pr-1"]);
    });

    it("schedule edges trigger on ticks: raised at 19:00, cleared at 08:00 next morning", function () {
      const h = setup([waste], [], Date.parse("2026-01-06T17:59:00Z")); // Tue 18:59
      assert.deepEqual(h.read("pr-1", { power: 50, kind: "printer" }), []);
      assert.deepEqual(h.tick(Date.parse("2026-01-06T17:59:59Z")), []);
      assert.deepEqual(brief(h.tick(Date.parse("2026-01-06T18:00:00Z"))), ["raised waste:pr-1"]);
      assert.deepEqual(h.tick(Date.parse("2026-01-07T06:59:00Z")), []);
      const cleared = h.tick(Date.parse("2026-01-07T07:00:00Z")); // Wed 08:00
      assert.deepEqual(brief(cleared), ["cleared waste:pr-1"]);
      assert.equal(cleared[0]?.message, "pr-1: working hours started");
    });

    it("night shift 22:00-06:00 across midnight: waste by day, not at 02:00", function () {
      const shift = { ...waste, kinds: [], schedule: { mon: [["22:00", "06:00"]], tue: [["22:00", "06:00"]] } };
      const h = setup([shift], [], Date.parse("2026-01-07T01:00:00Z")); // Wed 02:00, inside Tuesday's shift
      assert.deepEqual(h.read("line-1", { power: 500 }), []);
      assert.deepEqual(h.tick(Date.parse("2026-01-07T04:59:00Z")), []); // 05:59
      assert.deepEqual(brief(h.tick(Date.parse("2026-01-07T05:00:00Z"))), ["raised waste:line-1"]); // 06:00
      assert.deepEqual(h.tick(Date.parse("2026-01-07T20:59:00Z")), []); // Wed 21:59: no Wednesday shift, still waste
      assert.equal(h.engine.activeCount, 1);
    });

    it("across the spring DST change (Europe/Paris 2026-03-29): edges follow local 08:00/19:00", function () {
      const daily = { ...waste, schedule: Object.fromEntries(["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((d) => [d, [["08:00", "19:00"]]])) };
      const h = setup([daily], [], Date.parse("2026-03-28T06:30:00Z")); // Sat 07:30 CET
      assert.deepEqual(brief(h.read("pr-1", { power: 50, kind: "printer" })), ["raised waste:pr-1"]);
      assert.deepEqual(brief(h.tick(Date.parse("2026-03-28T07:00:00Z"))), ["cleared waste:pr-1"]); // 08:00 CET
      assert.deepEqual(brief(h.tick(Date.parse("2026-03-28T18:00:00Z"))), ["raised waste:pr-1"]); // 19:00 CET
      assert.deepEqual(h.tick(Date.parse("2026-03-29T05:59:00Z")), []); // Sun 07:59 CEST (06:59 by winter time)
      assert.deepEqual(brief(h.tick(Date.parse("2026-03-29T06:00:00Z"))), ["cleared waste:pr-1"]); // 08:00 CEST
      assert.deepEqual(h.tick(Date.parse("2026-03-29T16:59:00Z")), []); // 18:59 CEST
      assert.deepEqual(brief(h.tick(Date.parse("2026-03-29T17:00:00Z"))), ["raised waste:pr-1"]); // 19:00 CEST
    });

    it("across the autumn DST change (Europe/Paris 2026-10-25)", function () {
      const daily = { ...waste, schedule: Object.fromEntries(["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((d) => [d, [["08:00", "19:00"]]])) };
      const h = setup([daily], [], Date.parse("2026-10-24T17:30:00Z")); // Sat 19:30 CEST
      assert.deepEqual(brief(h.read("pr-1", { power: 50, kind: "printer" })), ["raised waste:pr-1"]);
      assert.deepEqual(h.tick(Date.parse("2026-10-25T06:00:00Z")), []); // Sun 07:00 CET (08:00 by summer time)
      assert.deepEqual(h.tick(Date.parse("2026-10-25T06:59:00Z")), []);
      assert.deepEqual(brief(h.tick(Date.parse("2026-10-25T07:00:00Z"))), ["cleared waste:pr-1"]); // 08:00 CET
      assert.deepEqual(h.tick(Date.parse("2026-10-25T17:59:00Z")), []); // 18:59 CET
      assert.deepEqual(brief(h.tick(Date.parse("2026-10-25T18:00:00Z"))), ["raised waste:pr-1"]); // 19:00 CET
    });

    it("useIdleWatts: a workplace above its registry idle level at night; others use watts", function () {
      const idle = { id: "idle", type: "waste", kinds: ["workplace"], watts: 30, useIdleWatts: true, schedule: office, timezone: "Europe/Paris" };
      const devices: DeviceInfo[] = [
        { id: "ws-1", kind: "workplace", idleWatts: 5 },
        { id: "ws-2", kind: "workplace" },
      ];
      const h = setup([idle], devices, Date.parse("2026-01-06T23:00:00Z")); // Wed 00:00
      const raised = h.read("ws-1", { power: 10 });
      assert.deepEqual(brief(raised), ["raised idle:ws-1"]);
      assert.equal(raised[0]?.message, "ws-1 draws 10 W outside working hours (limit 5 W, idle level)");
      assert.deepEqual(h.read("ws-2", { power: 10 }), []);
      assert.deepEqual(brief(h.read("ws-2", { power: 31 })), ["raised idle:ws-2"]);
    });
    it("forSeconds and hysteresis: a short spike at night raises nothing, clearing needs limit-hysteresis for the duration", function () {
      const slow = { ...waste, forSeconds: 60, hysteresis: 5 };
      const night = Date.parse("2026-01-06T21:00:00Z"); // Tue 22:00 Paris
      const h = setup([slow], [], night);
      assert.deepEqual(h.read("pr-1", { power: 50, kind: "printer" }), []);
      h.set(night + 30 * S);
      assert.deepEqual(h.read("pr-1", { power: 3, kind: "printer" }), []); // 30 s spike: nothing
      assert.deepEqual(h.tick(night + 120 * S), []);
      h.set(night + 200 * S);
      h.read("pr-1", { power: 50, kind: "printer" });
      assert.deepEqual(h.tick(night + 259 * S), []);
      assert.deepEqual(brief(h.tick(night + 260 * S)), ["raised waste:pr-1"]);
      h.set(night + 300 * S);
      assert.deepEqual(h.read("pr-1", { power: 18, kind: "printer" }), []); // under 20 W but not under 15 W
      assert.deepEqual(h.tick(night + 500 * S), []);
      h.set(night + 600 * S);
      h.read("pr-1", { power: 15, kind: "printer" });
      assert.deepEqual(h.tick(night + 659 * S), []);
      assert.deepEqual(brief(h.tick(night + 660 * S)), ["cleared waste:pr-1"]);
    });
  });

  describe("budget", function () {
    const midday = Date.parse("2026-01-06T11:00:00Z"); // Tue 12:00 Paris

    it("sums energy deltas since local midnight, raises once over budget, clears at midnight", function () {
      const h = setup([{ id: "budget", type: "budget", kWhPerDay: 1, timezone: "Europe/Paris" }], [], midday);
      const feed = (energy: number, t: number) => {
        h.set(t);
        return h.read("heater", { energy });
      };
      assert.deepEqual(feed(10, midday), []); // baseline
      assert.deepEqual(feed(10.5, midday + 60 * S), []);
      assert.deepEqual(feed(10.9, midday + 120 * S), []);
      const raised = feed(11.1, midday + 180 * S);
      assert.deepEqual(brief(raised), ["raised budget:heater"]);
      assert.equal(raised[0]?.value, 1.1);
      assert.equal(raised[0]?.message, "heater used 1.1 kWh today (budget 1 kWh)");
      assert.deepEqual(feed(11.5, midday + 240 * S), []);
      assert.deepEqual(h.tick(Date.parse("2026-01-06T22:59:59Z")), []); // 23:59:59 Paris
      const cleared = h.tick(Date.parse("2026-01-06T23:00:00Z")); // local midnight
      assert.deepEqual(brief(cleared), ["cleared budget:heater"]);
      assert.equal(cleared[0]?.value, 0);
    });

    it("local midnight on DST days: the 23 h and the 25 h day each end at 00:00 local time", function () {
      const h = setup([{ id: "budget", type: "budget", kWhPerDay: 1, timezone: "Europe/Paris" }], [], Date.parse("2026-03-29T10:00:00Z"));
      h.read("heater", { energy: 10 });
      h.set(Date.parse("2026-03-29T12:00:00Z"));
      assert.deepEqual(brief(h.read("heater", { energy: 11.5 })), ["raised budget:heater"]);
      // Sunday 29 March has 23 hours: midnight is 22:00 UTC (CEST), not 23:00 UTC.
      assert.deepEqual(h.tick(Date.parse("2026-03-29T21:59:59Z")), []);
      assert.deepEqual(brief(h.tick(Date.parse("2026-03-29T22:00:00Z"))), ["cleared budget:heater"]);
      // Sunday 25 October has 25 hours: it starts at 22:00 UTC (CEST) and ends at 23:00 UTC (CET).
      const g = setup([{ id: "budget", type: "budget", kWhPerDay: 1, timezone: "Europe/Paris" }], [], Date.parse("2026-10-24T22:00:00Z"));
      assert.deepEqual(g.read("heater", { energy: 20 }), []); // baseline at 00:00 CEST
      g.set(Date.parse("2026-10-25T01:30:00Z")); // 02:30 CET, the second 02:30 of the night
      assert.deepEqual(g.read("heater", { energy: 20.9 }), []);
      g.set(Date.parse("2026-10-25T12:00:00Z"));
      assert.deepEqual(brief(g.read("heater", { energy: 21.2 })), ["raised budget:heater"]);
      assert.equal(g.engine.activeAlerts()[0]?.value, 1.2);
      assert.deepEqual(g.tick(Date.parse("2026-10-25T22:59:59Z")), []); // 23:59:59 CET, still the same day
      assert.deepEqual(brief(g.tick(Date.parse("2026-10-25T23:00:00Z"))), ["cleared budget:heater"]);
    });

    it("a counter reset counts the new value as consumption since the reset", function () {
      const h = setup([{ id: "budget", type: "budget", kWhPerDay: 1, timezone: "UTC" }], [], midday);
      h.read("heater", { energy: 10 });
      h.set(midday + 60 * S);
      assert.deepEqual(h.read("heater", { energy: 10.6 }), []);
      h.set(midday + 120 * S);
      const raised = h.read("heater", { energy: 0.5 }); // reset: 0.6 + 0.5
      assert.deepEqual(brief(raised), ["raised budget:heater"]);
      assert.equal(raised[0]?.value, 1.1);
    });

    it("per room and per kind sum the devices of the group", function () {
      const h = setup(
        [
          { id: "room", type: "budget", kWhPerDay: 2, per: "room", timezone: "UTC" },
          { id: "kind", type: "budget", kWhPerDay: 3, per: "kind", timezone: "UTC" },
        ],
        [],
        midday,
      );
      const loc = { location: { building: "hq", floor: "2", room: "open" } };
      h.read("ws-1", { energy: 5, kind: "workplace" }, loc);
      h.read("ws-2", { energy: 7, kind: "workplace" }, loc);
      h.set(midday + 60 * S);
      assert.deepEqual(h.read("ws-1", { energy: 6, kind: "workplace" }, loc), []);
      const raised = h.read("ws-2", { energy: 8.5, kind: "workplace" }, loc);
      assert.deepEqual(brief(raised), ["raised room:hq-2-open"]);
      assert.equal(raised[0]?.device, "hq-2-open");
      assert.equal(raised[0]?.value, 2.5);
      assert.equal(raised[0]?.message, "room hq-2-open used 2.5 kWh today (budget 2 kWh)");
      assert.deepEqual(brief(h.read("ws-1", { energy: 6.6, kind: "workplace" }, loc)), ["raised kind:workplace"]);
    });
  });

  describe("reminders", function () {
    it("re-emits the raised event with the same id every reminderSeconds while active, never after clearing", function () {
      const h = setup([{ id: "offline", type: "offline", reminderSeconds: 60 }]);
      const first = h.avail("pr-1", false)[0];
      assert.deepEqual(h.tick(T0 + 59 * S), []);
      const again = h.tick(T0 + 60 * S);
      assert.equal(again.length, 1);
      assert.deepEqual({ ...again[0], ts: 0 }, { ...first, ts: 0 });
      assert.equal(again[0]?.ts, T0 + 60 * S);
      assert.deepEqual(h.tick(T0 + 119 * S), []);
      assert.deepEqual(brief(h.tick(T0 + 120 * S)), ["raised offline:pr-1"]);
      h.set(T0 + 130 * S);
      assert.deepEqual(brief(h.avail("pr-1", true)), ["cleared offline:pr-1"]);
      assert.deepEqual(h.tick(T0 + 300 * S), []);
    });
  });

  describe("bad readings", function () {
    it("never raise or clear, and are reported once per device until it sends a valid one", function () {
      const h = setup([
        { id: "hot", type: "threshold", field: "power", op: "above", value: 100 },
        { id: "stale", type: "stale", afterSeconds: 60 },
      ]);
      assert.deepEqual(brief(h.read("ws-1", { power: 150 })), ["raised hot:ws-1"]);
      const bad: unknown[] = [
        { v: 1, device: "ws-1", ts: T0, power: NaN, voltage: 230, current: 0, energy: 1, relay: true },
        { v: 1, device: "ws-1", ts: T0, voltage: 230, current: 0, energy: 1, relay: true },
        { v: 1, device: "ws-1", ts: T0, power: "5", voltage: 230, current: 0, energy: 1, relay: true },
        { v: 1, device: "ws-1", ts: T0, power: 5, voltage: 230, current: 0, energy: 1, relay: "yes" },
      ];
      const outs = bad.map((b) => h.engine.onReading(b));
      assert.ok(outs.every((o) => !o.accepted && o.events.length === 0));
      assert.deepEqual(
        outs.map((o) => o.warnings.length),
        [1, 0, 0, 0],
      );
      assert.equal(outs[0]?.warnings[0]?.code, "INVALID_READING");
      assert.match(outs[0]?.warnings[0]?.message ?? "", /^ws-1: invalid reading ignored \(\$\.power: /);
      assert.equal(h.engine.activeCount, 1); // the low power in the bad ones cleared nothing
      // Bad readings do not count as data for the stale rule.
      h.set(T0 + 30 * S);
      h.engine.onReading(bad[1]);
      assert.deepEqual(brief(h.tick(T0 + 60 * S)), ["raised stale:ws-1"]);
      // Another device, an unparsable payload and a bad availability are each reported once.
      assert.equal(h.engine.onReading({ device: "ws-2" }).warnings.length, 1);
      assert.equal(h.engine.onReading("garbage", { source: "plugwatch/x/reading" }).warnings[0]?.key, "plugwatch/x/reading");
      assert.equal(h.engine.onReading("garbage", { source: "plugwatch/x/reading" }).warnings.length, 0);
      assert.equal(h.engine.onAvailability({ v: 1, device: "ws-3", online: "no" }).warnings.length, 1);
      // A valid reading re-arms the report.
      h.set(T0 + 70 * S);
      assert.deepEqual(brief(h.read("ws-1", { power: 150 })), ["cleared stale:ws-1"]);
      assert.equal(h.engine.onReading(bad[0]).warnings.length, 1);
    });
  });
});
