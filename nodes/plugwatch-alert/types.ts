// Types of the alert node: what the editor saves and the runtime instance.
import type { Node, NodeDef } from "node-red";

export interface PlugwatchAlertNodeDef extends NodeDef {
  /** MQTT topic root of the alert topics (default plugwatch). */
  root: string;
  /** JSON array of rules (see nodes/plugwatch-alert.md). */
  rules: string;
  /** Optional plugwatch-registry config node id: device list for stale rules, kinds, locations, idleWatts. */
  registry: string;
  /** Seconds between clock ticks (durations, silence, schedules, midnight, reminders). Default 1. */
  tickInterval: number | string;
  /** Keep the active set in the node context (the `file` store when configured). Default true. */
  persist: boolean;
  /** Self-alerts on the pipeline itself (lib/metrics/self-alerts.ts). Default true. */
  selfAlerts?: boolean;
  /** Thresholds of the self-alerts (empty = default): seconds, percent. */
  storageDownS?: number | string;
  spoolPercent?: number | string;
  spoolAgeS?: number | string;
  missPercent?: number | string;
  missWindowS?: number | string;
  brokerDownS?: number | string;
}

export type PlugwatchAlertNode = Node;
