// Calendar periods of an energy query in a time zone, and how to bucket counter readings so that no bucket straddles a
// period boundary (constant-offset stretches between DST transitions, each grouped by GROUP BY time(step, offset)). Pure.
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

/** The stretches of constant UTC offset that cover [from, to): one per DST regime (transitions found to the minute). */
export function offsetStretches(timeZone: string, from: number, to: number): OffsetStretch[] {
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
    let lo = 0;
    let hi = periods.length - 1;
    if (hi < 0 || ts < periods[0].start || ts >= periods[hi].end) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (periods[mid].start <= ts) lo = mid;
      else hi = mid - 1;
    }
    return periods[lo].start;
  };
}

/** The periods that cover [from, to) in `timeZone`; the first starts at or before `from` (rows are labelled by period start). */
export function queryPeriods(timeZone: string, from: number, to: number, unit: CalendarUnit, max: number): { start: number; end: number }[] {
  return calendarPeriods(timeZone, from, to, unit, max);
}
