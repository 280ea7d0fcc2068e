// Picks the storage tier (raw, 1-minute or 1-hour rollups) that serves a query, from its range, its step and the
// tiers' retention; pure and unit-tested. The newest rollup steps always come from raw (rollups are written late).
import { DEFAULT_RETENTION_DAYS, TIER_STEP_MS, type Tier } from "./rollup-schema";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Ranges up to this long are served from raw readings when raw still holds them (exact, freshest). */
export const RAW_MAX_SPAN_MS = 6 * HOUR;
/** Ranges longer than this use the 1-hour rollups when the step allows it. */
export const ONE_MINUTE_MAX_SPAN_MS = 7 * DAY;

/** What the picker knows about the rollups: whether they exist, and each tier's retention in days (0 = forever). */
export interface RollupSettings {
  enabled: boolean;
  retentionDays: Readonly<Record<Tier, number>>;
}

/** Rollups off (every query reads raw readings): the default until the influx config node says they exist. */
export const NO_ROLLUPS: RollupSettings = { enabled: false, retentionDays: DEFAULT_RETENTION_DAYS };

/** One part of a query's range and the tier that serves it. */
export interface Segment {
  tier: Tier;
  from: number;
  to: number;
}

export interface Plan {
  /** The tier that serves the range (the reply's `resolution`); the newest part may still come from raw (see segments). */
  resolution: Tier;
  /** [from, to) split at most in two: the rollup part, then a raw tail for the steps the rollups may not hold yet. */
  segments: [Segment, ...Segment[]];
}

export interface PlanInput {
  from: number;
  to: number;
  now: number;
  /**
   * Every bucket boundary of the query is a multiple of this (ms): the interval of an aggregated range query, the GCD of
   * calendar period boundaries (1 h for local days in whole-hour zones); undefined for raw rows (any tier may serve them).
   */
  alignMs?: number | undefined;
  /** Raw rows are asked for (not aggregates): raw serves them whenever it still holds the range. */
  rawRows?: boolean;
  /** False when the query asks for something the rollups do not keep (another measurement, the relay field…). */
  rollupable: boolean;
  rollups: RollupSettings;
}

/** Does `tier` still hold data from `from` on at `now`? */
export function covers(tier: Tier, from: number, now: number, rollups: RollupSettings): boolean {
  const days = rollups.retentionDays[tier];
  return days === 0 || from >= now - days * DAY;
}

/** Can `tier` answer buckets aligned to `alignMs` (every boundary a multiple of the tier's step)? */
function fits(tier: Tier, alignMs: number | undefined): boolean {
  if (tier === "raw" || alignMs === undefined) return true;
  return alignMs % TIER_STEP_MS[tier] === 0;
}

/** Start of the raw tail: two tier steps before now (the current, unfinished step and the one a rollup may still be writing). */
export function rawTailStart(tier: Exclude<Tier, "raw">, now: number, alignMs?: number): number {
  const step = TIER_STEP_MS[tier];
  const cut = Math.floor(now / step) * step - step;
  const align = alignMs ?? step;
  return Math.floor(cut / align) * align;
}

/**
 * The tier for a query:
 * - raw when rollups are off or cannot answer it, or for raw rows, a range of at most RAW_MAX_SPAN_MS or a step finer
 *   than a minute, while raw still holds the range;
 * - 1-hour rollups for ranges longer than ONE_MINUTE_MAX_SPAN_MS with a step that is a whole number of hours, and for any
 *   hour-aligned range the 1-minute tier no longer holds;
 * - 1-minute rollups otherwise, when they hold the range;
 * - when no tier holds the whole range, the one that holds the most of it (the coarsest that fits): a range that
 *   reaches past the raw retention is never served from raw, where its start is gone.
 */
export function pickTier(i: PlanInput): Tier {
  const span = i.to - i.from;
  const raw = covers("raw", i.from, i.now, i.rollups);
  if (!i.rollups.enabled || !i.rollupable) return "raw";
  const candidates = (["1m", "1h"] as const).filter((t) => fits(t, i.alignMs));
  // A step finer than every rollup: raw while it holds the range, else the finest rollup that does (coarser than asked).
  if (candidates.length === 0) return raw ? "raw" : covers("1m", i.from, i.now, i.rollups) ? "1m" : "1h";
  if (raw && (span <= RAW_MAX_SPAN_MS || i.rawRows)) return "raw";
  if (raw && i.alignMs !== undefined && i.alignMs < MINUTE) return "raw";
  const hourly = candidates.includes("1h");
  const minute = candidates.includes("1m") && covers("1m", i.from, i.now, i.rollups);
  if (hourly && (span > ONE_MINUTE_MAX_SPAN_MS || !minute)) return "1h";
  if (minute) return "1m";
  if (raw) return "raw";
  return hourly ? "1h" : "1m"; // the coarsest candidate (candidates is not empty here)
}

/** The tier and the segments that serve [from, to): a rollup tier gets a raw tail for its newest, possibly unwritten steps. */
export function planQuery(i: PlanInput): Plan {
  const tier = pickTier(i);
  if (tier === "raw") return { resolution: "raw", segments: [{ tier: "raw", from: i.from, to: i.to }] };
  const cut = rawTailStart(tier, i.now, i.alignMs);
  if (cut >= i.to) return { resolution: tier, segments: [{ tier, from: i.from, to: i.to }] };
  if (cut <= i.from) return { resolution: "raw", segments: [{ tier: "raw", from: i.from, to: i.to }] };
  return {
    resolution: tier,
    segments: [
      { tier, from: i.from, to: cut },
      { tier: "raw", from: cut, to: i.to },
    ],
  };
}

/** What the influx config node may say about its rollups: days per tier as saved, or its parsed retention (ms per tier, 0 = forever). */
export interface RollupConfigInput {
  enabled?: unknown;
  retentionDays?: Partial<Record<Tier, unknown>>;
  durationMs?: Partial<Record<Tier, unknown>>;
}

/** Rollup settings from the influx config node ('' or absent = default); throws naming the bad tier. */
export function rollupSettings(raw: RollupConfigInput | undefined): RollupSettings {
  if (!raw) return NO_ROLLUPS;
  const days = (tier: Tier): number => {
    const ms = raw.durationMs?.[tier];
    if (typeof ms === "number" && Number.isFinite(ms) && ms >= 0) return ms / DAY;
    const v = raw.retentionDays?.[tier];
    if (v === undefined || v === null || v === "") return DEFAULT_RETENTION_DAYS[tier];
    const n = typeof v === "number" ? v : Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 36_500) throw new Error(`retention of tier ${tier} must be a whole number of days (0 = forever)`);
    return n;
  };
  return { enabled: raw.enabled === true, retentionDays: { raw: days("raw"), "1m": days("1m"), "1h": days("1h") } };
}
