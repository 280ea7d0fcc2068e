// Prices energy deltas with a tariff: kWh and cost per bucket split by period, and standing charges per local day.
import { itemAt } from "../arrays";
import type { TariffClock } from "./timeline";

/** Energy consumed over [start, end) (epoch ms), kWh; start === end is energy at one instant. */
export interface EnergyDelta {
  start: number;
  end: number;
  kWh: number;
}

/** A time bucket [start, end) of a result (e.g. a local day). */
export interface Bucket {
  start: number;
  end: number;
}

export interface PeriodAmount {
  kWh: number;
  cost: number;
}

/** kWh and energy cost of one bucket, split by period. */
export interface PricedBucket {
  start: number;
  end: number;
  kWh: number;
  cost: number;
  periods: Record<string, PeriodAmount>;
}

/** The bucket holding t (buckets sorted, contiguous or not), or undefined. */
function bucketAt(buckets: readonly Bucket[], t: number): Bucket | undefined {
  let lo = 0;
  let hi = buckets.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = itemAt(buckets, mid);
    if (t < b.start) hi = mid - 1;
    else if (t >= b.end) lo = mid + 1;
    else return b;
  }
  return undefined;
}

/**
 * Prices deltas into buckets. A delta spread over [start, end) is split in proportion to time across the tariff's
 * periods (and versions) and the buckets it overlaps (constant power inside one delta: exact for 1-minute deltas
 * when period boundaries fall on whole minutes). Energy outside every bucket is not counted. Adds into `into`.
 */
export function priceDeltas(
  clock: TariffClock,
  deltas: Iterable<EnergyDelta>,
  buckets: readonly Bucket[],
  into = new Map<number, PricedBucket>(),
): Map<number, PricedBucket> {
  const add = (t: number, period: string, price: number, kWh: number): void => {
    const b = bucketAt(buckets, t);
    if (b === undefined || kWh === 0) return;
    let acc = into.get(b.start);
    if (!acc) into.set(b.start, (acc = { start: b.start, end: b.end, kWh: 0, cost: 0, periods: {} }));
    const p = (acc.periods[period] ??= { kWh: 0, cost: 0 });
    p.kWh += kWh;
    p.cost += kWh * price;
    acc.kWh += kWh;
    acc.cost += kWh * price;
  };
  for (const d of deltas) {
    if (!Number.isFinite(d.kWh) || d.kWh === 0) continue;
    if (d.end <= d.start) {
      const s = clock.resolve(d.start);
      add(d.start, s.period, s.pricePerKWh, d.kWh);
      continue;
    }
    const span = d.end - d.start;
    // Most deltas (1-minute or 15-minute steps) lie inside one segment: no per-delta list of segments.
    const first = clock.segmentAt(d.start);
    const segments = d.end <= first.end ? [{ ...first, start: d.start, end: d.end }] : clock.segments(d.start, d.end);
    for (const seg of segments) {
      // Cut the segment at bucket boundaries.
      for (let a = seg.start; a < seg.end;) {
        const b = bucketAt(buckets, a);
        const next = b !== undefined ? Math.min(seg.end, b.end) : nextBucketStart(buckets, a, seg.end);
        add(a, seg.period, seg.pricePerKWh, (d.kWh * (next - a)) / span);
        a = next;
      }
    }
  }
  return into;
}

function nextBucketStart(buckets: readonly Bucket[], t: number, limit: number): number {
  for (const b of buckets) if (b.start > t) return Math.min(b.start, limit);
  return limit;
}

/**
 * Standing charge per bucket: each local day's charge (of the version in effect that day) in proportion to the part
 * of the day inside the bucket and inside [from, to). A 23-hour day's hourly buckets get 1/23 of it each.
 */
export function standingCharges(clock: TariffClock, buckets: readonly Bucket[], from: number, to: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const b of buckets) {
    const s = Math.max(b.start, from);
    const e = Math.min(b.end, to);
    let amount = 0;
    for (let t = s; t < e;) {
      const day = clock.day(t);
      const end = Math.min(e, day.end);
      amount += (day.version.standingChargePerDay * (end - t)) / (day.end - day.start);
      t = end;
    }
    out.set(b.start, amount);
  }
  return out;
}

/** Rounds money and energy for replies (1e-6), so float sums read cleanly. */
export function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
