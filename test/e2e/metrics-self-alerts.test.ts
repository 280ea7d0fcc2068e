// The pipeline watches itself, in a real Node-RED 5 runtime with the shipped flow: /metrics scraped and parsed by an
// independent exposition-format parser, and every self-alert raised and cleared by a real fault (influxd stopped,
// the spool filling up, plugs unreachable, Mosquitto stopped), with short thresholds instead of long waits.
import assert from "node:assert/strict";
import type { AlertEvent } from "../../lib/contracts";
import { startMosquitto } from "../../scripts/harness/mosquitto";
import { eventually, PIPELINE_TOKEN, startPipeline, type PipelineStack } from "../../scripts/harness/pipeline";
import { parsePrometheus, valueOf, type PromFamily } from "../support/prometheus";
import { selfAlertPatch } from "../support/self-alert-flow";
import { Teardown } from "../../scripts/harness/services";

const METRICS_TOKEN = "metrics-e2e-token-0123456789";
/** The shipped flow's node names, as the metric labels and (slugged) the self-alert devices. */
const COLLECTOR = "collector";
const HOOK = "store readings";
const HOOK_SLUG = "store-readings";
const BROKER = "pw-mqtt-broker"; // its name holds ${PLUGWATCH_MQTT_HOST}, so the label is its id
const CONNECTION = "pw-mqtt-connection"; // the plugwatch-mqtt request/reply connection, likewise

/** The shipped flow with a metrics token, a 1 MB spool and self-alert thresholds of a few seconds. */
const patch = selfAlertPatch(METRICS_TOKEN, { storageDownS: 2, spoolPercent: 0.3, spoolAgeS: 3600, missPercent: 50, missWindowS: 3, brokerDownS: 1 });

describe("the pipeline watches itself: /metrics and self-alerts (shipped flow, Mosquitto, influxd, simulated office)", function () {
  this.timeout(180000);
  const td = new Teardown();
  let s: PipelineStack;

  const get = (pathname: string, token?: string) => fetch(`${s.red.url}/api/v1${pathname}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  async function scrape(): Promise<Map<string, PromFamily>> {
    const res = await get("/metrics", METRICS_TOKEN);
    assert.equal(res.status, 200, await res.clone().text());
    return parsePrometheus(await res.text());
  }
  const metric = async (name: string, labels: Record<string, string>) => valueOf((await scrape()).get(name), labels);
  async function history(): Promise<AlertEvent[]> {
    const res = await get("/alerts?state=all", PIPELINE_TOKEN);
    return ((await res.json()) as { alerts: AlertEvent[] }).alerts;
  }
  async function active(): Promise<string[]> {
    const res = await get("/alerts", PIPELINE_TOKEN);
    return ((await res.json()) as { alerts: AlertEvent[] }).alerts.map((a) => a.id);
  }
  /** Waits until `id` was raised and then cleared, and checks each happened exactly once. */
  async function raisedThenCleared(id: string, fault: () => Promise<void>, repair: () => Promise<void>, timeoutMs = 30000): Promise<AlertEvent[]> {
    await fault();
    await eventually(`${id} active`, active, (ids) => ids.includes(id), timeoutMs, 250);
    await repair();
    await eventually(`${id} cleared`, active, (ids) => !ids.includes(id), timeoutMs + 30000, 250);
    const events = (await history()).filter((e) => e.id === id);
    assert.deepEqual(events.map((e) => e.state).sort(), ["cleared", "raised"], `one raised, one cleared: ${JSON.stringify(events)}`);
    return events;
  }

  before(async function () {
    s = await startPipeline(td, { patch });
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${s?.red.logTail(60)}`);
  });
  after(async function () {
    await td.run();
  });

  it("serves /metrics behind its own token, listed in the OpenAPI document", async function () {
    const refused = await get("/metrics");
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.equal((await get("/metrics", PIPELINE_TOKEN)).status, 401, "the API's tokens are not the metrics token");
    const ok = await get("/metrics", METRICS_TOKEN);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const doc = (await (await get("/openapi.json")).json()) as { paths: Record<string, { get?: { security: unknown[] } }> };
    assert.deepEqual(doc.paths["/metrics"]?.get?.security, [{ metricsToken: [] }]);
  });

  it("exposes collector, hook, query, API, alert and MQTT metrics whose values follow real activity", async function () {
    const first = await eventually(
      "polls and writes",
      scrape,
      (m) =>
        (valueOf(m.get("plugwatch_collector_polls_total"), { collector: COLLECTOR, result: "ok" }) ?? 0) >= 10 &&
        (valueOf(m.get("plugwatch_hook_readings_written_total"), { hook: HOOK }) ?? 0) >= 5,
      30000,
      500,
    );
    for (const [name, type] of [
      ["plugwatch_collector_cycles_total", "COUNTER"],
      ["plugwatch_collector_missed_cycles_total", "COUNTER"],
      ["plugwatch_collector_poll_duration_seconds", "HISTOGRAM"],
      ["plugwatch_collector_devices", "GAUGE"],
      ["plugwatch_hook_write_duration_seconds", "HISTOGRAM"],
      ["plugwatch_hook_spool_readings", "GAUGE"],
      ["plugwatch_hook_spool_bytes", "GAUGE"],
      ["plugwatch_hook_spool_oldest_age_seconds", "GAUGE"],
      ["plugwatch_hook_write_retries_total", "COUNTER"],
      ["plugwatch_alerts_active", "GAUGE"],
      ["plugwatch_mqtt_connected", "GAUGE"],
    ] as const) {
      assert.equal(first.get(name)?.type, type, name);
    }
    assert.equal(valueOf(first.get("plugwatch_collector_devices"), { collector: COLLECTOR, state: "online" }), s.devices.length);
    assert.equal(valueOf(first.get("plugwatch_hook_spool_capacity_bytes"), { hook: HOOK }), 1024 * 1024);
    assert.equal(valueOf(first.get("plugwatch_hook_storage_reachable"), { hook: HOOK }), 1);
    assert.equal(valueOf(first.get("plugwatch_mqtt_connected"), { broker: BROKER }), 1);
    assert.ok((valueOf(first.get("plugwatch_collector_poll_duration_seconds_count"), { collector: COLLECTOR }) ?? 0) >= 10);
    assert.ok((valueOf(first.get("plugwatch_hook_write_duration_seconds_count"), { hook: HOOK, result: "ok" }) ?? 0) >= 1);
    // What the hook says it wrote is in influxd.
    const stored = await s.influxd?.query(`SELECT count("power") FROM "plug"`, "plugwatch");
    const written = valueOf(first.get("plugwatch_hook_readings_written_total"), { hook: HOOK }) ?? 0;
    assert.ok(Number(stored?.results[0]?.series?.[0]?.values[0]?.[1]) >= written, `influxd holds at least the ${written} written readings`);

    const queriesBefore = valueOf(first.get("plugwatch_query_requests_total"), { kind: "latest", outcome: "ok" }) ?? 0;
    const apiBefore = valueOf(first.get("plugwatch_api_requests_total"), { route: "getLatestMeasurements", status: "200" }) ?? 0;
    const res = await get("/measurements/latest", PIPELINE_TOKEN);
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await get("/devices/no-such-device", PIPELINE_TOKEN)).status, 404);
    const after = await scrape();
    assert.equal(valueOf(after.get("plugwatch_query_requests_total"), { kind: "latest", outcome: "ok" }), queriesBefore + 1);
    assert.equal(valueOf(after.get("plugwatch_api_requests_total"), { route: "getLatestMeasurements", status: "200" }), apiBefore + 1);
    assert.ok((valueOf(after.get("plugwatch_api_requests_total"), { route: "getDevice", status: "404" }) ?? 0) >= 1);
    assert.ok((valueOf(after.get("plugwatch_query_duration_seconds_count"), { kind: "latest" }) ?? 0) >= 1);
    const pollsBefore = valueOf(first.get("plugwatch_collector_polls_total"), { collector: COLLECTOR, result: "ok" }) ?? 0;
    await eventually(
      "polls going on between scrapes",
      () => metric("plugwatch_collector_polls_total", { collector: COLLECTOR, result: "ok" }),
      (n) => (n ?? 0) > pollsBefore,
      10000,
      250,
    );
  });

  it("influxd stopped: storage-unreachable and spool-backlog raised once, cleared once when it is back", async function () {
    const influxd = s.influxd;
    assert.ok(influxd);
    let sawDown = false;
    await raisedThenCleared(
      `storage-unreachable:${HOOK_SLUG}`,
      async () => {
        await influxd.stop();
        // Readings keep coming (5 plugs every second): the spool passes 0.3 % of 1 MB within a few seconds.
        await eventually(`spool-backlog:${HOOK_SLUG} active`, active, (ids) => ids.includes(`spool-backlog:${HOOK_SLUG}`), 60000, 250);
        const m = await scrape();
        assert.equal(valueOf(m.get("plugwatch_hook_storage_reachable"), { hook: HOOK }), 0);
        assert.ok((valueOf(m.get("plugwatch_hook_spool_readings"), { hook: HOOK }) ?? 0) > 0);
        assert.ok((valueOf(m.get("plugwatch_hook_spool_oldest_age_seconds"), { hook: HOOK }) ?? 0) > 1);
        assert.ok((valueOf(m.get("plugwatch_alerts_active"), { rule: "storage-unreachable", severity: "critical" }) ?? 0) >= 1);
        sawDown = true;
      },
      () => influxd.restart(),
      60000,
    );
    assert.ok(sawDown);
    await eventually(`spool-backlog:${HOOK_SLUG} cleared`, active, (ids) => !ids.includes(`spool-backlog:${HOOK_SLUG}`), 30000, 250);
    const spool = (await history()).filter((e) => e.id === `spool-backlog:${HOOK_SLUG}`);
    assert.deepEqual(spool.map((e) => e.state).sort(), ["cleared", "raised"]);
    assert.equal(await metric("plugwatch_hook_storage_reachable", { hook: HOOK }), 1);
    // Drained: what is left is the last second or two of readings waiting for the next flush.
    await eventually(
      "spool drained",
      () => metric("plugwatch_hook_spool_readings", { hook: HOOK }),
      (n) => n !== undefined && n <= 2 * s.devices.length,
      30000,
      250,
    );
  });

  it("plugs unreachable: collector-misses raised once, cleared once when they answer again", async function () {
    const plugs = s.devices.map((d) => s.office.plug(d.id));
    const missedBefore = (await metric("plugwatch_collector_missed_cycles_total", { collector: COLLECTOR, reason: "failed" })) ?? 0;
    const [raised] = await raisedThenCleared(
      `collector-misses:${COLLECTOR}`,
      async () => {
        for (const p of plugs) await p.stop();
      },
      async () => {
        assert.ok(((await metric("plugwatch_collector_missed_cycles_total", { collector: COLLECTOR, reason: "failed" })) ?? 0) > missedBefore);
        for (const p of plugs) await p.start();
      },
      30000,
    );
    assert.equal(raised?.severity, "warning");
  });

  it("Mosquitto stopped: broker-disconnected raised once and cleared once, published when it is back", async function () {
    const mosq = s.mosquitto;
    assert.ok(mosq);
    const port = mosq.port;
    const id = `broker-disconnected:${BROKER}`;
    await mosq.stop();
    // /metrics is HTTP: it shows the outage and the alerts held by the alert node while nothing can be published. The
    // shipped flow has three connections to the broker (the agents', the collector's own and the API and query
    // component's plugwatch-mqtt request/reply connection): one alert for each.
    await eventually(
      "both connections down and one alert each active in the alert node",
      scrape,
      (m) => {
        const connections = m.get("plugwatch_mqtt_connected")?.metrics ?? [];
        return (
          connections.length === 3 &&
          connections.every((c) => Number(c.value) === 0) &&
          valueOf(m.get("plugwatch_alerts_active"), { rule: "broker-disconnected", severity: "critical" }) === 3
        );
      },
      20000,
      250,
    );
    td.add(await startMosquitto({ port }), (m) => m.stop());
    const events = await eventually(
      `${id} raised and cleared at the API`,
      async () => (await history()).filter((e) => e.id === id),
      (list) => list.some((e) => e.state === "cleared"),
      40000,
      500,
    );
    assert.deepEqual(events.map((e) => e.state).sort(), ["cleared", "raised"], JSON.stringify(events));
    const raised = events.find((e) => e.state === "raised");
    const cleared = events.find((e) => e.state === "cleared");
    assert.ok(raised && cleared && raised.ts < cleared.ts);
    assert.equal(raised.severity, "critical");
    assert.deepEqual(
      (await active()).filter((a) => a === id),
      [],
    );
    assert.equal(await metric("plugwatch_mqtt_connected", { broker: BROKER }), 1);
    assert.equal(await metric("plugwatch_mqtt_connected", { broker: CONNECTION }), 1);
  });
});
