// A range query served by a rollup tier: the rollup part and the raw tail of the plan, concatenated per device.
import { PlugwatchError } from "../contracts/errors";
import type { QueryData, RangeQuery } from "../contracts/query";
import { buildRange, type QueryLimits, type Statement } from "./query-builder";
import type { Plan } from "./resolution";
import { buildRollupRange, buildRollupRows } from "./tier-query";
import { seriesPoints as points } from "./series-points";

type RangeData = Extract<QueryData, { type: "range" }>;
type Point = RangeData["series"][number]["points"][number];

interface Series {
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Runs every segment of `plan` (rollup rows or aggregates, then raw for the tail) and joins the points per device, oldest first. */
export async function runRollupRange(
  q: RangeQuery,
  ids: readonly string[],
  plan: Plan,
  run: (s: Statement) => Promise<Series[]>,
  limits: QueryLimits,
): Promise<RangeData> {
  const aggregated = q.aggregate !== undefined || q.interval !== undefined;
  const budget = Math.floor(limits.maxRows / ids.length);
  if (budget < 1) throw new PlugwatchError("LIMIT_EXCEEDED", `${ids.length} devices exceed ${limits.maxRows} rows`);
  const perDevice = q.limit ?? budget + 1;
  // Raw rows keep the raw span limit whatever tier serves them.
  const rowLimits = aggregated ? limits : { ...limits, maxSpanDays: limits.maxRawSpanDays };
  const statements = plan.segments.map((seg) => {
    if (seg.tier === "raw") return buildRange({ ...q, from: seg.from, to: seg.to }, ids, limits);
    return aggregated
      ? buildRollupRange(q, ids, seg.tier, seg.from, seg.to, limits)
      : buildRollupRows(q, ids, seg.tier, seg.from, seg.to, perDevice, rowLimits);
  });
  const results = await Promise.all(statements.map((s) => run(s)));
  const byDevice = new Map<string, Point[]>();
  for (const series of results) {
    for (const s of series) {
      const device = s.tags?.device;
      if (typeof device !== "string") continue;
      const list = byDevice.get(device) ?? [];
      list.push(...points(s));
      byDevice.set(device, list);
    }
  }
  const out = [...byDevice.entries()].map(([device, pts]) => ({ device, points: pts.sort((a, b) => Number(a.ts) - Number(b.ts)) }));
  if (q.limit === undefined && !aggregated && out.some((s) => s.points.length > budget)) {
    throw new PlugwatchError("LIMIT_EXCEEDED", `more than ${limits.maxRows} rows: narrow the range, aggregate, or set a limit`);
  }
  if (q.limit !== undefined) for (const s of out) s.points = s.points.slice(0, q.limit);
  out.sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
  return { type: "range", series: out };
}
