import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { CalendarError, calendarFromIcs, HolidayCalendar, parseIcs, unfold } from "../../lib/calendar";
import { repoRoot } from "../../scripts/harness/nodered";

const FR = readFileSync(path.join(repoRoot(), "test", "fixtures", "calendars", "fr-public-holidays.ics"), "utf8");

/** The CalendarError `fn` throws (fails the test when it throws anything else or nothing). */
function calendarError(fn: () => unknown): CalendarError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CalendarError, `expected a CalendarError, got ${String(err)}`);
    assert.equal(err.code, "INVALID_CALENDAR");
    return err;
  }
  assert.fail("expected a CalendarError");
}

const ics = (...body: string[]): string => ["BEGIN:VCALENDAR", "VERSION:2.0", ...body, "END:VCALENDAR", ""].join("\r\n");

describe("calendar: holidays as local dates, ICS import", () => {
  it("unfolds continuation lines (space or tab) and keeps the first physical line number", () => {
    assert.deepEqual(unfold("A:1\r\nDESCRIPTION:ab\r\n  cd\r\n\tef\r\nB:2\r\n"), [
      { no: 1, text: "A:1" },
      { no: 2, text: "DESCRIPTION:ab cdef" },
      { no: 5, text: "B:2" },
    ]);
  });

  it("reads a published French public-holiday calendar (Google-style export, CRLF, VTIMEZONE, VALARM)", () => {
    const events = parseIcs(FR, "fr.ics");
    assert.equal(events.length, 7);
    assert.deepEqual(events[0], { start: "2026-01-01", days: 1, name: "Jour de l'an" });
    assert.deepEqual(events[2], { start: "2020-05-01", days: 1, name: "Fête du Travail", yearly: { interval: 1 } });
    assert.deepEqual(events[4], { start: "2026-12-24", days: 4, name: "Fermeture des bureaux (Noël)" });
    assert.deepEqual(events[6], { start: "2026-12-31", days: 2, name: "Réveillon, pont" });

    const cal = calendarFromIcs(FR, "fr.ics");
    assert.equal(cal.nameOf("2026-01-01"), "Jour de l'an");
    assert.equal(cal.isHoliday("2026-01-02"), false);
    assert.equal(cal.nameOf("2026-04-06"), "Lundi de Pâques");
    // Yearly events repeat on their month and day from their first year on.
    assert.equal(cal.nameOf("2031-05-01"), "Fête du Travail");
    assert.equal(cal.isHoliday("2019-05-01"), false);
    assert.equal(cal.nameOf("2026-07-14"), "Fête nationale");
    // Multi-day: DTEND is exclusive (24 to 27 December).
    assert.deepEqual(
      ["2026-12-23", "2026-12-24", "2026-12-25", "2026-12-26", "2026-12-27", "2026-12-28"].map((d) => cal.isHoliday(d)),
      [false, true, true, true, true, false],
    );
    // UNTIL ends a yearly event (Noël up to 2025; 2026 is covered by the closure).
    assert.equal(cal.nameOf("2025-12-25"), "Noël");
    assert.equal(cal.nameOf("2024-12-25"), "Noël");
    assert.equal(cal.isHoliday("2027-12-25"), false);
    // DURATION:P2D across the new year.
    assert.equal(cal.nameOf("2027-01-01"), "Réveillon, pont");
    assert.equal(cal.isHoliday("2027-01-02"), false);
    assert.deepEqual(cal.datesBetween("2026-04-01", "2026-05-31"), ["2026-04-06", "2026-05-01"]);
  });

  it("repeats a yearly multi-day event over the new year, honours INTERVAL and COUNT, and 29 February only in leap years", () => {
    const cal = calendarFromIcs(
      ics(
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20201231",
        "DTEND;VALUE=DATE:20210102",
        "RRULE:FREQ=YEARLY;COUNT=3",
        "SUMMARY:Inventaire",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART:20200229",
        "RRULE:FREQ=YEARLY",
        "SUMMARY:Leap",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20200310",
        "RRULE:FREQ=YEARLY;INTERVAL=2",
        "END:VEVENT",
      ),
    );
    assert.equal(cal.nameOf("2022-01-01"), "Inventaire"); // second occurrence, started 2021-12-31
    assert.equal(cal.nameOf("2023-01-01"), "Inventaire"); // third
    assert.equal(cal.isHoliday("2023-12-31"), false); // a fourth would exceed COUNT=3
    assert.equal(cal.isHoliday("2024-02-29"), true);
    assert.equal(cal.isHoliday("2025-03-01"), false);
    assert.equal(cal.nameOf("2022-03-10"), ""); // unnamed holiday
    assert.equal(cal.isHoliday("2021-03-10"), false);
  });

  it("takes plain dates (with names) and merges calendars", () => {
    const a = HolidayCalendar.fromDates(["2026-06-01", { date: "2026-06-02", name: "Séminaire" }]);
    assert.equal(a.nameOf("2026-06-01"), "");
    assert.equal(a.nameOf("2026-06-02"), "Séminaire");
    const b = a.merge(calendarFromIcs(FR));
    assert.equal(b.isHoliday("2026-06-01") && b.isHoliday("2026-07-14"), true);
    assert.equal(b.isHoliday("not-a-date"), false);
    const e = calendarError(() => HolidayCalendar.fromDates(["2026-06-01", "2026-02-30"], "holidays"));
    assert.equal(e.message, 'holidays $[1]: "2026-02-30" is not a date YYYY-MM-DD');
  });

  it("refuses bad input with INVALID_CALENDAR and the line number", () => {
    const cases: [string, string][] = [
      ["PRODID:x\r\n", "f.ics line 1: an iCalendar file starts with BEGIN:VCALENDAR"],
      [ics("BEGIN:VEVENT", "SUMMARY:x", "END:VEVENT"), "f.ics line 3: VEVENT without DTSTART"],
      [ics("BEGIN:VEVENT", "DTSTART;VALUE=DATE:20261301", "END:VEVENT"), 'f.ics line 4: DTSTART "20261301" is not a date YYYYMMDD'],
      [
        ics("BEGIN:VEVENT", "DTSTART;VALUE=DATE:20260105", "DTEND;VALUE=DATE:20260101", "END:VEVENT"),
        "f.ics line 3: DTEND 2026-01-01 is before DTSTART 2026-01-05",
      ],
      [
        ics("BEGIN:VEVENT", "DTSTART;VALUE=DATE:20260105", "RRULE:FREQ=WEEKLY", "END:VEVENT"),
        "f.ics line 5: RRULE FREQ=WEEKLY is not supported: only FREQ=YEARLY",
      ],
      [
        ics("BEGIN:VEVENT", "DTSTART;VALUE=DATE:20260105", "RRULE:FREQ=YEARLY;BYDAY=1MO", "END:VEVENT"),
        "f.ics line 5: RRULE BYDAY is not supported (movable feasts need one event per year)",
      ],
      [ics("BEGIN:VEVENT", "DTSTART;VALUE=DATE:20260105"), "f.ics line 5: END:VCALENDAR without a matching BEGIN (open: VEVENT from line 3)"],
      ["BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20260105\r\n", "f.ics line 2: BEGIN:VEVENT is never closed"],
      [ics("BEGIN:VEVENT", "DTSTART;VALUE=DATE:20260105", "END:VTODO"), "f.ics line 5: END:VTODO without a matching BEGIN (open: VEVENT from line 3)"],
      [ics("BEGIN:VEVENT", "this line has no colon", "END:VEVENT"), 'f.ics line 4: not a content line NAME[;PARAM=V]:VALUE: "this line has no colon"'],
      [
        ics("BEGIN:VEVENT", "DTSTART;VALUE=DATE:20260105", "DURATION:PT4H", "END:VEVENT"),
        'f.ics line 5: DURATION "PT4H": only whole days (PnD) or weeks (PnW) are supported',
      ],
    ];
    for (const [text, message] of cases) assert.equal(calendarError(() => parseIcs(text, "f.ics")).message, message);
    // The line number counts physical lines, so a folded line before the error shifts it.
    const folded = ics("BEGIN:VEVENT", "DESCRIPTION:long", " text", "DTSTART:2026", "END:VEVENT");
    assert.deepEqual(calendarError(() => parseIcs(folded, "f.ics")).details, [{ path: "line 6", message: 'DTSTART "2026" is not a date YYYYMMDD' }]);
  });
});
