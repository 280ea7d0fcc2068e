// InfluxQL over the rollup tiers (plugwatch_1m, plugwatch_1h) and counter buckets over any tier, with the same guarantees as
// query-builder.ts: identifiers from lib/influx/rollup-schema.ts and whitelists only, device ids as bound parameters.
import type { RangeQuery } from "../contracts/query";
import { PlugwatchError } from "../contracts/errors";
import { COUNT_FIELD, GAUGE_FIELDS, rollupField, TIER_RP, type Tier } from "./rollup-schema";
import {
  DEFAULT_LIMITS,
  DEFAULT_MEASUREMENT,
  deviceFilter,
  intervalMs,
  PLUG_NUMERIC_FIELDS,
  quoteField,
  quoteMeasurement,
  timeRange,
  type QueryLimits,
  type Statement,
} from "./query-builder";

/** The measurement the rollups are written to, in each rollup retention policy (same name as the raw one). */
export const ROLLUP_MEASUREMENT = DEFAULT_MEASUREMENT;

const GAUGES: readonly string[] = GAUGE_FIELDS;

/** `"plugwatch_1m"."plug"`: a rollup tier's measurement, fully qualified (the RP name comes from rollup-schema only). */
export function rollupSource(tier: Exclude<Tier, "raw">): string {
  return `"${TIER_RP[tier]}".${quoteMeasurement(ROLLUP_MEASUREMENT)}`;
}

/** Can the rollups answer this range query (plug measurement, numeric plug fields, an aggregate they keep)? */
export function rangeRollupable(q: RangeQuery): boolean {
  if ((q.measurement ?? DEFAULT_MEASUREMENT) !== DEFAULT_MEASUREMENT) return false;
  const fields = q.fields ?? PLUG_NUMERIC_FIELDS;
  // Default fields: the numeric four (the rollups keep no relay state; rows served from rollups carry no relay).
  return fields.every((f) => (PLUG_NUMERIC_FIELDS as readonly string[]).includes(f));
}

/**
 * One output field of an aggregated range over rollup rows. Exact for mean (SUM(mean × n) / SUM(n), the mean of every raw
 * reading behind the rows), sum (SUM(mean × n)), min, max and count (SUM(n)); `last` of a gauge is the last row's mean
 * (the rollups do not keep the last reading of a gauge), of the energy counter its exact last reading. Mean/sum of the
 * energy counter use the rows' last readings (a counter's mean has little meaning; documented in docs/queries.md).
 */
function rollupAggregate(field: string, aggregate: string): { outer: string; inner: string[] } {
  const f = (a: string): string => quoteField(rollupField(field, a));
  const n = quoteField(COUNT_FIELD);
  const out = quoteField(field);
  if (GAUGES.includes(field)) {
    const weighted = quoteField(`${field}_w`);
    switch (aggregate) {
      case "mean":
        return {
          outer: `SUM(${weighted}) / SUM(${quoteField(`${field}_n`)}) AS ${out}`,
          inner: [`${f("mean")} * ${n} AS ${weighted}`, `${n} AS ${quoteField(`${field}_n`)}`],
        };
      case "sum":
        return { outer: `SUM(${weighted}) AS ${out}`, inner: [`${f("mean")} * ${n} AS ${weighted}`] };
      case "min":
        return { outer: `MIN(${f("min")}) AS ${out}`, inner: [f("min")] };
      case "max":
        return { outer: `MAX(${f("max")}) AS ${out}`, inner: [f("max")] };
      case "count":
        return { outer: `SUM(${quoteField(`${field}_n`)}) AS ${out}`, inner: [`${n} AS ${quoteField(`${field}_n`)}`] };
      case "last":
        return { outer: `LAST(${f("mean")}) AS ${out}`, inner: [f("mean")] };
    }
  } else {
    switch (aggregate) {
      case "min":
        return { outer: `MIN(${f("min")}) AS ${out}`, inner: [f("min")] };
      case "max":
        return { outer: `MAX(${f("max")}) AS ${out}`, inner: [f("max")] };
      case "count":
        return { outer: `SUM(${quoteField(`${field}_n`)}) AS ${out}`, inner: [`${n} AS ${quoteField(`${field}_n`)}`] };
      case "last":
        return { outer: `LAST(${f("last")}) AS ${out}`, inner: [f("last")] };
      case "mean":
        return { outer: `MEAN(${f("last")}) AS ${out}`, inner: [f("last")] };
      case "sum":
        return { outer: `SUM(${f("last")}) AS ${out}`, inner: [f("last")] };
    }
  }
  throw new PlugwatchError("INVALID_QUERY", "invalid aggregate");
}

/** An aggregated range query over a rollup tier in [from, to): a subquery of row values, aggregated per interval and device. */
export function buildRollupRange(
  q: RangeQuery,
  deviceIds: readonly string[],
  tier: Exclude<Tier, "raw">,
  from: number,
  to: number,
  limits: QueryLimits = DEFAULT_LIMITS,
): Statement {
  if (q.interval === undefined) throw new PlugwatchError("INVALID_QUERY", "'interval' is required with 'aggregate'");
  const params: Record<string, string> = {};
  const where = `${deviceFilter(deviceIds, params)} AND ${timeRange(from, to, limits.maxSpanDays)}`;
  const step = intervalMs(q.interval);
  const parts = (q.fields ?? PLUG_NUMERIC_FIELDS).map((f) => rollupAggregate(f, q.aggregate ?? "mean"));
  const inner = [...new Set(parts.flatMap((p) => p.inner))].join(", ");
  const limit = q.limit !== undefined ? ` LIMIT ${q.limit}` : "";
  return {
    text:
      `SELECT ${parts.map((p) => p.outer).join(", ")} FROM (SELECT ${inner} FROM ${rollupSource(tier)} WHERE ${where} GROUP BY "device") ` +
      `WHERE ${timeRange(from, to, limits.maxSpanDays)} GROUP BY time(${step}ms), "device" fill(none)${limit}`,
    params,
  };
}

/** Raw-row range query answered by a rollup tier: one row per rollup step, gauges as their mean, energy as its last reading. */
export function buildRollupRows(
  q: RangeQuery,
  deviceIds: readonly string[],
  tier: Exclude<Tier, "raw">,
  from: number,
  to: number,
  perDevice: number,
  limits: QueryLimits = DEFAULT_LIMITS,
): Statement {
  const params: Record<string, string> = {};
  const where = `${deviceFilter(deviceIds, params)} AND ${timeRange(from, to, limits.maxSpanDays)}`;
  const select = (q.fields ?? PLUG_NUMERIC_FIELDS)
    .map((f) => `${quoteField(rollupField(f, GAUGES.includes(f) ? "mean" : "last"))} AS ${quoteField(f)}`)
    .join(", ");
  return { text: `SELECT ${select} FROM ${rollupSource(tier)} WHERE ${where} GROUP BY "device" ORDER BY time ASC LIMIT ${perDevice}`, params };
}

/** How counter readings are grouped: every reading, or first/last/min/max per bucket of `stepMs` starting at `offsetMs` (mod step). */
export type CounterGrouping = { readings: true } | { stepMs: number; offsetMs: number };

/** first/last/min/max of the energy counter per device (and bucket) in [from, to), from a tier; columns first, last, min, max. */
export function buildCounterBuckets(
  deviceIds: readonly string[],
  tier: Tier,
  from: number,
  to: number,
  grouping: CounterGrouping,
  limits: QueryLimits = DEFAULT_LIMITS,
): Statement {
  const params: Record<string, string> = {};
  const where = `${deviceFilter(deviceIds, params)} AND ${timeRange(from, to, limits.maxSpanDays)}`;
  const source = tier === "raw" ? quoteMeasurement(DEFAULT_MEASUREMENT) : rollupSource(tier);
  const col = (a: "first" | "last" | "min" | "max"): string => (tier === "raw" ? `"energy"` : quoteField(rollupField("energy", a)));
  if ("readings" in grouping) {
    const select =
      tier === "raw"
        ? `"energy" AS "first", "energy" AS "last", "energy" AS "min", "energy" AS "max"`
        : `${col("first")} AS "first", ${col("last")} AS "last", ${col("min")} AS "min", ${col("max")} AS "max"`;
    return { text: `SELECT ${select} FROM ${source} WHERE ${where} GROUP BY "device" ORDER BY time ASC`, params };
  }
  const { stepMs, offsetMs } = grouping;
  if (!Number.isSafeInteger(stepMs) || stepMs < 1000 || !Number.isSafeInteger(offsetMs) || offsetMs < 0 || offsetMs >= stepMs) {
    throw new PlugwatchError("INVALID_QUERY", "invalid bucket");
  }
  const rows = (Math.ceil(to / stepMs) - Math.floor(from / stepMs) + 1) * deviceIds.length;
  if (rows > limits.maxRows) throw new PlugwatchError("LIMIT_EXCEEDED", `${rows} energy rows exceed ${limits.maxRows}`);
  const offset = offsetMs === 0 ? "" : `, ${offsetMs}ms`;
  return {
    text:
      `SELECT FIRST(${col("first")}) AS "first", LAST(${col("last")}) AS "last", MIN(${col("min")}) AS "min", MAX(${col("max")}) AS "max" ` +
      `FROM ${source} WHERE ${where} GROUP BY time(${stepMs}ms${offset}), "device" fill(none)`,
    params,
  };
}

/** The last counter reading per device in [from - lookbackMs, from): the baseline of the first period. Column `last`. */
export function buildCounterBaseline(
  deviceIds: readonly string[],
  tier: Tier,
  from: number,
  lookbackMs: number,
  limits: QueryLimits = DEFAULT_LIMITS,
): Statement {
  const params: Record<string, string> = {};
  const start = Math.max(0, from - lookbackMs);
  if (start >= from) return { text: "", params };
  const where = `${deviceFilter(deviceIds, params)} AND ${timeRange(start, from, limits.maxSpanDays)}`;
  const source = tier === "raw" ? quoteMeasurement(DEFAULT_MEASUREMENT) : rollupSource(tier);
  const col = tier === "raw" ? `"energy"` : quoteField(rollupField("energy", "last"));
  return { text: `SELECT LAST(${col}) AS "last" FROM ${source} WHERE ${where} GROUP BY "device"`, params };
}
