// Types of the plugwatch-influx config node, imported by the nodes that write to or query InfluxDB.
import type { Node, NodeDef } from "node-red";
import type { InfluxFlavour, InfluxSettings } from "../../lib/influx/settings";
import type { InfluxHttp } from "../../lib/influx/http";
import type { RetentionSettings } from "../../lib/influx/retention";
import type { RetentionManager } from "../../lib/influx/retention-manager";

/** What the editor saves (credentials are stored separately by Node-RED, never in the flow file). */
export interface PlugwatchInfluxNodeDef extends NodeDef {
  url: string;
  flavour: InfluxFlavour;
  database: string;
  retentionPolicy: string;
  org: string;
  bucket: string;
  /** Per-request timeout in ms (string or number as saved by the editor). */
  timeout: number | string;
  gzip: boolean;
  rejectUnauthorized: boolean;
  /** Optional path of a PEM CA bundle for https URLs. */
  caFile: string;
  /** Manage retention tiers and rollups (absent in flows saved before it existed = off; docs/retention.md). */
  rollups?: boolean;
  /** Retention per tier: days, or `<n>h|d|w`, or `inf`; empty = default (30d, 730d, inf). */
  rawRetention?: string;
  rollup1mRetention?: string;
  rollup1hRetention?: string;
}

export interface PlugwatchInfluxCredentials {
  username?: string;
  password?: string;
  token?: string;
}

export interface PlugwatchInfluxNode extends Node<PlugwatchInfluxCredentials> {
  /** Validated settings, or undefined when the configuration is invalid (see `configError`). */
  settings?: InfluxSettings;
  /** One keep-alive connection pool shared by every node using this config; closed with the config node. */
  http?: InfluxHttp | undefined;
  configError?: Error;
  /** Retention tiers and late-data re-aggregation (state "off" when not managed); the hook reports its status. */
  retention?: RetentionManager;
  /** The tiers the query component may read (lib/influx/resolution.ts); absent or disabled: raw readings only. */
  rollups?: RetentionSettings;
  /** Returns settings and transport, or throws the configuration error. */
  require(): { settings: InfluxSettings; http: InfluxHttp };
}
