// plugwatch-influx-query's editor config → typed config, and the reply texts of requests it does not run.
import { parseQueryOptions, type QueryOptions } from "../../lib/influx/query-service";
import { ConfigError } from "../shared/kit";
import { DEFAULT_ROOT, queryRequestTopic } from "../../lib/topics";
import { checkFilter } from "../../lib/mqtt/topic-filter";
import type { PlugwatchInfluxQueryNodeDef } from "./types";

/** Reply messages (MQTT contract texts, like every other error message of a reply). */
export const CLOSING = "plugwatch-influx-query is closing (redeploy or shutdown): the query was cancelled, try again";
export const CLOSED_BEFORE_RUN = "plugwatch-influx-query closed before the query ran";
/** Requests waiting for a free slot beyond `concurrency`; more are answered LIMIT_EXCEEDED at once. */
export const MAX_WAITING = 1000;
/** On close, running queries are aborted; this is how long close waits for them to answer (ms). */
export const CLOSE_GRACE_MS = 5000;
/** Codes that mean this node or its storage is failing (Catch nodes hear them): lib/influx/query-outcome.ts. */
export { SERVER_SIDE } from "../../lib/influx/query-outcome";

export interface QueryNodeConfig extends QueryOptions {
  influx: string;
  registry: string;
  tariff: string;
  database: string | undefined;
  /** id of a plugwatch-mqtt connection the node subscribes and replies on ('' = wires only). */
  connection: string;
  /** Request topic filter on that connection. */
  topic: string;
}

/** The request topic filter ('' or absent: the default root's); throws on a filter MQTT would refuse. */
function requestTopic(v: unknown): string {
  if (v === undefined || v === null || v === "") return queryRequestTopic(DEFAULT_ROOT);
  return checkFilter(v);
}

export function parseQueryNodeConfig(def: PlugwatchInfluxQueryNodeDef): QueryNodeConfig {
  try {
    return {
      ...parseQueryOptions(def),
      influx: def.influx,
      registry: def.registry,
      tariff: def.tariff ?? "",
      database: def.database || undefined,
      connection: def.connection ?? "",
      topic: requestTopic(def.topic),
    };
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
}
