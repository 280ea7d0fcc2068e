// Runs an energy query: kWh per group and fixed interval or calendar period (hour/day/week/month in an IANA zone, DST-correct),
// from counter first/last/min/max buckets of the tier the resolution picker chose, plus a raw tail for the newest steps.
import { PlugwatchError } from "../contracts/errors";
import type { EnergyQuery, QueryData } from "../contracts/query";
import type { Device } from "../contracts/device";
import type { Registry } from "../registry";
import { checkTimeZone } from "../tz";
import { energyPerInterval, energyPerPeriod, rawBucket, sumByGroup, type CounterBucket } from "./energy";
import { calendarAlignMs, fastCalendarPeriods, groupingOffset, groupingStep, offsetStretches, periodLookup } from "./energy-calendar";
import { buildEnergyBuckets, buildEnergyCount, buildEnergyRaw, DAY_MS, intervalMs, type QueryLimits, type Statement } from "./query-builder";
import { covers, planQuery, type RollupSettings, type Segment } from "./resolution";
import { buildCounterBaseline, buildCounterBuckets } from "./tier-query";
import type { Tier } from "./rollup-schema";
import { energyFromSummaries, summarize, type DayEnergyCache, type DaySummaries, type DaySummary } from "./day-energy-cache";

type EnergyData = Extract<QueryData, { type: "energy" }>;

/** One series of a /query result (the subset this module reads). */
interface Series {
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface EnergyContext {
  run: (stmt: Statement) => Promise<Series[]>;
  registry: Registry;
  limits: QueryLimits;
  rollups: RollupSettings;
  now: number;
  /** Kept kWh of closed local days (lib/influx/day-energy-cache.ts); absent: every day is read from InfluxDB. */
  dayCache?: DayEnergyCache;
}

/** Above this many separate stretches of days missing from the cache, one read covers them all (fewer statements). */
export const MAX_MISSING_RUNS = 8;

/** How far back the baseline of the first calendar period is looked for, per tier (a plug silent for longer starts from its first reading). */
export const BASELINE_LOOKBACK_MS: Readonly<Record<Tier, number>> = { raw: 3_600_000, "1m": DAY_MS, "1h": 7 * DAY_MS };

const invalid = (message: string): PlugwatchError => new PlugwatchError("INVALID_QUERY", message);

/** The zone of calendar periods when the query names none: the target building's, else the one building of every selected device, else the registry's. */
export function defaultZone(q: EnergyQuery, devices: readonly Device[], registry: Registry): string {
  const target = q.target;
  if (target && "building" in target) return registry.timeZoneOf(target.building);
  const buildings = new Set(devices.map((d) => d.location.building));
  const [only] = buildings;
  if (buildings.size === 1 && only !== undefined) return registry.timeZoneOf(only);
  return registry.timezone;
}

/** Group key of a device for `groupBy`. */
function grouper(devices: readonly Device[], groupBy: NonNullable<EnergyQuery["groupBy"]>): (id: string) => string {
  const byId = new Map(devices.map((d) => [d.id, d]));
  return (id) => {
    const d = byId.get(id);
    if (!d || groupBy === "device") return id;
    const { building, floor, room } = d.location;
    if (groupBy === "kind") return d.kind;
    if (groupBy === "building") return building;
    if (groupBy === "floor") return `${building}/${floor}`;
    return `${building}/${floor}/${room}`;
  };
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Counter buckets of a first/last/min/max series; bucket times before `from` (a GROUP BY bucket's start) are moved to `from`. */
function bucketsOf(s: Series, from: number): CounterBucket[] {
  const col = (name: string) => s.columns.indexOf(name);
  const [t, f, l, mn, mx] = [col("time"), col("first"), col("last"), col("min"), col("max")];
  const out: CounterBucket[] = [];
  for (const v of s.values) {
    const [ts, first, last, min, max] = [num(v[t]), num(v[f]), num(v[l]), num(v[mn]), num(v[mx])];
    if (ts === undefined || first === undefined || last === undefined || min === undefined || max === undefined) continue;
    out.push({ ts: Math.max(ts, from), first, last, min, max });
  }
  return out;
}

function rawReadings(s: Series): CounterBucket[] {
  const [t, e] = [s.columns.indexOf("time"), s.columns.indexOf("energy")];
  const out: CounterBucket[] = [];
  for (const v of s.values) {
    const ts = num(v[t]);
    const value = num(v[e]);
    if (ts !== undefined && value !== undefined) out.push(rawBucket(ts, value));
  }
  return out;
}

/** Appends each device's buckets of a result to `into`. */
function collect(into: Map<string, CounterBucket[]>, series: Series[], read: (s: Series) => CounterBucket[]): void {
  for (const s of series) {
    const device = s.tags?.device;
    if (typeof device !== "string") continue;
    const list = into.get(device) ?? [];
    list.push(...read(s));
    into.set(device, list);
  }
}

/** kWh per group and calendar period (local hours, days, ISO weeks or months in `tz`). */
async function calendarEnergy(q: EnergyQuery, unit: NonNullable<EnergyQuery["calendar"]>, devices: Device[], ctx: EnergyContext): Promise<EnergyData> {
  const ids = devices.map((d) => d.id);
  const groupBy = q.groupBy ?? "device";
  let tz: string;
  try {
    tz = checkTimeZone(q.tz ?? defaultZone(q, devices, ctx.registry));
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : String(err));
  }
  if (!(q.to > q.from)) throw invalid("'to' must be after 'from'");
  if (q.to - q.from > ctx.limits.maxSpanDays * DAY_MS) {
    throw new PlugwatchError("LIMIT_EXCEEDED", `span of ${((q.to - q.from) / DAY_MS).toFixed(1)} days exceeds ${ctx.limits.maxSpanDays} days`);
  }
  const maxPeriods = Math.max(1, Math.floor(ctx.limits.maxRows / ids.length));
  let periods: { start: number; end: number }[];
  try {
    periods = fastCalendarPeriods(tz, q.from, q.to, unit, maxPeriods);
  } catch {
    throw new PlugwatchError("LIMIT_EXCEEDED", `more than ${maxPeriods} ${unit} periods × ${ids.length} devices exceed ${ctx.limits.maxRows} rows`);
  }
  const stretches = offsetStretches(tz, q.from, q.to);
  const plan = planQuery({ from: q.from, to: q.to, now: ctx.now, alignMs: calendarAlignMs(stretches), rollupable: true, rollups: ctx.rollups });
  const step = groupingStep(unit);
  // With the day cache, only the days it lacks are read (the open day, days not yet kept, partial first and last days).
  const cache = unit === "day" ? ctx.dayCache : undefined;
  const scopeOf = (p: { start: number; end: number }): string | undefined => {
    if (!cache || p.start < q.from || p.end > q.to || !cache.closed(p.end)) return undefined;
    // Whole in one segment, and in a part of its tier that retention has not dropped yet.
    const seg = plan.segments.find((s) => s.from <= p.start && p.end <= s.to);
    return seg && covers(seg.tier, p.start, ctx.now, ctx.rollups) ? `${tz}|${seg.tier}` : undefined;
  };
  const epoch = cache?.epoch ?? 0;
  const scopes = periods.map(scopeOf);
  const hits: (DaySummaries | undefined)[] = periods.map((p, i) => {
    const scope = scopes[i];
    return scope !== undefined && cache ? cache.get(scope, p.start, ids) : undefined;
  });
  let ranges: { from: number; to: number }[] = [{ from: q.from, to: q.to }];
  if (cache) {
    ranges = [];
    periods.forEach((p, i) => {
      if (hits[i]) return;
      const from = Math.max(p.start, q.from);
      const to = Math.min(p.end, q.to);
      const last = ranges[ranges.length - 1];
      if (last && last.to === from) last.to = to;
      else if (to > from) ranges.push({ from, to });
    });
    const [head] = ranges;
    const tail = ranges.at(-1);
    if (ranges.length > MAX_MISSING_RUNS && head && tail) ranges = [{ from: head.from, to: tail.to }];
  }
  const jobs: { from: number; stmt: Statement }[] = [];
  for (const range of ranges) {
    for (const seg of plan.segments) {
      for (const st of stretches) {
        const from = Math.max(seg.from, st.from, range.from);
        const to = Math.min(seg.to, st.to, range.to);
        if (to <= from) continue;
        jobs.push({ from, stmt: buildCounterBuckets(ids, seg.tier, from, to, { stepMs: step, offsetMs: groupingOffset(unit, st.offsetMs) }, ctx.limits) });
      }
    }
  }
  const first = plan.segments[0];
  const lookback = BASELINE_LOOKBACK_MS[first.tier];
  const baselineStmt = buildCounterBaseline(ids, first.tier, q.from, lookback, { ...ctx.limits, maxSpanDays: Infinity });
  // The baseline of a closed stretch is kept like a day: an entry over [from - lookback, from), dropped by late data there.
  const baseScope =
    cache && baselineStmt.text && cache.closed(q.from) && covers(first.tier, q.from - lookback, ctx.now, ctx.rollups)
      ? `baseline|${first.tier}|${lookback}`
      : undefined;
  const baseHit = baseScope !== undefined && cache ? cache.get(baseScope, q.from - lookback, ids) : undefined;
  const [baselineSeries, results] = await Promise.all([
    baselineStmt.text && !baseHit ? ctx.run(baselineStmt) : Promise.resolve([]),
    Promise.all(jobs.map(async (j) => ({ from: j.from, series: await ctx.run(j.stmt) }))),
  ]);
  const perDeviceBuckets = new Map<string, CounterBucket[]>();
  for (const { from, series } of results) collect(perDeviceBuckets, series, (s) => bucketsOf(s, from));
  const baseline = new Map<string, number>();
  for (const s of baselineSeries) {
    const v = num(s.values[0]?.[s.columns.indexOf("last")]);
    if (typeof s.tags?.device === "string" && v !== undefined) baseline.set(s.tags.device, v);
  }
  if (baseHit) for (const [device, s] of baseHit) if (s) baseline.set(device, s.last);
  if (baseScope !== undefined && !baseHit && cache) {
    const kept = new Map([...baseline].map(([device, v]): [string, DaySummary] => [device, { first: v, last: v, inner: 0 }]));
    cache.put(baseScope, q.from - lookback, q.from, ids, kept, epoch);
  }
  const periodOf = periodLookup(periods);
  const perDevice = new Map<string, Map<number, number>>();
  if (cache) {
    const live = new Map<string, Map<number, DaySummary>>();
    for (const [device, buckets] of perDeviceBuckets)
      live.set(
        device,
        summarize(
          buckets.sort((a, b) => a.ts - b.ts),
          periodOf,
        ),
      );
    periods.forEach((p, i) => {
      const scope = scopes[i];
      if (hits[i] || scope === undefined) return;
      const day = new Map<string, DaySummary>();
      for (const id of ids) {
        const s = live.get(id)?.get(p.start);
        if (s) day.set(id, s);
      }
      cache.put(scope, p.start, p.end, ids, day, epoch);
    });
    // Devices in InfluxDB's series order (by id), as the uncached path meets them.
    for (const id of [...ids].sort()) {
      const ordered = periods.map((p, i): [number, DaySummary | null | undefined] => [
        p.start,
        (hits[i] ? hits[i]?.get(id) : live.get(id)?.get(p.start)) ?? null,
      ]);
      const kWh = energyFromSummaries(ordered, baseline.get(id));
      if (kWh.size || perDeviceBuckets.has(id)) perDevice.set(id, kWh);
    }
  } else {
    for (const [device, buckets] of perDeviceBuckets) {
      buckets.sort((a, b) => a.ts - b.ts);
      perDevice.set(device, energyPerPeriod(buckets, periodOf, baseline.get(device)));
    }
  }
  return { type: "energy", groupBy, rows: sumByGroup(perDevice, grouper(devices, groupBy)), resolution: plan.resolution, calendar: unit, tz };
}

/** Buckets of one raw segment for fixed intervals: every reading when affordable, else first/last/min/max per interval. */
async function rawIntervalBuckets(ids: string[], seg: Segment, step: number | undefined, ctx: EnergyContext): Promise<[readings: Series[], buckets: Series[]]> {
  const counts = await ctx.run(buildEnergyCount(ids, seg.from, seg.to, ctx.limits));
  const total = counts.reduce((n, s) => n + Number(s.values[0]?.[s.columns.indexOf("n")] ?? 0), 0);
  if (total <= ctx.limits.maxRows) return [await ctx.run(buildEnergyRaw(ids, seg.from, seg.to, ctx.limits)), []];
  return [[], await ctx.run(buildEnergyBuckets(ids, seg.from, seg.to, step, ctx.limits))];
}

/** kWh per group and fixed interval (epoch-aligned like GROUP BY time()), or one total per group without an interval. */
async function intervalEnergy(q: EnergyQuery, devices: Device[], ctx: EnergyContext): Promise<EnergyData> {
  const ids = devices.map((d) => d.id);
  const groupBy = q.groupBy ?? "device";
  const step = q.interval === undefined ? undefined : intervalMs(q.interval);
  if (step !== undefined) {
    const rowsOut = (Math.ceil(q.to / step) - Math.floor(q.from / step)) * ids.length;
    if (rowsOut > ctx.limits.maxRows) throw new PlugwatchError("LIMIT_EXCEEDED", `${rowsOut} energy rows exceed ${ctx.limits.maxRows}`);
  }
  const plan = planQuery({ from: q.from, to: q.to, now: ctx.now, alignMs: step, rollupable: true, rollups: ctx.rollups });
  const perDeviceBuckets = new Map<string, CounterBucket[]>();
  const parts = await Promise.all(
    plan.segments.map(async (seg): Promise<{ from: number; readings: Series[]; buckets: Series[] }> => {
      if (seg.tier === "raw") {
        const [readings, buckets] = await rawIntervalBuckets(ids, seg, step, ctx);
        return { from: seg.from, readings, buckets };
      }
      const grouping = { stepMs: step ?? DAY_MS, offsetMs: 0 };
      return { from: seg.from, readings: [], buckets: await ctx.run(buildCounterBuckets(ids, seg.tier, seg.from, seg.to, grouping, ctx.limits)) };
    }),
  );
  for (const { from, readings, buckets } of parts) {
    collect(perDeviceBuckets, readings, rawReadings);
    collect(perDeviceBuckets, buckets, (s) => bucketsOf(s, from));
  }
  const perDevice = new Map<string, Map<number, number>>();
  for (const [device, buckets] of perDeviceBuckets) {
    buckets.sort((a, b) => a.ts - b.ts);
    perDevice.set(device, energyPerInterval(buckets, q.from, step));
  }
  return { type: "energy", groupBy, rows: sumByGroup(perDevice, grouper(devices, groupBy)), resolution: plan.resolution };
}

/** Runs a validated energy query for the selected devices. */
export function runEnergy(q: EnergyQuery, devices: Device[], ctx: EnergyContext): Promise<EnergyData> {
  if (q.calendar !== undefined && q.interval !== undefined) throw invalid("give either 'interval' or 'calendar', not both");
  if (q.tz !== undefined && q.calendar === undefined) throw invalid("'tz' applies to calendar periods: add 'calendar' (hour, day, week or month)");
  if (devices.length === 0) throw new PlugwatchError("EMPTY_TARGET", "the target selects no device");
  return q.calendar !== undefined ? calendarEnergy(q, q.calendar, devices, ctx) : intervalEnergy(q, devices, ctx);
}
