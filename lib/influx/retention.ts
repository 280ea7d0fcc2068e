// Retention tiers of InfluxDB 1.x: the settings (three durations), the server's state as SHOW … reports it, and the
// exact statements that bring the server in step — idempotent: a server already in step gets no statement.
import { escape } from "@influxdata/influxdb-client";
import { PlugwatchError } from "../contracts/errors";
import { continuousQuery, CQ_PREFIX, ROLLUP_TIERS, type ContinuousQuery } from "./rollup-aggregate";
import { DEFAULT_RETENTION_DAYS, TIER_RP, TIERS, type Tier } from "./rollup-schema";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** InfluxDB refuses a retention policy shorter than one hour. */
export const MIN_RETENTION_MS = HOUR_MS;
/** Longest finite duration accepted (100 years); longer is "forever" anyway. */
export const MAX_RETENTION_MS = 36_500 * DAY_MS;

export interface RetentionSettings {
  /** Manage retention policies and rollups; false leaves the database exactly as it is. */
  enabled: boolean;
  /** Retention of each tier in ms; 0 = forever. */
  durationMs: Record<Tier, number>;
}

/** The editor's fields (plugwatch-influx): `rollups` on/off and a duration per tier. */
export interface RetentionConfigInput {
  rollups?: unknown;
  rawRetention?: unknown;
  rollup1mRetention?: unknown;
  rollup1hRetention?: unknown;
}

export const RETENTION_FIELDS: Readonly<Record<Tier, keyof RetentionConfigInput>> = {
  raw: "rawRetention",
  "1m": "rollup1mRetention",
  "1h": "rollup1hRetention",
};

/**
 * A duration as the editor saves it: a number of days, `<n>h`, `<n>d`, `<n>w`, or `inf` / `forever` / `0` for
 * forever; empty = the tier's default. Returns ms (0 = forever); throws a message naming the problem.
 */
export function parseRetentionDuration(raw: unknown, defaultDays: number): number {
  const text = typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw.trim().toLowerCase() : raw === undefined ? "" : null;
  if (text === null) throw new Error(`must be a duration such as 30d, 104w, 48h or inf`);
  if (text === "") return defaultDays * DAY_MS;
  if (text === "inf" || text === "forever" || text === "0") return 0;
  const m = /^(\d{1,7})\s*(h|d|w)?$/.exec(text);
  if (!m) throw new Error(`'${text.slice(0, 40)}' is not a duration such as 30d, 104w, 48h or inf`);
  const n = Number(m[1]);
  const ms = n * (m[2] === "h" ? HOUR_MS : m[2] === "w" ? 7 * DAY_MS : DAY_MS);
  if (ms < MIN_RETENTION_MS) throw new Error(`'${text}' is shorter than InfluxDB's minimum of 1h`);
  if (ms > MAX_RETENTION_MS) throw new Error(`'${text}' is longer than 100 years: use inf for forever`);
  return ms;
}

const longer = (a: number, b: number): boolean => (a === 0 ? b !== 0 : b !== 0 && a > b);

/**
 * Editor config → RetentionSettings. Absent `rollups` (a flow saved before this setting existed) means off, so an
 * upgrade never starts expiring data by itself. Bad durations, or a finer tier kept longer than a coarser one,
 * throw RETENTION_INVALID naming every bad field.
 */
export function parseRetentionSettings(c: RetentionConfigInput): RetentionSettings {
  const problems: string[] = [];
  const durationMs: Record<Tier, number> = { raw: 0, "1m": 0, "1h": 0 };
  for (const tier of TIERS) {
    const field = RETENTION_FIELDS[tier];
    try {
      durationMs[tier] = parseRetentionDuration(c[field], DEFAULT_RETENTION_DAYS[tier]);
    } catch (err) {
      problems.push(`${field}: ${(err as Error).message}`);
    }
  }
  if (!problems.length) {
    // The query side reads a coarser tier where a finer one has expired: each tier must keep at least as long.
    if (longer(durationMs.raw, durationMs["1m"])) problems.push(`rawRetention: must not be longer than rollup1mRetention`);
    if (longer(durationMs["1m"], durationMs["1h"])) problems.push(`rollup1mRetention: must not be longer than rollup1hRetention`);
  }
  if (problems.length) throw new PlugwatchError("RETENTION_INVALID", `invalid retention settings: ${problems.join("; ")}`);
  return { enabled: c.rollups === true || c.rollups === "true", durationMs };
}

/** InfluxQL duration literal: whole hours, or INF for forever. */
export function influxqlDuration(ms: number): string {
  return ms === 0 ? "INF" : `${Math.round(ms / HOUR_MS)}h`;
}

/** Human text for logs and /health: 30d, 2w, 36h, inf. */
export function durationText(ms: number): string {
  if (ms === 0) return "inf";
  return ms % DAY_MS === 0 ? `${ms / DAY_MS}d` : `${Math.round(ms / HOUR_MS)}h`;
}

/** A Go duration as SHOW RETENTION POLICIES prints it (`720h0m0s`, `0s` = forever) → ms; NaN when unparsable. */
export function parseGoDuration(s: string): number {
  const units: Record<string, number> = { h: HOUR_MS, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (units[m[2] ?? ""] ?? NaN);
    end = re.lastIndex;
  }
  return s.length > 0 && end === s.length ? Math.round(total) : NaN;
}

export interface RetentionPolicyState {
  name: string;
  /** ms, 0 = forever. */
  durationMs: number;
  default: boolean;
}

export interface ContinuousQueryState {
  name: string;
  query: string;
}

/** The database as SHOW RETENTION POLICIES / SHOW CONTINUOUS QUERIES report it. */
export interface ServerState {
  databaseExists: boolean;
  retentionPolicies: RetentionPolicyState[];
  continuousQueries: ContinuousQueryState[];
}

interface ShowResult {
  results?: { error?: string; series?: { name?: string; columns?: string[]; values?: unknown[][] }[] }[];
}

const text = (v: unknown): string => (typeof v === "string" ? v : "");

function rows(json: unknown): { name?: string; row: Record<string, unknown> }[] {
  const out: { name?: string; row: Record<string, unknown> }[] = [];
  for (const r of (json as ShowResult)?.results ?? [])
    for (const s of r.series ?? [])
      for (const v of s.values ?? [])
        out.push({ ...(s.name !== undefined ? { name: s.name } : {}), row: Object.fromEntries((s.columns ?? []).map((c, i) => [c, v[i]])) });
  return out;
}

/** The JSON of `SHOW RETENTION POLICIES ON db`; a "database not found" error means the database is missing. */
export function parseRetentionPolicies(json: unknown): { databaseExists: boolean; retentionPolicies: RetentionPolicyState[] } {
  const err = (json as ShowResult)?.results?.[0]?.error;
  if (err && /database not found/i.test(err)) return { databaseExists: false, retentionPolicies: [] };
  if (err) throw new PlugwatchError("ROLLUP_FAILED", `SHOW RETENTION POLICIES failed: ${err.slice(0, 300)}`);
  const retentionPolicies = rows(json).map(({ row }) => {
    const durationMs = parseGoDuration(text(row.duration));
    if (Number.isNaN(durationMs)) throw new PlugwatchError("ROLLUP_FAILED", `SHOW RETENTION POLICIES: unreadable duration '${text(row.duration)}'`);
    return { name: text(row.name), durationMs, default: row.default === true };
  });
  return { databaseExists: true, retentionPolicies };
}

/** The JSON of `SHOW CONTINUOUS QUERIES`: the CQs of `database` only (one series per database). */
export function parseContinuousQueries(json: unknown, database: string): ContinuousQueryState[] {
  return rows(json)
    .filter((r) => r.name === database)
    .map(({ row }) => ({ name: text(row.name), query: text(row.query) }));
}

export interface PlannedStatement {
  /** InfluxQL, built from settings and fixed identifiers only. */
  text: string;
  /** Why, for the log: e.g. `create plugwatch_1m (730d)`. */
  why: string;
}

export interface TierPlanInput {
  database: string;
  /** The write RP set on the config node; when set it is the raw tier (read by the rollups, its duration left alone). */
  customRawRp?: string;
  settings: RetentionSettings;
}

const q = (id: string): string => escape.quoted(id);

/** The RP rollups read raw points from. */
export function rawSourceRp(input: Pick<TierPlanInput, "customRawRp">): string {
  return input.customRawRp || TIER_RP.raw;
}

/** The continuous queries the settings call for (one per rollup tier). */
export function expectedContinuousQueries(input: TierPlanInput): ContinuousQuery[] {
  return ROLLUP_TIERS.map((t) => continuousQuery(input.database, t, rawSourceRp(input)));
}

/**
 * Statements that bring `state` in step with the settings, in order: database, retention policies (the raw one
 * DEFAULT, so writers without `rp` land in it), then continuous queries (stale Plugwatch CQs dropped first).
 * Empty when the server is already in step or management is off.
 */
export function planRetention(input: TierPlanInput, state: ServerState): PlannedStatement[] {
  if (!input.settings.enabled) return [];
  const { database } = input;
  const out: PlannedStatement[] = [];
  if (!state.databaseExists) out.push({ text: `CREATE DATABASE ${q(database)}`, why: `create database ${database}` });
  const rps = new Map(state.retentionPolicies.map((r) => [r.name, r]));
  for (const tier of TIERS) {
    if (tier === "raw" && input.customRawRp) continue; // the user's own RP: its duration and DEFAULT flag are theirs
    const name = TIER_RP[tier];
    const want = input.settings.durationMs[tier];
    const makeDefault = tier === "raw";
    const have = rps.get(name);
    const dur = influxqlDuration(want);
    if (!have) {
      out.push({
        text: `CREATE RETENTION POLICY ${q(name)} ON ${q(database)} DURATION ${dur} REPLICATION 1${makeDefault ? " DEFAULT" : ""}`,
        why: `create ${name} (${durationText(want)}${makeDefault ? ", default" : ""})`,
      });
      continue;
    }
    const changes: string[] = [];
    const why: string[] = [];
    if (have.durationMs !== want) {
      changes.push(`DURATION ${dur}`);
      why.push(`${durationText(have.durationMs)} → ${durationText(want)}`);
    }
    if (makeDefault && !have.default) {
      changes.push("DEFAULT");
      why.push("default");
    }
    if (changes.length)
      out.push({ text: `ALTER RETENTION POLICY ${q(name)} ON ${q(database)} ${changes.join(" ")}`, why: `alter ${name} (${why.join(", ")})` });
  }
  const expected = expectedContinuousQueries(input);
  const wanted = new Set(expected.map((c) => c.name));
  const present = new Set(state.continuousQueries.map((c) => c.name));
  for (const cq of state.continuousQueries)
    if (cq.name.startsWith(CQ_PREFIX) && !wanted.has(cq.name))
      out.push({ text: `DROP CONTINUOUS QUERY ${q(cq.name)} ON ${q(database)}`, why: `drop stale ${cq.name}` });
  for (const cq of expected) if (!present.has(cq.name)) out.push({ text: cq.create, why: `create ${cq.name}` });
  return out;
}
