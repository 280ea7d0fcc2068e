// Rows of an InfluxDB series as reply points: `time` → `ts` (epoch ms), absent (null) fields dropped.

/** One series of an InfluxDB /query result. */
export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** A reply row: `ts` plus the fields that had a value. */
export type SeriesPoint = Record<string, number | boolean | string>;

/**
 * Rows of a series as objects. Plain loops with the keys mapped once per series, not once per cell: a 24 h 1-minute
 * range is 1 440 rows per device (docs/performance.md).
 */
export function seriesPoints(s: Pick<InfluxSeries, "columns" | "values">): SeriesPoint[] {
  const keys = s.columns.map((c) => (c === "time" ? "ts" : c));
  const out = new Array<SeriesPoint>(s.values.length);
  for (let r = 0; r < s.values.length; r++) {
    const v = s.values[r] ?? [];
    const row: SeriesPoint = {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const value = v[i];
      if (key === undefined || (typeof value !== "number" && typeof value !== "boolean" && typeof value !== "string")) continue;
      row[key] = value;
    }
    out[r] = row;
  }
  return out;
}
