// A tariff on a building's local clock: which period, price and version applies at each instant, DST-correct.
import { PlugwatchError } from "../contracts/errors";
import type { DayType } from "../contracts/tariff";
import { localDate, localTime, nextPeriod, offsetAt, startOfPeriod, zonedParts } from "../tz";
import type { CompiledTariff, CompiledVersion, IsHoliday } from "./load";

const MIN = 60_000;

/** Instants [start, end) priced in one period of one version. */
export interface PricedSegment {
  start: number;
  end: number;
  period: string;
  /** Price per kWh in the tariff's currency. */
  pricePerKWh: number;
  /** Index of the version in the tariff's `versions`. */
  version: number;
}

/** One local day of a tariff: its date, day type, version and priced segments (23, 24 or 25 h long). */
export interface TariffDay {
  date: string;
  start: number;
  end: number;
  dayType: DayType;
  version: CompiledVersion;
  segments: PricedSegment[];
}

/** The first minute after `t` (exclusive) where the zone's offset differs from the one at `t`, if before `limit`. */
function offsetChange(timeZone: string, t: number, limit: number): number | undefined {
  const off = offsetAt(timeZone, t);
  if (offsetAt(timeZone, limit - MIN) === off) return undefined;
  let lo = t; // offset == off
  let hi = limit - MIN; // offset != off
  while (hi - lo > MIN) {
    const mid = lo + Math.floor((hi - lo) / MIN / 2) * MIN;
    if (offsetAt(timeZone, mid) === off) lo = mid;
    else hi = mid;
  }
  return hi;
}

export class TariffClock {
  private readonly days = new Map<number, TariffDay>();
  /** The day asked for last: consecutive deltas fall in it, without a time zone look-up. */
  private last: TariffDay | undefined;

  constructor(
    readonly tariff: CompiledTariff,
    readonly timeZone: string,
    private readonly isHoliday: IsHoliday = () => false,
  ) {}

  /** The version in effect on a local date (the last whose `from` is not after it). */
  versionOn(date: string): CompiledVersion {
    let found: CompiledVersion | undefined;
    for (const v of this.tariff.versions) if (v.from <= date) found = v;
    if (!found)
      throw new PlugwatchError(
        "TARIFF_INVALID",
        `tariff '${this.tariff.name}' has no version in effect on ${date} (the first starts ${this.tariff.versions[0]?.from})`,
      );
    return found;
  }

  holiday(date: string): boolean {
    return this.tariff.holidays.has(date) || this.isHoliday(date);
  }

  /** The local day holding `t`, with its segments (cached). */
  day(t: number): TariffDay {
    if (this.last && this.last.start <= t && t < this.last.end) return this.last;
    this.last = this.dayAt(t);
    return this.last;
  }

  private dayAt(t: number): TariffDay {
    const start = startOfPeriod(this.timeZone, t, "day");
    const cached = this.days.get(start);
    if (cached) return cached;
    const end = nextPeriod(this.timeZone, start, "day");
    const date = localDate(this.timeZone, start);
    const version = this.versionOn(date);
    const dayType = this.holiday(date) ? this.tariff.holidayAs : localTime(this.timeZone, start).weekday;
    const runs = version.days[dayType] ?? [];
    const segments: PricedSegment[] = [];
    // Walk the day on the wall clock: a run ends at its last local minute or at a DST change, whichever is first
    // (so a 23-hour day skips the missing hour and a 25-hour day prices the repeated hour twice, by its wall time).
    for (let s = start; s < end;) {
      const p = zonedParts(this.timeZone, s);
      const m = p.hour * 60 + p.minute;
      const run = runs.find((r) => r.start <= m && m < r.end);
      if (!run) throw new PlugwatchError("TARIFF_INVALID", `tariff '${this.tariff.name}' does not cover ${dayType} minute ${m}`);
      let e = Math.min(end, s + (run.end - m) * MIN);
      e = offsetChange(this.timeZone, s, e) ?? e;
      const last = segments[segments.length - 1];
      if (last && last.period === run.period && last.end === s) last.end = e;
      else segments.push({ start: s, end: e, period: run.period, pricePerKWh: version.prices.get(run.period) ?? 0, version: version.index });
      s = e;
    }
    if (this.days.size > 5000) this.days.clear();
    const day: TariffDay = { date, start, end, dayType, version, segments };
    this.days.set(start, day);
    return day;
  }

  /** The day's segment holding `t` (not a copy: callers must not change it). */
  segmentAt(t: number): PricedSegment {
    const d = this.day(t);
    return d.segments.find((x) => x.start <= t && t < x.end) as PricedSegment;
  }

  /** Period, price and version at an instant. */
  resolve(t: number): PricedSegment & { date: string; dayType: DayType } {
    const d = this.day(t);
    const seg = d.segments.find((x) => x.start <= t && t < x.end) as PricedSegment;
    return { ...seg, date: d.date, dayType: d.dayType };
  }

  /** The segments covering [from, to), clipped to it. */
  segments(from: number, to: number): PricedSegment[] {
    const out: PricedSegment[] = [];
    for (let t = from; t < to;) {
      const d = this.day(t);
      for (const s of d.segments) {
        if (s.end <= t || s.start >= to) continue;
        out.push({ ...s, start: Math.max(s.start, t), end: Math.min(s.end, to) });
      }
      t = d.end;
    }
    return out;
  }
}
