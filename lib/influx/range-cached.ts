// An aggregated range query read through the bucket cache (lib/influx/range-cache.ts): per segment of the plan, the
// buckets every device already has come from memory and one statement reads the run of buckets some device lacks.
// The answer is the one runRollupRange / the raw path give for the same query (test/unit/range-cached.test.ts).
import { PlugwatchError } from "../contracts/errors";
import type { QueryData, RangeQuery } from "../contracts/query";
import { buildRange, DEFAULT_MEASUREMENT, intervalMs, type QueryLimits, type Statement } from "./query-builder";
import type { Plan, Segment } from "./resolution";
import { buildRollupRange } from "./tier-query";
import { seriesPoints, type InfluxSeries } from "./series-points";
import type { BucketPoint, KnownBuckets, RangeBucketCache } from "./range-cache";

type RangeData = Extract<QueryData, { type: "range" }>;

/** Aggregated per interval without a row limit: the only range queries whose buckets do not depend on the window. */
export function rangeCacheable(q: RangeQuery): boolean {
  return q.interval !== undefined && q.limit === undefined;
}

/** The statement a segment's tier runs for [from, to) of the query. */
function statementFor(q: RangeQuery, ids: readonly string[], seg: Segment, from: number, to: number, limits: QueryLimits): Statement {
  return seg.tier === "raw" ? buildRange({ ...q, from, to }, ids, limits) : buildRollupRange(q, ids, seg.tier, from, to, limits);
}

/** What decides a bucket's row besides the device and its time. */
function scopeOf(q: RangeQuery, tier: Segment["tier"], step: number): string {
  return [tier, q.measurement ?? DEFAULT_MEASUREMENT, q.fields?.join(",") ?? "*", q.aggregate ?? "mean", step].join("|");
}

/** The first and last bucket index (inclusive) that some device lacks, or undefined when every bucket is known. */
function missingRun(known: readonly KnownBuckets[]): [number, number] | undefined {
  let first = Infinity;
  let last = -1;
  for (const k of known) {
    for (let i = 0; i < k.length && i < first; i++) if (k[i] === undefined) first = i;
    for (let i = k.length - 1; i > last; i--) if (k[i] === undefined) last = i;
  }
  return last < 0 ? undefined : [first, last];
}

/** Points per device of one segment, oldest first. */
async function segmentPoints(
  q: RangeQuery,
  ids: readonly string[],
  seg: Segment,
  run: (s: Statement) => Promise<InfluxSeries[]>,
  limits: QueryLimits,
  cache: RangeBucketCache,
): Promise<Map<string, BucketPoint[]>> {
  const whole = statementFor(q, ids, seg, seg.from, seg.to, limits); // the same checks (span, row budget) as without the cache
  const step = intervalMs(q.interval ?? "");
  const out = new Map<string, BucketPoint[]>();
  const collect = (series: InfluxSeries[]): Map<string, BucketPoint[]> => {
    const fresh = new Map<string, BucketPoint[]>();
    for (const s of series) if (typeof s.tags?.device === "string") fresh.set(s.tags.device, seriesPoints(s));
    return fresh;
  };
  if (seg.from % step !== 0 || seg.to % step !== 0) return collect(await run(whole));
  const scope = scopeOf(q, seg.tier, step);
  const known = ids.map((d) => cache.read(scope, d, seg.from, seg.to, step));
  const gap = missingRun(known);
  let fresh = new Map<string, BucketPoint[]>();
  let gapFrom = seg.to;
  let gapTo = seg.to;
  if (gap) {
    gapFrom = seg.from + gap[0] * step;
    gapTo = seg.from + (gap[1] + 1) * step;
    const epoch = cache.epoch;
    fresh = collect(await run(gapFrom === seg.from && gapTo === seg.to ? whole : statementFor(q, ids, seg, gapFrom, gapTo, limits)));
    for (const d of ids) cache.put(scope, d, gapFrom, gapTo, step, fresh.get(d) ?? [], epoch);
  }
  ids.forEach((d, n) => {
    const k = known[n] ?? [];
    const pts: BucketPoint[] = [];
    const head = (gapFrom - seg.from) / step;
    for (let i = 0; i < head; i++) {
      const p = k[i];
      if (p) pts.push(p);
    }
    pts.push(...(fresh.get(d) ?? []));
    for (let i = (gapTo - seg.from) / step; i < k.length; i++) {
      const p = k[i];
      if (p) pts.push(p);
    }
    if (pts.length) out.set(d, pts);
  });
  return out;
}

/**
 * Runs an aggregated range query (rangeCacheable) over the segments of `plan` through `cache`: the same series,
 * points and order as the uncached paths, devices without any point left out.
 */
export async function runCachedRange(
  q: RangeQuery,
  ids: readonly string[],
  plan: Plan,
  run: (s: Statement) => Promise<InfluxSeries[]>,
  limits: QueryLimits,
  cache: RangeBucketCache,
): Promise<RangeData> {
  if (!rangeCacheable(q)) throw new PlugwatchError("INTERNAL", "runCachedRange needs an aggregated range query without a limit");
  if (ids.length === 0) throw new PlugwatchError("EMPTY_TARGET", "the target selects no device");
  const parts = await Promise.all(plan.segments.map((seg) => segmentPoints(q, ids, seg, run, limits, cache)));
  const series: RangeData["series"] = [];
  for (const device of [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const points = parts.flatMap((p) => p.get(device) ?? []);
    if (points.length) series.push({ device, points });
  }
  return { type: "range", series, resolution: plan.resolution };
}
