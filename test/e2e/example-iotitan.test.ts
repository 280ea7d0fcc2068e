// examples/iotitan-processors.json in a real Node-RED with real Mosquitto, influxd and the local ThingSpeak server:
// window stats on MQTT and in InfluxDB, out-of-range alerts, the rotating log, and the bridge surviving a cloud outage.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { MqttClient } from "mqtt";
import type { GenericReading, Reading } from "../../lib/contracts/reading";
import type { AlertEvent } from "../../lib/contracts/alert";
import { ThingSpeakServer } from "../../scripts/sim/thingspeak";
import { loadExample as loadNamedExample, waitFor } from "../support/examples";
import { startInfluxd } from "../../scripts/harness/influxd";
import { repoRoot, startNodeRed, type FlowNode } from "../../scripts/harness/nodered";
import { nrlint } from "../support/nrlint";
import { connectClient, startBroker, Teardown } from "../../scripts/harness/services";
import { lastOf, nth } from "../support/checked";

const API_KEY = "IOTITANTESTKEY01";
const WINDOW_S = 1;
const MIN_INTERVAL_S = 0.3;
const LOG_MAX_BYTES = 4096;
const LOG_KEEP = 3;

interface Sensor {
  id: string;
  location: [string, string, string];
}
const A: Sensor = { id: "ws-a", location: ["hq", "1", "open-1"] };
const B: Sensor = { id: "ws-b", location: ["hq", "2", "lab"] };
/** A non-plug sensor publishing generic readings. */
const T: Sensor = { id: "th-1", location: ["lab", "0", "bench"] };

const loadExample = (): FlowNode[] => loadNamedExample("iotitan-processors");

const topicOf = (s: Sensor) => `plugwatch/${s.location.join("/")}/${s.id}/reading`;

/** Publishes a reading of each sensor every `everyMs` until stopped; keeps what it published, in order. */
function startPublisher(client: MqttClient, everyMs: number) {
  const published = new Map<string, Reading[]>([
    [A.id, []],
    [B.id, []],
  ]);
  const generic: GenericReading[] = [];
  let i = 0;
  let stopped = false;
  let paused: (() => void) | undefined;
  let resume: (() => void) | undefined;
  let lastTs = 0;
  let overrideB: Partial<Reading> | undefined;
  let overrideT: GenericReading["fields"] | undefined;
  const loop = (async () => {
    while (!stopped) {
      if (paused) {
        paused();
        paused = undefined;
        await new Promise<void>((r) => (resume = r));
        continue;
      }
      // Unique, increasing timestamps, so each reading can be found again in the log.
      const ts = Math.max(Date.now(), lastTs + 1);
      lastTs = ts;
      const a: Reading = { v: 1, device: A.id, ts, power: 100 + (i % 7) * 3.5, voltage: 229 + (i % 3), current: 0.45, energy: 10 + i / 1000, relay: true };
      const b: Reading = { v: 1, device: B.id, ts, power: 40 + (i % 5) * 1.25, voltage: 231, current: 0.2, energy: 3, relay: true, ...overrideB };
      overrideB = undefined;
      await client.publishAsync(topicOf(A), JSON.stringify(a), { qos: 1 });
      await client.publishAsync(topicOf(B), JSON.stringify(b), { qos: 1 });
      published.get(A.id)!.push(a);
      published.get(B.id)!.push(b);
      if (i % 2 === 0) {
        const fields = { temperature: 20 + (i % 4) * 0.5, humidity: 40 + (i % 3), occupied: i % 4 === 0, ...overrideT };
        overrideT = undefined;
        const t: GenericReading = { v: 1, device: T.id, ts, measurement: "climate", fields };
        await client.publishAsync(topicOf(T), JSON.stringify(t), { qos: 1 });
        generic.push(t);
      }
      i++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    published,
    generic,
    /** The next reading of B carries these values. */
    inject(values: Partial<Reading>) {
      overrideB = values;
    },
    /** The next generic reading of T carries these fields. */
    injectT(fields: GenericReading["fields"]) {
      overrideT = fields;
    },
    /** Resolves once the loop is idle (no publish in progress). */
    pause(): Promise<void> {
      return new Promise((r) => (paused = r));
    },
    resume() {
      resume?.();
      resume = undefined;
    },
    async stop() {
      stopped = true;
      resume?.();
      await loop;
    },
  };
}

describe("example: IoTitan-style processors (examples/iotitan-processors.json)", function () {
  this.timeout(90000);
  const td = new Teardown();
  afterEach(() => td.run());

  it("is nrlint clean (the only warnings are the intended loops: bridge retries, delete confirmations)", async function () {
    const problems = await nrlint(path.join(repoRoot(), "examples", "iotitan-processors.json"));
    assert.deepEqual(
      problems.map((p) => `${p.severity} ${p.rule}`),
      ["warn no-loops", "warn no-loops"],
      JSON.stringify(problems),
    );
  });

  it("publishes and stores window stats, raises out-of-range alerts, logs every topic with rotation and bridges every average to ThingSpeak once, across a cloud outage and a Node-RED restart", async function () {
    const mosq = await startBroker(td, "mosquitto");
    const influx = td.add(await startInfluxd(), (i) => i.destroy());
    const cloud = td.add(new ThingSpeakServer({ apiKeys: [API_KEY], minIntervalMs: MIN_INTERVAL_S * 1000 }), (s) => s.stop());
    await cloud.start();
    const logDir = td.add(mkdtempSync(path.join(os.tmpdir(), "plugwatch-iotitan-log-")), (d) => rmSync(d, { recursive: true, force: true }));

    const red = td.add(
      await startNodeRed({
        flows: loadExample(),
        env: {
          PLUGWATCH_MQTT_HOST: "127.0.0.1",
          PLUGWATCH_MQTT_PORT: String(mosq.port),
          PLUGWATCH_INFLUX_URL: influx.url,
          IOTITAN_STATS_WINDOW_S: String(WINDOW_S),
          IOTITAN_LOG_DIR: logDir,
          IOTITAN_LOG_MAX_BYTES: String(LOG_MAX_BYTES),
          IOTITAN_LOG_KEEP: String(LOG_KEEP),
          THINGSPEAK_URL: cloud.url,
          THINGSPEAK_API_KEY: API_KEY,
          THINGSPEAK_FIELDS: `${A.id}/power,${B.id}/power`,
          THINGSPEAK_MIN_INTERVAL_S: String(MIN_INTERVAL_S),
          THINGSPEAK_RETRY_S: String(MIN_INTERVAL_S),
        },
      }),
      (r) => r.stop(),
    );
    assert.ok((await red.nodeTypes()).includes("plugwatch-alert"), "the package's nodes are loaded");
    const offered = await red.request("/library/examples/flows/@plugwatch/node-red-plugwatch/iotitan-processors");
    assert.equal(offered.status, 200, `offered under Import → Examples: ${await offered.clone().text()}`);
    assert.deepEqual(await offered.json(), loadExample());
    await red.waitForLog(/Connected to broker/, 10000);

    const client = await connectClient(td, mosq.url);
    const stats: { topic: string; payload: GenericReading }[] = [];
    const alerts: AlertEvent[] = [];
    client.on("message", (topic, payload) => {
      if (topic.startsWith("plugwatch/stats/")) stats.push({ topic, payload: JSON.parse(payload.toString()) as GenericReading });
      else if (topic.startsWith("plugwatch/alerts/") && payload.length > 0) alerts.push(JSON.parse(payload.toString()) as AlertEvent);
    });
    await client.subscribeAsync(["plugwatch/stats/#", "plugwatch/alerts/#"], { qos: 1 });
    const statsOf = (s: Sensor, field: string) => stats.filter((m) => m.topic === `plugwatch/stats/${s.id}/${field}`).map((m) => m.payload);

    const segments = () =>
      readdirSync(logDir)
        .filter((f) => /^plugwatch-\d{8}T\d{9}Z-\d{6}\.log$/.test(f))
        .sort();
    const logLines = () => segments().flatMap((f) => readFileSync(path.join(logDir, f), "utf8").split("\n").filter(Boolean));

    const pub = startPublisher(client, 40);
    try {
      // 1. The bridge delivers while the cloud is up; an out-of-range voltage raises an alert, and clears.
      await waitFor("a first ThingSpeak entry", () => cloud.entries.length >= 1, 15000, red);
      pub.inject({ voltage: 190 });
      await waitFor("voltage-low raised and cleared", () => alerts.some((e) => e.state === "cleared" && e.rule === "voltage-low"), 10000, red);
      // The generic sensor's temperature field goes out of range: the alert node evaluates the generic reading itself.
      pub.injectT({ temperature: 38.5 });
      await waitFor("temperature-high raised and cleared", () => alerts.some((e) => e.state === "cleared" && e.rule === "temperature-high"), 10000, red);

      // 2. The cloud goes away for at least three windows of averages.
      await cloud.stop();
      const windowsBefore = statsOf(A, "power").length;
      await waitFor("three windows during the outage", () => statsOf(A, "power").length >= windowsBefore + 3, 15000, red);
      assert.ok(red.log().includes("ECONNREFUSED"), "the bridge met the outage (connection refused)");

      // 3. Node-RED restarts while entries wait for the cloud: the queue, the open stats window and the log
      // rotation carry on (they live in the file context store, flushed on stop).
      await pub.pause();
      const lastBefore = pub.published.get(A.id)!.at(-1)!;
      await waitFor("the last reading consumed before the restart", () => logLines().some((l) => l.includes(`"ts":${lastBefore.ts},`)), 10000, red);
      await red.restart();
      await waitFor("reconnected after the restart", () => (red.log().match(/Connected to broker/g) ?? []).length >= 2, 10000, red);
      assert.match(red.log(), /ThingSpeak bridge: \d+ queued entries restored/);
      pub.resume();
      const windowsNow = statsOf(A, "power").length;
      await waitFor("two windows after the restart", () => statsOf(A, "power").length >= windowsNow + 2, 15000, red);

      // 4. The cloud comes back; publishing stops shortly after.
      await cloud.start();
      await waitFor(
        "an entry after the outage",
        () => cloud.entries.length > 1 && cloud.entries.some((e) => Date.parse(e.created_at) > Date.now() - 500),
        15000,
        red,
      );
    } finally {
      await pub.stop();
    }
    const sent = { a: pub.published.get(A.id)!, b: pub.published.get(B.id)! };

    // Every reading lands in exactly one window.
    // Each field's window is its own MQTT message, so wait until every field's last window has arrived.
    const countOf = (s: Sensor, field: string) => statsOf(s, field).reduce((n, p) => n + (p.fields.count as number), 0);
    const allCounted = (s: Sensor, n: number) => ["power", "voltage", "current"].every((f) => countOf(s, f) === n);
    await waitFor(
      "all readings counted in windows",
      () => allCounted(A, sent.a.length) && allCounted(B, sent.b.length) && countOf(T, "temperature") === pub.generic.length,
      10000,
      red,
    );

    // --- Stats on MQTT: exact aggregates of what was published.
    for (const [s, readings] of [
      [A, sent.a],
      [B, sent.b],
    ] as const) {
      for (const field of ["power", "voltage", "current"] as const) {
        const windows = statsOf(s, field);
        assert.ok(windows.length >= 5, `${s.id}/${field}: ${windows.length} windows`);
        const values = readings.map((r) => r[field]);
        const count = windows.reduce((n, w) => n + (w.fields.count as number), 0);
        assert.equal(count, values.length, `${s.id}/${field} count`);
        assert.equal(Math.min(...windows.map((w) => w.fields.min as number)), Math.min(...values), `${s.id}/${field} min`);
        assert.equal(Math.max(...windows.map((w) => w.fields.max as number)), Math.max(...values), `${s.id}/${field} max`);
        const sum = windows.reduce((n, w) => n + (w.fields.mean as number) * (w.fields.count as number), 0);
        const expected = values.reduce((n, v) => n + v, 0);
        assert.ok(Math.abs(sum - expected) < 1e-6 * expected, `${s.id}/${field} sum of means × counts ${sum} ≠ ${expected}`);
        for (const w of windows) {
          assert.deepEqual(Object.keys(w.fields).sort(), ["count", "max", "mean", "min"]);
          assert.ok((w.fields.min as number) <= (w.fields.mean as number) + 1e-9 && (w.fields.mean as number) <= (w.fields.max as number) + 1e-9);
          assert.deepEqual(w.tags, { field, window: `${WINDOW_S}s`, building: s.location[0], floor: s.location[1], room: s.location[2] });
          assert.equal(w.measurement, "stats");
          assert.equal(w.device, s.id);
        }
      }
    }
    assert.ok(!stats.some((m) => m.topic.endsWith("/energy")), "energy (a counter) has no stats");
    // The generic sensor: one stats series per numeric field (the boolean has none), location from its topic.
    for (const field of ["temperature", "humidity"] as const) {
      const windows = statsOf(T, field);
      const values = pub.generic.map((g) => g.fields[field] as number);
      assert.equal(
        windows.reduce((n, w) => n + (w.fields.count as number), 0),
        values.length,
        `${T.id}/${field} count`,
      );
      assert.equal(Math.min(...windows.map((w) => w.fields.min as number)), Math.min(...values));
      assert.equal(Math.max(...windows.map((w) => w.fields.max as number)), Math.max(...values));
      for (const w of windows) assert.deepEqual(w.tags, { field, window: `${WINDOW_S}s`, building: "lab", floor: "0", room: "bench" });
    }
    assert.equal(statsOf(T, "occupied").length, 0);
    // Generic readings reach the alert node as they are (valid, boolean field included): no error, no warning.
    assert.doesNotMatch(red.log(), /INVALID_READING|INVALID_REQUEST|\[error\] \[(alert|function)/, "no processor error");

    // --- Alerts: the injected 190 V raised voltage-low (critical) on its topic, and the next reading cleared it.
    const raised = alerts.find((e) => e.rule === "voltage-low" && e.state === "raised");
    assert.ok(raised, "voltage-low raised");
    assert.equal(raised.device, B.id);
    assert.equal(raised.value, 190);
    assert.equal(raised.severity, "critical");
    assert.ok(!alerts.some((e) => e.device === A.id), "no alert for the plug that stayed in range");
    // --- The generic sensor: 38.5 °C raised temperature-high once, the next in-range reading cleared it, nothing else.
    assert.deepEqual(
      alerts.filter((e) => e.device === T.id).map((e) => [e.id, e.state, e.value, e.severity]),
      [
        ["temperature-high:th-1", "raised", 38.5, "warning"],
        ["temperature-high:th-1", "cleared", pub.generic[pub.generic.findIndex((g) => g.fields.temperature === 38.5) + 1]?.fields.temperature, "warning"],
      ],
    );
    assert.equal(alerts.find((e) => e.rule === "temperature-high")?.message, "th-1 temperature 38.5 °C above 30 °C");
    const flowAlert = loadExample().find((n) => n.type === "plugwatch-alert");
    assert.deepEqual(
      loadExample().find((n) => n.id === "iotitan-readings")?.wires,
      [["iotitan-stats", flowAlert?.id]],
      "every reading goes to the alert node, no filter",
    );

    // --- InfluxDB: the same stats, point for point.
    const windowsA = statsOf(A, "power");
    const rows = async () => {
      const res = await influx.query(`SELECT "min","max","mean","count" FROM "stats" WHERE "device"='${A.id}' AND "field"='power'`, "plugwatch");
      return res.results[0]?.series?.[0]?.values ?? [];
    };
    await waitFor("stats points in InfluxDB", async () => (await rows()).length === windowsA.length, 15000, red).catch(async (err: Error) => {
      throw new Error(`${err.message}\nInfluxDB has ${(await rows()).length} of ${windowsA.length} windows`);
    });
    const byTs = new Map((await rows()).map((v) => [v[0] as number, v]));
    for (const w of windowsA) {
      const row = byTs.get(w.ts);
      assert.ok(row, `InfluxDB has the window ending ${w.ts}`);
      assert.deepEqual(row.slice(1), [w.fields.min, w.fields.max, w.fields.mean, w.fields.count]);
    }

    // --- ThingSpeak: one entry per window (field1 = mean of A, field2 = mean of B), each exactly once, rate limited.
    const windowTs = new Set([...windowsA, ...statsOf(B, "power")].map((w) => w.ts));
    await waitFor("every window at ThingSpeak", () => cloud.entries.length >= windowTs.size, 20000, red);
    assert.equal(cloud.entries.length, windowTs.size, "no entry twice");
    const meanAt = (s: Sensor, ts: number) => statsOf(s, "power").find((w) => w.ts === ts)?.fields.mean;
    for (const ts of windowTs) {
      const entry = cloud.entries.filter((e) => e.created_at === new Date(ts).toISOString());
      assert.equal(entry.length, 1, `window ${new Date(ts).toISOString()} arrived once`);
      const [a, b] = [meanAt(A, ts), meanAt(B, ts)];
      assert.deepEqual(nth(entry, 0).fields, { ...(a !== undefined ? { field1: String(a) } : {}), ...(b !== undefined ? { field2: String(b) } : {}) });
    }
    const created = cloud.entries.map((e) => Date.parse(e.created_at));
    assert.deepEqual(
      created,
      [...created].sort((x, y) => x - y),
      "entries in window order",
    );
    assert.equal(cloud.counters.rateLimited, 0, "the bridge never hit the rate limit");
    for (let i = 1; i < cloud.entries.length; i++) {
      assert.ok(nth(cloud.entries, i).receivedAt - nth(cloud.entries, i - 1).receivedAt >= MIN_INTERVAL_S * 1000, "updates spaced by the minimum interval");
    }

    // --- Log: every topic, rotated into at most LOG_KEEP segments of at most LOG_MAX_BYTES.
    const lastA = lastOf(sent.a, "last reading of a");
    await waitFor(
      "the last reading in the log and old segments deleted",
      () => segments().length <= LOG_KEEP && logLines().some((l) => l.includes(`"ts":${lastA.ts},`)),
      10000,
      red,
    ).catch((err: Error) => {
      const problems = red
        .log()
        .split("\n")
        .filter((l) => /\[(error|warn)\] \[(file|function)/.test(l));
      throw new Error(
        `${err.message}\nsegments: ${segments().join(", ")}\nlast reading logged: ${logLines().some((l) => l.includes(`"ts":${lastA.ts},`))}\n${problems.slice(-10).join("\n")}`,
      );
    });
    assert.equal(segments().length, LOG_KEEP);
    for (const f of segments()) assert.ok(statSync(path.join(logDir, f)).size <= LOG_MAX_BYTES, `${f} within LOG_MAX_BYTES`);
    const lines = logLines();
    for (const l of lines) assert.match(l, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z \S+ /);
    assert.ok(
      lines.some((l) => nth(l.split(" "), 1, "topic").startsWith("plugwatch/stats/")),
      "stats topics are logged",
    );
    // The A readings still on disk are the newest ones, contiguous, each once and intact.
    const loggedA = lines.filter((l) => l.split(" ")[1] === topicOf(A)).map((l) => l.slice(l.indexOf(" ", 25) + 1));
    const tail = sent.a.slice(sent.a.length - loggedA.length).map((r) => JSON.stringify(r));
    assert.ok(loggedA.length > 0 && loggedA.length < sent.a.length, `rotation dropped the oldest segments (${loggedA.length} of ${sent.a.length} kept)`);
    assert.deepEqual(loggedA, tail);
  });
  it("takes plain values (23.5 on home/kitchen/temperature) into stats, alerts and the log through the topic-map node, no Function node", async function () {
    const mosq = await startBroker(td, "mosquitto");
    const influx = td.add(await startInfluxd(), (i) => i.destroy());
    const logDir = td.add(mkdtempSync(path.join(os.tmpdir(), "plugwatch-iotitan-plain-")), (d) => rmSync(d, { recursive: true, force: true }));
    const map = loadExample().find((n) => n.id === "iotitan-plain-map");
    assert.deepEqual([map?.type, map?.template, map?.wires], ["plugwatch-topic-map", "home/{room}/{attribute}", [["iotitan-stats", "iotitan-alert"]]]);
    const red = td.add(
      await startNodeRed({
        flows: loadExample(),
        env: {
          PLUGWATCH_MQTT_HOST: "127.0.0.1",
          PLUGWATCH_MQTT_PORT: String(mosq.port),
          PLUGWATCH_INFLUX_URL: influx.url,
          IOTITAN_STATS_WINDOW_S: String(WINDOW_S),
          IOTITAN_LOG_DIR: logDir,
        },
      }),
      (r) => r.stop(),
    );
    await red.waitForLog(/Connected to broker/, 10000);
    const client = await connectClient(td, mosq.url);
    const stats: GenericReading[] = [];
    const alerts: AlertEvent[] = [];
    client.on("message", (topic, payload) => {
      if (topic === "plugwatch/stats/kitchen/temperature") stats.push(JSON.parse(payload.toString()) as GenericReading);
      else if (topic.startsWith("plugwatch/alerts/kitchen/") && payload.length > 0) alerts.push(JSON.parse(payload.toString()) as AlertEvent);
    });
    await client.subscribeAsync(["plugwatch/stats/#", "plugwatch/alerts/#"], { qos: 1 });
    // Within one stats window: three plain values, the last one out of range.
    for (const v of ["23.5", "24.5", "38.5"]) await client.publishAsync("home/kitchen/temperature", v, { qos: 1 });
    await waitFor("stats of kitchen/temperature", () => stats.some((s) => s.fields.count === 3), 10000, red);
    const window = stats.find((s) => s.fields.count === 3) as GenericReading;
    assert.deepEqual(window.fields, { min: 23.5, max: 38.5, mean: 28.833333333333332, count: 3 });
    assert.equal(window.device, "kitchen");
    assert.equal(window.tags?.room, "kitchen");
    await waitFor("temperature-high raised for kitchen", () => alerts.some((a) => a.rule === "temperature-high" && a.state === "raised"), 10000, red);
    assert.equal(alerts.find((a) => a.state === "raised")?.value, 38.5);
    await client.publishAsync("home/kitchen/temperature", "21", { qos: 1 });
    await waitFor("temperature-high cleared", () => alerts.some((a) => a.rule === "temperature-high" && a.state === "cleared"), 10000, red);
    // The logger takes every topic as it is: the plain value is logged.
    await waitFor(
      "the plain value in the log",
      () => readdirSync(logDir).some((f) => / home\/kitchen\/temperature 38\.5$/m.test(readFileSync(path.join(logDir, f), "utf8"))),
      10000,
      red,
    );
    // Bad plain values go to Catch with the reason, nothing else breaks.
    await client.publishAsync("home/kitchen/temperature", "warm", { qos: 1 });
    await red.waitForLog(/payload 'warm' is not a number/, 10000);
  });
});
