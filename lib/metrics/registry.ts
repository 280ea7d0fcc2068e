// Plugwatch's Prometheus metrics: one prom-client Registry for the runtime (not prom-client's global default), the
// metric definitions, and the observe helpers the node adapters call. Counters that the libs already count are read
// from the pipeline hub at scrape time; durations are observed as they happen.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { pipeline, type CollectorTotals, type HookSnapshot, type PipelineHub } from "./hub";

/** The runtime's metrics registry, served by plugwatch-http-api at {basePath}/metrics. */
export const metricsRegistry = new Registry();

/** Time source of the age gauges (tests may replace it). */
let now: () => number = Date.now;
export function setMetricsClock(fn: () => number): void {
  now = fn;
}

/** The hub the scrape reads (the process's, unless a test hands its own). */
let hub: PipelineHub = pipeline;
export function setMetricsHub(h: PipelineHub): void {
  hub = h;
}

const registers = [metricsRegistry];
const FAST = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const SLOW = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// ---- collectors (label collector = the node's name, else its id) ----

type Labels = Record<string, string>;
type CollectorValues = (t: CollectorTotals) => number | Record<string, number>;

/** One sample per collector (`values` a number), or one per value of the label `by` (`values` keyed by it). */
function collectorSamples(by: string | undefined, values: CollectorValues): [Labels, number][] {
  const samples: [Labels, number][] = [];
  for (const c of hub.collectors.entries()) {
    const v = values(c.source.totals());
    if (typeof v === "number") samples.push([{ collector: c.label }, v]);
    else for (const [key, n] of Object.entries(v)) samples.push([{ collector: c.label, [by as string]: key }, n]);
  }
  return samples;
}
const collectorLabels = (by?: string): string[] => (by ? ["collector", by] : ["collector"]);
const collectorCounter = (name: string, help: string, by: string | undefined, values: CollectorValues): void =>
  void new Counter({
    name,
    help,
    labelNames: collectorLabels(by),
    registers,
    collect() {
      this.reset();
      for (const [labels, n] of collectorSamples(by, values)) this.inc(labels, n);
    },
  });
const collectorGauge = (name: string, help: string, by: string | undefined, values: CollectorValues): void =>
  void new Gauge({
    name,
    help,
    labelNames: collectorLabels(by),
    registers,
    collect() {
      this.reset();
      for (const [labels, n] of collectorSamples(by, values)) this.set(labels, n);
    },
  });

collectorCounter(
  "plugwatch_collector_cycles_total",
  "Poll slots that came due per collector (polled, missed because the previous poll still ran, or skipped in backoff)",
  undefined,
  (t) => t.cycles,
);
collectorCounter(
  "plugwatch_collector_polls_total",
  "Completed polls per collector and result (ok: the plug answered with data; failed: unreachable, timeout or protocol error)",
  "result",
  (t) => ({ ok: t.ok, failed: t.failed }),
);
collectorCounter(
  "plugwatch_collector_missed_cycles_total",
  "Poll slots that brought no reading, per collector and reason (failed poll, overrun: the previous poll still ran, backoff: plug unreachable)",
  "reason",
  (t) => ({ failed: t.failed, overrun: t.overrun, backoff: t.backoff }),
);
collectorGauge("plugwatch_collector_devices", "Devices per collector by availability state", "state", (t) => ({
  online: t.online,
  offline: t.offline,
  unknown: Math.max(0, t.devices - t.online - t.offline),
}));
export const pollDuration = new Histogram({
  name: "plugwatch_collector_poll_duration_seconds",
  help: "Duration of successful polls per collector, seconds",
  labelNames: ["collector"],
  buckets: FAST,
  registers,
});

// ---- influx hook (label hook = the node's name, else its id) ----

const hookCounter = (name: string, help: string, pick: (s: HookSnapshot) => number): void =>
  void new Counter({
    name,
    help,
    labelNames: ["hook"],
    registers,
    collect() {
      this.reset();
      for (const h of hub.hooks.entries()) this.inc({ hook: h.label }, pick(h.source.snapshot()));
    },
  });
const hookGauge = (name: string, help: string, pick: (s: HookSnapshot) => number): void =>
  void new Gauge({
    name,
    help,
    labelNames: ["hook"],
    registers,
    collect() {
      this.reset();
      for (const h of hub.hooks.entries()) this.set({ hook: h.label }, pick(h.source.snapshot()));
    },
  });
hookCounter("plugwatch_hook_readings_accepted_total", "Readings the hook accepted into its spool", (s) => s.acceptedLines);
hookCounter("plugwatch_hook_readings_written_total", "Readings written to the database", (s) => s.writtenLines);
hookCounter("plugwatch_hook_readings_rejected_total", "Readings the database refused as bad data (never retried)", (s) => s.rejectedLines);
hookCounter("plugwatch_hook_write_retries_total", "Write attempts that failed and were retried", (s) => s.retries);
hookCounter("plugwatch_hook_spool_full_refusals_total", "Inputs refused because the spool was full (SPOOL_FULL)", (s) => s.spoolFullRefusals);
hookGauge("plugwatch_hook_spool_readings", "Readings waiting in the spool", (s) => s.backlogLines);
hookGauge("plugwatch_hook_spool_bytes", "Bytes of readings waiting in the spool", (s) => s.backlogBytes);
hookGauge("plugwatch_hook_spool_capacity_bytes", "The spool's cap, bytes", (s) => s.maxBytes);
hookGauge("plugwatch_hook_storage_reachable", "1 while the database answers writes, 0 since a write failed without an answer", (s) =>
  s.unreachableSince === undefined ? 1 : 0,
);
new Gauge({
  name: "plugwatch_hook_spool_oldest_age_seconds",
  help: "Age of the oldest reading waiting in the spool, seconds (0 when the spool is empty)",
  labelNames: ["hook"],
  registers,
  async collect() {
    const entries = hub.hooks.entries();
    const ages = await Promise.all(entries.map((h) => (h.source.snapshot().backlogLines > 0 ? h.source.oldestTs() : Promise.resolve(undefined))));
    this.reset();
    entries.forEach((h, i) => {
      const ts = ages[i];
      this.set({ hook: h.label }, ts === undefined ? 0 : Math.max(0, (now() - ts) / 1000));
    });
  },
});
export const writeDuration = new Histogram({
  name: "plugwatch_hook_write_duration_seconds",
  help: "Duration of write requests to the database per hook and result (ok, error), seconds",
  labelNames: ["hook", "result"],
  buckets: SLOW,
  registers,
});

// ---- queries (label kind = the query type: range, latest, latestN, energy, …) ----

/** A request counter labelled `by` and `result`, then its duration histogram (seconds, SLOW buckets) labelled `by`. */
function requestMetrics<By extends string, Result extends string>(
  by: By,
  result: Result,
  requests: { name: string; help: string },
  duration: { name: string; help: string },
): { requests: Counter<By | Result>; duration: Histogram<By> } {
  return {
    requests: new Counter({ ...requests, labelNames: [by, result], registers }),
    duration: new Histogram({ ...duration, labelNames: [by], buckets: SLOW, registers }),
  };
}

const queries = requestMetrics(
  "kind",
  "outcome",
  { name: "plugwatch_query_requests_total", help: "Queries answered by plugwatch-influx-query, per kind and outcome (ok, or the error code)" },
  { name: "plugwatch_query_duration_seconds", help: "Time to answer a query, per kind, seconds" },
);
export const queryRequests = queries.requests;
export const queryDuration = queries.duration;

// ---- REST API (label route = the OpenAPI operationId, or "unmatched") ----

const api = requestMetrics(
  "route",
  "status",
  { name: "plugwatch_api_requests_total", help: "REST API requests per route (operationId) and HTTP status" },
  { name: "plugwatch_api_request_duration_seconds", help: "REST API response time per route (operationId), seconds" },
);
export const apiRequests = api.requests;
export const apiDuration = api.duration;

// ---- alerts and MQTT ----

new Gauge({
  name: "plugwatch_alerts_active",
  help: "Alerts raised and not cleared, per rule and severity (every plugwatch-alert node of the runtime, self-alerts included)",
  labelNames: ["rule", "severity"],
  registers,
  collect() {
    this.reset();
    for (const a of hub.alerts.entries()) for (const x of a.source.active()) this.inc({ rule: x.rule, severity: x.severity });
  },
});
new Gauge({
  name: "plugwatch_mqtt_connected",
  help: "1 while the MQTT broker connection (a mqtt-broker config node) is up, else 0",
  labelNames: ["broker"],
  registers,
  collect() {
    this.reset();
    for (const b of hub.brokers.entries()) this.set({ broker: b.label }, b.source.connected() ? 1 : 0);
  },
});

let defaults = false;
/** Adds prom-client's process metrics (CPU, memory, event loop lag, GC) under the `plugwatch_` prefix (plugwatch_process_…, plugwatch_nodejs_…); once per process. */
export function enableProcessMetrics(): void {
  if (defaults) return;
  defaults = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: "plugwatch_" });
}

/** The exposition text and its Content-Type. */
export async function scrape(): Promise<{ contentType: string; body: string }> {
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}

/** Seconds from ms, for the observe helpers. */
export const seconds = (ms: number): number => Math.max(0, ms) / 1000;
