// Calendar periods of an energy query in a time zone, and how to bucket counter readings so that no bucket straddles a
// period boundary (constant-offset stretches between DST transitions, each grouped by GROUP BY time(step, offset)). Pure.
import { itemAt } from "../arrays";
import { calendarPeriods, offsetAt, type CalendarUnit } from "../tz";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A stretch of [from, to) over which the zone's UTC offset does not change. */
export interface OffsetStretch {
  from: number;
  to: number;
  offsetMs: number;
}

/** Stretches of whole UTC years per zone, computed once (zone rules do not change while the process runs). At most 512 kept. */
const yearCache = new Map<string, OffsetStretch[]>();

function yearStretches(timeZone: string, year: number): OffsetStretch[] {
  const key = `${timeZone}|${year}`;
  let s = yearCache.get(key);
  if (!s) {
    s = scanStretches(timeZone, Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1));
    if (yearCache.size >= 512) yearCache.delete(yearCache.keys().next().value as string);
    yearCache.set(key, s);
  }
  return s;
}

/** The stretches of constant UTC offset that cover [from, to): one per DST regime (transitions found to the minute). */
export function offsetStretches(timeZone: string, from: number, to: number): OffsetStretch[] {
  const out: OffsetStretch[] = [];
  for (let y = new Date(from).getUTCFullYear(); y <= new Date(to - 1).getUTCFullYear(); y++) {
    for (const st of yearStretches(timeZone, y)) {
      const a = Math.max(st.from, from);
      const b = Math.min(st.to, to);
      if (b <= a) continue;
      const last = out[out.length - 1];
      if (last && last.to === a && last.offsetMs === st.offsetMs) last.to = b;
      else out.push({ from: a, to: b, offsetMs: st.offsetMs });
    }
  }
  return out;
}

function scanStretches(timeZone: string, from: number, to: number): OffsetStretch[] {
  const out: OffsetStretch[] = [];
  let start = from;
  let offset = offsetAt(timeZone, from);
  // Zones change offset at most a few times a year and never twice within 12 h: sample every 12 h, bisect each change.
  for (let t = from; t < to;) {
    const next = Math.min(t + 12 * HOUR, to);
    const o = next < to ? offsetAt(timeZone, next) : offset;
    if (o !== offset) {
      let lo = t;
      let hi = next; // offset(lo) = offset, offset(hi) = o
      while (hi - lo > MINUTE) {
        const mid = lo + Math.max(1, Math.floor((hi - lo) / 2 / MINUTE)) * MINUTE;
        if (offsetAt(timeZone, mid) === offset) lo = mid;
        else hi = mid;
      }
      const change = Math.floor(hi / MINUTE) * MINUTE;
      out.push({ from: start, to: change, offsetMs: offset });
      start = change;
      offset = o;
    }
    t = next;
  }
  out.push({ from: start, to, offsetMs: offset });
  return out.filter((s) => s.to > s.from);
}

/** Bucket width used to read counters for a calendar unit: local hours, local days (months are summed from days), ISO weeks. */
export function groupingStep(unit: CalendarUnit): number {
  return unit === "hour" ? HOUR : unit === "week" ? 7 * DAY : DAY;
}

/** GROUP BY time() offset that puts bucket boundaries on local period starts for a UTC offset (weeks start on Monday). */
export function groupingOffset(unit: CalendarUnit, utcOffsetMs: number): number {
  const step = groupingStep(unit);
  const anchor = unit === "week" ? 4 * DAY : 0; // 1970-01-05, the first Monday after the epoch
  return (((anchor - utcOffsetMs) % step) + step) % step;
}

/**
 * The coarsest step (ms) every bucket boundary is a multiple of: 1 h when every offset in the range is a whole number of
 * hours, else 1 min (e.g. +05:30, +05:45), else 1 s. Decides which rollup tier can serve the periods.
 */
export function calendarAlignMs(stretches: readonly OffsetStretch[]): number {
  if (stretches.every((s) => s.offsetMs % HOUR === 0)) return HOUR;
  if (stretches.every((s) => s.offsetMs % MINUTE === 0)) return MINUTE;
  return 1000;
}

/** Maps an instant to the start of its period among `periods` (sorted, contiguous); undefined outside [first start, last end). */
export function periodLookup(periods: readonly { start: number; end: number }[]): (ts: number) => number | undefined {
  return (ts) => {
    const first = periods[0];
    const last = periods.at(-1);
    if (!first || !last || ts < first.start || ts >= last.end) return undefined;
    let lo = 0;
    let hi = periods.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (itemAt(periods, mid).start <= ts) lo = mid;
      else hi = mid - 1;
    }
    return itemAt(periods, lo).start;
  };
}

/** The periods that cover [from, to) in `timeZone`; the first starts at or before `from` (rows are labelled by period start). */
export function queryPeriods(timeZone: string, from: number, to: number, unit: CalendarUnit, max: number): { start: number; end: number }[] {
  return calendarPeriods(timeZone, from, to, unit, max);
}

/**
 * The same periods as lib/tz.ts calendarPeriods (first start at or before `from`), computed from the zone's constant-offset
 * stretches instead of one Intl look-up per boundary (a year of days: ~1 ms instead of ~100 ms). Wall-clock boundaries
 * are mapped to instants with the same rule as zonedTime: a repeated time is its first occurrence, a time in a gap is
 * moved forward by the gap. Throws RangeError beyond `max` periods.
 */
export function fastCalendarPeriods(timeZone: string, from: number, to: number, unit: CalendarUnit, max = 100_000): { start: number; end: number }[] {
  const stretches = offsetStretches(timeZone, from - 40 * DAY, to + 40 * DAY);
  const firstStretch = stretches[0];
  const lastStretch = stretches.at(-1);
  if (!firstStretch || !lastStretch) throw new RangeError(`no time between ${from} - 40 days and ${to} + 40 days`);
  const instant = (wall: number): number => {
    let found: number | undefined;
    for (const s of stretches) {
      const t = wall - s.offsetMs;
      if (t >= s.from && t < s.to && (found === undefined || t < found)) found = t;
    }
    if (found !== undefined) return found;
    // In a gap: the offset before the change, which moves the time forward by the gap's length.
    const before = [...stretches].reverse().find((s) => s.from <= wall - s.offsetMs) ?? firstStretch;
    return wall - before.offsetMs;
  };
  const offsetOf = (t: number): number => (stretches.find((s) => t >= s.from && t < s.to) ?? lastStretch).offsetMs;
  const wallFrom = from + offsetOf(from);
  const d = new Date(wallFrom);
  const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
  const weekday = (d.getUTCDay() + 6) % 7; // Monday 0
  // Wall-clock start of the period holding `from`, and the wall-clock start of the k-th period after it.
  let wallStart: (k: number) => number;
  if (unit === "hour") {
    const h = Math.floor(wallFrom / HOUR) * HOUR;
    wallStart = (k) => h + k * HOUR;
  } else if (unit === "day") wallStart = (k) => Date.UTC(y, m, day + k);
  else if (unit === "week") wallStart = (k) => Date.UTC(y, m, day - weekday + 7 * k);
  else wallStart = (k) => Date.UTC(y, m + k, 1);
  const out: { start: number; end: number }[] = [];
  if (unit === "hour") {
    // Local hours start at local minute 0 whatever the offset; in a repeated hour both occurrences are periods.
    for (let s = from - (((wallFrom % HOUR) + HOUR) % HOUR); s < to; s += HOUR) {
      out.push({ start: s, end: s + HOUR });
      if (out.length > max) throw new RangeError(`more than ${max} hour periods`);
    }
    return out;
  }
  for (let k = 0, s = instant(wallStart(0)); s < to; k++) {
    const e = instant(wallStart(k + 1));
    out.push({ start: s, end: e });
    if (out.length > max) throw new RangeError(`more than ${max} ${unit} periods`);
    s = e;
  }
  return out;
}
