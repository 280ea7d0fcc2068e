// Query-string and body parsing for the REST API: times (ISO 8601 or relative), filters and limits → contract query bodies.
import { Type, type Static } from "@sinclair/typebox";
import { MAX_TS_MS, MIN_TS_MS, SLUG_PATTERN } from "../contracts/common";
import { DEVICE_KINDS, type DeviceKind, type Target } from "../contracts/device";
import { AGGREGATES, CALENDAR, EnergyQuery, GROUP_BY, LatestNQuery, LatestQuery, MeasurementName, RangeQuery } from "../contracts/query";
import { validate } from "../contracts/validate";
import { ApiError } from "./problem";
import { checkTimeZone } from "../tz";

const MEASUREMENT_RE = new RegExp(MeasurementName.pattern as string);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Shortest length of each calendar period (a DST day is 23 h), for the bucket-count limit. */
const CALENDAR_MIN_MS: Readonly<Record<(typeof CALENDAR)[number], number>> = { hour: HOUR, day: 23 * HOUR, week: 7 * DAY - HOUR, month: 28 * DAY - HOUR };

/** Guards against queries that would overload the component or the client. All spans in ms. */
export interface ApiLimits {
  /** Longest [from, to) span of a raw (not aggregated) range query. */
  maxRawSpanMs: number;
  /** Longest span of an aggregated range query or an energy query. */
  maxAggregatedSpanMs: number;
  /** Largest `limit` (rows). */
  maxLimit: number;
  /** Most buckets (span / interval) of an aggregated query. */
  maxBuckets: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  maxRawSpanMs: 31 * DAY,
  maxAggregatedSpanMs: 366 * DAY,
  maxLimit: 100_000,
  maxBuckets: 100_000,
};

/** Parsed query string: Node's URLSearchParams collapsed to name → values. */
export type QueryParams = Readonly<Record<string, readonly string[]>>;

export function queryParamsOf(search: URLSearchParams): QueryParams {
  const out: Record<string, string[]> = {};
  for (const [k, v] of search) (out[k] ??= []).push(v);
  return out;
}

const bad = (param: string, message: string): ApiError =>
  new ApiError("INVALID_REQUEST", `${param}: ${message}`, { details: [{ path: `$.query.${param}`, message }] });

/** Rejects parameters the endpoint does not know (a typo must not be silently ignored). */
export function checkKnown(q: QueryParams, allowed: readonly string[]): void {
  const unknown = Object.keys(q).filter((k) => !allowed.includes(k));
  if (unknown.length) {
    const allowedText = allowed.length ? allowed.join(", ") : "none";
    throw new ApiError("INVALID_REQUEST", `unknown query parameter(s): ${unknown.join(", ")} (allowed: ${allowedText})`, {
      details: unknown.map((k) => ({ path: `$.query.${k}`, message: "unknown parameter" })),
    });
  }
}

/** One value of a parameter; repeated or empty values are errors. */
export function single(q: QueryParams, name: string): string | undefined {
  const values = q[name];
  if (!values) return undefined;
  if (values.length > 1) throw bad(name, "given more than once");
  const v = values[0];
  if (v === "") throw bad(name, "is empty");
  return v;
}

const RELATIVE = /^(now)?(?:([+-])([0-9]{1,7})(ms|s|m|h|d|w))?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY };

/**
 * A point in time as epoch ms: `now`, relative (`-24h`, `now-7d`, `+30m`; units ms s m h d w), ISO 8601
 * (`2025-11-24T08:00:00Z`, `2025-11-24T09:00+01:00`, or a date `2025-11-24` = UTC midnight) or epoch ms digits.
 * A date-time without a zone is refused: the server's zone is not the client's.
 */
export function parseTime(text: string, now: number, param = "time"): number {
  const t = text.trim();
  const rel = RELATIVE.exec(t);
  if (rel && (rel[1] || rel[2])) {
    const offset = rel[2] ? (rel[2] === "-" ? -1 : 1) * Number(rel[3]) * (UNIT_MS[rel[4] ?? ""] ?? NaN) : 0;
    return inRange(now + offset, param, text);
  }
  if (/^[0-9]{1,16}$/.test(t)) return inRange(Number(t), param, text);
  const iso = ISO.exec(t);
  if (!iso) throw bad(param, `'${text}' is not a time: use ISO 8601 (2025-11-24T08:00:00Z), a relative time (-24h, now-7d) or now`);
  const [, y, mo, d, hh, mm, ss, zone] = iso;
  if (hh !== undefined && zone === undefined) throw bad(param, `'${text}' has no time zone: add Z or an offset such as +01:00`);
  const year = Number(y),
    month = Number(mo),
    day = Number(d);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || Number(hh ?? 0) > 23 || Number(mm ?? 0) > 59 || Number(ss ?? 0) > 59) {
    throw bad(param, `'${text}' is not a valid date or time`);
  }
  const ms = Date.parse(hh === undefined ? `${y}-${mo}-${d}T00:00:00Z` : t);
  if (Number.isNaN(ms)) throw bad(param, `'${text}' is not a valid date or time`);
  return inRange(ms, param, text);
}

function inRange(ms: number, param: string, text: string): number {
  if (!Number.isInteger(ms) || ms < MIN_TS_MS || ms > MAX_TS_MS) throw bad(param, `'${text}' is outside 2000-01-01 .. 2100-01-01`);
  return ms;
}

/** Interval such as `30s`, `1m`, `1h`, `1d` → ms (the contract's Interval pattern). */
export function parseInterval(text: string, param = "interval"): number {
  const m = /^([1-9][0-9]{0,5})(s|m|h|d)$/.exec(text);
  if (!m) throw bad(param, `'${text}' is not an interval: use a positive number and s, m, h or d (e.g. 1m, 1h, 1d)`);
  return Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? NaN);
}

export function parseInteger(text: string, param: string, min: number, max: number): number {
  if (!/^[0-9]{1,9}$/.test(text)) throw bad(param, `'${text}' is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) {
    throw new ApiError(n > max && min >= 1 ? "LIMIT_EXCEEDED" : "INVALID_REQUEST", `${param}: ${n} is outside ${min}..${max}`, {
      details: [{ path: `$.query.${param}`, message: `must be from ${min} to ${max}` }],
    });
  }
  return n;
}

export function parseBoolean(text: string, param: string): boolean {
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0") return false;
  throw bad(param, `'${text}' is not a boolean: use true or false`);
}

function oneOf<T extends string>(text: string, allowed: readonly T[], param: string): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw bad(param, `'${text}' is not one of ${allowed.join(", ")}`);
}

const slugRe = new RegExp(SLUG_PATTERN);
export function parseSlug(text: string, param: string): string {
  if (!slugRe.test(text)) throw bad(param, `'${text}' is not a valid id (lower-case letters, digits, '-', '_'; 1-64 characters)`);
  return text;
}

/** Device filter of list endpoints. */
export interface DeviceFilterParams {
  kind?: DeviceKind | undefined;
  building?: string | undefined;
  floor?: string | undefined;
  room?: string | undefined;
}
export const FILTER_PARAMS = ["kind", "building", "floor", "room"] as const;

export function parseFilter(q: QueryParams): DeviceFilterParams {
  const f: DeviceFilterParams = {};
  const kind = single(q, "kind");
  if (kind !== undefined) f.kind = oneOf(kind, DEVICE_KINDS, "kind");
  for (const p of ["building", "floor", "room"] as const) {
    const v = single(q, p);
    if (v !== undefined) f[p] = parseSlug(v, p);
  }
  return f;
}

/** A filter as a contract Target; floor or room need a building (locations are hierarchical). */
export function filterToTarget(f: DeviceFilterParams, where = "query"): Target | undefined {
  if (f.building) {
    return { building: f.building, ...(f.floor ? { floor: f.floor } : {}), ...(f.room ? { room: f.room } : {}), ...(f.kind ? { kind: f.kind } : {}) };
  }
  if (f.floor || f.room) {
    throw new ApiError("INVALID_REQUEST", "floor and room select a location inside a building: give building too", {
      details: [{ path: `$.${where}.building`, message: "required with floor or room" }],
    });
  }
  if (f.kind) return { kind: f.kind };
  return undefined;
}

function checkSpan(from: number, to: number, maxSpanMs: number, what: string): void {
  if (from >= to) throw new ApiError("INVALID_QUERY", `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`);
  if (to - from > maxSpanMs) {
    throw new ApiError("LIMIT_EXCEEDED", `span of ${fmtSpan(to - from)} exceeds ${fmtSpan(maxSpanMs)} for ${what}`);
  }
}

function checkBuckets(from: number, to: number, intervalMs: number, limits: ApiLimits): void {
  const buckets = Math.ceil((to - from) / intervalMs);
  if (buckets > limits.maxBuckets) {
    throw new ApiError("LIMIT_EXCEEDED", `${buckets} intervals in the span exceed ${limits.maxBuckets}: use a longer interval or a shorter span`);
  }
}

export function fmtSpan(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY} days`;
  if (ms % HOUR === 0) return `${ms / HOUR} h`;
  return `${Math.round(ms / 1000)} s`;
}

/** Final safety net: the built body must match its contract schema (the one the component validates with). */
function conform<T>(schema: Parameters<typeof validate>[0], body: T): T {
  const r = validate(schema, body);
  if (!r.ok) throw new ApiError("INVALID_REQUEST", r.issues.map((i) => `${i.path}: ${i.message}`).join("; "), { details: r.issues });
  return body;
}

export const RANGE_PARAMS = ["from", "to", "fields", "aggregate", "interval", "limit", "measurement"] as const;

/** GET /devices/{id}/measurements → RangeQuery. Default span: the last 24 h. */
export function parseRangeParams(device: string, q: QueryParams, now: number, limits: ApiLimits = DEFAULT_LIMITS): RangeQuery {
  checkKnown(q, RANGE_PARAMS);
  const from = parseTime(single(q, "from") ?? "-24h", now, "from");
  const to = parseTime(single(q, "to") ?? "now", now, "to");
  const body: RangeQuery = { type: "range", target: { device }, from, to };
  const fields = single(q, "fields");
  if (fields !== undefined) {
    const list = fields.split(",").map((s) => s.trim());
    for (const f of list) if (!/^[a-zA-Z][a-zA-Z0-9_]{0,62}$/.test(f)) throw bad("fields", `'${f}' is not a field name`);
    if (new Set(list).size !== list.length) throw bad("fields", "lists a field twice");
    if (list.length > 16) throw bad("fields", "at most 16 fields");
    body.fields = list;
  }
  const aggregate = single(q, "aggregate");
  const interval = single(q, "interval");
  if (aggregate !== undefined) body.aggregate = oneOf(aggregate, AGGREGATES, "aggregate");
  if (interval !== undefined) {
    const ms = parseInterval(interval);
    body.interval = interval;
    body.aggregate ??= "mean";
    checkSpan(from, to, limits.maxAggregatedSpanMs, "an aggregated query");
    checkBuckets(from, to, ms, limits);
  } else if (body.aggregate !== undefined) {
    throw bad("interval", `is required with aggregate=${body.aggregate} (e.g. interval=1m)`);
  } else {
    checkSpan(from, to, limits.maxRawSpanMs, "raw readings (add aggregate and interval for longer spans)");
  }
  const limit = single(q, "limit");
  if (limit !== undefined) body.limit = parseInteger(limit, "limit", 1, limits.maxLimit);
  setMeasurement(q, body);
  return conform(RangeQuery, body);
}

/** `measurement=` (any measurement stored through plugwatch-influx-hook, e.g. a generic reading's; default plug) → body.measurement. */
function setMeasurement(q: QueryParams, body: { measurement?: string }): void {
  const measurement = single(q, "measurement");
  if (measurement === undefined) return;
  if (!MEASUREMENT_RE.test(measurement)) throw bad("measurement", `'${measurement}' is not a measurement name`);
  body.measurement = measurement;
}

export const LATEST_N_PARAMS = ["limit", "measurement"] as const;

/** GET /devices/{id}/measurements/latest → LatestNQuery (default limit 1440 = one day of 1-minute readings). */
export function parseLatestNParams(device: string, q: QueryParams, limits: ApiLimits = DEFAULT_LIMITS): LatestNQuery {
  checkKnown(q, LATEST_N_PARAMS);
  const limit = single(q, "limit");
  const body: LatestNQuery = { type: "latestN", device, limit: limit === undefined ? 1440 : parseInteger(limit, "limit", 1, limits.maxLimit) };
  setMeasurement(q, body);
  return conform(LatestNQuery, body);
}

export const LATEST_PARAMS = ["all", "measurement", ...FILTER_PARAMS] as const;

/** GET /measurements/latest → LatestQuery; devices silent for more than `inactiveAfterDays` are hidden unless all=true. */
export function parseLatestParams(q: QueryParams, inactiveAfterDays: number): LatestQuery {
  checkKnown(q, LATEST_PARAMS);
  const all = single(q, "all");
  const target = filterToTarget(parseFilter(q));
  const body: LatestQuery = { type: "latest", all: all === undefined ? false : parseBoolean(all, "all"), inactiveAfterDays };
  if (target) body.target = target;
  setMeasurement(q, body);
  return conform(LatestQuery, body);
}

export const ENERGY_PARAMS = ["from", "to", "groupBy", "interval", "calendar", "tz", ...FILTER_PARAMS] as const;

/**
 * GET /energy → EnergyQuery. Default: the last 7 days per day (fixed 1d intervals, UTC), grouped by device. With
 * `calendar` (hour, day, week, month): local calendar periods in `tz` (default: the building's zone from the registry).
 */
export function parseEnergyParams(q: QueryParams, now: number, limits: ApiLimits = DEFAULT_LIMITS): EnergyQuery {
  checkKnown(q, ENERGY_PARAMS);
  const from = parseTime(single(q, "from") ?? "-7d", now, "from");
  const to = parseTime(single(q, "to") ?? "now", now, "to");
  checkSpan(from, to, limits.maxAggregatedSpanMs, "an energy query");
  const groupBy = oneOf(single(q, "groupBy") ?? "device", GROUP_BY, "groupBy");
  const calendar = single(q, "calendar");
  const tz = single(q, "tz");
  if (calendar !== undefined && single(q, "interval") !== undefined) throw bad("calendar", "give either interval or calendar, not both");
  if (tz !== undefined && calendar === undefined) throw bad("tz", "applies to calendar periods: add calendar=hour, day, week or month");
  let body: EnergyQuery;
  if (calendar !== undefined) {
    body = { type: "energy", groupBy, from, to, calendar: oneOf(calendar, CALENDAR, "calendar") };
    checkBuckets(from, to, CALENDAR_MIN_MS[body.calendar as (typeof CALENDAR)[number]], limits);
    if (tz !== undefined) {
      try {
        body.tz = checkTimeZone(tz);
      } catch (err) {
        throw bad("tz", err instanceof Error ? err.message : String(err));
      }
    }
  } else {
    const interval = single(q, "interval") ?? "1d";
    checkBuckets(from, to, parseInterval(interval), limits);
    body = { type: "energy", groupBy, from, to, interval };
  }
  const target = filterToTarget(parseFilter(q));
  if (target) body.target = target;
  return conform(EnergyQuery, body);
}

export const ALERT_STATES = ["active", "all"] as const;
export interface AlertParams {
  state: (typeof ALERT_STATES)[number];
  from?: number;
  device?: string;
}

/** GET /alerts: active alerts, or with state=all the event history (optionally since `from`). */
export function parseAlertParams(q: QueryParams, now: number): AlertParams {
  checkKnown(q, ["state", "from", "device"]);
  const state = oneOf(single(q, "state") ?? "active", ALERT_STATES, "state");
  const out: AlertParams = { state };
  const from = single(q, "from");
  if (from !== undefined) {
    if (state !== "all") throw bad("from", "only applies to state=all (the history)");
    out.from = parseTime(from, now, "from");
  }
  const device = single(q, "device");
  if (device !== undefined) out.device = parseSlug(device, "device");
  return out;
}

export interface AuditParams {
  from?: number;
  device?: string;
  by?: string;
}

/** GET /audit: optional from (time), device (slug) and by (token name). */
export function parseAuditParams(q: QueryParams, now: number): AuditParams {
  checkKnown(q, ["from", "device", "by"]);
  const out: AuditParams = {};
  const from = single(q, "from");
  if (from !== undefined) out.from = parseTime(from, now, "from");
  const device = single(q, "device");
  if (device !== undefined) out.device = parseSlug(device, "device");
  const by = single(q, "by");
  if (by !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(by)) throw bad("by", "a token name: letters, digits, '.', '_', ':' or '-'");
    out.by = by;
  }
  return out;
}

// ---- bodies ----

export const POWER_STATES = ["on", "off", "toggle"] as const;
export const PowerState = Type.Union(
  POWER_STATES.map((s) => Type.Literal(s)),
  { description: "on, off or toggle" },
);

export const PowerBody = Type.Object({ state: PowerState }, { additionalProperties: false, description: "Switch one plug" });
export type PowerBody = Static<typeof PowerBody>;

/** Bulk switch: a state plus a selector (kind and/or a location, a device list, or all:true). */
export const BulkPowerBody = Type.Object(
  {
    state: PowerState,
    kind: Type.Optional(Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k)))),
    building: Type.Optional(Type.String({ pattern: SLUG_PATTERN, maxLength: 64 })),
    floor: Type.Optional(Type.String({ pattern: SLUG_PATTERN, maxLength: 64 })),
    room: Type.Optional(Type.String({ pattern: SLUG_PATTERN, maxLength: 64 })),
    devices: Type.Optional(Type.Array(Type.String({ pattern: SLUG_PATTERN, maxLength: 64 }), { minItems: 1, maxItems: 1000 })),
    all: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false, description: "Switch a group: state plus kind, building[/floor[/room]], devices or all:true" },
);
export type BulkPowerBody = Static<typeof BulkPowerBody>;

function checkBody<S extends Parameters<typeof validate>[0]>(schema: S, body: unknown): Static<S> {
  const r = validate(schema, body);
  if (!r.ok) {
    const detail = r.issues
      .slice(0, 3)
      .map((i) => `${i.path.replace(/^\$/, "body")}: ${i.message}`)
      .join("; ");
    throw new ApiError("INVALID_REQUEST", detail, { details: r.issues });
  }
  return r.value;
}

export function parsePowerBody(body: unknown): PowerBody {
  return checkBody(PowerBody, body);
}

/** Bulk body → action + target. Exactly one selector style; an empty selector is refused (no accidental "switch everything"). */
export function parseBulkPowerBody(body: unknown): { action: PowerBody["state"]; target: Target } {
  const b = checkBody(BulkPowerBody, body);
  const location = b.kind !== undefined || b.building !== undefined || b.floor !== undefined || b.room !== undefined;
  const styles = [location, b.devices !== undefined, b.all === true].filter(Boolean).length;
  if (styles !== 1) {
    throw new ApiError("INVALID_REQUEST", "give exactly one selector: kind and/or building[/floor[/room]], devices, or all:true", {
      details: [{ path: "$", message: "selector missing or ambiguous" }],
    });
  }
  if (b.devices) return { action: b.state, target: { devices: b.devices } };
  if (b.all) return { action: b.state, target: { all: true } };
  const target = filterToTarget({ kind: b.kind, building: b.building, floor: b.floor, room: b.room }, "body");
  return { action: b.state, target: target as Target };
}
