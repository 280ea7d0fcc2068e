// Types of the plugwatch-influx-hook node: what the editor saves.
import type { Node, NodeDef } from "node-red";
import type { SpoolPolicy } from "../../lib/spool";

export interface PlugwatchInfluxHookNodeDef extends NodeDef {
  /** id of the plugwatch-influx config node */
  influx: string;
  /** id of the plugwatch-registry config node ('' = none: only with acceptUnknown) */
  registry: string;
  /** Measurement for plug readings and for generic readings without one (default plug). */
  measurement: string;
  /** Lines per write request (default 5000). */
  batchSize: number | string;
  /** Longest wait (ms) before spooled lines are sent (default 1000). */
  flushInterval: number | string;
  /** Spool bound in MiB (default 512). */
  maxSpoolMB: number | string;
  spoolPolicy: SpoolPolicy;
  /** Store readings of devices missing from the registry (tagged with device only). */
  acceptUnknown: boolean;
  /** Concurrent write requests (default 1). */
  maxInFlight: number | string;
  /** Create the database on 1.x when InfluxDB answers "database not found" (default true). */
  createDatabase: boolean;
  /** Seconds between stats messages on the output (0 = none). */
  statsInterval: number | string;
  /** Topic root for the stats message (default plugwatch). */
  topicRoot: string;
  /** Spool directory override ('' = <userDir>/plugwatch-spool/<node id>). */
  spoolDir: string;
}

export type PlugwatchInfluxHookNode = Node;
