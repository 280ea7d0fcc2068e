// The nodes' side of lib/metrics: a node's metric label, and the runtime's mqtt-broker config nodes as broker sources.
import type { NodeAPI } from "node-red";
import { pipeline } from "../../lib/metrics/hub";
import { enableProcessMetrics } from "../../lib/metrics/registry";
import type { MqttBrokerNode } from "../plugwatch-http-api/types";

/** The label a node's series carry in /metrics: its name, else its id. */
export const metricLabel = (node: { name?: string | undefined; id: string }): string => node.name?.trim() || node.id;

/**
 * Registers every mqtt-broker and plugwatch-mqtt config node of the deployed flows (RED.nodes.eachNode) as a broker
 * source of the hub: `connected` is the node's own flag. Returns the function that removes them (on close).
 */
export function watchBrokers(RED: NodeAPI): () => void {
  const removers: (() => void)[] = [];
  RED.nodes.eachNode((def) => {
    if (def.type !== "mqtt-broker" && def.type !== "plugwatch-mqtt") return;
    const id = def.id;
    // A name with an unresolved ${VAR} part is no label: the id is stable and readable enough.
    const label = def.name && !def.name.includes("${") ? def.name.trim() : id;
    removers.push(pipeline.brokers.add(id, label, { connected: () => (RED.nodes.getNode(id) as MqttBrokerNode | null)?.connected === true }));
  });
  return () => removers.forEach((remove) => remove());
}

/** settings.js `plugwatch: { metrics: { processMetrics: true } }` adds prom-client's process metrics (off by default). */
export function processMetricsFromSettings(plugwatch: unknown): void {
  const metrics = plugwatch !== null && typeof plugwatch === "object" ? (plugwatch as { metrics?: unknown }).metrics : undefined;
  if (metrics !== null && typeof metrics === "object" && (metrics as { processMetrics?: unknown }).processMetrics === true) enableProcessMetrics();
}
