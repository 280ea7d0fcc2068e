// Working-hours schedules on the local wall clock: across midnight and across both 2026 DST changes in Europe/Paris.
import assert from "node:assert/strict";
import { checkTimeZone, clockMinutes, isWorkingTime, localTime } from "../../lib/alerts/schedule";
import type { WeeklySchedule } from "../../lib/contracts/alert";

const PARIS = "Europe/Paris";
const at = (iso: string): number => Date.parse(iso);
const office: WeeklySchedule = {
  mon: [["08:00", "19:00"]],
  tue: [["08:00", "19:00"]],
  wed: [["08:00", "19:00"]],
  thu: [["08:00", "19:00"]],
  fri: [["08:00", "19:00"]],
};
const nightShift: WeeklySchedule = {
  mon: [["22:00", "06:00"]],
  tue: [["22:00", "06:00"]],
  wed: [["22:00", "06:00"]],
  thu: [["22:00", "06:00"]],
  fri: [["22:00", "06:00"]],
  sat: [["22:00", "06:00"]],
};

describe("alert schedule", function () {
  it("reads weekday, minutes and date on the local wall clock (CET and CEST)", function () {
    assert.deepEqual(localTime(PARIS, at("2026-01-05T07:30:00Z")), { weekday: "mon", minutes: 8 * 60 + 30, date: "2026-01-05" });
    assert.deepEqual(localTime(PARIS, at("2026-07-06T07:30:00Z")), { weekday: "mon", minutes: 9 * 60 + 30, date: "2026-07-06" });
    assert.deepEqual(localTime(PARIS, at("2026-07-05T22:30:00Z")), { weekday: "mon", minutes: 30, date: "2026-07-06" });
    assert.deepEqual(localTime("UTC", at("2026-07-05T22:30:00Z")), { weekday: "sun", minutes: 22 * 60 + 30, date: "2026-07-05" });
  });

  it("parses HH:MM including 24:00", function () {
    assert.equal(clockMinutes("00:00"), 0);
    assert.equal(clockMinutes("19:45"), 1185);
    assert.equal(clockMinutes("24:00"), 1440);
  });

  it("office hours: inside, at the edges, weekend", function () {
    assert.equal(isWorkingTime(office, PARIS, at("2026-01-06T06:59:00Z")), false); // Tue 07:59
    assert.equal(isWorkingTime(office, PARIS, at("2026-01-06T07:00:00Z")), true); // Tue 08:00
    assert.equal(isWorkingTime(office, PARIS, at("2026-01-06T17:59:00Z")), true); // Tue 18:59
    assert.equal(isWorkingTime(office, PARIS, at("2026-01-06T18:00:00Z")), false); // Tue 19:00 (end excluded)
    assert.equal(isWorkingTime(office, PARIS, at("2026-01-10T10:00:00Z")), false); // Sat 11:00
    assert.equal(isWorkingTime({ sun: [["00:00", "24:00"]] }, PARIS, at("2026-01-11T22:59:00Z")), true); // Sun 23:59
  });

  it("night shift 22:00-06:00 runs past midnight into the next day", function () {
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-01-09T20:59:00Z")), false); // Fri 21:59
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-01-09T21:00:00Z")), true); // Fri 22:00
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-01-09T23:30:00Z")), true); // Sat 00:30, Friday's shift
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-01-10T04:59:00Z")), true); // Sat 05:59
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-01-10T05:00:00Z")), false); // Sat 06:00
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-01-10T12:00:00Z")), false); // Sat 13:00
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-01-10T23:30:00Z")), true); // Sun 00:30, Saturday's shift
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-01-11T23:30:00Z")), false); // Mon 00:30: no Sunday shift
  });

  it("spring forward (2026-03-29, 02:00 CET -> 03:00 CEST): shift ends at 06:00 local = 04:00 UTC", function () {
    // Saturday 28 March 22:00 CET → Sunday 29 March 06:00 CEST
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-03-28T21:00:00Z")), true); // Sat 22:00 CET
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-03-29T00:59:00Z")), true); // 01:59 CET
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-03-29T01:00:00Z")), true); // 03:00 CEST (02:xx skipped)
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-03-29T03:59:00Z")), true); // 05:59 CEST
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-03-29T04:30:00Z")), false); // 06:30 CEST (would be 05:30 CET)
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-03-22T04:30:00Z")), true); // a week earlier, 05:30 CET
    // office day: Mon 30 March 06:30 UTC is 08:30 CEST (working); Fri 27 March 06:30 UTC is 07:30 CET (not)
    assert.equal(isWorkingTime(office, PARIS, at("2026-03-30T06:30:00Z")), true);
    assert.equal(isWorkingTime(office, PARIS, at("2026-03-27T06:30:00Z")), false);
  });

  it("fall back (2026-10-25, 03:00 CEST -> 02:00 CET): shift ends at 06:00 local = 05:00 UTC", function () {
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-10-24T19:59:00Z")), false); // Sat 21:59 CEST
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-10-24T20:00:00Z")), true); // Sat 22:00 CEST
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-10-25T00:30:00Z")), true); // 02:30 CEST (first pass)
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-10-25T01:30:00Z")), true); // 02:30 CET (second pass)
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-10-25T04:30:00Z")), true); // 05:30 CET (would be 06:30 CEST)
    assert.equal(isWorkingTime(nightShift, PARIS, at("2026-10-25T05:00:00Z")), false); // 06:00 CET
    assert.equal(isWorkingTime(office, PARIS, at("2026-10-26T07:00:00Z")), true); // Mon 08:00 CET
    assert.equal(isWorkingTime(office, PARIS, at("2026-10-23T06:30:00Z")), true); // Fri 08:30 CEST
    assert.equal(isWorkingTime(office, PARIS, at("2026-10-26T06:30:00Z")), false); // Mon 07:30 CET
  });

  it("rejects unknown time zones with a clear message", function () {
    assert.equal(checkTimeZone("Europe/Paris"), "Europe/Paris");
    assert.throws(() => checkTimeZone("Mars/Olympus"), /unknown time zone 'Mars\/Olympus'/);
  });
});
