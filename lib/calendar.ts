// Holiday calendar: local dates (YYYY-MM-DD) with optional names, from a list or an ICS file (all-day VEVENTs,
// multi-day DTEND, RRULE:FREQ=YEARLY). Pure: the caller reads the file; dates are building-local calendar days.
import { PlugwatchError } from "./contracts/errors";

/** A local calendar date, YYYY-MM-DD. */
export type LocalDate = string;

/** One holiday, possibly spanning several days and repeating every `interval` years. */
export interface HolidayEvent {
  /** First day, YYYY-MM-DD. */
  start: LocalDate;
  /** Number of days (DTEND is exclusive in ICS: DTSTART 0501, DTEND 0502 is one day). */
  days: number;
  name?: string;
  /** FREQ=YEARLY: repeats on the same month and day every `interval` years, at most `count` times or until `until`. */
  yearly?: { interval: number; count?: number; until?: LocalDate };
}

export interface HolidayInput {
  date: LocalDate;
  name?: string;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;
/** Bounds of an ICS import: a holiday file is small; anything larger is refused, not parsed for minutes. */
export const MAX_ICS_BYTES = 1_000_000;
export const MAX_EVENTS = 5000;
/** Longest single event, days (a holiday spanning more is a mistake in the file). */
export const MAX_EVENT_DAYS = 366;

/** Day number (days since 1970-01-01) of a valid YYYY-MM-DD, or undefined when the text is not a real date. */
export function dayNumber(date: string): number | undefined {
  const m = DATE_RE.exec(date);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return t / DAY_MS;
}

/** Year, month (1..12) and day of a YYYY-MM-DD text (NaN for a part that is missing, as Number(undefined) gives). */
export function dateParts(date: string): [year: number, month: number, day: number] {
  const [y, m, d] = date.split("-");
  return [Number(y), Number(m), Number(d)];
}

/** YYYY-MM-DD of a day number. */
export function dateOf(day: number): LocalDate {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** A calendar problem: INVALID_CALENDAR with where (`line N` of an ICS file, or `$[i]` of a list) and why. */
export class CalendarError extends PlugwatchError {
  constructor(
    readonly source: string,
    readonly where: string,
    reason: string,
  ) {
    super("INVALID_CALENDAR", `${source} ${where}: ${reason}`, [{ path: where, message: reason }]);
    this.name = "CalendarError";
  }
}

export class HolidayCalendar {
  readonly events: readonly HolidayEvent[];
  /** Non-recurring days, by day number, for O(1) lookups. */
  private readonly fixed = new Map<number, string | undefined>();
  private readonly recurring: HolidayEvent[] = [];

  constructor(events: readonly HolidayEvent[] = []) {
    this.events = events;
    for (const e of events) {
      if (e.yearly) {
        this.recurring.push(e);
        continue;
      }
      const first = dayNumber(e.start) as number;
      for (let i = 0; i < e.days; i++) if (!this.fixed.has(first + i) || this.fixed.get(first + i) === undefined) this.fixed.set(first + i, e.name);
    }
  }

  /** An empty calendar (no holiday). */
  static readonly none = new HolidayCalendar();

  /** A calendar from a list of dates (strings or {date, name}); an invalid date is a CalendarError naming `$[i]`. */
  static fromDates(list: readonly (LocalDate | HolidayInput)[], source = "holidays"): HolidayCalendar {
    const events = list.map((item, i): HolidayEvent => {
      const date = typeof item === "string" ? item : item.date;
      if (typeof date !== "string" || dayNumber(date) === undefined)
        throw new CalendarError(source, `$[${i}]`, `${JSON.stringify(date)} is not a date YYYY-MM-DD`);
      const name = typeof item === "string" ? undefined : item.name;
      return { start: date, days: 1, ...(name ? { name } : {}) };
    });
    return new HolidayCalendar(events);
  }

  /** This calendar plus another's events. */
  merge(other: HolidayCalendar): HolidayCalendar {
    return new HolidayCalendar([...this.events, ...other.events]);
  }

  /** True when the local date is a holiday. An invalid date is never one. */
  isHoliday(date: LocalDate): boolean {
    return this.nameOf(date) !== undefined;
  }

  /** The holiday's name ("" when unnamed), or undefined when `date` is not a holiday. */
  nameOf(date: LocalDate): string | undefined {
    const day = dayNumber(date);
    if (day === undefined) return undefined;
    if (this.fixed.has(day)) return this.fixed.get(day) ?? "";
    const year = Number(date.slice(0, 4));
    for (const e of this.recurring) {
      // An occurrence that started up to MAX_EVENT_DAYS ago may still cover `date`: check this year's and last year's.
      for (const y of [year, year - 1]) {
        const first = occurrence(e, y);
        if (first !== undefined && day >= first && day < first + e.days) return e.name ?? "";
      }
    }
    return undefined;
  }

  /** Every holiday date in [from, to] (inclusive, YYYY-MM-DD), sorted: e.g. to hand to a tariff. */
  datesBetween(from: LocalDate, to: LocalDate): LocalDate[] {
    const a = dayNumber(from);
    const b = dayNumber(to);
    if (a === undefined || b === undefined) throw new CalendarError("datesBetween", "$", `from and to must be dates YYYY-MM-DD (got ${from}, ${to})`);
    if (b - a > 366 * 50) throw new CalendarError("datesBetween", "$", "span longer than 50 years");
    const out: LocalDate[] = [];
    for (let d = a; d <= b; d++) if (this.isHoliday(dateOf(d))) out.push(dateOf(d));
    return out;
  }
}

/** Day number of the occurrence of `e` in `year`, or undefined when it has none that year. */
function occurrence(e: HolidayEvent, year: number): number | undefined {
  const r = e.yearly;
  if (!r) return undefined;
  const startYear = Number(e.start.slice(0, 4));
  const k = year - startYear;
  if (k < 0 || k % r.interval !== 0) return undefined;
  const n = k / r.interval;
  if (r.count !== undefined && n >= r.count) return undefined;
  // 29 February repeats only in leap years (RFC 5545: an invalid date is skipped, not moved).
  const day = dayNumber(`${year}${e.start.slice(4)}`);
  if (day === undefined) return undefined;
  if (r.until !== undefined && day > (dayNumber(r.until) as number)) return undefined;
  return day;
}

// ---- ICS import ----

interface Line {
  /** 1-based line number of the first physical line. */
  no: number;
  name: string;
  params: Record<string, string>;
  value: string;
}

/** RFC 5545 §3.1: a line starting with a space or a tab continues the previous one (the first white space is dropped). */
export function unfold(text: string): { no: number; text: string }[] {
  const out: { no: number; text: string }[] = [];
  const physical = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  physical.forEach((line, i) => {
    const prev = out.at(-1);
    if ((line.startsWith(" ") || line.startsWith("\t")) && prev) prev.text += line.slice(1);
    else if (line.length) out.push({ no: i + 1, text: line });
  });
  return out;
}

function parseLine(source: string, no: number, text: string): Line {
  // The name and parameters end at the first ':' outside a quoted parameter value.
  let quoted = false;
  let colon = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === ":" && !quoted) {
      colon = i;
      break;
    }
  }
  if (colon <= 0) throw new CalendarError(source, `line ${no}`, `not a content line NAME[;PARAM=V]:VALUE: ${JSON.stringify(text.slice(0, 60))}`);
  const [name = "", ...params] = text.slice(0, colon).split(";");
  const p: Record<string, string> = {};
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq <= 0) throw new CalendarError(source, `line ${no}`, `bad parameter ${JSON.stringify(param)} in ${name}`);
    p[param.slice(0, eq).toUpperCase()] = param.slice(eq + 1).replace(/^"|"$/g, "");
  }
  return { no, name: name.toUpperCase(), params: p, value: text.slice(colon + 1) };
}

/** RFC 5545 TEXT: \\n, \\, \\; and \\\\ escapes. */
const unescapeText = (v: string): string => v.replace(/\\([nN,;\\])/g, (_m, c: string) => (c === "n" || c === "N" ? "\n" : c));

/** The local date of a DTSTART/DTEND/UNTIL value: a DATE (YYYYMMDD) or the date part of a DATE-TIME. */
function icsDate(source: string, l: Line, raw = l.value): LocalDate {
  const m = /^(\d{4})(\d{2})(\d{2})(T\d{6}Z?)?$/.exec(raw.trim());
  const date = m ? `${m[1]}-${m[2]}-${m[3]}` : "";
  if (!m || dayNumber(date) === undefined) throw new CalendarError(source, `line ${l.no}`, `${l.name} ${JSON.stringify(raw)} is not a date YYYYMMDD`);
  return date;
}

function parseRrule(source: string, l: Line, start: LocalDate): HolidayEvent["yearly"] {
  const parts: Record<string, string> = {};
  for (const kv of l.value.split(";")) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new CalendarError(source, `line ${l.no}`, `bad RRULE part ${JSON.stringify(kv)}`);
    parts[kv.slice(0, eq).toUpperCase()] = kv.slice(eq + 1);
  }
  if (parts.FREQ !== "YEARLY") throw new CalendarError(source, `line ${l.no}`, `RRULE FREQ=${parts.FREQ ?? "(none)"} is not supported: only FREQ=YEARLY`);
  const unsupported = Object.keys(parts).filter((k) => !["FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYMONTHDAY", "WKST"].includes(k));
  if (unsupported.length)
    throw new CalendarError(source, `line ${l.no}`, `RRULE ${unsupported.join(", ")} is not supported (movable feasts need one event per year)`);
  // BYMONTH/BYMONTHDAY are accepted only when they restate DTSTART's month and day (as exporters often write them).
  if (parts.BYMONTH !== undefined && Number(parts.BYMONTH) !== Number(start.slice(5, 7)))
    throw new CalendarError(source, `line ${l.no}`, `RRULE BYMONTH=${parts.BYMONTH} differs from DTSTART's month`);
  if (parts.BYMONTHDAY !== undefined && Number(parts.BYMONTHDAY) !== Number(start.slice(8, 10)))
    throw new CalendarError(source, `line ${l.no}`, `RRULE BYMONTHDAY=${parts.BYMONTHDAY} differs from DTSTART's day`);
  const int = (k: string, min: number): number | undefined => {
    if (parts[k] === undefined) return undefined;
    const n = Number(parts[k]);
    if (!Number.isInteger(n) || n < min || n > 10_000) throw new CalendarError(source, `line ${l.no}`, `RRULE ${k}=${parts[k]} must be an integer ≥ ${min}`);
    return n;
  };
  const count = int("COUNT", 1);
  const until = parts.UNTIL !== undefined ? icsDate(source, l, parts.UNTIL) : undefined;
  if (count !== undefined && until !== undefined) throw new CalendarError(source, `line ${l.no}`, "RRULE has both COUNT and UNTIL");
  return { interval: int("INTERVAL", 1) ?? 1, ...(count !== undefined ? { count } : {}), ...(until !== undefined ? { until } : {}) };
}

/**
 * Parses an iCalendar (RFC 5545) text into holiday events: every VEVENT with an all-day DTSTART (VALUE=DATE or a
 * plain YYYYMMDD; a DATE-TIME counts by its date), an optional exclusive DTEND or a DURATION of whole days (PnD/PnW),
 * SUMMARY as the name, and RRULE:FREQ=YEARLY. VTIMEZONE, VALARM and unknown properties are skipped. Any problem is a
 * CalendarError (INVALID_CALENDAR) naming the line.
 */
export function parseIcs(text: string, source = "calendar.ics"): HolidayEvent[] {
  if (text.length > MAX_ICS_BYTES) throw new CalendarError(source, "line 1", `file larger than ${MAX_ICS_BYTES} bytes`);
  const lines = unfold(text).map((l) => parseLine(source, l.no, l.text));
  const [head] = lines;
  if (!head || head.name !== "BEGIN" || head.value.toUpperCase() !== "VCALENDAR")
    throw new CalendarError(source, `line ${head?.no ?? 1}`, "an iCalendar file starts with BEGIN:VCALENDAR");
  const events: HolidayEvent[] = [];
  const stack: { name: string; no: number }[] = [];
  let ev: { no: number; start?: LocalDate; end?: LocalDate; days?: number; name?: string; rrule?: Line } | undefined;
  for (const l of lines) {
    if (l.name === "BEGIN") {
      const comp = l.value.toUpperCase();
      stack.push({ name: comp, no: l.no });
      if (comp === "VEVENT") {
        if (ev) throw new CalendarError(source, `line ${l.no}`, "VEVENT inside a VEVENT");
        ev = { no: l.no };
      }
      continue;
    }
    if (l.name === "END") {
      const comp = l.value.toUpperCase();
      const open = stack.pop();
      if (!open || open.name !== comp)
        throw new CalendarError(source, `line ${l.no}`, `END:${comp} without a matching BEGIN${open ? ` (open: ${open.name} from line ${open.no})` : ""}`);
      if (comp === "VEVENT" && ev) {
        events.push(finishEvent(source, ev));
        if (events.length > MAX_EVENTS) throw new CalendarError(source, `line ${l.no}`, `more than ${MAX_EVENTS} events`);
        ev = undefined;
      }
      continue;
    }
    // Only the properties directly inside a VEVENT matter (not those of its VALARM).
    if (!ev || stack[stack.length - 1]?.name !== "VEVENT") continue;
    switch (l.name) {
      case "DTSTART":
        if (l.params.VALUE !== undefined && !["DATE", "DATE-TIME"].includes(l.params.VALUE.toUpperCase()))
          throw new CalendarError(source, `line ${l.no}`, `DTSTART VALUE=${l.params.VALUE} is not a date`);
        ev.start = icsDate(source, l);
        break;
      case "DTEND":
        ev.end = icsDate(source, l);
        break;
      case "DURATION": {
        const m = /^P(\d+)([DW])$/.exec(l.value.trim());
        if (!m) throw new CalendarError(source, `line ${l.no}`, `DURATION ${JSON.stringify(l.value)}: only whole days (PnD) or weeks (PnW) are supported`);
        ev.days = Number(m[1]) * (m[2] === "W" ? 7 : 1);
        break;
      }
      case "SUMMARY":
        ev.name = unescapeText(l.value).trim();
        break;
      case "RRULE":
        ev.rrule = l;
        break;
      default:
        break;
    }
  }
  const open = stack.at(-1);
  if (open) {
    throw new CalendarError(source, `line ${open.no}`, `BEGIN:${open.name} is never closed`);
  }
  return events;
}

function finishEvent(source: string, ev: { no: number; start?: LocalDate; end?: LocalDate; days?: number; name?: string; rrule?: Line }): HolidayEvent {
  if (!ev.start) throw new CalendarError(source, `line ${ev.no}`, "VEVENT without DTSTART");
  const first = dayNumber(ev.start) as number;
  let days = ev.days ?? 1;
  if (ev.end !== undefined) {
    days = (dayNumber(ev.end) as number) - first;
    // A DATE-TIME event ending on its start day still covers that day.
    if (days === 0) days = 1;
  }
  if (days < 1) throw new CalendarError(source, `line ${ev.no}`, `DTEND ${ev.end ?? ""} is before DTSTART ${ev.start}`);
  if (days > MAX_EVENT_DAYS) throw new CalendarError(source, `line ${ev.no}`, `event of ${days} days (at most ${MAX_EVENT_DAYS})`);
  const yearly = ev.rrule ? parseRrule(source, ev.rrule, ev.start) : undefined;
  return { start: ev.start, days, ...(ev.name ? { name: ev.name } : {}), ...(yearly ? { yearly } : {}) };
}

/** A calendar from an ICS text (see parseIcs). */
export function calendarFromIcs(text: string, source = "calendar.ics"): HolidayCalendar {
  return new HolidayCalendar(parseIcs(text, source));
}
