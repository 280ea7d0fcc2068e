// Durability in a real Node-RED: influxd stops while readings flow over Mosquitto, and Node-RED restarts with a spooled backlog.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";
import type { MqttClient } from "mqtt";
import type { DeviceEntry } from "../../lib/contracts";
import { startInfluxd, type InfluxdInstance } from "../support/influxd";
import { startNodeRed, type NodeRedInstance } from "../support/nodered";
import { connectClient, startBroker, Teardown, uniqueRoot } from "../support/services";
import { errorTopic, readingTopic, simulatedDevices, statsTopic, storageFlow } from "../support/storage-flow";

const DEVICES: DeviceEntry[] = simulatedDevices(8);
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

/** Reading number `n`: device n % 8, one second apart per device, so (device, ts) is unique for every n. */
function reading(n: number): { payload: string; energy: number } {
  const d = DEVICES[n % DEVICES.length] as DeviceEntry;
  const energy = 1 + n / 1000;
  const payload = JSON.stringify({ v: 1, device: d.id, ts: T0 + Math.floor(n / DEVICES.length) * 1000, power: 50 + (n % 50), voltage: 230, current: 0.25, energy, relay: true });
  return { payload, energy };
}

interface HookStats {
  acceptedLines: number;
  writtenLines: number;
  backlogLines: number;
  retries: number;
  retrying: boolean;
  lastError?: { code: string; message: string };
}

describe("storage durability (Mosquitto → plugwatch-influx-hook in Node-RED → influxd)", function () {
  this.timeout(120000);
  let td: Teardown;
  let root: string;
  let influxd: InfluxdInstance;
  let red: NodeRedInstance;
  let client: MqttClient;
  let stats: HookStats[];
  let errors: { code?: string; message: string }[];
  let published: number;

  async function count(db: string): Promise<number> {
    const r = await influxd.query(`SELECT count("power") FROM "plug"`, db);
    const v = r.results[0]?.series?.[0]?.values[0]?.[1];
    return typeof v === "number" ? v : 0;
  }
  async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nlast stats: ${JSON.stringify(stats.at(-1))}\n${red?.logTail(30) ?? ""}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  /** Publishes readings [from, from + n) with QoS 1; resolves when Mosquitto acknowledged every one. */
  async function publish(from: number, n: number): Promise<void> {
    const pending: Promise<unknown>[] = [];
    for (let i = from; i < from + n; i++) {
      const d = DEVICES[i % DEVICES.length] as DeviceEntry;
      pending.push(client.publishAsync(readingTopic(root, d), reading(i).payload, { qos: 1 }));
      if (pending.length >= 200) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    published = Math.max(published, from + n);
  }
  /** Every reading [0, n) is in `db` exactly once: the count, the per-device counts and the energy sum all match. */
  async function assertExactlyOnce(db: string, n: number): Promise<void> {
    assert.equal(await count(db), n);
    const perDevice = await influxd.query(`SELECT count("power") FROM "plug" GROUP BY "device"`, db);
    const counts = Object.fromEntries((perDevice.results[0]?.series ?? []).map((s) => [s.tags?.device, s.values[0]?.[1]]));
    assert.deepEqual(counts, Object.fromEntries(DEVICES.map((d, i) => [d.id, Math.floor(n / DEVICES.length) + (i < n % DEVICES.length ? 1 : 0)])));
    const sum = await influxd.query(`SELECT sum("energy") FROM "plug"`, db);
    let expected = 0;
    for (let i = 0; i < n; i++) expected += reading(i).energy;
    assert.ok(Math.abs((sum.results[0]?.series?.[0]?.values[0]?.[1] as number) - expected) < 1e-6 * n, "energy sum: no reading counted twice or lost");
  }

  async function setUp(db: string, hook: { batchSize: number; flushInterval: number }): Promise<void> {
    td = new Teardown();
    root = uniqueRoot("pwdur");
    stats = [];
    errors = [];
    published = 0;
    influxd = td.add(await startInfluxd(), (i) => i.destroy());
    const broker = await startBroker(td, "mosquitto");
    red = td.add(await startNodeRed(), (r) => r.stop());
    await red.deploy(storageFlow({ root, mqttPort: broker.port, influxUrl: influxd.url, database: db, devices: DEVICES, query: false, hook: { ...hook, statsInterval: 1 }, timeoutMs: 1000 }));
    client = await connectClient(td, broker.url);
    client.on("message", (topic, payload) => {
      if (topic === statsTopic(root)) stats.push(JSON.parse(payload.toString()) as HookStats);
      else if (topic === errorTopic(root)) errors.push(JSON.parse(payload.toString()) as { code?: string; message: string });
    });
    await client.subscribeAsync([statsTopic(root), errorTopic(root)], { qos: 1 });
    // The stats message proves the flow's MQTT client is connected (and so subscribed) before readings flow.
    await waitUntil("the first stats message", () => stats.length > 0);
  }

  afterEach(async function () {
    await td.run();
  });

  it("influxd stops while readings flow and comes back: every accepted reading is stored exactly once", async function () {
    const db = "outage";
    await setUp(db, { batchSize: 500, flushInterval: 50 });
    // A steady stream in the background: 200 readings every 20 ms until told to stop.
    let stop = false;
    const stream = (async () => {
      while (!stop) {
        await publish(published, 200);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await waitUntil("2000 readings stored before the outage", async () => (await count(db)) >= 2000);
    await influxd.stop();
    const atStop = published;
    await waitUntil("the hook to notice the outage and 3000 more readings to flow", () => published >= atStop + 3000 && stats.some((s) => s.retrying));
    const down = stats.filter((s) => s.retrying).at(-1) as HookStats;
    assert.equal(down.lastError?.code, "STORAGE_UNAVAILABLE");
    assert.ok(down.backlogLines > 0, "readings accepted during the outage wait in the spool");
    await influxd.restart();
    const atRestart = published;
    await waitUntil("2000 more readings after the restart", () => published >= atRestart + 2000);
    stop = true;
    await stream;
    const total = published;
    await waitUntil(`all ${total} readings in InfluxDB`, async () => (await count(db)) >= total, 60000);
    await waitUntil("the hook's backlog to drain", () => (stats.at(-1)?.backlogLines ?? -1) === 0 && (stats.at(-1)?.acceptedLines ?? 0) === total);
    await assertExactlyOnce(db, total);
    const last = stats.at(-1) as HookStats;
    assert.equal(last.writtenLines, total, "each line written once");
    assert.ok(last.retries > 0, "the outage was seen");
    assert.deepEqual(errors, [], "nothing was refused");
  });

  it("Node-RED restarts with a non-empty spool while influxd is down: nothing is lost once both are back", async function () {
    const db = "restart";
    await setUp(db, { batchSize: 1000, flushInterval: 50 });
    await publish(0, 1000);
    await waitUntil("1000 readings stored", async () => (await count(db)) === 1000);
    await influxd.stop();
    await publish(1000, 3000);
    await waitUntil("3000 readings accepted into the spool", () => stats.some((s) => s.acceptedLines === 4000 && s.backlogLines === 3000));
    const spoolRoot = path.join(red.userDir, "plugwatch-spool", "hook");
    assert.ok(existsSync(spoolRoot) && readdirSync(spoolRoot).some((f) => f.endsWith(".seg")), `spool segments in ${spoolRoot}`);

    const before = stats.length;
    await red.restart();
    await red.waitForLog(/3000 unsent line\(s\) recovered/, 15000);
    await waitUntil("stats after the restart showing the recovered backlog", () => stats.slice(before).some((s) => s.backlogLines === 3000 && s.acceptedLines === 0));
    assert.equal(await influxd.query("SHOW DATABASES").catch(() => "down"), "down", "influxd is still down");

    await influxd.restart();
    await waitUntil("the recovered backlog in InfluxDB", async () => (await count(db)) === 4000, 60000);
    await publish(4000, 500); // and the restarted flow keeps storing new readings
    await waitUntil("4500 readings", async () => (await count(db)) === 4500);
    await assertExactlyOnce(db, 4500);
    assert.deepEqual(errors, []);
  });
});
