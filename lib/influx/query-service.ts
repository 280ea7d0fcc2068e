// The query component: validates a query request, runs it against InfluxDB (bound parameters only), builds the reply.
import { CostQuery, EnergyQuery, LatestNQuery, LatestQuery, RangeQuery, type QueryBody, type QueryData, type QueryReply } from "../contracts/query";
import { CONTRACT_VERSION, RequestId } from "../contracts/common";
import { ReplyTopicGuard, ReplyTopicRefused } from "../contracts/reply-topic";
import { DEFAULT_ROOT } from "../topics";
import { PlugwatchError, toErrorBody, type ErrorBody, type ErrorCode } from "../contracts/errors";
import { decodePayload, validate, type Issue } from "../contracts/validate";
import type { Device, Target } from "../contracts/device";
import type { Registry } from "../registry";
import type { TSchema } from "@sinclair/typebox";
import { queryRequest, type InfluxSettings } from "./settings";
import { InfluxHttpError, type HttpResponse } from "./http";
import type { HttpRequestSpec } from "./settings";
import {
  buildLatest,
  buildLatestN,
  buildRange,
  DAY_MS,
  DEFAULT_LIMITS,
  DEFAULT_MEASUREMENT,
  intervalMs,
  type QueryLimits,
  type Statement,
} from "./query-builder";
import { runEnergy } from "./energy-query";
import type { DayEnergyCache } from "./day-energy-cache";
import { NO_ROLLUPS, planQuery, type RollupSettings } from "./resolution";
import { rangeRollupable } from "./tier-query";
import { runRollupRange } from "./range-rollup";
import { runCachedRange, rangeCacheable } from "./range-cached";
import type { RangeBucketCache } from "./range-cache";
import { seriesPoints as rows, type InfluxSeries } from "./series-points";

import { runCostQuery } from "./cost";
import type { TariffBook } from "../tariff/load";

export type { InfluxSeries } from "./series-points";

/** Runs one statement and returns its series; throws PlugwatchError (STORAGE_UNAVAILABLE, INVALID_QUERY, TIMEOUT). */
export type StatementRunner = (stmt: Statement) => Promise<InfluxSeries[]>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses a /query JSON body (one statement) into its series; statement errors become PlugwatchErrors. */
export function parseInfluxResult(body: string, database: string): InfluxSeries[] {
  let json: unknown;
  try {
    json = JSON.parse(body) as unknown;
  } catch {
    throw new PlugwatchError("STORAGE_UNAVAILABLE", "InfluxDB answered with something that is not JSON");
  }
  if (!isRecord(json)) throw new PlugwatchError("STORAGE_UNAVAILABLE", "unexpected InfluxDB answer");
  if (typeof json.error === "string") throw statementError(json.error, database);
  const results = json.results;
  const first: unknown = Array.isArray(results) ? (results as unknown[])[0] : undefined;
  if (!isRecord(first)) throw new PlugwatchError("STORAGE_UNAVAILABLE", "unexpected InfluxDB answer (no results)");
  if (typeof first.error === "string") throw statementError(first.error, database);
  const series = Array.isArray(first.series) ? first.series : [];
  return series.filter((s): s is InfluxSeries => isRecord(s) && typeof s.name === "string" && Array.isArray(s.columns) && Array.isArray(s.values));
}

function statementError(message: string, database: string): PlugwatchError {
  if (/database not found/i.test(message)) return new PlugwatchError("STORAGE_UNAVAILABLE", `database '${database}' does not exist yet`);
  return new PlugwatchError("INVALID_QUERY", `InfluxDB rejected the query: ${message}`);
}

/** Maps transport failures: unreachable, 5xx and auth problems are the storage's; 400 is the query's. */
export function mapHttpError(err: unknown): PlugwatchError {
  if (err instanceof PlugwatchError) return err;
  if (err instanceof InfluxHttpError) {
    if (err.status === 400) return new PlugwatchError("INVALID_QUERY", err.message);
    return new PlugwatchError("STORAGE_UNAVAILABLE", err.message);
  }
  return new PlugwatchError("INTERNAL", err instanceof Error ? err.message : String(err));
}

export interface InfluxQueryTarget {
  settings: InfluxSettings;
  http: { send(spec: HttpRequestSpec, body?: string | Buffer, opts?: { signal?: AbortSignal }): Promise<HttpResponse> };
}

/** The error of a query cut short by `signal`: its reason when that is a PlugwatchError, else STORAGE_UNAVAILABLE. */
function abortError(signal: AbortSignal): PlugwatchError {
  return signal.reason instanceof PlugwatchError ? signal.reason : new PlugwatchError("STORAGE_UNAVAILABLE", "the query was cancelled");
}

/**
 * A runner that POSTs to /query with `params` (bound parameters) and a timeout (TIMEOUT when exceeded).
 * `signal` cancels every query in flight and every later one (the HTTP request is aborted too).
 */
export function influxRunner(influx: InfluxQueryTarget, opts: { database?: string; timeoutMs?: number; signal?: AbortSignal } = {}): StatementRunner {
  const settings = opts.database ? { ...influx.settings, database: opts.database } : influx.settings;
  const { signal } = opts;
  return async (stmt) => {
    if (signal?.aborted) throw abortError(signal);
    const spec = queryRequest(settings, stmt.text, stmt.params);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const sending = signal ? influx.http.send(spec, undefined, { signal }) : influx.http.send(spec);
    const limits: Promise<never>[] = [];
    if (opts.timeoutMs) {
      limits.push(
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new PlugwatchError("TIMEOUT", `no answer from InfluxDB within ${opts.timeoutMs} ms`)), opts.timeoutMs);
        }),
      );
    }
    if (signal) {
      limits.push(
        new Promise<never>((_, reject) => {
          onAbort = () => reject(abortError(signal));
          signal.addEventListener("abort", onAbort, { once: true });
        }),
      );
    }
    try {
      const res = limits.length ? await Promise.race([sending, ...limits]) : await sending;
      return parseInfluxResult(res.body, settings.database);
    } catch (err) {
      sending.catch(() => undefined); // the race may leave it pending; never an unhandled rejection
      throw mapHttpError(err);
    } finally {
      if (timer) clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  };
}

export interface QueryServiceOptions {
  run: StatementRunner;
  /** Returns the registry or throws (REGISTRY_INVALID). */
  registry: () => Registry;
  limits?: Partial<QueryLimits>;
  /** Clock for `latest` (inactive devices), epoch ms. */
  now?: () => number;
  /** Checks and counts reply topics (default: replies under `plugwatch/api/reply/…` or `clients/…`). */
  replyTopics?: ReplyTopicGuard;
  /** The rollup tiers and their retention (default: none, every query reads raw readings). */
  rollups?: RollupSettings;
  /** Returns the tariffs for `cost` queries or throws (TARIFF_INVALID); absent: cost queries answer TARIFF_INVALID. */
  tariffs?: () => TariffBook;
  /** Keeps kWh of closed local days for `energy` queries with calendar=day (lib/influx/day-energy-cache.ts); absent: none. */
  dayCache?: DayEnergyCache;
  /** Keeps closed buckets of aggregated range queries (lib/influx/range-cache.ts); absent: every range query reads InfluxDB. */
  rangeCache?: RangeBucketCache;
}

export interface HandledQuery {
  replyTo: string;
  reply: QueryReply;
  /** Query type when the body could be read (for status). */
  type?: QueryBody["type"];
}

const BODY_SCHEMAS: Record<QueryBody["type"], TSchema> = {
  range: RangeQuery,
  latest: LatestQuery,
  latestN: LatestNQuery,
  energy: EnergyQuery,
  cost: CostQuery,
};
const ENVELOPE_KEYS = new Set(["v", "id", "replyTo", "query"]);

function rejected(code: ErrorCode, prefix: string, issues: Issue[]): PlugwatchError {
  const details = issues.map((i) => ({ path: prefix + i.path.slice(1), message: i.message }));
  const first = details[0];
  return new PlugwatchError(code, first ? `${first.path}: ${first.message}` : "invalid", details);
}

/** Validates the query body precisely for its type (a union would only say "expected union value"). */
export function parseQueryBody(body: unknown): QueryBody {
  if (!isRecord(body)) throw new PlugwatchError("INVALID_QUERY", "$.query: expected an object");
  const type = body.type;
  if (typeof type !== "string" || !Object.prototype.hasOwnProperty.call(BODY_SCHEMAS, type)) {
    throw new PlugwatchError("INVALID_QUERY", `$.query.type: expected one of ${Object.keys(BODY_SCHEMAS).join(", ")}`);
  }
  const r = validate(BODY_SCHEMAS[type as QueryBody["type"]], body);
  if (!r.ok) throw rejected("INVALID_QUERY", "$.query", r.issues);
  return r.value as QueryBody;
}

/** Where a request's reply goes: its id and replyTo (throws INVALID_REQUEST when either is unreadable) and its type if known. */
function address(
  payload: unknown,
  guard: ReplyTopicGuard,
  requestTopic: unknown,
): { msg: Record<string, unknown>; id: string; base: { replyTo: string; type?: QueryBody["type"] } } {
  const msg = decodePayload(payload);
  if (!isRecord(msg)) throw new PlugwatchError("INVALID_REQUEST", "query request must be a JSON object");
  const id = validate(RequestId, msg.id);
  if (!id.ok) throw rejected("INVALID_REQUEST", "$.id", id.issues);
  const replyTo = guard.check(msg.replyTo, requestTopic);
  if (!replyTo.ok) throw new ReplyTopicRefused(replyTo.problem, replyTo.message);
  const type = isRecord(msg.query) && typeof msg.query.type === "string" && msg.query.type in BODY_SCHEMAS ? (msg.query.type as QueryBody["type"]) : undefined;
  return { msg, id: id.value, base: { replyTo: replyTo.topic, ...(type ? { type } : {}) } };
}

export class QueryService {
  private readonly limits: QueryLimits;
  private readonly now: () => number;
  private readonly rollups: RollupSettings;
  /** Reply topic check shared with the control agent and the API (lib/contracts/reply-topic.ts). */
  readonly replyTopics: ReplyTopicGuard;

  constructor(private readonly opts: QueryServiceOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
    this.rollups = opts.rollups ?? NO_ROLLUPS;
    this.replyTopics = opts.replyTopics ?? new ReplyTopicGuard(DEFAULT_ROOT);
  }

  /**
   * Handles one request payload (object or JSON string/Buffer). Throws only when the reply cannot be addressed
   * (no readable id, or a replyTo refused by the reply topic guard: ReplyTopicRefused); every other problem becomes
   * an `ok:false` reply with a stable code. `requestTopic` gives the topic root of the allowed reply prefix.
   */
  async handle(payload: unknown, requestTopic?: unknown): Promise<HandledQuery> {
    const { msg, id, base } = address(payload, this.replyTopics, requestTopic);
    try {
      if (msg.v !== CONTRACT_VERSION) throw new PlugwatchError("UNSUPPORTED_VERSION", `$.v: expected ${CONTRACT_VERSION}`);
      const extra = Object.keys(msg).filter((k) => !ENVELOPE_KEYS.has(k));
      if (extra.length) throw new PlugwatchError("INVALID_REQUEST", `unexpected property '${extra[0]}'`);
      const data = await this.execute(parseQueryBody(msg.query));
      return { ...base, reply: { v: CONTRACT_VERSION, id, ok: true, data } };
    } catch (err) {
      return { ...base, reply: errorReply(id, toErrorBody(err)) };
    }
  }

  /**
   * The error reply to a request that is not run (the node is closing, too many are waiting). Throws like
   * handle() when the request has no readable id/replyTo.
   */
  refuse(payload: unknown, error: PlugwatchError, requestTopic?: unknown): HandledQuery {
    const { id, base } = address(payload, this.replyTopics, requestTopic);
    return { ...base, reply: errorReply(id, toErrorBody(error)) };
  }

  /** Runs a validated query body (the REST API calls this directly). */
  async execute(q: QueryBody): Promise<QueryData> {
    switch (q.type) {
      case "range":
        return this.range(q);
      case "latest":
        return this.latest(q);
      case "latestN":
        return this.latestN(q);
      case "energy":
        return this.energy(q);
      case "cost": {
        if (!this.opts.tariffs) throw new PlugwatchError("TARIFF_INVALID", "no tariff configured on the query component (plugwatch-influx-query → Tariff)");
        return runCostQuery(q, {
          run: this.opts.run,
          registry: this.opts.registry(),
          tariffs: this.opts.tariffs(),
          limits: this.limits,
          rollups: this.rollups,
          now: this.now(),
        });
      }
    }
  }

  private select(target: Target | undefined): Device[] {
    return this.opts.registry().select(target ?? { all: true });
  }

  private async range(q: RangeQuery): Promise<QueryData> {
    const devices = this.select(q.target);
    const ids = devices.map((d) => d.id);
    const aggregated = q.aggregate !== undefined || q.interval !== undefined;
    const plan = planQuery({
      from: q.from,
      to: q.to,
      now: this.now(),
      alignMs: aggregated && q.interval !== undefined ? intervalMs(q.interval) : undefined,
      rawRows: !aggregated,
      rollupable: rangeRollupable(q),
      rollups: this.rollups,
    });
    if (this.opts.rangeCache && rangeCacheable(q)) return runCachedRange(q, ids, plan, this.opts.run, this.limits, this.opts.rangeCache);
    if (plan.resolution !== "raw") return { ...(await runRollupRange(q, ids, plan, this.opts.run, this.limits)), resolution: plan.resolution };
    const stmt = buildRange(q, ids, this.limits);
    const series = await this.opts.run(stmt);
    const out = series.filter((s) => typeof s.tags?.device === "string").map((s) => ({ device: s.tags?.device as string, points: rows(s) }));
    if (stmt.strictLimit && out.some((s) => s.points.length >= stmt.perDeviceLimit)) {
      throw new PlugwatchError("LIMIT_EXCEEDED", `more than ${this.limits.maxRows} rows: narrow the range, aggregate, or set a limit`);
    }
    out.sort((a, b) => compare(a.device, b.device));
    return { type: "range", series: out, resolution: "raw" };
  }

  private async latest(q: LatestQuery): Promise<QueryData> {
    const devices = this.select(q.target);
    const days = q.inactiveAfterDays ?? 30;
    const since = q.all ? undefined : Math.max(0, this.now() - days * DAY_MS);
    const series = await this.opts.run(
      buildLatest(
        q.measurement ?? DEFAULT_MEASUREMENT,
        devices.map((d) => d.id),
        since,
      ),
    );
    const readings = series
      .filter((s) => typeof s.tags?.device === "string" && s.values.length > 0)
      .map((s) => ({ device: s.tags?.device as string, ...rows(s)[0] }));
    readings.sort((a, b) => compare(a.device, b.device));
    return { type: "latest", readings };
  }

  private async latestN(q: LatestNQuery): Promise<QueryData> {
    if (!this.opts.registry().get(q.device)) throw new PlugwatchError("UNKNOWN_DEVICE", `unknown device '${q.device}'`);
    const series = await this.opts.run(buildLatestN(q.measurement ?? DEFAULT_MEASUREMENT, q.device, q.limit ?? 1440, this.limits));
    const readings = series.flatMap((s) => rows(s)).map(({ device: _device, ...rest }) => rest);
    readings.sort((a, b) => (b.ts as number) - (a.ts as number));
    return { type: "latestN", device: q.device, readings };
  }

  private energy(q: EnergyQuery): Promise<QueryData> {
    const registry = this.opts.registry();
    const devices = registry.select(q.target ?? { all: true });
    const { dayCache } = this.opts;
    return runEnergy(q, devices, {
      run: this.opts.run,
      registry,
      limits: this.limits,
      rollups: this.rollups,
      now: this.now(),
      ...(dayCache ? { dayCache } : {}),
    });
  }
}

/** The query component's tunables, as saved by the editor (numbers or numeric strings; '' or absent = default). */
export interface QueryOptions {
  limits: QueryLimits;
  timeoutMs: number;
  concurrency: number;
}

/** Reads and range-checks the editor's numbers; throws Error naming the bad setting. */
export function parseQueryOptions(raw: Partial<Record<"maxSpanDays" | "maxRawSpanDays" | "maxRows" | "timeout" | "concurrency", unknown>>): QueryOptions {
  const num = (v: unknown, dflt: number, min: number, max: number, what: string): number => {
    if (v === undefined || v === null || v === "") return dflt;
    const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${what} must be an integer between ${min} and ${max}`);
    return n;
  };
  return {
    limits: {
      maxSpanDays: num(raw.maxSpanDays, DEFAULT_LIMITS.maxSpanDays, 1, 3660, "maxSpanDays"),
      maxRawSpanDays: num(raw.maxRawSpanDays, DEFAULT_LIMITS.maxRawSpanDays, 1, 3660, "maxRawSpanDays"),
      maxRows: num(raw.maxRows, DEFAULT_LIMITS.maxRows, 1, 1_000_000, "maxRows"),
    },
    timeoutMs: num(raw.timeout, 30_000, 100, 600_000, "timeout"),
    concurrency: num(raw.concurrency, 8, 1, 64, "concurrency"),
  };
}

export function errorReply(id: string, error: ErrorBody): QueryReply {
  return { v: CONTRACT_VERSION, id, ok: false, error };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
