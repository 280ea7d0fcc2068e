import { strict as assert } from "node:assert";
import { calendarPeriods, localDate, nextPeriod, offsetAt, startOfPeriod, zonedParts, zonedTime } from "../../lib/tz";
import { nth } from "../support/checked";

const PARIS = "Europe/Paris";
const iso = (t: number): string => new Date(t).toISOString();
const H = 3_600_000;

describe("tz: zoned calendar arithmetic", () => {
  it("reads local parts and the offset on both sides of Paris' 2026 transitions", () => {
    assert.deepEqual(zonedParts(PARIS, Date.parse("2026-03-29T00:59:00Z")), { year: 2026, month: 3, day: 29, hour: 1, minute: 59, weekday: 6 });
    assert.deepEqual(zonedParts(PARIS, Date.parse("2026-03-29T01:00:00Z")), { year: 2026, month: 3, day: 29, hour: 3, minute: 0, weekday: 6 });
    assert.equal(offsetAt(PARIS, Date.parse("2026-01-15T12:00:00Z")), 1 * H);
    assert.equal(offsetAt(PARIS, Date.parse("2026-07-15T12:00:00Z")), 2 * H);
  });

  it("maps a wall-clock time to its instant: normal, repeated (first wins) and skipped (moved forward)", () => {
    assert.equal(iso(zonedTime(PARIS, 2026, 1, 15, 8, 30)), "2026-01-15T07:30:00.000Z");
    assert.equal(iso(zonedTime(PARIS, 2026, 10, 25, 2, 30)), "2026-10-25T00:30:00.000Z"); // first 02:30 (CEST)
    assert.equal(iso(zonedTime(PARIS, 2026, 3, 29, 2, 30)), "2026-03-29T01:30:00.000Z"); // 03:30 CEST
    assert.equal(iso(zonedTime("UTC", 2026, 12, 32)), "2027-01-01T00:00:00.000Z");
  });

  it("gives a midnight-gap day its first real instant (America/Santiago, 2026-09-06)", () => {
    const start = zonedTime("America/Santiago", 2026, 9, 6);
    assert.equal(iso(start), "2026-09-06T04:00:00.000Z");
    assert.equal(zonedParts("America/Santiago", start).hour, 1);
    assert.equal(localDate("America/Santiago", start - 1), "2026-09-05");
  });

  it("has 23- and 25-hour days on the DST dates and 24 otherwise", () => {
    const len = (y: number, m: number, d: number): number => {
      const s = zonedTime(PARIS, y, m, d);
      return (nextPeriod(PARIS, s, "day") - s) / H;
    };
    assert.equal(len(2026, 3, 29), 23);
    assert.equal(len(2026, 10, 25), 25);
    assert.equal(len(2026, 6, 1), 24);
  });

  it("starts hours at local minute 0, also in a +05:30 zone and in the repeated hour", () => {
    assert.equal(iso(startOfPeriod("Asia/Kolkata", Date.parse("2026-05-01T10:10:00Z"), "hour")), "2026-05-01T09:30:00.000Z");
    // 02:10 CET (the second 02:10 of 2026-10-25) is 01:10Z; its hour starts at 01:00Z, not at the first 02:00 (00:00Z).
    assert.equal(iso(startOfPeriod(PARIS, Date.parse("2026-10-25T01:10:00Z"), "hour")), "2026-10-25T01:00:00.000Z");
  });

  it("starts weeks on Monday and months on the 1st, local time", () => {
    const sunday = Date.parse("2026-11-29T22:30:00Z"); // Sunday 23:30 in Paris
    assert.equal(iso(startOfPeriod(PARIS, sunday, "week")), "2026-11-22T23:00:00.000Z");
    assert.equal(iso(startOfPeriod(PARIS, Date.parse("2026-11-30T23:30:00Z"), "month")), "2026-11-30T23:00:00.000Z"); // Dec 1st 00:30
    assert.equal(iso(nextPeriod(PARIS, Date.parse("2026-10-31T23:00:00Z"), "month")), "2026-11-30T23:00:00.000Z");
  });

  it("lists the periods covering a range, contiguous, and refuses absurd counts", () => {
    const days = calendarPeriods(PARIS, Date.parse("2026-10-24T12:00:00Z"), Date.parse("2026-10-26T23:00:00Z"), "day");
    assert.deepEqual(
      days.map((p) => [iso(p.start), (p.end - p.start) / H]),
      [
        ["2026-10-23T22:00:00.000Z", 24],
        ["2026-10-24T22:00:00.000Z", 25],
        ["2026-10-25T23:00:00.000Z", 24],
      ],
    );
    for (let i = 1; i < days.length; i++) assert.equal(nth(days, i).start, nth(days, i - 1).end);
    assert.throws(() => calendarPeriods("UTC", 0, 10 * 365 * 24 * H, "hour", 1000), /more than 1000 hour periods/);
  });
});
