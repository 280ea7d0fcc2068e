// The query component's `cost` query: energy deltas from the stored counter (never mean power), priced with each
// building's tariff on its local clock, summed per group and calendar bucket, plus standing charges per building.
import { PlugwatchError } from "../contracts/errors";
import type { CostData, CostQuery } from "../contracts/query";
import type { Device } from "../contracts/device";
import type { Registry } from "../registry";
import type { TariffBook } from "../tariff/load";
import { priceDeltas, round6, standingCharges, type Bucket, type EnergyDelta, type PricedBucket } from "../tariff/price";
import { TariffClock } from "../tariff/timeline";
import { calendarPeriods, checkTimeZone } from "../tz";
import { bucketInner, counterDelta, type CounterBucket } from "./energy";
import { buildEnergyBuckets, buildEnergyCount, buildEnergyRaw, timeRange, type QueryLimits, type Statement } from "./query-builder";
import { covers, NO_ROLLUPS, planQuery, type RollupSettings } from "./resolution";
import { TIER_STEP_MS, type Tier } from "./rollup-schema";
import { buildCounterBuckets } from "./tier-query";

/** Runs one statement; the same runner as the other queries (lib/influx/query-service.ts). */
export type CostRunner = (stmt: Statement) => Promise<{ tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]>;

/** Bucket widths tried when there are too many raw readings, finest first (ms): 1 min, 15 min, 1 h. */
export const COST_STEPS_MS = [60_000, 900_000, 3_600_000] as const;

export interface CostDeps {
  run: CostRunner;
  registry: Registry;
  tariffs: TariffBook;
  limits: QueryLimits;
  /** The rollup tiers the query component may read (default: none, raw readings only). */
  rollups?: RollupSettings;
  /** Now, epoch ms (which tiers still hold the range; default Date.now()). */
  now?: number;
}

/** One series of a /query result (the subset read here). */
type Series = Awaited<ReturnType<CostRunner>>[number];

/** The finest of COST_STEPS_MS whose buckets for `devices` fit `maxRows` (else the widest). */
export function costStep(from: number, to: number, devices: number, maxRows: number): number {
  return COST_STEPS_MS.find((w) => (Math.ceil(to / w) - Math.floor(from / w)) * devices <= maxRows) ?? Math.max(...COST_STEPS_MS);
}

/**
 * The counter series of a cost query, by the same tier picker as the energy query (lib/influx/resolution.ts):
 * - raw (short ranges, rollups off, or a range not on the tier's row boundaries): every reading when affordable,
 *   else first/last/min/max per bucket of the finest width that fits;
 * - a rollup tier: first/last/min/max per bucket of that width read from the tier's rows, plus a raw tail for the
 *   newest steps the rollups may not hold yet. A rollup row has the same first/last/min/max as the raw readings of its
 *   minute or hour, so the answer equals the bucketed raw answer.
 * `step` undefined: the series hold single readings (column `energy`).
 */
async function counterSeries(
  q: CostQuery,
  ids: string[],
  deps: CostDeps,
): Promise<{ resolution: Tier; step: number | undefined; series: { tier: Tier; list: Series[] }[] }> {
  const { limits } = deps;
  const step = costStep(q.from, q.to, ids.length, limits.maxRows);
  const now = deps.now ?? Date.now();
  const rollups = deps.rollups ?? NO_ROLLUPS;
  const plan = planQuery({ from: q.from, to: q.to, now, alignMs: step, rollupable: true, rollups });
  const head = plan.segments[0];
  // A rollup row covers its whole minute or hour: a range starting or ending inside one would count readings outside
  // it, so such a range reads raw readings while raw still holds it (else the rollups, never less data).
  const onRows = head.tier === "raw" || (q.from % TIER_STEP_MS[head.tier] === 0 && head.to % TIER_STEP_MS[head.tier] === 0);
  if (plan.resolution !== "raw" && (onRows || !covers("raw", q.from, now, rollups))) {
    const series = await Promise.all(
      plan.segments.map(async (seg) => ({
        tier: seg.tier,
        list: await deps.run(buildCounterBuckets(ids, seg.tier, seg.from, seg.to, { stepMs: step, offsetMs: 0 }, limits)),
      })),
    );
    return { resolution: plan.resolution, step, series };
  }
  // Exact deltas from every reading when affordable; else per-bucket first/last/min/max, the finest width that fits.
  const counts = await deps.run(buildEnergyCount(ids, q.from, q.to, limits));
  const total = counts.reduce((n, s) => n + Number(s.values[0]?.[s.columns.indexOf("n")] ?? 0), 0);
  const bucketed = total > limits.maxRows ? step : undefined;
  const list = await deps.run(bucketed === undefined ? buildEnergyRaw(ids, q.from, q.to, limits) : buildEnergyBuckets(ids, q.from, q.to, bucketed, limits));
  return { resolution: "raw", step: bucketed, series: [{ tier: "raw", list }] };
}

/**
 * Energy deltas of one device from its counter readings (raw: one per pair of consecutive readings, over the time
 * between them, so an offline stretch spreads its energy over the stretch) or from per-bucket first/last/min/max
 * (`stepMs`: the bucket's own rise over the bucket, the rise between buckets over the gap between them).
 * Counter restarts are handled as in lib/influx/energy.ts. Spans are clipped to [from, to).
 */
export function energyDeltas(buckets: readonly CounterBucket[], from: number, to: number, stepMs?: number): EnergyDelta[] {
  const out: EnergyDelta[] = [];
  const push = (start: number, end: number, kWh: number): void => {
    if (!(kWh > 0)) return;
    const s = Math.max(from, start);
    const e = Math.min(to, end);
    const at = Math.min(Math.max(from, start), to - 1); // a rise at one instant (adjacent raw readings at the same ms)
    out.push(e > s ? { start: s, end: e, kWh } : { start: at, end: at, kWh });
  };
  let prev: CounterBucket | undefined;
  for (const b of buckets) {
    if (![b.first, b.last, b.min, b.max].every(Number.isFinite)) continue;
    if (stepMs === undefined) {
      if (prev) push(prev.ts, b.ts, counterDelta(prev.last, b.first));
    } else {
      const end = b.ts + stepMs;
      if (prev) {
        const gapStart = prev.ts + stepMs;
        const between = counterDelta(prev.last, b.first);
        if (b.ts > gapStart) push(gapStart, b.ts, between);
        else push(b.ts, end, between);
      }
      push(b.ts, end, bucketInner(b));
    }
    prev = b;
  }
  return out;
}

function groupOf(d: Device, groupBy: NonNullable<CostQuery["groupBy"]>): string {
  const { building, floor, room } = d.location;
  if (groupBy === "device") return d.id;
  if (groupBy === "kind") return d.kind;
  if (groupBy === "building") return building;
  if (groupBy === "floor") return `${building}/${floor}`;
  return `${building}/${floor}/${room}`;
}

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

function seriesBuckets(s: { columns: string[]; values: unknown[][] }, raw: boolean): CounterBucket[] {
  const col = (n: string) => s.columns.indexOf(n);
  const out: CounterBucket[] = [];
  for (const v of s.values) {
    const ts = num(v[col("time")]);
    if (ts === undefined) continue;
    if (raw) {
      const e = num(v[col("energy")]);
      if (e !== undefined) out.push({ ts, first: e, last: e, min: e, max: e });
      continue;
    }
    const [first, last, min, max] = ["first", "last", "min", "max"].map((n) => num(v[col(n)]));
    if (first !== undefined && last !== undefined && min !== undefined && max !== undefined) out.push({ ts, first, last, min, max });
  }
  return out.sort((a, b) => a.ts - b.ts);
}

export async function runCostQuery(q: CostQuery, deps: CostDeps): Promise<CostData> {
  const { registry, tariffs, limits } = deps;
  const groupBy = q.groupBy ?? "device";
  const interval = q.interval ?? "day";
  timeRange(q.from, q.to, limits.maxSpanDays); // order and span, before anything else
  if (q.tz !== undefined) {
    try {
      checkTimeZone(q.tz);
    } catch (err) {
      throw new PlugwatchError("INVALID_QUERY", `tz: ${(err as Error).message}`);
    }
  }
  const devices = registry.select(q.target ?? { all: true });
  const buildings = [...new Set(devices.map((d) => d.location.building))].sort();
  const clocks = new Map<string, TariffClock>();
  for (const b of buildings) clocks.set(b, new TariffClock(tariffs.forBuilding(b), registry.timeZoneOf(b), tariffs.isHoliday));
  const currencies = [...new Set([...clocks.values()].map((c) => c.tariff.currency))];
  if (currencies.length > 1) {
    throw new PlugwatchError("INVALID_QUERY", `the selected buildings are priced in different currencies (${currencies.join(", ")}): select one building`);
  }
  const bucketsOfZone = new Map<string, Bucket[]>();
  const bucketsOf = (building: string): Bucket[] => {
    const zone = q.tz ?? registry.timeZoneOf(building);
    let b = bucketsOfZone.get(zone);
    if (!b) {
      try {
        b = calendarPeriods(zone, q.from, q.to, interval, limits.maxRows);
      } catch (err) {
        throw new PlugwatchError("LIMIT_EXCEEDED", (err as Error).message);
      }
      bucketsOfZone.set(zone, b);
    }
    return b;
  };
  const groups = new Set(devices.map((d) => groupOf(d, groupBy)));
  const rowsOut = groups.size * Math.max(...buildings.map((b) => bucketsOf(b).length));
  if (rowsOut > limits.maxRows)
    throw new PlugwatchError("LIMIT_EXCEEDED", `${rowsOut} cost rows exceed ${limits.maxRows}: use a longer interval or a shorter span`);

  const ids = devices.map((d) => d.id);
  const { resolution, step, series } = await counterSeries(q, ids, deps);
  // Each device's buckets over every segment (rollup part, then raw tail), oldest first.
  const perDevice = new Map<string, CounterBucket[]>();
  for (const part of series)
    for (const s of part.list) {
      const id = s.tags?.device;
      if (id === undefined) continue;
      perDevice.set(id, [...(perDevice.get(id) ?? []), ...seriesBuckets(s, step === undefined)]);
    }

  const byId = new Map(devices.map((d) => [d.id, d]));
  const acc = new Map<string, Map<number, PricedBucket>>();
  for (const [id, buckets] of perDevice) {
    const d = byId.get(id);
    if (!d) continue;
    const clock = clocks.get(d.location.building) as TariffClock;
    const g = groupOf(d, groupBy);
    let into = acc.get(g);
    if (!into) acc.set(g, (into = new Map<number, PricedBucket>()));
    buckets.sort((a, b) => a.ts - b.ts);
    priceDeltas(clock, energyDeltas(buckets, q.from, q.to, step), bucketsOf(d.location.building), into);
  }

  const totalPeriods: Record<string, { kWh: number; cost: number }> = {};
  let kWh = 0;
  let energyCost = 0;
  const rows: CostData["rows"] = [];
  for (const g of [...acc.keys()].sort()) {
    for (const b of [...(acc.get(g) as Map<number, PricedBucket>).values()].sort((x, y) => x.start - y.start)) {
      const periods: Record<string, { kWh: number; cost: number }> = {};
      for (const [p, a] of Object.entries(b.periods).sort(([x], [y]) => (x < y ? -1 : 1))) {
        periods[p] = { kWh: round6(a.kWh), cost: round6(a.cost) };
        const t = (totalPeriods[p] ??= { kWh: 0, cost: 0 });
        t.kWh += a.kWh;
        t.cost += a.cost;
      }
      kWh += b.kWh;
      energyCost += b.cost;
      rows.push({ group: g, ts: b.start, end: b.end, kWh: round6(b.kWh), cost: round6(b.cost), periods });
    }
  }
  const standing: CostData["standing"] = [];
  let standingCharge = 0;
  for (const b of buildings) {
    const clock = clocks.get(b) as TariffClock;
    const buckets = bucketsOf(b);
    const charges = standingCharges(clock, buckets, q.from, q.to);
    for (const bucket of buckets) {
      const amount = charges.get(bucket.start) ?? 0;
      standingCharge += amount;
      standing.push({ building: b, tariff: clock.tariff.name, ts: bucket.start, end: bucket.end, amount: round6(amount) });
    }
  }
  for (const [p, v] of Object.entries(totalPeriods)) totalPeriods[p] = { kWh: round6(v.kWh), cost: round6(v.cost) };
  return {
    type: "cost",
    groupBy,
    interval,
    currency: currencies[0] ?? "",
    rows,
    standing,
    total: {
      kWh: round6(kWh),
      energyCost: round6(energyCost),
      standingCharge: round6(standingCharge),
      cost: round6(energyCost + standingCharge),
      periods: totalPeriods,
    },
    resolution,
  };
}
