// The query node's storage: a coalescing statement runner on the selected InfluxDB, or one that answers STORAGE_UNAVAILABLE.
import { PlugwatchError } from "../contracts/errors";
import { coalesce } from "./coalesce";
import { influxRunner, type InfluxQueryTarget, type StatementRunner } from "./query-service";
import { rollupSettings, type RollupConfigInput, type RollupSettings } from "./resolution";

/** What the query node uses of the plugwatch-influx config node; settings/http are absent while its configuration is invalid. */
export interface QueryStorageSource {
  settings?: InfluxQueryTarget["settings"] | undefined;
  http?: InfluxQueryTarget["http"] | undefined;
  /** The rollup tiers as the config node keeps them; none = raw readings only. */
  rollups?: RollupConfigInput | undefined;
}

/**
 * Identical statements running at the same time share one request (coalesce); `signal` ends running queries at
 * once (close). Without a usable config node every statement fails STORAGE_UNAVAILABLE with `missing()`.
 */
export function queryStorage(
  influx: QueryStorageSource | undefined,
  o: { database?: string; timeoutMs: number; signal: AbortSignal },
  missing: () => string,
): { run: StatementRunner; rollups: RollupSettings } {
  const { settings, http } = influx ?? {};
  const run: StatementRunner =
    settings && http ? coalesce(influxRunner({ settings, http }, o)) : () => Promise.reject(new PlugwatchError("STORAGE_UNAVAILABLE", missing()));
  return { run, rollups: rollupSettings(influx?.rollups) };
}
