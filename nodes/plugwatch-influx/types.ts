// Types of the plugwatch-influx config node, imported by the nodes that write to or query InfluxDB.
import type { Node, NodeDef } from "node-red";
import type { InfluxFlavour, InfluxSettings } from "../../lib/influx/settings";
import type { InfluxHttp } from "../../lib/influx/http";

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
  http?: InfluxHttp;
  configError?: Error;
  /** Returns settings and transport, or throws the configuration error. */
  require(): { settings: InfluxSettings; http: InfluxHttp };
}
