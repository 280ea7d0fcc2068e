// /metrics without a runtime: the registry's exposition read by an independent parser, and the endpoint's own token.
import assert from "node:assert/strict";
import { checkMetricsToken, metricsEndpoint } from "../../lib/api/metrics-endpoint";
import { ApiError } from "../../lib/api/problem";
import { PipelineHub, pipeline } from "../../lib/metrics/hub";
import { observeApiRequest, observeQuery } from "../../lib/metrics/observe";
import { scrape, setMetricsClock, setMetricsHub } from "../../lib/metrics/registry";
import { parsePrometheus, valueOf } from "../support/prometheus";

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

describe("metrics registry and endpoint (lib/metrics, lib/api/metrics-endpoint)", function () {
  afterEach(function () {
    setMetricsHub(pipeline);
    setMetricsClock(Date.now);
  });

  it("exposes the hub's sources with Prometheus names, types and labels", async function () {
    const hub = new PipelineHub();
    setMetricsHub(hub);
    setMetricsClock(() => T0 + 90_000);
    hub.collectors.add("c1", "office collector", {
      totals: () => ({ cycles: 10, ok: 7, failed: 2, overrun: 1, backoff: 0, devices: 3, online: 2, offline: 1 }),
    });
    hub.hooks.add("h1", "store", {
      snapshot: () => ({
        acceptedLines: 12,
        writtenLines: 9,
        rejectedLines: 1,
        retries: 4,
        spoolFullRefusals: 0,
        backlogLines: 3,
        backlogBytes: 300,
        maxBytes: 1000,
        unreachableSince: T0,
      }),
      oldestTs: () => Promise.resolve(T0),
    });
    hub.brokers.add("b1", "mosquitto", { connected: () => false });
    hub.alerts.add("a1", "alerts", {
      active: () => [
        { rule: "offline", severity: "critical" },
        { rule: "offline", severity: "critical" },
      ],
    });
    observeQuery("energy", "ok", 12);
    observeApiRequest(200, 3, { method: "GET", path: "/devices/ws-1" });
    observeApiRequest(404, 1, { method: "GET", path: "/nope/../x" });

    const { contentType, body } = await scrape();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    const m = parsePrometheus(body);
    assert.equal(m.get("plugwatch_collector_polls_total")?.type, "COUNTER");
    assert.equal(valueOf(m.get("plugwatch_collector_polls_total"), { collector: "office collector", result: "ok" }), 7);
    assert.equal(valueOf(m.get("plugwatch_collector_missed_cycles_total"), { collector: "office collector", reason: "overrun" }), 1);
    assert.equal(valueOf(m.get("plugwatch_collector_devices"), { state: "unknown" }), 0);
    assert.equal(valueOf(m.get("plugwatch_hook_readings_written_total"), { hook: "store" }), 9);
    assert.equal(valueOf(m.get("plugwatch_hook_write_retries_total"), { hook: "store" }), 4);
    assert.equal(valueOf(m.get("plugwatch_hook_spool_bytes"), { hook: "store" }), 300);
    assert.equal(valueOf(m.get("plugwatch_hook_spool_oldest_age_seconds"), { hook: "store" }), 90);
    assert.equal(valueOf(m.get("plugwatch_hook_storage_reachable"), { hook: "store" }), 0);
    assert.equal(valueOf(m.get("plugwatch_mqtt_connected"), { broker: "mosquitto" }), 0);
    assert.equal(valueOf(m.get("plugwatch_alerts_active"), { rule: "offline", severity: "critical" }), 2);
    assert.equal(m.get("plugwatch_query_duration_seconds")?.type, "HISTOGRAM");
    assert.ok((valueOf(m.get("plugwatch_query_duration_seconds_count"), { kind: "energy" }) ?? 0) >= 1);
    assert.ok((valueOf(m.get("plugwatch_query_duration_seconds_bucket"), { kind: "energy", le: "+Inf" }) ?? 0) >= 1);
    assert.equal(valueOf(m.get("plugwatch_query_duration_seconds_bucket"), { kind: "energy", le: "0.01" }), 0, "12 ms is not under 10 ms");
    assert.ok((valueOf(m.get("plugwatch_query_requests_total"), { kind: "energy", outcome: "ok" }) ?? 0) >= 1);
    assert.ok((valueOf(m.get("plugwatch_api_requests_total"), { route: "getDevice", status: "200" }) ?? 0) >= 1);
    assert.ok((valueOf(m.get("plugwatch_api_requests_total"), { route: "unmatched", status: "404" }) ?? 0) >= 1);

    // A source removed (node closed) leaves the exposition at the next scrape.
    setMetricsHub(new PipelineHub());
    assert.equal(valueOf(parsePrometheus((await scrape()).body).get("plugwatch_hook_spool_bytes"), { hook: "store" }), undefined);
  });

  it("guards /metrics with its own token when one is set, and is open otherwise", async function () {
    const text = () => Promise.resolve({ contentType: "text/plain; version=0.0.4; charset=utf-8", body: "x_total 1\n" });
    const open = metricsEndpoint({ scrape: text });
    assert.equal(open.guarded, false);
    assert.equal((await open.serve(undefined)).body.toString(), "x_total 1\n");
    const guarded = metricsEndpoint({ token: "metrics-secret-0123456789", scrape: text });
    assert.equal(guarded.guarded, true);
    await assert.rejects(guarded.serve(undefined), (e: ApiError) => e.code === "UNAUTHORIZED");
    let unknown = 0;
    await assert.rejects(
      guarded.serve("Bearer wrong-token-0123456789", () => unknown++),
      (e: ApiError) => e.code === "UNAUTHORIZED",
    );
    assert.equal(unknown, 1);
    assert.equal((await guarded.serve("Bearer metrics-secret-0123456789")).status, 200);
    assert.throws(() => checkMetricsToken("short"), /at least 16 characters/);
    assert.equal(checkMetricsToken("  "), undefined);
  });
});
