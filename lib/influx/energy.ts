// kWh consumed per interval from a cumulative energy counter (kWh) that may restart from 0; pure and unit-tested.

/** A run of counter readings summarised as first/last/min/max (a single raw reading has all four equal). */
export interface CounterBucket {
  /** Time of the bucket (raw reading time, or bucket start), epoch ms. */
  ts: number;
  first: number;
  last: number;
  min: number;
  max: number;
}

/**
 * Decreases up to this many kWh are read as jitter (delta 0), not as a counter restart; the plugs report
 * whole Wh, so a real restart (to ~0) is always far larger. Without it a 1e-9 kWh wobble would count the whole counter.
 */
export const JITTER_KWH = 0.001;

/** Energy between two consecutive counter readings: cur - prev, or cur when the counter restarted from 0. */
export function counterDelta(prev: number, cur: number): number {
  if (cur >= prev) return cur - prev;
  if (prev - cur <= JITTER_KWH) return 0;
  return cur;
}

/** A raw reading as a bucket. */
export function rawBucket(ts: number, value: number): CounterBucket {
  return { ts, first: value, last: value, min: value, max: value };
}

/**
 * Energy consumed inside one bucket. Without a restart it is last - first. When the counter went below its
 * first value (min < first) it restarted inside the bucket: the part before the restart rose from `first` to
 * its peak, the part after rose from 0 to `last`. Values above `last` can only come from before the restart,
 * so `max` is that peak when max > last; otherwise the peak is unknown and `first` is used (a lower bound).
 */
export function bucketInner(b: CounterBucket): number {
  if (b.min >= b.first - JITTER_KWH) return Math.max(0, b.last - b.first);
  const before = b.max > b.last ? b.max - b.first : 0;
  return Math.max(0, before) + Math.max(0, b.last);
}

/** Start of the interval holding `ts`: epoch-aligned like InfluxDB's GROUP BY time(); one interval from `from` when none. */
export function intervalStart(ts: number, from: number, intervalMs?: number): number {
  if (intervalMs === undefined) return from;
  return Math.floor(ts / intervalMs) * intervalMs;
}

/**
 * kWh per interval for one device. `buckets` must be sorted by ts. The energy between two consecutive buckets
 * belongs to the interval of the later one; the first bucket is the baseline (nothing before `from` is counted).
 * Returns interval start (epoch ms) → kWh; an interval appears when it holds at least one reading.
 */
export function energyPerInterval(buckets: readonly CounterBucket[], from: number, intervalMs?: number): Map<number, number> {
  const out = new Map<number, number>();
  let prev: CounterBucket | undefined;
  for (const b of buckets) {
    if (![b.first, b.last, b.min, b.max].every(Number.isFinite)) continue;
    const key = intervalStart(b.ts, from, intervalMs);
    const delta = (prev ? counterDelta(prev.last, b.first) : 0) + bucketInner(b);
    out.set(key, (out.get(key) ?? 0) + delta);
    prev = b;
  }
  return out;
}

export interface EnergyRow {
  group: string;
  /** Interval start, epoch ms. */
  ts: number;
  kWh: number;
}

/** Rounds to 1 Wh / 1000 (1e-6 kWh) so sums of float deltas read cleanly (0.5 + 0.5 + 0.2 + 0.2 = 1.4). */
export function roundKWh(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** Sums per-device interval energy into groups (device → group key); rows sorted by group, then ts. */
export function sumByGroup(perDevice: ReadonlyMap<string, ReadonlyMap<number, number>>, groupOf: (device: string) => string): EnergyRow[] {
  const groups = new Map<string, Map<number, number>>();
  for (const [device, intervals] of perDevice) {
    const g = groupOf(device);
    let acc = groups.get(g);
    if (!acc) groups.set(g, (acc = new Map<number, number>()));
    for (const [ts, kWh] of intervals) acc.set(ts, (acc.get(ts) ?? 0) + kWh);
  }
  const rows: EnergyRow[] = [];
  for (const [group, intervals] of groups) for (const [ts, kWh] of intervals) rows.push({ group, ts, kWh: roundKWh(kWh) });
  rows.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.ts - b.ts));
  return rows;
}
