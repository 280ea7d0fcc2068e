// The rollup aggregation as InfluxQL (1.x continuous queries and late-window re-aggregation) and Flux (2.x tasks):
// one SELECT list, so a continuous query and a re-aggregated window always compute the same row.
import { createHash } from "node:crypto";
import { escape } from "@influxdata/influxdb-client";
import {
  COUNT_FIELD,
  COUNTER_AGGREGATES,
  COUNTER_FIELDS,
  GAUGE_AGGREGATES,
  GAUGE_FIELDS,
  rollupField,
  TIER_RP,
  TIER_STEP_MS,
  type Tier,
} from "./rollup-schema";

export type RollupTier = Exclude<Tier, "raw">;
export const ROLLUP_TIERS: readonly RollupTier[] = ["1m", "1h"];

/** InfluxQL group-by interval of each rollup tier. */
const INTERVAL: Readonly<Record<RollupTier, string>> = { "1m": "1m", "1h": "1h" };

/**
 * How far back each run of a tier's continuous query recomputes (RESAMPLE FOR), ms. Points written up to
 * FOR − step after their window started still reach the rollup through the CQ alone; later ones are "late" and
 * re-aggregated by the rollup worker (lib/influx/late-windows.ts uses LATE_AFTER_MS).
 */
export const RESAMPLE_FOR_MS: Readonly<Record<RollupTier, number>> = { "1m": 5 * 60_000, "1h": 2 * 3_600_000 };

/** A written point is late for a tier when its window started at least this long before the write (ms): FOR − step − margin. */
export const LATE_AFTER_MS: Readonly<Record<RollupTier, number>> = {
  "1m": RESAMPLE_FOR_MS["1m"] - TIER_STEP_MS["1m"] - 60_000,
  "1h": RESAMPLE_FOR_MS["1h"] - TIER_STEP_MS["1h"] - 10 * 60_000,
};

/** InfluxQL aggregate function of each rollup aggregate name. */
const INFLUXQL_FN: Readonly<Record<string, string>> = { mean: "mean", min: "min", max: "max", first: "first", last: "last" };

/** The aggregate of each rollup field: [raw field, aggregate, rollup field]; `n` counts the power readings. */
export function rollupColumns(): [field: string, aggregate: string, as: string][] {
  return [
    ...GAUGE_FIELDS.flatMap((f) => GAUGE_AGGREGATES.map((a): [string, string, string] => [f, a, rollupField(f, a)])),
    ...COUNTER_FIELDS.flatMap((f) => COUNTER_AGGREGATES.map((a): [string, string, string] => [f, a, rollupField(f, a)])),
    [GAUGE_FIELDS[0], "count", COUNT_FIELD],
  ];
}

const q = (id: string): string => escape.quoted(id);

/** `mean("power") AS "power_mean", …, count("power") AS "n"` */
export function influxqlSelectList(): string {
  return rollupColumns()
    .map(([f, a, as]) => `${INFLUXQL_FN[a] ?? a}(${q(f)}) AS ${q(as)}`)
    .join(", ");
}

/**
 * SELECT … INTO the tier's RP from the raw RP, every measurement (`:MEASUREMENT` keeps each one's name) and every
 * tag (`GROUP BY *` keeps tags as tags). With `range` ([startMs, endMs), aligned by the caller) it re-aggregates
 * exactly those windows; without, it is a continuous query's body.
 */
export function rollupSelect(database: string, tier: RollupTier, rawRp: string, range?: { startMs: number; endMs: number }): string {
  const where = range ? ` WHERE time >= ${Math.trunc(range.startMs)}ms AND time < ${Math.trunc(range.endMs)}ms` : "";
  return (
    `SELECT ${influxqlSelectList()} INTO ${q(database)}.${q(TIER_RP[tier])}.:MEASUREMENT ` +
    `FROM ${q(database)}.${q(rawRp)}./.*/${where} GROUP BY time(${INTERVAL[tier]}), *`
  );
}

/** Name prefix of every continuous query Plugwatch owns; others are never touched. */
export const CQ_PREFIX = "plugwatch_rollup_";

export interface ContinuousQuery {
  name: string;
  tier: RollupTier;
  /** The CREATE CONTINUOUS QUERY statement. */
  create: string;
}

/**
 * A tier's continuous query. Its name ends in a hash of its body, so a changed rollup set (fields, source RP,
 * resample window) gives another name: the planner drops the old CQ and creates the new one, without comparing
 * InfluxDB's re-printed query text.
 */
export function continuousQuery(database: string, tier: RollupTier, rawRp: string): ContinuousQuery {
  const every = INTERVAL[tier];
  const forText = `${RESAMPLE_FOR_MS[tier] / 60_000}m`;
  const body = `RESAMPLE EVERY ${every} FOR ${forText} BEGIN ${rollupSelect(database, tier, rawRp)} END`;
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 8);
  const name = `${CQ_PREFIX}${tier}_${hash}`;
  return { name, tier, create: `CREATE CONTINUOUS QUERY ${q(name)} ON ${q(database)} ${body}` };
}

/** Flux string literal. */
const fluxString = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$\{/g, "\\${")}"`;

/** Flux aggregate function of each rollup aggregate name. */
const FLUX_FN: Readonly<Record<string, string>> = { mean: "mean", min: "min", max: "max", first: "first", last: "last", count: "count" };

/**
 * The Flux that writes one tier from the raw bucket into the tier's bucket over `range` (a Flux range, e.g.
 * `start: -5m` for a task, or two RFC 3339 times for a re-aggregation). Rows are stamped with their window start,
 * as InfluxQL does.
 */
export function fluxRollup(org: string, rawBucket: string, tierBucket: string, tier: RollupTier, range: string): string {
  const every = INTERVAL[tier];
  const lines = [
    `src = from(bucket: ${fluxString(rawBucket)}) |> range(${range})`,
    `roll = (field, fn, name) => src |> filter(fn: (r) => r._field == field) |> aggregateWindow(every: ${every}, fn: fn, timeSrc: "_start", createEmpty: false) |> set(key: "_field", value: name) |> to(bucket: ${fluxString(tierBucket)}, org: ${fluxString(org)})`,
    ...rollupColumns().map(([f, a, as]) => `roll(field: ${fluxString(f)}, fn: ${FLUX_FN[a] ?? a}, name: ${fluxString(as)})`),
  ];
  return lines.join("\n");
}

/** A 2.x task's Flux: the tier's rollup over its resample window, every step. */
export function fluxTask(name: string, org: string, rawBucket: string, tierBucket: string, tier: RollupTier): string {
  const forText = `${RESAMPLE_FOR_MS[tier] / 60_000}m`;
  return `option task = {name: ${fluxString(name)}, every: ${INTERVAL[tier]}, offset: 10s}\n${fluxRollup(org, rawBucket, tierBucket, tier, `start: -${forText}`)}\n`;
}
