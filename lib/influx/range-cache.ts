// Closed buckets of aggregated range queries kept in memory per device, so overlapping windows (a dashboard's sliding
// "last 24 h", every device's day) read from InfluxDB only the buckets they lack. Pure: time comes from an injected
// clock; late data and tier changes invalidate through invalidate()/onStorageChange(), as for the day cache.
import { forgetChanged, type StorageChange } from "./storage-change";
import { DAY_CACHE_DEFAULTS } from "./day-energy-cache";

/** One aggregated row (`ts` plus the fields that had values), as the query reply carries it. */
export type BucketPoint = Readonly<Record<string, number | boolean | string>>;

export interface RangeCacheOptions {
  /** Epoch ms. */
  now: () => number;
  /** Most buckets kept over all devices and scopes (LRU by device line); default 200 000 (~166 bytes each, ~32 MiB measured). */
  maxBuckets?: number;
  /** A bucket is kept only once it ended this long ago, ms (default 3 h: after the tiers' CQs and late-window re-aggregation). */
  closeLagMs?: number;
  /** Buckets that ended less than this before they were read may still get late readings from a writer this process does not see. */
  settleMs?: number;
  /** Life of a bucket read before it settled, ms (default 1 h). Settled buckets never expire by time. */
  recheckMs?: number;
}

export const RANGE_CACHE_DEFAULTS = {
  maxBuckets: 200_000,
  closeLagMs: DAY_CACHE_DEFAULTS.closeLagMs,
  settleMs: DAY_CACHE_DEFAULTS.settleMs,
  recheckMs: DAY_CACHE_DEFAULTS.recheckMs,
} as const;

/** A known bucket: its row, or null when the device had no reading in it (fill(none) gives no row). */
interface Slot {
  point: BucketPoint | null;
  /** Epoch ms after which the bucket is unknown again (Infinity: settled). */
  expiresAt: number;
}

/** The buckets of one device in one scope (tier, measurement, fields, aggregate and step: all decide a bucket's row). */
interface Line {
  step: number;
  buckets: Map<number, Slot>;
}

export interface RangeCacheStats {
  hits: number;
  misses: number;
  buckets: number;
  lines: number;
  evicted: number;
  invalidated: number;
}

/**
 * What the cache knows of [from, to) for one device: per bucket (index i starts at from + i × step) its row, null for
 * a bucket known to be empty, undefined for one that must be read.
 */
export type KnownBuckets = (BucketPoint | null | undefined)[];

export class RangeBucketCache {
  private readonly lines = new Map<string, Line>();
  private readonly o: Required<RangeCacheOptions>;
  private size = 0;
  private invalidations = 0;
  private readonly counts = { hits: 0, misses: 0, evicted: 0, invalidated: 0 };

  constructor(o: RangeCacheOptions) {
    this.o = { ...RANGE_CACHE_DEFAULTS, ...o };
    for (const k of ["maxBuckets", "closeLagMs", "settleMs", "recheckMs"] as const) {
      if (!(this.o[k] >= 0)) throw new RangeError(`${k} must be a number ≥ 0`);
    }
  }

  /** Taken before a read starts and given back to put(): a read that overlapped an invalidation is not kept. */
  get epoch(): number {
    return this.invalidations;
  }

  private static key(scope: string, device: string): string {
    return `${scope}|${device}`;
  }

  /** The known buckets of [from, to) (both multiples of `step`) for one device; marks the line most recently used. */
  read(scope: string, device: string, from: number, to: number, step: number): KnownBuckets {
    const n = Math.max(0, Math.round((to - from) / step));
    const out: KnownBuckets = new Array<BucketPoint | null | undefined>(n).fill(undefined);
    const key = RangeBucketCache.key(scope, device);
    const line = this.lines.get(key);
    if (!line || line.step !== step) {
      this.counts.misses += n;
      return out;
    }
    this.lines.delete(key); // most recently used last
    this.lines.set(key, line);
    const now = this.o.now();
    for (let i = 0; i < n; i++) {
      const ts = from + i * step;
      const slot = line.buckets.get(ts);
      if (slot === undefined) {
        this.counts.misses++;
      } else if (slot.expiresAt <= now) {
        line.buckets.delete(ts);
        this.size--;
        this.counts.misses++;
      } else {
        out[i] = slot.point;
        this.counts.hits++;
      }
    }
    return out;
  }

  /**
   * Keeps what a read of [from, to) (multiples of `step`) returned for one device: `points` (sorted by ts, the rows
   * it had) and every other bucket as empty. Only buckets that ended closeLagMs ago are kept, and nothing when
   * anything was invalidated since `epoch` (taken before the read). The points are frozen: replies share them.
   */
  put(scope: string, device: string, from: number, to: number, step: number, points: readonly BucketPoint[], epoch: number): void {
    if (epoch !== this.invalidations || this.o.maxBuckets === 0) return;
    const now = this.o.now();
    const closedTo = Math.min(to, Math.floor((now - this.o.closeLagMs) / step) * step);
    if (closedTo <= from) return;
    const key = RangeBucketCache.key(scope, device);
    let line = this.lines.get(key);
    if (line && line.step !== step) {
      this.size -= line.buckets.size;
      line = undefined;
    }
    if (!line) line = { step, buckets: new Map() };
    this.lines.delete(key);
    this.lines.set(key, line);
    const byTs = new Map<number, BucketPoint>();
    for (const p of points) if (typeof p.ts === "number") byTs.set(p.ts, p);
    for (let ts = from; ts < closedTo; ts += step) {
      const point = byTs.get(ts);
      if (point) Object.freeze(point);
      if (!line.buckets.has(ts)) this.size++;
      line.buckets.set(ts, { point: point ?? null, expiresAt: ts + step <= now - this.o.settleMs ? Infinity : now + this.o.recheckMs });
    }
    this.evict();
  }

  private evict(): void {
    while (this.size > this.o.maxBuckets && this.lines.size > 0) {
      const [k, oldest] = this.lines.entries().next().value as [string, Line];
      this.lines.delete(k);
      this.size -= oldest.buckets.size;
      this.counts.evicted += oldest.buckets.size;
    }
  }

  /** Forgets every bucket overlapping [from, to) (late readings landed there, or its rollup was re-aggregated); returns how many. */
  invalidate(from: number, to: number): number {
    this.invalidations++;
    let n = 0;
    for (const [key, line] of this.lines) {
      const { step, buckets } = line;
      const first = Math.floor(from / step) * step;
      if ((to - first) / step < buckets.size) {
        for (let ts = first; ts < to; ts += step) if (buckets.delete(ts)) n++;
      } else {
        for (const ts of buckets.keys()) {
          if (ts < to && ts + step > from) {
            buckets.delete(ts);
            n++;
          }
        }
      }
      if (buckets.size === 0) this.lines.delete(key);
    }
    this.size -= n;
    this.counts.invalidated += n;
    return n;
  }

  /** Forgets what a change of the stored data makes stale: the windows late readings touched, or everything when the tiers changed. */
  onStorageChange(change: StorageChange): void {
    forgetChanged(this, change);
  }

  /** Forgets everything. */
  clear(): void {
    this.invalidations++;
    this.counts.invalidated += this.size;
    this.lines.clear();
    this.size = 0;
  }

  stats(): RangeCacheStats {
    return { ...this.counts, buckets: this.size, lines: this.lines.size };
  }
}
