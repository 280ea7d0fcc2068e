// The shipped flow end to end, driven only from outside: real Mosquitto, real influxd, the simulated office, HTTP + MQTT clients.
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import { ComponentStatus, validate, type AlertEvent, type Reading } from "../../lib/contracts";
import type { Health } from "../../lib/api/schemas";
import { connectClient, Teardown } from "../../scripts/harness/services";
import { eventually, PIPELINE_TOKEN, READ_TOKEN, startPipeline, type PipelineStack } from "../../scripts/harness/pipeline";
import { nth } from "../support/checked";

const ROOT = "plugwatch";

describe("shipped flow end to end (flows/plugwatch.json, Mosquitto, influxd, simulated office)", function () {
  this.timeout(120000);
  const td = new Teardown();
  let s: PipelineStack;
  let client: MqttClient;
  const readings: { topic: string; reading: Reading }[] = [];
  const alerts: { topic: string; payload: string; retain: boolean }[] = [];

  const api = (pathname: string, init: RequestInit = {}, token = PIPELINE_TOKEN) =>
    fetch(`${s.red.url}/api/v1${pathname}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers ?? {}) },
    });

  before(async function () {
    s = await startPipeline(td);
    client = await connectClient(td, s.mqttUrl, { protocolVersion: 5 });
    client.on("message", (topic, payload, packet) => {
      if (topic.endsWith("/reading")) readings.push({ topic, reading: JSON.parse(payload.toString()) as Reading });
      else if (topic.startsWith(`${ROOT}/alerts/`)) alerts.push({ topic, payload: payload.toString(), retain: packet.retain === true });
    });
    await client.subscribeAsync([`${ROOT}/+/+/+/+/reading`, `${ROOT}/alerts/#`], { qos: 1 });
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${s?.red.logTail(60)}`);
  });
  after(async function () {
    await td.run();
  });

  it("loads every node of the shipped flow (no unknown types, every tab running)", async function () {
    const types = await s.red.nodeTypes();
    const used = new Set(s.flow.filter((n) => n.type !== "tab" && n.type !== "group").map((n) => n.type));
    for (const t of used) assert.ok(types.includes(t), `node type '${t}' of flows/plugwatch.json is not installed`);
    const { flows } = await s.red.getFlows();
    assert.deepEqual(flows.map((n) => n.id).sort(), s.flow.map((n) => n.id).sort());
    assert.doesNotMatch(s.red.log(), /\[error\]/, "the runtime logged errors:\n" + s.red.logTail());
  });

  it("an MQTT subscriber sees readings of every device, with the topic and values of the contract", async function () {
    const ids = s.devices.map((d) => d.id).sort();
    await eventually(
      "a reading of every device",
      () => new Set(readings.map((r) => r.reading.device)),
      (seen) => ids.every((id) => seen.has(id)),
    );
    for (const d of s.devices) {
      const r = readings.find((x) => x.reading.device === d.id)!;
      assert.equal(r.topic, `${ROOT}/${d.location.building}/${d.location.floor}/${d.location.room}/${d.id}/reading`);
      assert.equal(r.reading.v, 1);
      assert.equal(typeof r.reading.power, "number");
      assert.ok(r.reading.voltage > 200 && r.reading.voltage < 260, `voltage ${r.reading.voltage}`);
    }
  });

  it("InfluxDB holds the readings of every device, equal to what was published", async function () {
    const influxd = s.influxd!;
    const counts = await eventually(
      "points of every device in InfluxDB",
      async () => {
        const r = await influxd.query(`SELECT count("power") FROM "plug" GROUP BY "device"`, "plugwatch");
        return new Map((r.results[0]?.series ?? []).map((x) => [x.tags?.device ?? "", Number(x.values[0]?.[1])]));
      },
      (m) => s.devices.every((d) => (m.get(d.id) ?? 0) >= 2),
    );
    assert.equal(counts.size, s.devices.length);
    // One published reading, found in the database with the same timestamp and power.
    const sample = readings.find((r) => r.reading.device === "ws-1-01")!.reading;
    const row = await eventually(
      "the sample reading in InfluxDB",
      async () =>
        (await influxd.query(`SELECT "power","relay","room","kind" FROM "plug" WHERE "device"='ws-1-01' AND time = ${sample.ts}ms`, "plugwatch")).results[0]
          ?.series?.[0],
      (x) => x !== undefined,
    );
    const cols = row!.columns;
    const vals = nth(row!.values, 0, "first row");
    assert.equal(vals[cols.indexOf("power")], sample.power);
    assert.equal(vals[cols.indexOf("relay")], sample.relay);
    assert.equal(vals[cols.indexOf("room")], "open-space-1");
    assert.equal(vals[cols.indexOf("kind")], "workplace");
  });

  it("the REST API answers a range query with what InfluxDB holds", async function () {
    await eventually(
      "2 readings of ws-1-01 older than 5 s in InfluxDB",
      async () =>
        (await s.influxd!.query(`SELECT count("power") FROM "plug" WHERE "device"='ws-1-01' AND time < now() - 5s`, "plugwatch")).results[0]?.series?.[0]
          ?.values[0]?.[1],
      (n) => Number(n) >= 2,
    );
    // A range that ended 5 s ago: every reading in it has left the hook's spool (1 s flush), so API and database agree.
    const to = Date.now() - 5000;
    const from = to - 10 * 60_000;
    const res = await api(`/devices/ws-1-01/measurements?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&fields=power`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const body = JSON.parse(text) as { device?: string; points?: { ts: number; power: number }[]; series?: { points: { ts: number; power: number }[] }[] };
    const points = body.points ?? body.series?.[0]?.points ?? [];
    const db = await s.influxd!.query(`SELECT "power" FROM "plug" WHERE "device"='ws-1-01' AND time >= ${from}ms AND time < ${to}ms`, "plugwatch");
    const dbRows = db.results[0]?.series?.[0]?.values ?? [];
    assert.ok(dbRows.length >= 2, "InfluxDB has readings in the range");
    assert.equal(points.length, dbRows.length, `API points ${JSON.stringify(body).slice(0, 300)}`);
    assert.deepEqual(
      points.map((p) => p.power),
      dbRows.map((r) => r[1]),
    );
  });

  it("the hook's status reaches /health: storage backlog is a number, the status message matches its contract", async function () {
    // Published every 10 s by plugwatch-influx-hook straight to MQTT (no bridge in the flow).
    const c = await connectClient(td, s.mqttUrl);
    const statuses: unknown[] = [];
    c.on("message", (t, p) => t === `${ROOT}/status/influx-hook` && statuses.push(JSON.parse(p.toString())));
    await c.subscribeAsync(`${ROOT}/status/influx-hook`, { qos: 1 });
    await eventually(
      "a status message on plugwatch/status/influx-hook",
      () => statuses.length,
      (n) => n > 0,
      25000,
    );
    const status = statuses[0];
    const r = validate(ComponentStatus, status);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    assert.equal(r.value.component, "influx-hook");
    assert.ok(r.value.acceptedLines! > 0);
    const health = await eventually(
      "the storage backlog in /health",
      async () => (await (await api("/health")).json()) as Health,
      (h) => typeof h.storage?.backlog === "number",
      25000,
    );
    assert.equal(typeof health.storage.backlog, "number");
    assert.ok(health.storage.backlog! >= 0);
    assert.deepEqual(
      health.storage.components.map((x) => x.component),
      ["influx-hook"],
    );
    assert.equal(health.api.invalidMessages, 0, "every status, reading and availability message matched its contract");
  });

  it("the REST API flips a plug: the simulator's relay changes and readings follow", async function () {
    const plug = s.office.plug("ws-1-02");
    assert.equal(plug.relay, true);
    const denied = await api("/devices/ws-1-02/power", { method: "POST", body: JSON.stringify({ state: "off" }) }, READ_TOKEN);
    assert.equal(denied.status, 403);
    assert.equal(plug.relay, true, "a read-only token must not switch");
    const res = await api("/devices/ws-1-02/power", { method: "POST", body: JSON.stringify({ state: "off" }) });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const body = JSON.parse(text) as { results: { device: string; ok: boolean; relay?: boolean }[] };
    assert.deepEqual(
      body.results.map((r) => [r.device, r.ok, r.relay]),
      [["ws-1-02", true, false]],
    );
    assert.equal(plug.relay, false);
    const since = readings.length;
    await eventually(
      "a reading with relay off and 0 W",
      () => readings.slice(since).find((r) => r.reading.device === "ws-1-02"),
      (r) => r !== undefined && !r.reading.relay && r.reading.power === 0,
    );
    const on = await api("/devices/ws-1-02/power", { method: "POST", body: JSON.stringify({ state: "on" }) });
    assert.equal(on.status, 200, await on.text());
    assert.equal(plug.relay, true);
    // The audit trail reaches InfluxDB beside the readings: both switches, with the token's name (never the token).
    const rows = await eventually(
      "the two switches in InfluxDB's audit measurement",
      async () =>
        (await s.influxd!.query(`SELECT "ok", "relay", "by", "action" FROM "audit" WHERE "device" = 'ws-1-02'`, "plugwatch")).results[0]?.series?.[0]?.values ??
        [],
      (v) => v.length >= 2,
    );
    assert.deepEqual(
      rows.map((r) => [r[1], r[2], r[4]]),
      [
        [true, false, "off"],
        [true, true, "on"],
      ],
    );
    for (const r of rows) assert.match(String(r[3]), /^token-[0-9a-f]{8}$/);
  });

  it("an offline plug raises an offline alert (retained, listed by the API) and clears it when it returns", async function () {
    const plug = s.office.plug("pr-2-01");
    const topic = `${ROOT}/alerts/pr-2-01/offline`;
    const since = alerts.length;
    await plug.stop();
    const raised = await eventually(
      "a raised offline alert",
      () => alerts.slice(since).find((a) => a.topic === topic && a.payload !== ""),
      (a) => a !== undefined,
      20000,
    );
    const event = JSON.parse(raised!.payload) as AlertEvent;
    assert.equal(event.state, "raised");
    assert.equal(event.id, "offline:pr-2-01");
    assert.equal(event.severity, "critical");
    const listed = await eventually(
      "GET /alerts listing the offline alert",
      async () => (await (await api("/alerts")).json()) as { alerts?: AlertEvent[] } | AlertEvent[],
      (b) => (Array.isArray(b) ? b : (b.alerts ?? [])).some((a) => a.id === "offline:pr-2-01"),
    );
    assert.ok(listed);
    const mark = alerts.length;
    await plug.start();
    const cleared = await eventually(
      "a cleared offline alert",
      () => alerts.slice(mark).find((a) => a.topic === topic && a.payload !== ""),
      (a) => a !== undefined,
      20000,
    );
    assert.equal((JSON.parse(cleared!.payload) as AlertEvent).state, "cleared");
    await eventually(
      "the retained alert removed",
      () => alerts.slice(mark).some((a) => a.topic === topic && a.payload === "" && !a.retain),
      (ok) => ok,
    );
    await eventually(
      "GET /alerts without the offline alert",
      async () => (await (await api("/alerts")).json()) as { alerts?: AlertEvent[] } | AlertEvent[],
      (b) => !(Array.isArray(b) ? b : (b.alerts ?? [])).some((a) => a.id === "offline:pr-2-01"),
    );
  });
});
