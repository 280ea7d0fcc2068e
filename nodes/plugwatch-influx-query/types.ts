// Types of the plugwatch-influx-query node: what the editor saves and what the node needs from the plugwatch-influx config node.
import type { Node, NodeDef } from "node-red";
import type { InfluxSettings } from "../../lib/influx/settings";
import type { InfluxHttp } from "../../lib/influx/http";
import type { RollupConfigInput } from "../../lib/influx/resolution";

export interface PlugwatchInfluxQueryNodeDef extends NodeDef {
  /** id of the plugwatch-influx config node */
  influx: string;
  /** id of the plugwatch-registry config node */
  registry: string;
  /** id of the plugwatch-tariff config node ('' or absent in flows saved before it: cost queries answer TARIFF_INVALID) */
  tariff?: string;
  /** id of a plugwatch-mqtt connection: requests are read and replies published there ('' or absent = wires only). */
  connection?: string;
  /** Request topic filter on that connection ('' or absent = plugwatch/api/request/query). */
  topic?: string;
  /** Database override ('' = the config node's database). */
  database: string;
  /** Longest aggregated range / energy query, days (default 366). */
  maxSpanDays: number | string;
  /** Longest raw range query, days (default 31). */
  maxRawSpanDays: number | string;
  /** Most rows one query may return (default 100000). */
  maxRows: number | string;
  /** Per-query timeout, ms (default 30000). */
  timeout: number | string;
  /** Queries run at the same time (default 8); more wait in order. */
  concurrency: number | string;
}

/** What plugwatch-influx-query uses from the plugwatch-influx config node. */
export interface InfluxConfigLike extends Node {
  settings: InfluxSettings;
  http: InfluxHttp;
  /** The rollup tiers the config node keeps ({enabled, durationMs per tier} or days per tier); absent = raw readings only. */
  rollups?: RollupConfigInput;
}

export type PlugwatchInfluxQueryNode = Node;
