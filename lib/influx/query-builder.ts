// Builds InfluxQL for structured queries from whitelisted identifiers and bound parameters only (no client text).
import { AGGREGATES, FieldName, Interval, MeasurementName, type RangeQuery } from "../contracts/query";
import { PlugwatchError } from "../contracts/errors";

/** A statement plus its bound parameters (sent as the `params` form field of /query). */
export interface Statement {
  text: string;
  params: Record<string, string>;
}

export const DAY_MS = 86_400_000;
export const DEFAULT_MEASUREMENT = "plug";
/** Fields the hook writes for a plug reading. */
export const PLUG_FIELDS = ["power", "voltage", "current", "energy", "relay"] as const;
/** Numeric plug fields (mean/sum/min/max cannot aggregate the boolean `relay`). */
export const PLUG_NUMERIC_FIELDS = ["power", "voltage", "current", "energy"] as const;

export interface QueryLimits {
  /** Longest raw (non-aggregated) range, days. */
  maxRawSpanDays: number;
  /** Longest aggregated range (range with aggregate, energy), days. */
  maxSpanDays: number;
  /** Most rows one query may return. */
  maxRows: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxRawSpanDays: 31, maxSpanDays: 366, maxRows: 100_000 };

// The contract patterns, re-checked here so the builder is safe even if a caller skipped validation.
const FIELD_RE = new RegExp(FieldName.pattern as string);
const MEASUREMENT_RE = new RegExp(MeasurementName.pattern as string);
const INTERVAL_RE = new RegExp(Interval.pattern as string);
const TAG_KEY_RE = /^[a-z][a-z0-9_]{0,31}$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };

function invalid(message: string): PlugwatchError {
  return new PlugwatchError("INVALID_QUERY", message);
}

/** Double-quotes an identifier that already matched its whitelist pattern (escaping is belt and braces). */
function quote(name: string, re: RegExp, what: string): string {
  if (typeof name !== "string" || !re.test(name)) throw invalid(`invalid ${what} name`);
  return `"${name.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export const quoteField = (name: string): string => quote(name, FIELD_RE, "field");
export const quoteMeasurement = (name: string): string => quote(name, MEASUREMENT_RE, "measurement");
export const quoteTagKey = (name: string): string => quote(name, TAG_KEY_RE, "tag");

/** Interval such as `1m` → ms. */
export function intervalMs(interval: string): number {
  const m = typeof interval === "string" ? INTERVAL_RE.exec(interval) : null;
  const unitMs = m?.[1] === undefined ? undefined : UNIT_MS[m[1]];
  if (unitMs === undefined) throw invalid("invalid interval (expected e.g. 30s, 1m, 1h, 1d)");
  return parseInt(interval, 10) * unitMs;
}

/** An epoch-ms time as an InfluxQL literal (`1764000000000ms`), only from a validated safe integer. */
export function timeLiteral(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw invalid("time must be a non-negative integer (epoch ms)");
  return `${ms}ms`;
}

/** `time >= from AND time < to` with span and order checks. */
export function timeRange(from: number, to: number, maxSpanDays: number): string {
  if (!(to > from)) throw invalid("'to' must be after 'from'");
  if (to - from > maxSpanDays * DAY_MS) {
    throw new PlugwatchError("LIMIT_EXCEEDED", `span of ${((to - from) / DAY_MS).toFixed(1)} days exceeds ${maxSpanDays} days`);
  }
  return `time >= ${timeLiteral(from)} AND time < ${timeLiteral(to)}`;
}

/** `("device" = $d0 OR "device" = $d1 …)`; every id travels as a bound parameter. */
export function deviceFilter(ids: readonly string[], params: Record<string, string>): string {
  if (ids.length === 0) throw new PlugwatchError("EMPTY_TARGET", "the target selects no device");
  const terms = ids.map((id, i) => {
    if (typeof id !== "string") throw invalid("device ids must be strings");
    params[`d${i}`] = id;
    return `"device" = $d${i}`;
  });
  return `(${terms.join(" OR ")})`;
}

const FN: Record<(typeof AGGREGATES)[number], string> = { mean: "MEAN", min: "MIN", max: "MAX", sum: "SUM", last: "LAST", count: "COUNT" };

function defaultFields(measurement: string, aggregate: string | undefined): readonly string[] | undefined {
  if (measurement !== DEFAULT_MEASUREMENT) return undefined;
  return aggregate === undefined || aggregate === "last" || aggregate === "count" ? PLUG_FIELDS : PLUG_NUMERIC_FIELDS;
}

/**
 * A range query. Raw: rows in [from, to) per device, oldest first, at most `limit` per device (or the row budget,
 * fetched with one extra row so the caller can tell it was exceeded). Aggregated: GROUP BY time(interval), "device".
 */
export function buildRange(
  q: RangeQuery,
  deviceIds: readonly string[],
  limits: QueryLimits = DEFAULT_LIMITS,
): Statement & { perDeviceLimit: number; strictLimit: boolean } {
  const params: Record<string, string> = {};
  const measurement = q.measurement ?? DEFAULT_MEASUREMENT;
  const from = quoteMeasurement(measurement);
  const aggregated = q.aggregate !== undefined || q.interval !== undefined;
  const time = timeRange(q.from, q.to, aggregated ? limits.maxSpanDays : limits.maxRawSpanDays);
  const where = `${deviceFilter(deviceIds, params)} AND ${time}`;
  const fields = q.fields ?? defaultFields(measurement, q.aggregate);
  if (q.limit !== undefined && (!Number.isSafeInteger(q.limit) || q.limit < 1)) throw invalid("limit must be a positive integer");
  if (q.limit !== undefined && q.limit * deviceIds.length > limits.maxRows) {
    throw new PlugwatchError("LIMIT_EXCEEDED", `limit ${q.limit} × ${deviceIds.length} devices exceeds ${limits.maxRows} rows`);
  }
  if (!aggregated) {
    const select = fields ? fields.map(quoteField).join(", ") : "*";
    const budget = Math.floor(limits.maxRows / deviceIds.length);
    if (budget < 1) throw new PlugwatchError("LIMIT_EXCEEDED", `${deviceIds.length} devices exceed ${limits.maxRows} rows`);
    // Without an explicit limit every row is wanted: ask for one more than the budget to detect an overflow.
    const perDevice = q.limit ?? budget + 1;
    return {
      text: `SELECT ${select} FROM ${from} WHERE ${where} GROUP BY "device" ORDER BY time ASC LIMIT ${perDevice}`,
      params,
      perDeviceLimit: perDevice,
      strictLimit: q.limit === undefined,
    };
  }
  const aggregate = q.aggregate ?? "mean";
  const fn = FN[aggregate];
  if (!fn) throw invalid("invalid aggregate");
  if (!fields) throw invalid(`'fields' is required to aggregate measurement '${measurement}'`);
  if (q.interval === undefined) throw invalid("'interval' is required with 'aggregate'");
  const step = intervalMs(q.interval);
  const buckets = Math.ceil(q.to / step) - Math.floor(q.from / step);
  const points = buckets * deviceIds.length;
  if (points > limits.maxRows) {
    throw new PlugwatchError("LIMIT_EXCEEDED", `${buckets} intervals × ${deviceIds.length} devices = ${points} rows exceeds ${limits.maxRows}`);
  }
  const select = fields.map((f) => `${fn}(${quoteField(f)}) AS ${quoteField(f)}`).join(", ");
  const limit = q.limit !== undefined ? ` LIMIT ${q.limit}` : "";
  return {
    text: `SELECT ${select} FROM ${from} WHERE ${where} GROUP BY time(${step}ms), "device" fill(none)${limit}`,
    params,
    perDeviceLimit: q.limit ?? buckets,
    strictLimit: false,
  };
}

/** Latest row per device, optionally only rows newer than `since` (epoch ms). */
export function buildLatest(measurement: string, deviceIds: readonly string[], since?: number): Statement {
  const params: Record<string, string> = {};
  const time = since === undefined ? "" : ` AND time >= ${timeLiteral(since)}`;
  return {
    text: `SELECT * FROM ${quoteMeasurement(measurement)} WHERE ${deviceFilter(deviceIds, params)}${time} GROUP BY "device" ORDER BY time DESC LIMIT 1`,
    params,
  };
}

/** The newest `limit` rows of one device, newest first. */
export function buildLatestN(measurement: string, device: string, limit: number, limits: QueryLimits = DEFAULT_LIMITS): Statement {
  if (!Number.isSafeInteger(limit) || limit < 1) throw invalid("limit must be a positive integer");
  if (limit > limits.maxRows) throw new PlugwatchError("LIMIT_EXCEEDED", `limit ${limit} exceeds ${limits.maxRows} rows`);
  const params: Record<string, string> = {};
  return {
    text: `SELECT * FROM ${quoteMeasurement(measurement)} WHERE ${deviceFilter([device], params)} ORDER BY time DESC LIMIT ${limit}`,
    params,
  };
}

/** Number of energy readings per device in [from, to) (decides raw vs per-interval energy computation). */
export function buildEnergyCount(deviceIds: readonly string[], from: number, to: number, limits: QueryLimits = DEFAULT_LIMITS): Statement {
  const params: Record<string, string> = {};
  return {
    text: `SELECT COUNT("energy") AS "n" FROM "plug" WHERE ${deviceFilter(deviceIds, params)} AND ${timeRange(from, to, limits.maxSpanDays)} GROUP BY "device"`,
    params,
  };
}

/** Every energy counter reading in [from, to), per device, oldest first. */
export function buildEnergyRaw(deviceIds: readonly string[], from: number, to: number, limits: QueryLimits = DEFAULT_LIMITS): Statement {
  const params: Record<string, string> = {};
  return {
    text: `SELECT "energy" FROM "plug" WHERE ${deviceFilter(deviceIds, params)} AND ${timeRange(from, to, limits.maxSpanDays)} GROUP BY "device" ORDER BY time ASC`,
    params,
  };
}

/** first/last/min/max of the energy counter per device and bucket (used when raw data is too large). */
export function buildEnergyBuckets(
  deviceIds: readonly string[],
  from: number,
  to: number,
  bucketMs: number | undefined,
  limits: QueryLimits = DEFAULT_LIMITS,
): Statement {
  const params: Record<string, string> = {};
  const where = `${deviceFilter(deviceIds, params)} AND ${timeRange(from, to, limits.maxSpanDays)}`;
  if (bucketMs !== undefined) {
    if (!Number.isSafeInteger(bucketMs) || bucketMs < 1000) throw invalid("invalid interval");
    const points = (Math.ceil(to / bucketMs) - Math.floor(from / bucketMs)) * deviceIds.length;
    if (points > limits.maxRows) throw new PlugwatchError("LIMIT_EXCEEDED", `${points} energy rows exceed ${limits.maxRows}`);
  }
  const group = bucketMs === undefined ? `GROUP BY "device"` : `GROUP BY time(${bucketMs}ms), "device" fill(none)`;
  return {
    text: `SELECT FIRST("energy") AS "first", LAST("energy") AS "last", MIN("energy") AS "min", MAX("energy") AS "max" FROM "plug" WHERE ${where} ${group}`,
    params,
  };
}
