// The spool cap hit for real (shipped flow, Mosquitto, influxd, simulated office): influxd stopped, the hook's 1 MB
// spool filled by readings published on the devices' reading topics until the hook refuses them with SPOOL_FULL (each
// device's fair share used: about 80 % of the cap with five devices), at the default self-alert threshold (80 %). The spool-backlog self-alert and the hook's SPOOL_FULL alert are each
// raised once; influxd restarted, the spool drains and both are cleared once; the spooled readings reach influxd.
import assert from "node:assert/strict";
import mqtt, { type MqttClient } from "mqtt";
import type { AlertEvent } from "../../lib/contracts";
import { SELF_ALERT_DEFAULTS } from "../../lib/metrics/self-alerts";
import { eventually, PIPELINE_TOKEN, startPipeline, type PipelineStack } from "../../scripts/harness/pipeline";
import { parsePrometheus, valueOf, type PromFamily } from "../support/prometheus";
import { selfAlertPatch } from "../support/self-alert-flow";
import { Teardown } from "../../scripts/harness/services";

const METRICS_TOKEN = "metrics-e2e-token-spool-0123456789";
const HOOK = "store readings";
const HOOK_SLUG = "store-readings";
const SPOOL_ALERT = `spool-backlog:${HOOK_SLUG}`;
const CAP = 1024 * 1024;
/** Readings per published message: small, so each device's fair share of the spool fills to within a few hundred bytes. */
const PER_MESSAGE = 4;

/** The shipped flow with a metrics token, a 1 MB spool and the default spool threshold; other self-alerts kept out of the way. */
const patch = selfAlertPatch(METRICS_TOKEN, {
  storageDownS: 3600,
  spoolPercent: SELF_ALERT_DEFAULTS.spoolPercent,
  spoolAgeS: 3600,
  missPercent: 100,
  missWindowS: 3,
  brokerDownS: 3600,
});

describe("spool cap hit: SPOOL_FULL raises and clears the self-alert (shipped flow, Mosquitto, influxd)", function () {
  this.timeout(240_000);
  const td = new Teardown();
  let s: PipelineStack;
  let client: MqttClient;
  const hookAlerts: AlertEvent[] = [];

  const get = (pathname: string, token: string) => fetch(`${s.red.url}/api/v1${pathname}`, { headers: { authorization: `Bearer ${token}` } });
  async function scrape(): Promise<Map<string, PromFamily>> {
    const res = await get("/metrics", METRICS_TOKEN);
    assert.equal(res.status, 200);
    return parsePrometheus(await res.text());
  }
  const metric = async (name: string, labels: Record<string, string>): Promise<number> => valueOf((await scrape()).get(name), labels) ?? 0;
  async function alerts(state: "active" | "all"): Promise<AlertEvent[]> {
    const res = await get(state === "all" ? "/alerts?state=all" : "/alerts", PIPELINE_TOKEN);
    return ((await res.json()) as { alerts: AlertEvent[] }).alerts;
  }

  before(async function () {
    s = await startPipeline(td, { patch });
    client = await mqtt.connectAsync(s.mqttUrl, { reconnectPeriod: 0 });
    td.add(client, (c) => c.endAsync());
    // The hook's own SPOOL_FULL alert (retained, published by the flow through the broker).
    await client.subscribeAsync("plugwatch/alerts/influx-hook/spool-full", { qos: 1 });
    client.on("message", (_t, payload) => {
      if (payload.length) hookAlerts.push(JSON.parse(payload.toString()) as AlertEvent);
    });
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${s?.red.logTail(60)}`);
  });
  after(async function () {
    await td.run();
  });

  it("fills the spool to its cap while influxd is down: refusals, then both alerts raised once and cleared once", async function () {
    const influxd = s.influxd;
    assert.ok(influxd);
    await eventually(
      "readings written",
      () => metric("plugwatch_hook_readings_written_total", { hook: HOOK }),
      (n) => n > 0,
      30_000,
      250,
    );
    assert.equal(await metric("plugwatch_hook_spool_capacity_bytes", { hook: HOOK }), CAP);
    await influxd.stop();

    // Readings of every registered device, on its own reading topic, timestamped in the last minutes (unique per device).
    const base = Date.now() - 5 * 60_000;
    let sent = 0;
    let fill = 0;
    let refusals = 0;
    // Until every device's fair share is used: the hook refuses with SPOOL_FULL, the spool at its plateau (5 of 6 shares
    // of the cap minus record overhead, about 80 %).
    // N devices: N shares of cap / (N + 1) each; record headers and the last refused batch keep it a few % below.
    const plateau = (100 * s.devices.length) / (s.devices.length + 1) - 5;
    for (let round = 0; round < 3000 && !(refusals >= 2 * s.devices.length && fill > plateau); round++) {
      for (const d of s.devices) {
        const readings = Array.from({ length: PER_MESSAGE }, (_, k) => {
          const i = round * PER_MESSAGE + k;
          return { v: 1, device: d.id, ts: base + i, power: 40 + (i % 17), voltage: 230, current: 0.2, energy: 5 + i * 1e-6, relay: true };
        });
        const { building, floor, room } = d.location;
        await client.publishAsync(`plugwatch/${building}/${floor}/${room}/${d.id}/reading`, JSON.stringify(readings), { qos: 1 });
        sent += PER_MESSAGE;
      }
      if (round % 10 === 9) {
        const m = await scrape();
        fill = ((valueOf(m.get("plugwatch_hook_spool_bytes"), { hook: HOOK }) ?? 0) * 100) / CAP;
        refusals = valueOf(m.get("plugwatch_hook_spool_full_refusals_total"), { hook: HOOK }) ?? 0;
      }
    }
    assert.ok(refusals >= 2 * s.devices.length, `SPOOL_FULL refusals counted (${refusals})`);
    assert.ok(fill > plateau, `spool filled to its fair-share plateau: ${fill.toFixed(1)} % of the cap (over ${plateau.toFixed(1)} %)`);

    const raised = await eventually(
      `${SPOOL_ALERT} active`,
      () => alerts("active"),
      (list) => list.some((a) => a.id === SPOOL_ALERT),
      20_000,
      250,
    );
    const event = raised.find((a) => a.id === SPOOL_ALERT);
    assert.equal(event?.severity, "warning");
    assert.ok((event?.value ?? 0) > 50, `alert value ${event?.value} % (fair shares start at half the cap)`);
    assert.match(event?.message ?? "", /^spool of hook store readings at \d+\.\d % of its cap \((refusing readings: SPOOL_FULL|over 80 %)\)$/);
    await eventually(
      "the hook's SPOOL_FULL alert",
      () => hookAlerts,
      (l) => l.some((a) => a.state === "raised"),
      20_000,
      250,
    );
    assert.match(hookAlerts.find((a) => a.state === "raised")?.message ?? "", /^SPOOL_FULL: spool (fair share|full)/);
    assert.ok((await metric("plugwatch_alerts_active", { rule: "spool-backlog", severity: "warning" })) >= 1);

    // influxd back: the spool drains below the threshold, both alerts clear (the hook's after 30 s without a refusal).
    await influxd.restart();
    await eventually(
      `${SPOOL_ALERT} cleared`,
      () => alerts("active"),
      (list) => !list.some((a) => a.id === SPOOL_ALERT),
      60_000,
      250,
    );
    await eventually(
      "the hook's SPOOL_FULL alert cleared",
      () => hookAlerts,
      (l) => l.some((a) => a.state === "cleared"),
      60_000,
      250,
    );
    const history = (await alerts("all")).filter((e) => e.id === SPOOL_ALERT);
    assert.deepEqual(history.map((e) => e.state).sort(), ["cleared", "raised"], JSON.stringify(history));
    assert.deepEqual(
      hookAlerts.map((a) => a.state),
      ["raised", "cleared"],
      "the hook's alert raised once and cleared once",
    );
    assert.ok((await metric("plugwatch_hook_spool_bytes", { hook: HOOK })) < CAP / 10, "spool drained");

    // What the spool accepted is in influxd: the injected readings, fewer than sent (the rest was refused).
    const stored = await eventually(
      "injected readings stored",
      async () =>
        Number(
          (await influxd.query(`SELECT count("power") FROM "plug" WHERE time >= ${base}ms AND time < ${base + 60_000}ms`, "plugwatch")).results[0]?.series?.[0]
            ?.values[0]?.[1] ?? 0,
        ),
      (n) => n > 0,
      30_000,
      500,
    );
    assert.ok(stored < sent, `${stored} of ${sent} stored`);
    // Over 80 % of 1 MB held them, and a line is well under 1 KB.
    assert.ok(stored > (CAP * 0.8) / 1024, `${stored} readings: the spool's worth`);
  });
});
