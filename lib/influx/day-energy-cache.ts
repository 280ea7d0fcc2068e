// kWh of closed calendar days kept in memory per device, so a year of daily energy reads only the days it lacks.
// Pure: time comes from an injected clock; late data and tier changes invalidate through invalidate()/clear().
import { forgetChanged, type StorageChange } from "./storage-change";
import { counterDelta, type CounterBucket, bucketInner } from "./energy";

const HOUR = 3_600_000;

/**
 * What one device's counter did during one period: its first and last reading (kWh) and the energy between the two
 * (kWh, resets included). The energy of the period is `inner` plus the step from the previous period's last reading.
 */
export interface DaySummary {
  first: number;
  last: number;
  inner: number;
}

/** Per device: its summary of the day, or null when it sent no reading that day (offline, not yet installed). */
export type DaySummaries = ReadonlyMap<string, DaySummary | null>;

/**
 * Summaries per period of one device's counter buckets (sorted by ts). `periodOf` maps a bucket time to its period
 * start; buckets outside every period are skipped. Sums in the order of lib/influx/energy.ts energyPerPeriod.
 */
export function summarize(buckets: readonly CounterBucket[], periodOf: (ts: number) => number | undefined): Map<number, DaySummary> {
  const out = new Map<number, DaySummary>();
  for (const b of buckets) {
    if (![b.first, b.last, b.min, b.max].every(Number.isFinite)) continue;
    const key = periodOf(b.ts);
    if (key === undefined) continue;
    const s = out.get(key);
    if (!s) out.set(key, { first: b.first, last: b.last, inner: bucketInner(b) });
    else {
      s.inner += counterDelta(s.last, b.first) + bucketInner(b);
      s.last = b.last;
    }
  }
  return out;
}

/**
 * kWh per period from summaries in period order (undefined: no reading in that period). The step from the previous
 * reading (or `baseline`, the last reading before the first period) to a period's first reading counts in that period.
 */
export function energyFromSummaries(ordered: Iterable<[number, DaySummary | null | undefined]>, baseline?: number): Map<number, number> {
  const out = new Map<number, number>();
  let prevLast = baseline !== undefined && Number.isFinite(baseline) ? baseline : undefined;
  for (const [start, s] of ordered) {
    if (!s) continue;
    out.set(start, (prevLast !== undefined ? counterDelta(prevLast, s.first) : 0) + s.inner);
    prevLast = s.last;
  }
  return out;
}

export interface DayEnergyCacheOptions {
  /** Epoch ms. */
  now: () => number;
  /** Most device-days kept (LRU by day); default 200 000 (≈ 550 device-years; ~110 bytes each, ~21 MiB measured). */
  maxDeviceDays?: number;
  /**
   * A day is kept only once it ended this long ago, ms (default 3 h): after the 1-hour tier's continuous query has
   * recomputed its last hour (RESAMPLE FOR 2 h) and the re-aggregation of late windows has had its turn.
   */
  closeLagMs?: number;
  /**
   * Days that had ended less than this long before they were read (default 48 h) may still get late readings from a
   * writer this process does not see (a spool replaying on another node): such entries are re-read after `recheckMs`.
   */
  settleMs?: number;
  /** Life of an entry read before its day settled, ms (default 1 h). Settled entries never expire by time. */
  recheckMs?: number;
}

export const DAY_CACHE_DEFAULTS = { maxDeviceDays: 200_000, closeLagMs: 3 * HOUR, settleMs: 48 * HOUR, recheckMs: HOUR } as const;

interface Entry {
  start: number;
  end: number;
  /** Epoch ms after which the entry is dropped (Infinity: settled). */
  expiresAt: number;
  devices: Map<string, DaySummary | null>;
}

export interface DayEnergyCacheStats {
  hits: number;
  misses: number;
  days: number;
  deviceDays: number;
  evicted: number;
  invalidated: number;
  expired: number;
}

/**
 * Day summaries keyed by scope (time zone and tier: both decide the day's buckets) and day start. A day is served only
 * whole: when every asked device is in it and it has not expired.
 */
export class DayEnergyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly o: Required<DayEnergyCacheOptions>;
  private deviceDays = 0;
  private invalidations = 0;
  private readonly counts = { hits: 0, misses: 0, evicted: 0, invalidated: 0, expired: 0 };

  constructor(o: DayEnergyCacheOptions) {
    this.o = { ...DAY_CACHE_DEFAULTS, ...o };
    for (const k of ["maxDeviceDays", "closeLagMs", "settleMs", "recheckMs"] as const) {
      if (!(this.o[k] >= 0)) throw new RangeError(`${k} must be a number ≥ 0`);
    }
  }

  /**
   * Taken before a read starts and given back to put(): a read that overlapped an invalidation may have seen the data
   * from before the change, so what it read is not kept.
   */
  get epoch(): number {
    return this.invalidations;
  }

  /** Is a period ending at `end` closed long enough to be kept? */
  closed(end: number): boolean {
    return end <= this.o.now() - this.o.closeLagMs;
  }

  private static key(scope: string, start: number): string {
    return `${scope}|${start}`;
  }

  /** The summaries of every device in `devices` for the day starting at `start`, or undefined (absent, partial, expired). */
  get(scope: string, start: number, devices: readonly string[]): DaySummaries | undefined {
    const key = DayEnergyCache.key(scope, start);
    const e = this.entries.get(key);
    if (e && e.expiresAt <= this.o.now()) {
      this.drop(key, e);
      this.counts.expired++;
    } else if (e && devices.every((d) => e.devices.has(d))) {
      this.entries.delete(key); // most recently used last
      this.entries.set(key, e);
      this.counts.hits++;
      return e.devices;
    }
    this.counts.misses++;
    return undefined;
  }

  /**
   * Keeps the summaries of a day [start, end) read at this moment (null: no reading), for the devices listed. Ignored
   * when the day is not closed, or when anything was invalidated since `epoch` (taken before the read). Merges into the
   * day's entry; the entry's expiry is the earlier of the two.
   */
  put(scope: string, start: number, end: number, devices: readonly string[], summaries: ReadonlyMap<string, DaySummary>, epoch: number): void {
    if (epoch !== this.invalidations || !this.closed(end) || this.o.maxDeviceDays === 0) return;
    const now = this.o.now();
    const expiresAt = end <= now - this.o.settleMs ? Infinity : now + this.o.recheckMs;
    const key = DayEnergyCache.key(scope, start);
    let e = this.entries.get(key);
    if (e && e.expiresAt <= now) {
      this.drop(key, e);
      e = undefined;
    }
    if (!e) e = { start, end, expiresAt, devices: new Map() };
    else {
      this.entries.delete(key);
      e.expiresAt = Math.min(e.expiresAt, expiresAt);
    }
    this.entries.set(key, e);
    for (const d of devices) {
      if (!e.devices.has(d)) this.deviceDays++;
      const s = summaries.get(d);
      e.devices.set(d, s ? { ...s } : null);
    }
    while (this.deviceDays > this.o.maxDeviceDays && this.entries.size > 0) {
      const [k, oldest] = this.entries.entries().next().value as [string, Entry];
      this.drop(k, oldest);
      this.counts.evicted++;
    }
  }

  /** Drops every day overlapping [from, to) (late readings landed there, or its rollup was re-aggregated); returns how many. */
  invalidate(from: number, to: number): number {
    this.invalidations++;
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.start < to && e.end > from) {
        this.drop(k, e);
        n++;
      }
    }
    this.counts.invalidated += n;
    return n;
  }

  /**
   * Drops what a change of the stored data makes stale (lib/influx/retention-manager.ts StorageChange): the days that
   * late readings touched, or everything when the tiers changed.
   */
  onStorageChange(change: StorageChange): void {
    forgetChanged(this, change);
  }

  /** Drops everything (the tiers changed). */
  clear(): void {
    this.invalidations++;
    this.counts.invalidated += this.entries.size;
    this.entries.clear();
    this.deviceDays = 0;
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    this.deviceDays -= e.devices.size;
  }

  stats(): DayEnergyCacheStats {
    return { ...this.counts, days: this.entries.size, deviceDays: this.deviceDays };
  }
}
