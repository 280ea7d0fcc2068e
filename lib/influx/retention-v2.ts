// Retention tiers of InfluxDB 2.x: one bucket per tier (retention rules), one task per rollup tier (Flux), and a DBRP
// mapping per rollup bucket so InfluxQL readers find the tiers under the 1.x RP names. Pure: state in, requests out.
import type { HttpRequestSpec, InfluxSettings } from "./settings";
import type { RetentionSettings } from "./retention";
import { fluxRollup, fluxTask, ROLLUP_TIERS, type RollupTier } from "./rollup-aggregate";
import { TIER_RP, TIERS, type Tier } from "./rollup-schema";

/** A request of the plan: the spec plus its JSON body, and why (for the log). */
export interface V2Request {
  spec: HttpRequestSpec;
  body?: string;
  why: string;
}

export interface V2Bucket {
  id: string;
  name: string;
  /** Seconds, 0 = forever (no expire rule). */
  everySeconds: number;
}
export interface V2Task {
  id: string;
  name: string;
  flux: string;
  status: string;
}
export interface V2Dbrp {
  id: string;
  bucketID: string;
  database: string;
  retention_policy: string;
}

export interface V2State {
  orgID: string;
  buckets: V2Bucket[];
  tasks: V2Task[];
  dbrps: V2Dbrp[];
}

/** Bucket of each tier: raw is the configured bucket, rollups get `<bucket>_1m`, `<bucket>_1h`. */
export function tierBucket(bucket: string, tier: Tier): string {
  return tier === "raw" ? bucket : `${bucket}_${tier}`;
}

export const taskName = (tier: RollupTier): string => `plugwatch_rollup_${tier}`;

function headers(s: InfluxSettings, json: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  if (s.token) h.Authorization = `Token ${s.token}`;
  if (json) h["Content-Type"] = "application/json";
  return h;
}

const get = (s: InfluxSettings, path: string, query: Record<string, string>): HttpRequestSpec => ({ method: "GET", path, query, headers: headers(s, false) });

/** The reads that make up V2State (the org first: the others need its id). */
export function orgRequest(s: InfluxSettings): HttpRequestSpec {
  return get(s, "/api/v2/orgs", { org: s.org ?? "" });
}
export function stateRequests(s: InfluxSettings, orgID: string): { buckets: HttpRequestSpec[]; tasks: HttpRequestSpec[]; dbrps: HttpRequestSpec } {
  const bucket = s.bucket ?? "";
  return {
    buckets: TIERS.map((t) => get(s, "/api/v2/buckets", { orgID, name: tierBucket(bucket, t) })),
    tasks: ROLLUP_TIERS.map((t) => get(s, "/api/v2/tasks", { orgID, name: taskName(t) })),
    dbrps: get(s, "/api/v2/dbrps", { orgID, db: s.database }),
  };
}

type Json = Record<string, unknown>;
const text = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v.filter((x) => typeof x === "object" && x !== null) as Json[]) : []);

export function parseOrgID(json: unknown, org: string): string | undefined {
  const o = arr((json as Json)?.orgs).find((x) => x.name === org);
  return typeof o?.id === "string" ? o.id : undefined;
}
export function parseBuckets(json: unknown): V2Bucket[] {
  return arr((json as Json)?.buckets).map((b) => ({
    id: text(b.id),
    name: text(b.name),
    everySeconds: Number(arr(b.retentionRules).find((r) => r.type === "expire")?.everySeconds ?? 0),
  }));
}
export function parseTasks(json: unknown): V2Task[] {
  return arr((json as Json)?.tasks).map((t) => ({ id: text(t.id), name: text(t.name), flux: text(t.flux), status: text(t.status) }));
}
export function parseDbrps(json: unknown): V2Dbrp[] {
  return arr((json as Json)?.content).map((d) => ({
    id: text(d.id),
    bucketID: text(d.bucketID),
    database: text(d.database),
    retention_policy: text(d.retention_policy),
  }));
}

const retentionRules = (ms: number): { type: "expire"; everySeconds: number }[] => (ms === 0 ? [] : [{ type: "expire", everySeconds: Math.round(ms / 1000) }]);

/**
 * Requests that bring the 2.x state in step: buckets created or their retention patched, then (for buckets that
 * exist) DBRP mappings and tasks. Run, re-read the state and plan again until empty: a bucket created in one
 * round gets its mapping in the next.
 */
export function planRetentionV2(s: InfluxSettings, settings: RetentionSettings, state: V2State): V2Request[] {
  if (!settings.enabled) return [];
  const bucket = s.bucket ?? "";
  const org = s.org ?? "";
  const out: V2Request[] = [];
  const byName = new Map(state.buckets.map((b) => [b.name, b]));
  for (const tier of TIERS) {
    const name = tierBucket(bucket, tier);
    const want = settings.durationMs[tier];
    const have = byName.get(name);
    if (!have)
      out.push({
        spec: { method: "POST", path: "/api/v2/buckets", query: {}, headers: headers(s, true) },
        body: JSON.stringify({ orgID: state.orgID, name, retentionRules: retentionRules(want) }),
        why: `create bucket ${name}`,
      });
    else if (have.everySeconds * 1000 !== want)
      out.push({
        spec: { method: "PATCH", path: `/api/v2/buckets/${encodeURIComponent(have.id)}`, query: {}, headers: headers(s, true) },
        body: JSON.stringify({ retentionRules: retentionRules(want) }),
        why: `set bucket ${name} retention`,
      });
  }
  for (const tier of ROLLUP_TIERS) {
    const b = byName.get(tierBucket(bucket, tier));
    if (!b) continue;
    const rp = TIER_RP[tier];
    if (!state.dbrps.some((d) => d.database === s.database && d.retention_policy === rp && d.bucketID === b.id))
      out.push({
        spec: { method: "POST", path: "/api/v2/dbrps", query: {}, headers: headers(s, true) },
        body: JSON.stringify({ orgID: state.orgID, bucketID: b.id, database: s.database, retention_policy: rp, default: false }),
        why: `map ${s.database}/${rp} to bucket ${b.name}`,
      });
    const flux = fluxTask(taskName(tier), org, bucket, b.name, tier);
    const task = state.tasks.find((t) => t.name === taskName(tier));
    if (!task)
      out.push({
        spec: { method: "POST", path: "/api/v2/tasks", query: {}, headers: headers(s, true) },
        body: JSON.stringify({ orgID: state.orgID, flux, status: "active", description: `Plugwatch ${tier} rollup` }),
        why: `create task ${taskName(tier)}`,
      });
    else if (task.flux !== flux || task.status !== "active")
      out.push({
        spec: { method: "PATCH", path: `/api/v2/tasks/${encodeURIComponent(task.id)}`, query: {}, headers: headers(s, true) },
        body: JSON.stringify({ flux, status: "active" }),
        why: `update task ${taskName(tier)}`,
      });
  }
  return out;
}

/** The Flux query request that re-aggregates [startMs, endMs) of a tier (late data), for /api/v2/query. */
export function reaggregateRequestV2(s: InfluxSettings, tier: RollupTier, startMs: number, endMs: number): V2Request {
  const bucket = s.bucket ?? "";
  const range = `start: ${new Date(startMs).toISOString()}, stop: ${new Date(endMs).toISOString()}`;
  return {
    spec: { method: "POST", path: "/api/v2/query", query: { org: s.org ?? "" }, headers: { ...headers(s, true), Accept: "application/csv" } },
    body: JSON.stringify({ query: fluxRollup(s.org ?? "", bucket, tierBucket(bucket, tier), tier, range), type: "flux" }),
    why: `re-aggregate ${tier} ${new Date(startMs).toISOString()}..${new Date(endMs).toISOString()}`,
  };
}
