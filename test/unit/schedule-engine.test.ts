// Schedule engine on a fake clock: weekly times in each building's zone across DST, holidays, neverOff, tags, standby cut-off, savings.
import assert from "node:assert/strict";
import { buildRegistry, type Registry } from "../../lib/registry";
import type { AuditRecord, DeviceEntry } from "../../lib/contracts";
import { checkScheduleDocument, parseScheduleText, ScheduleError } from "../../lib/schedule/config";
import { ScheduleEngine, type ScheduleCommand } from "../../lib/schedule/engine";
import { FakeTime } from "../support/fake-time";
import { nth } from "../support/checked";

const MIN = 60_000;
const iso = (t: number): string => new Date(t).toISOString();

function dev(id: string, n: number, kind: DeviceEntry["kind"], room: string, extra: Partial<DeviceEntry> = {}, building = "hq"): DeviceEntry {
  return { id, name: id, model: "HS110", host: "127.0.0.1", port: 22000 + n, kind, location: { building, floor: "1", room }, ...extra };
}

function office(): Registry {
  return buildRegistry({
    timezone: "Europe/Paris",
    buildings: { ny: { timezone: "America/New_York" } },
    devices: [
      dev("pr-1", 1, "printer", "copy"),
      dev("pr-2", 2, "printer", "copy", { idleWatts: 2 }),
      dev("pr-ny", 3, "printer", "copy", {}, "ny"),
      dev("srv-1", 4, "other", "it", { critical: true, kind: "printer" }),
      dev("fridge", 5, "other", "kitchen", { tags: { team: "facilities" } }),
      dev("ws-1", 6, "workplace", "open", { tags: { team: "sales" } }),
      dev("ws-2", 7, "workplace", "open", { tags: { team: "sales" } }),
    ],
  });
}

function setup(doc: unknown, start: string) {
  const registry = office();
  const time = new FakeTime();
  time.now = Date.parse(start);
  const sent: ScheduleCommand[] = [];
  let n = 0;
  const engine = new ScheduleEngine(checkScheduleDocument(doc, { file: "test", registry }), {
    registry: () => registry,
    clock: time.asClock,
    send: (c) => sent.push(c),
    newId: () => `s-${++n}`,
  });
  /** Ticks every minute up to `to` (like the node's timer), returning what was sent meanwhile. */
  const runTo = (to: string): ScheduleCommand[] => {
    const before = sent.length;
    const end = Date.parse(to);
    while (time.now < end) {
      time.now = Math.min(end, time.now + MIN);
      engine.tick(time.now);
    }
    return sent.slice(before);
  };
  /** The control agent's answer: every named device switched as asked (a critical one skipped). */
  const confirm = (c: ScheduleCommand): void => {
    const ids = "device" in c.target ? [c.target.device] : c.target.devices;
    const record: AuditRecord = {
      v: 1,
      ts: time.now,
      id: c.id,
      by: c.by,
      action: c.action,
      target: c.target,
      ok: true,
      results: ids.map((id) =>
        registry.get(id)?.critical ? { device: id, ok: true, code: "CRITICAL_DEVICE", skipped: true } : { device: id, ok: true, relay: c.action === "on" },
      ),
    };
    engine.onAudit(record);
  };
  return { engine, sent, runTo, time, confirm, registry };
}

const brief = (c: ScheduleCommand) => [iso(c.at), c.action, "device" in c.target ? [c.target.device] : c.target.devices, c.by];

describe("schedule engine", function () {
  it("switches printers off at 20:00 and on at 07:30 local time on weekdays, per building zone", function () {
    const { runTo } = setup(
      { schedules: [{ name: "printers", target: { kind: "printer" }, days: ["mon", "tue", "wed", "thu", "fri"], on: "07:30", off: "20:00" }] },
      "2026-01-15T12:00:00Z", // Thursday
    );
    assert.deepEqual(runTo("2026-01-19T14:00:00Z").map(brief), [
      ["2026-01-15T12:30:00.000Z", "on", ["pr-ny"], "schedule:printers"], // 07:30 EST
      ["2026-01-15T19:00:00.000Z", "off", ["pr-1", "pr-2", "srv-1"], "schedule:printers"], // 20:00 CET
      ["2026-01-16T01:00:00.000Z", "off", ["pr-ny"], "schedule:printers"], // 20:00 EST
      ["2026-01-16T06:30:00.000Z", "on", ["pr-1", "pr-2", "srv-1"], "schedule:printers"],
      ["2026-01-16T12:30:00.000Z", "on", ["pr-ny"], "schedule:printers"],
      ["2026-01-16T19:00:00.000Z", "off", ["pr-1", "pr-2", "srv-1"], "schedule:printers"],
      ["2026-01-17T01:00:00.000Z", "off", ["pr-ny"], "schedule:printers"],
      // Saturday and Sunday: nothing; Monday morning on.
      ["2026-01-19T06:30:00.000Z", "on", ["pr-1", "pr-2", "srv-1"], "schedule:printers"],
      ["2026-01-19T12:30:00.000Z", "on", ["pr-ny"], "schedule:printers"],
    ]);
  });

  it("is DST-correct: 07:30 moves in UTC, a time in the spring gap runs once after it, a repeated time runs once", function () {
    const rule = { name: "night", target: { device: "pr-1" }, on: "07:30", off: "02:30" };
    const spring = setup({ schedules: [rule] }, "2026-03-28T12:00:00Z");
    assert.deepEqual(spring.runTo("2026-03-30T12:00:00Z").map(brief), [
      ["2026-03-29T01:30:00.000Z", "off", ["pr-1"], "schedule:night"], // 02:30 does not exist: 03:30 CEST
      ["2026-03-29T05:30:00.000Z", "on", ["pr-1"], "schedule:night"], // 07:30 CEST
      ["2026-03-30T00:30:00.000Z", "off", ["pr-1"], "schedule:night"],
      ["2026-03-30T05:30:00.000Z", "on", ["pr-1"], "schedule:night"],
    ]);
    const autumn = setup({ schedules: [rule] }, "2026-10-24T12:00:00Z");
    assert.deepEqual(autumn.runTo("2026-10-25T12:00:00Z").map(brief), [
      ["2026-10-25T00:30:00.000Z", "off", ["pr-1"], "schedule:night"], // first 02:30 (CEST) only
      ["2026-10-25T06:30:00.000Z", "on", ["pr-1"], "schedule:night"], // 07:30 CET
    ]);
  });

  it("skips holidays (dates and ICS) unless skipHolidays is false", function () {
    const ics = [
      "BEGIN:VCALENDAR",
      "BEGIN:VEVENT",
      "DTSTART;VALUE=DATE:20200501",
      "RRULE:FREQ=YEARLY",
      "SUMMARY:Fête du Travail",
      "END:VEVENT",
      "END:VCALENDAR",
    ].join("\r\n");
    const registry = office();
    const config = checkScheduleDocument(
      {
        holidays: [{ date: "2026-04-30", name: "Pont" }],
        holidayFiles: ["fr.ics"],
        schedules: [
          { name: "a", target: { device: "pr-1" }, off: "20:00" },
          { name: "b", target: { device: "pr-2" }, off: "20:00", skipHolidays: false },
        ],
      },
      { file: "t", registry, baseDir: "/etc/pw", readFile: (f) => (f === "/etc/pw/fr.ics" ? ics : "") },
    );
    const time = new FakeTime();
    time.now = Date.parse("2026-04-29T12:00:00Z");
    const sent: ScheduleCommand[] = [];
    const engine = new ScheduleEngine(config, { registry: () => registry, clock: time.asClock, send: (c) => sent.push(c) });
    for (; time.now < Date.parse("2026-05-02T12:00:00Z"); time.now += MIN) engine.tick(time.now);
    assert.deepEqual(
      sent.map((c) => [iso(c.at), c.by]),
      [
        ["2026-04-29T18:00:00.000Z", "schedule:a"],
        ["2026-04-29T18:00:00.000Z", "schedule:b"],
        ["2026-04-30T18:00:00.000Z", "schedule:b"],
        ["2026-05-01T18:00:00.000Z", "schedule:b"],
      ],
    );
  });

  it("never switches a neverOff device off (but on), selects by tags, and catches up only the latest time after a gap", function () {
    const { runTo } = setup(
      {
        neverOff: ["ws-2"],
        schedules: [{ name: "sales", target: { tags: { team: "sales" } }, on: "08:00", off: "19:00" }],
      },
      "2026-01-12T12:00:00Z",
    );
    assert.deepEqual(runTo("2026-01-13T12:00:00Z").map(brief), [
      ["2026-01-12T18:00:00.000Z", "off", ["ws-1"], "schedule:sales"],
      ["2026-01-13T07:00:00.000Z", "on", ["ws-1", "ws-2"], "schedule:sales"],
    ]);
    // One tick after three days without ticks: only the latest due action runs.
    const late = setup({ schedules: [{ name: "sales", target: { tags: { team: "sales" } }, on: "08:00", off: "19:00" }] }, "2026-01-12T12:00:00Z");
    late.time.now = Date.parse("2026-01-15T20:00:00Z");
    late.engine.tick();
    assert.deepEqual(late.sent.map(brief), [["2026-01-15T18:00:00.000Z", "off", ["ws-1", "ws-2"], "schedule:sales"]]);
  });

  it("standby cut-off: fires once per idle stretch, re-arms above the threshold or after a switch-on; ignores critical and neverOff", function () {
    const { engine, sent, time } = setup(
      { neverOff: ["pr-2"], standby: [{ name: "printer-idle", kind: "printer", belowW: 5, minutes: 30 }] },
      "2026-01-15T08:00:00Z",
    );
    const feed = (minutes: number, w: number, relay = true, ids = ["pr-1", "pr-2", "srv-1"]): void => {
      for (let i = 0; i < minutes; i++) {
        time.now += MIN;
        for (const id of ids) engine.onReading(id, w, relay);
        engine.tick();
      }
    };
    feed(10, 120); // printing until 08:10
    feed(30, 3); // idle from 08:11: 29 min at 08:40, not yet
    assert.equal(sent.length, 0);
    feed(1, 3);
    assert.deepEqual(sent.map(brief), [["2026-01-15T08:41:00.000Z", "off", ["pr-1"], "cutoff:printer-idle"]]);
    assert.deepEqual(nth(sent, 0).target, { device: "pr-1" });
    feed(60, 3); // still idle, relay still reads on (the off failed or is slow): no second off
    assert.equal(sent.length, 1);
    feed(1, 50); // printing again: re-armed
    feed(31, 2);
    assert.equal(sent.length, 2);
    feed(5, 0, false); // switched off
    feed(30, 2); // switched on again at 10:19, idle: re-armed by the switch-on
    assert.equal(sent.length, 2);
    feed(1, 2);
    assert.deepEqual(
      sent.map((c) => iso(c.at)),
      ["2026-01-15T08:41:00.000Z", "2026-01-15T10:13:00.000Z", "2026-01-15T10:49:00.000Z"],
    );
  });

  it("savings: confirmed automatic offs until the next on, measured standby power, per room and local month, priced", function () {
    const s = setup(
      {
        price: { perKWh: 0.2, currency: "EUR" },
        standbyEstimateW: { printer: 1.5 },
        schedules: [
          { name: "printers", target: { devices: ["pr-1", "pr-2", "srv-1"] }, on: "07:30", off: "20:00", days: ["mon", "tue", "wed", "thu", "fri", "sat"] },
        ],
      },
      "2026-01-31T18:00:00Z", // Saturday 19:00 CET
    );
    // pr-1 reads 4 W before the off; pr-2 sends nothing (idleWatts 2 W); srv-1 is critical (skipped by the agent).
    s.runTo("2026-01-31T18:50:00Z");
    s.engine.onReading("pr-1", 4, true);
    const off = s.runTo("2026-01-31T19:00:00Z");
    assert.equal(off.length, 1);
    s.confirm(nth(off, 0));
    // Sunday: no rule; Monday 07:30 CET on.
    const on = s.runTo("2026-02-02T06:30:00Z");
    assert.deepEqual(on.map(brief), [["2026-02-02T06:30:00.000Z", "on", ["pr-1", "pr-2", "srv-1"], "schedule:printers"]]);
    s.confirm(nth(on, 0));
    // Off Saturday 20:00 CET → Monday 07:30 CET = 35.5 h: 4 h in January (to midnight CET), 31.5 h in February.
    const r = s.engine.report({}, s.time.now);
    assert.deepEqual(r.rows, [
      { month: "2026-01", building: "hq", floor: "1", room: "copy", offs: 2, hoursOff: 8, kWh: 0.024, cost: 0.0048, currency: "EUR" },
      { month: "2026-02", building: "hq", floor: "1", room: "copy", offs: 2, hoursOff: 63, kWh: 0.189, cost: 0.0378, currency: "EUR" },
    ]);
    assert.equal(r.totalKWh, 0.213);
    assert.deepEqual(
      s.engine.savings.all().map((x) => [x.device, x.watts, x.source]),
      [
        ["pr-1", 4, "measured"],
        ["pr-2", 2, "idleWatts"],
      ],
    );
    assert.deepEqual(s.engine.report({ month: "2026-02" }, s.time.now).totalKWh, 0.189);
    // A manual switch-on seen in a reading also ends an open stretch.
    const off2 = s.runTo("2026-02-02T19:00:00Z");
    s.confirm(nth(off2, 0));
    s.time.now = Date.parse("2026-02-02T21:00:00Z");
    s.engine.onReading("pr-1", 0, false);
    s.engine.onReading("pr-1", 30, true);
    assert.equal(s.engine.savings.openOf("pr-1"), undefined);
    assert.equal(s.engine.savings.openOf("pr-2")?.from, Date.parse("2026-02-02T19:00:00Z"));
  });

  it("refuses a bad document with file, JSON path and reason (INVALID_SCHEDULE)", function () {
    const registry = office();
    const err = (fn: () => unknown): ScheduleError => {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof ScheduleError, String(e));
        assert.equal(e.code, "INVALID_SCHEDULE");
        return e;
      }
      assert.fail("expected a ScheduleError");
    };
    assert.deepEqual(
      err(() =>
        checkScheduleDocument(
          {
            schedules: [
              { name: "a", target: { device: "nope" }, on: "07:30" },
              { name: "a", target: { kind: "printer" } },
              { name: "c", target: { kind: "toaster" }, on: "25:00" },
            ],
            neverOff: ["ghost"],
            holidays: ["2026-02-30"],
          },
          { file: "sched.json", registry },
        ),
      ).issues,
      [
        { path: "$.schedules[2].target.kind", message: '"toaster" is not a valid kind: use workplace, meeting-room, printer, other' },
        { path: "$.schedules[2].on", message: '"25:00" is not a valid on' },
      ],
    );
    assert.deepEqual(
      err(() =>
        checkScheduleDocument(
          {
            schedules: [
              { name: "a", target: { device: "nope" }, on: "07:30" },
              { name: "a", target: { kind: "printer" } },
            ],
            neverOff: ["ghost"],
            holidays: ["2026-02-30"],
          },
          { file: "sched.json", registry },
        ),
      ).issues,
      [
        { path: "$.schedules[0].target", message: "unknown device 'nope'" },
        { path: "$.schedules[1].name", message: "duplicate rule name 'a' (first at $.schedules[0])" },
        { path: "$.schedules[1]", message: "a schedule needs 'on', 'off' or both" },
        { path: "$.neverOff[0]", message: "unknown device 'ghost'" },
        { path: "$.holidays[0]", message: '"2026-02-30" is not a date YYYY-MM-DD' },
      ],
    );
    const bad = err(() => parseScheduleText('{"schedules": [}', { file: "/u/schedules.json" }));
    assert.match(bad.message, /^\/u\/schedules\.json: \$: not valid JSON: /);
    const ics = err(() =>
      checkScheduleDocument(
        { holidayFiles: ["h.ics"] },
        { file: "s", baseDir: "/d", readFile: () => "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026\nEND:VEVENT\nEND:VCALENDAR\n" },
      ),
    );
    assert.deepEqual(ics.issues, [{ path: "$.holidayFiles[0]", message: '/d/h.ics line 3: DTSTART "2026" is not a date YYYYMMDD' }]);
  });
});
