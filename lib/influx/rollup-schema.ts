// Names shared by everything that writes or reads the rollup tiers (retention policies, continuous queries or the
// rollup worker, the query component's resolution picker, Grafana panels, backups). One place, so they cannot drift.

/** The three storage tiers, finest first. */
export const TIERS = ["raw", "1m", "1h"] as const;
export type Tier = (typeof TIERS)[number];

/** InfluxDB 1.x retention policy of each tier (2.x: bucket name suffix; see docs/retention.md). */
export const TIER_RP: Readonly<Record<Tier, string>> = { raw: "plugwatch_raw", "1m": "plugwatch_1m", "1h": "plugwatch_1h" };

/** Width of one rollup row of a tier, ms (raw: none). */
export const TIER_STEP_MS: Readonly<Record<Exclude<Tier, "raw">, number>> = { "1m": 60_000, "1h": 3_600_000 };

/** Default retention of each tier in days; 0 = forever. Raw 30 days, 1-minute rollups 2 years, hourly forever. */
export const DEFAULT_RETENTION_DAYS: Readonly<Record<Tier, number>> = { raw: 30, "1m": 730, "1h": 0 };

/** Gauge fields: each rollup row keeps `<field>_mean`, `<field>_min`, `<field>_max`. */
export const GAUGE_FIELDS = ["power", "voltage", "current"] as const;
export const GAUGE_AGGREGATES = ["mean", "min", "max"] as const;

/**
 * Counter fields (cumulative, may restart from 0): each rollup row keeps `<field>_first`, `<field>_last`,
 * `<field>_min`, `<field>_max`, enough for lib/influx/energy.ts's bucketInner to stay exact across a restart.
 */
export const COUNTER_FIELDS = ["energy"] as const;
export const COUNTER_AGGREGATES = ["first", "last", "min", "max"] as const;

/** Number of raw readings behind a rollup row (field `n`). */
export const COUNT_FIELD = "n";

/** The rollup field name of a raw field and aggregate, e.g. power + mean → power_mean. */
export function rollupField(field: string, aggregate: string): string {
  return `${field}_${aggregate}`;
}

/** Every field a rollup row of the plug measurement carries. */
export function rollupFields(): string[] {
  return [
    ...GAUGE_FIELDS.flatMap((f) => GAUGE_AGGREGATES.map((a) => rollupField(f, a))),
    ...COUNTER_FIELDS.flatMap((f) => COUNTER_AGGREGATES.map((a) => rollupField(f, a))),
    COUNT_FIELD,
  ];
}
