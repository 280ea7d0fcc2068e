// The schedule's holiday calendar joined to a tariff book (lib/tariff/schedule-holidays.ts): the cost endpoint prices
// its holidays like the tariff's own dates. Hand-computed figures on Europe/Paris days.
import assert from "node:assert/strict";
import { buildTariffs } from "../../lib/tariff/load";
import { priceDeltas } from "../../lib/tariff/price";
import { ScheduleHolidays, withExtraHolidays } from "../../lib/tariff/schedule-holidays";
import { TariffClock } from "../../lib/tariff/timeline";
import type { TariffBook } from "../../lib/tariff/load";
import { nth } from "../support/checked";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"];
const BOOK = () =>
  buildTariffs({
    tariffs: {
      hchp: {
        currency: "EUR",
        holidays: { dates: ["2026-05-01"], priceAs: "sun" },
        versions: [
          {
            periods: { hp: { pricePerKWh: 0.3 }, hc: { pricePerKWh: 0.2 } },
            rules: [
              { days: WEEKDAYS, from: "06:00", to: "22:00", period: "hp" },
              { days: WEEKDAYS, from: "22:00", to: "06:00", period: "hc" },
              { days: ["sat", "sun"], from: "00:00", to: "24:00", period: "hc" },
            ],
          },
        ],
      },
    },
  });

/** 1 kWh from 10:00 to 11:00 Paris time (CEST, UTC+2) on `date`, priced as lib/influx/cost.ts prices it. */
function morningHour(book: TariffBook, date: string): { cost: number; periods: string[] } {
  const start = Date.parse(`${date}T08:00:00Z`);
  const clock = new TariffClock(book.forBuilding("hq"), "Europe/Paris", book.isHoliday);
  const bucket = { start, end: start + 3_600_000 };
  const priced = priceDeltas(clock, [{ start, end: bucket.end, kWh: 1 }], [bucket]).get(start);
  return { cost: priced?.cost ?? NaN, periods: Object.keys(priced?.periods ?? {}) };
}

const ICS = [
  "BEGIN:VCALENDAR",
  "VERSION:2.0",
  "BEGIN:VEVENT",
  "DTSTART;VALUE=DATE:20260714",
  "SUMMARY:Fête nationale",
  "RRULE:FREQ=YEARLY",
  "END:VEVENT",
  "END:VCALENDAR",
  "",
].join("\r\n");

describe("schedule holidays joined to the tariffs (lib/tariff/schedule-holidays.ts)", function () {
  it("a weekday of the schedule's calendar (dates and ICS) is priced as the tariff's holidays: off-peak all day", function () {
    let text = JSON.stringify({ holidays: [{ date: "2026-05-08", name: "Victoire 1945" }], holidayFiles: ["fr.ics"] });
    const read: string[] = [];
    const h = new ScheduleHolidays({
      read: () => ({ text, label: "schedules.json" }),
      readFile: (f) => {
        read.push(f);
        if (f !== "/ud/fr.ics") throw new Error(`ENOENT ${f}`);
        return ICS;
      },
      baseDir: "/ud",
    });
    h.refresh();
    const book = BOOK();
    const joined = withExtraHolidays(book, h.isHoliday);
    // Friday 8 May 2026: hp 0.30 on the tariff alone, hc 0.20 with the schedule's holiday.
    assert.deepEqual(morningHour(book, "2026-05-08"), { cost: 0.3, periods: ["hp"] });
    assert.deepEqual(morningHour(joined, "2026-05-08"), { cost: 0.2, periods: ["hc"] });
    // Tuesday 14 July 2026 and 2027 (Wednesday) from the ICS yearly rule.
    assert.deepEqual(morningHour(joined, "2026-07-14"), { cost: 0.2, periods: ["hc"] });
    assert.deepEqual(morningHour(joined, "2027-07-14"), { cost: 0.2, periods: ["hc"] });
    // The tariff's own holiday still counts, an ordinary weekday is still peak.
    assert.deepEqual(morningHour(joined, "2026-05-01"), { cost: 0.2, periods: ["hc"] });
    assert.deepEqual(morningHour(joined, "2026-05-07"), { cost: 0.3, periods: ["hp"] });

    // Unchanged text: not parsed again (the ICS is not re-read); a new document counts from the next refresh.
    h.refresh();
    assert.equal(read.length, 1);
    text = JSON.stringify({ holidays: ["2026-05-07"] });
    assert.equal(h.isHoliday("2026-05-07"), false);
    h.refresh();
    assert.equal(h.isHoliday("2026-05-07"), true);
    assert.equal(h.isHoliday("2026-05-08"), false);
    assert.deepEqual(morningHour(joined, "2026-05-07"), { cost: 0.2, periods: ["hc"] });
  });

  it("a bad or unreadable document keeps the last good calendar and is reported once per problem", function () {
    let text = JSON.stringify({ holidays: ["2026-05-08"] });
    let fail = false;
    const warnings: string[] = [];
    const h = new ScheduleHolidays({
      read: () => {
        if (fail) throw new Error("EACCES schedules.json");
        return { text, label: "schedules.json" };
      },
      readFile: () => {
        throw new Error("no ICS here");
      },
      warn: (m) => warnings.push(m),
    });
    h.refresh();
    assert.equal(h.isHoliday("2026-05-08"), true);
    text = '{"holidays": ["2026-02-30"]}';
    h.refresh();
    h.refresh();
    assert.equal(h.isHoliday("2026-05-08"), true);
    assert.equal(warnings.length, 1);
    assert.match(nth(warnings, 0), /^schedule holidays: schedules\.json: .*holidays\[0\].*; keeping the previous calendar$/);
    text = JSON.stringify({ holidayFiles: ["missing.ics"] });
    h.refresh();
    assert.match(nth(warnings, 1), /holidayFiles\[0\]: cannot read .*missing\.ics: no ICS here/);
    fail = true;
    h.refresh();
    assert.match(nth(warnings, 2), /EACCES schedules\.json/);
    assert.equal(h.isHoliday("2026-05-08"), true);
    assert.equal(warnings.length, 3);
  });

  it("an empty document has no holidays", function () {
    const h = new ScheduleHolidays({ read: () => ({ text: "", label: "x" }), readFile: () => "" });
    h.refresh();
    assert.equal(h.isHoliday("2026-12-25"), false);
  });
});
