// Zoned calendar arithmetic on IANA time zones (DST-correct via Intl): local parts of an instant, the instant of a
// local wall-clock time, and calendar periods (hour/day/week/month) as [start, end) instants. Pure; no dependencies.
import { checkTimeZone, hostTimeZone, localTime, type LocalTime } from "./alerts/schedule";
import { dateParts } from "./calendar";
import type { Weekday } from "./contracts/alert";

export { checkTimeZone, hostTimeZone, localTime, type LocalTime };

export const CALENDAR_UNITS = ["hour", "day", "week", "month"] as const;
export type CalendarUnit = (typeof CALENDAR_UNITS)[number];

/** Local wall-clock parts of an instant. Months 1..12; weekday 0 = Monday … 6 = Sunday (ISO order). */
export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEKDAY_INDEX: Readonly<Record<Weekday, number>> = { mon: 0, tue: 1, wed: 2, thu: 3, fri: 4, sat: 5, sun: 6 };

/** Local parts of `epochMs` in `timeZone` (minute precision: every zone in use has whole-minute offsets). */
export function zonedParts(timeZone: string, epochMs: number): ZonedParts {
  const lt = localTime(timeZone, epochMs);
  const [year, month, day] = dateParts(lt.date);
  return { year, month, day, hour: Math.floor(lt.minutes / 60), minute: lt.minutes % 60, weekday: WEEKDAY_INDEX[lt.weekday] };
}

/** UTC offset of the zone at an instant, in ms (local wall clock read as UTC, minus the instant). */
export function offsetAt(timeZone: string, epochMs: number): number {
  const t = Math.floor(epochMs / MINUTE) * MINUTE;
  const p = zonedParts(timeZone, t);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - t;
}

/**
 * The instant a local wall-clock time names, with the same rule as Temporal's "compatible" disambiguation: a time
 * that occurs twice (autumn) is its first occurrence; a time that does not exist (spring gap) is moved forward by
 * the gap, so 02:30 on a spring-forward day in Europe/Paris is 03:30 CEST and a midnight gap gives the first instant
 * of the day. Month and day may overflow (day 32 → next month), as in Date.UTC.
 */
export function zonedTime(timeZone: string, year: number, month: number, day: number, hour = 0, minute = 0): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const before = offsetAt(timeZone, wall - DAY);
  const after = offsetAt(timeZone, wall + DAY);
  const fits = (t: number): boolean => t + offsetAt(timeZone, t) === wall;
  const a = wall - before;
  const b = wall - after;
  if (fits(a) && fits(b)) return Math.min(a, b);
  if (fits(a)) return a;
  if (fits(b)) return b;
  return wall - before; // in the gap: shifted forward by the gap's length
}

/** Start of the calendar period (local hour, day, ISO week from Monday, month) that contains `epochMs`. */
export function startOfPeriod(timeZone: string, epochMs: number, unit: CalendarUnit): number {
  const p = zonedParts(timeZone, epochMs);
  switch (unit) {
    case "hour":
      // Local hours start at local minute 0 whatever the offset (also for +05:30 zones and in a repeated hour).
      return Math.floor(epochMs / MINUTE) * MINUTE - p.minute * MINUTE;
    case "day":
      return zonedTime(timeZone, p.year, p.month, p.day);
    case "week":
      return zonedTime(timeZone, p.year, p.month, p.day - p.weekday);
    case "month":
      return zonedTime(timeZone, p.year, p.month, 1);
  }
}

/** Start of the period after the one that starts at `start` (a day is 23, 24 or 25 hours long). */
export function nextPeriod(timeZone: string, start: number, unit: CalendarUnit): number {
  if (unit === "hour") return start + HOUR;
  const p = zonedParts(timeZone, start);
  if (unit === "day") return zonedTime(timeZone, p.year, p.month, p.day + 1);
  if (unit === "week") return zonedTime(timeZone, p.year, p.month, p.day + 7);
  return zonedTime(timeZone, p.year, p.month + 1, 1);
}

/** The calendar periods [start, end) that cover [from, to); the first starts at or before `from`. At most `max`. */
export function calendarPeriods(timeZone: string, from: number, to: number, unit: CalendarUnit, max = 100_000): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let s = startOfPeriod(timeZone, from, unit); s < to;) {
    const e = nextPeriod(timeZone, s, unit);
    out.push({ start: s, end: e });
    if (out.length > max) throw new RangeError(`more than ${max} ${unit} periods between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`);
    s = e;
  }
  return out;
}

/** Local calendar date (YYYY-MM-DD) of an instant, e.g. to look it up in a holiday calendar. */
export function localDate(timeZone: string, epochMs: number): string {
  return localTime(timeZone, epochMs).date;
}
