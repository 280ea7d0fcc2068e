// Calendar energy: DST stretches, GROUP BY offsets on local period starts, period look-up and per-period attribution.
import assert from "node:assert/strict";
import { calendarAlignMs, fastCalendarPeriods, groupingOffset, groupingStep, offsetStretches, periodLookup } from "../../lib/influx/energy-calendar";
import { energyPerPeriod, rawBucket, roundKWh } from "../../lib/influx/energy";
import { calendarPeriods } from "../../lib/tz";
import { nth } from "../support/checked";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const PARIS = "Europe/Paris";

describe("energy calendar: offset stretches", function () {
  it("splits a week around the spring change (2026-03-29 01:00 UTC) into +01:00 and +02:00", function () {
    const from = Date.UTC(2026, 2, 27);
    const to = Date.UTC(2026, 3, 3);
    assert.deepEqual(offsetStretches(PARIS, from, to), [
      { from, to: Date.UTC(2026, 2, 29, 1), offsetMs: HOUR },
      { from: Date.UTC(2026, 2, 29, 1), to, offsetMs: 2 * HOUR },
    ]);
  });
  it("finds both changes of 2026 in a year and none in UTC", function () {
    const from = Date.UTC(2026, 0, 1);
    const to = Date.UTC(2027, 0, 1);
    const s = offsetStretches(PARIS, from, to);
    assert.deepEqual(
      s.map((x) => [new Date(x.from).toISOString(), x.offsetMs / HOUR]),
      [
        ["2026-01-01T00:00:00.000Z", 1],
        ["2026-03-29T01:00:00.000Z", 2],
        ["2026-10-25T01:00:00.000Z", 1],
      ],
    );
    assert.deepEqual(offsetStretches("UTC", from, to), [{ from, to, offsetMs: 0 }]);
  });
  it("aligns to 1 h in whole-hour zones, 1 min in +05:30", function () {
    assert.equal(calendarAlignMs(offsetStretches(PARIS, Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1))), HOUR);
    assert.equal(calendarAlignMs(offsetStretches("Asia/Kolkata", Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2))), MIN);
  });
});

describe("energy calendar: GROUP BY time(step, offset) on local period starts", function () {
  it("puts day buckets on local midnight (23:00 UTC in winter, 22:00 in summer) and weeks on Monday", function () {
    assert.equal(groupingStep("day"), DAY);
    assert.equal(groupingOffset("day", HOUR), 23 * HOUR);
    assert.equal(groupingOffset("day", 2 * HOUR), 22 * HOUR);
    assert.equal(groupingOffset("hour", 2 * HOUR), 0);
    assert.equal(groupingOffset("day", 5.5 * HOUR), 18.5 * HOUR);
    // Monday 2026-03-23 00:00 CET = 2026-03-22T23:00Z is a bucket start: (t - offset) % 7 d === 0.
    const monday = Date.UTC(2026, 2, 22, 23);
    assert.equal((monday - groupingOffset("week", HOUR)) % (7 * DAY), 0);
    assert.equal(groupingOffset("month", HOUR), 23 * HOUR); // months are summed from local days
  });
});

describe("energy calendar: periodLookup and energyPerPeriod", function () {
  const days = calendarPeriods(PARIS, Date.UTC(2026, 9, 24, 22), Date.UTC(2026, 9, 26, 23), "day");
  it("the autumn day (2026-10-25) is 25 h and every instant maps to its local day", function () {
    assert.deepEqual(
      days.map((p) => (p.end - p.start) / HOUR),
      [25, 24],
    );
    const of = periodLookup(days);
    assert.equal(of(Date.UTC(2026, 9, 24, 21, 59)), undefined);
    assert.equal(of(Date.UTC(2026, 9, 24, 22)), Date.UTC(2026, 9, 24, 22));
    assert.equal(of(Date.UTC(2026, 9, 25, 22, 59)), Date.UTC(2026, 9, 24, 22)); // 23:59 CET on the 25 h day
    assert.equal(of(Date.UTC(2026, 9, 25, 23)), Date.UTC(2026, 9, 25, 23));
    assert.equal(of(Date.UTC(2026, 9, 26, 23)), undefined);
  });
  it("counts from the baseline, attributes an offline stretch to the period where the counter is next seen, survives a restart", function () {
    const of = periodLookup(days);
    const d1 = Date.UTC(2026, 9, 24, 22);
    const d2 = Date.UTC(2026, 9, 25, 23);
    const buckets = [
      rawBucket(d1 + HOUR, 100.5), // baseline 100 → +0.5 on day 1
      rawBucket(d1 + 10 * HOUR, 101), // +0.5
      // offline from day 1 09:00 to day 2 03:00; the counter went on: 101 → 103, all on day 2
      rawBucket(d2 + 3 * HOUR, 103), // +2
      rawBucket(d2 + 4 * HOUR, 0.25), // restart: +0.25
      rawBucket(d2 + 5 * HOUR, 0.5), // +0.25
    ];
    const out = energyPerPeriod(buckets, of, 100);
    assert.deepEqual(
      [...out.entries()].map(([k, v]) => [k, roundKWh(v)]),
      [
        [d1, 1],
        [d2, 2.5],
      ],
    );
    // Without the baseline the first reading is only the starting point.
    assert.equal(roundKWh(energyPerPeriod(buckets, of).get(d1) ?? NaN), 0.5);
  });
  it("a bucket outside every period still serves as the baseline of the next", function () {
    const of = periodLookup(days);
    const out = energyPerPeriod([rawBucket(nth(days, 0).start - MIN, 7), rawBucket(nth(days, 0).start + MIN, 7.25)], of);
    assert.deepEqual([...out.values()].map(roundKWh), [0.25]);
  });
});

describe("energy calendar: fastCalendarPeriods equals lib/tz calendarPeriods", function () {
  const zones = ["Europe/Paris", "America/Santiago", "Asia/Kolkata", "Australia/Lord_Howe", "UTC", "America/Sao_Paulo", "Asia/Kathmandu"];
  const ranges: [from: number, to: number][] = [
    [Date.UTC(2026, 2, 25, 13, 17), Date.UTC(2026, 3, 9, 2, 5)],
    [Date.UTC(2026, 8, 1), Date.UTC(2026, 10, 15, 7)],
    [Date.UTC(2025, 11, 31, 23, 59), Date.UTC(2026, 0, 3)],
  ];
  for (const unit of ["hour", "day", "week", "month"] as const) {
    it(`${unit}: seven zones, ranges across their DST changes and odd starts`, function () {
      for (const tz of zones) {
        for (const [from, to] of ranges) {
          const span = unit === "hour" ? Math.min(to, from + 20 * DAY) : to;
          assert.deepEqual(fastCalendarPeriods(tz, from, span, unit), calendarPeriods(tz, from, span, unit), `${tz} ${unit} ${new Date(from).toISOString()}`);
        }
      }
    });
  }
  it("a year of Paris days", function () {
    const from = Date.UTC(2025, 11, 31, 23);
    const to = Date.UTC(2026, 11, 31, 23);
    assert.deepEqual(fastCalendarPeriods(PARIS, from, to, "day"), calendarPeriods(PARIS, from, to, "day"));
  });
});
