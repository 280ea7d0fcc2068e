// Durability in a real Node-RED: influxd stops while readings flow over Mosquitto, and Node-RED restarts with a spooled backlog.
import assert from "node:assert/strict";
import { appendFileSync, closeSync, existsSync, openSync, readdirSync, statSync, writeSync } from "node:fs";
import * as path from "node:path";
import type { MqttClient } from "mqtt";
import type { DeviceEntry } from "../../lib/contracts";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { startNodeRed, type NodeRedInstance } from "../../scripts/harness/nodered";
import { connectClient, startBroker, Teardown, uniqueRoot } from "../../scripts/harness/services";
import { errorTopic, readingTopic, simulatedDevices, statsTopic, storageFlow } from "../../scripts/harness/storage-flow";
import { nth } from "../support/checked";

const DEVICES: DeviceEntry[] = simulatedDevices(8);
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

/** Reading number `n`: device n % 8, one second apart per device, so (device, ts) is unique for every n. */
function reading(n: number): { payload: string; energy: number } {
  const d = nth(DEVICES, n % DEVICES.length);
  const energy = 1 + n / 1000;
  const payload = JSON.stringify({
    v: 1,
    device: d.id,
    ts: T0 + Math.floor(n / DEVICES.length) * 1000,
    power: 50 + (n % 50),
    voltage: 230,
    current: 0.25,
    energy,
    relay: true,
  });
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
      const d = nth(DEVICES, i % DEVICES.length);
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
    const counts = Object.fromEntries((perDevice.results[0]?.series ?? []).map((s): [string, unknown] => [s.tags?.device ?? "", s.values[0]?.[1]]));
    assert.deepEqual(counts, Object.fromEntries(DEVICES.map((d, i) => [d.id, Math.floor(n / DEVICES.length) + (i < n % DEVICES.length ? 1 : 0)])));
    const sum = await influxd.query(`SELECT sum("energy") FROM "plug"`, db);
    let expected = 0;
    for (let i = 0; i < n; i++) expected += reading(i).energy;
    assert.ok(Math.abs((sum.results[0]?.series?.[0]?.values[0]?.[1] as number) - expected) < 1e-6 * n, "energy sum: no reading counted twice or lost");
  }

  async function setUp(db: string, hook: { batchSize: number; flushInterval: number; maxSpoolMB?: number }): Promise<void> {
    td = new Teardown();
    root = uniqueRoot("pwdur");
    stats = [];
    errors = [];
    published = 0;
    influxd = td.add(await startInfluxd(), (i) => i.destroy());
    const broker = await startBroker(td, "mosquitto");
    red = td.add(await startNodeRed(), (r) => r.stop());
    await red.deploy(
      storageFlow({
        root,
        mqttPort: broker.port,
        influxUrl: influxd.url,
        database: db,
        devices: DEVICES,
        query: false,
        hook: { ...hook, statsInterval: 1 },
        timeoutMs: 1000,
      }),
    );
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
    // Stored is not enough: the hook must have had InfluxDB's answer (acknowledged them) before influxd stops.
    await waitUntil("1000 readings stored and acknowledged", async () => (await count(db)) === 1000 && stats.some((s) => s.writtenLines === 1000));
    await influxd.stop();
    await publish(1000, 3000);
    await waitUntil("3000 readings accepted into the spool", () => stats.some((s) => s.acceptedLines === 4000 && s.backlogLines === 3000));
    const spoolRoot = path.join(red.userDir, "plugwatch-spool", "hook");
    assert.ok(existsSync(spoolRoot) && readdirSync(spoolRoot).some((f) => f.endsWith(".seg")), `spool segments in ${spoolRoot}`);

    const before = stats.length;
    await red.restart();
    await red.waitForLog(/3000 unsent line\(s\) recovered/, 15000);
    await waitUntil("stats after the restart showing the recovered backlog", () =>
      stats.slice(before).some((s) => s.backlogLines === 3000 && s.acceptedLines === 0),
    );
    assert.equal(await influxd.query("SHOW DATABASES").catch(() => "down"), "down", "influxd is still down");

    await influxd.restart();
    await waitUntil("the recovered backlog in InfluxDB", async () => (await count(db)) === 4000, 60000);
    await publish(4000, 500); // and the restarted flow keeps storing new readings
    await waitUntil("4500 readings", async () => (await count(db)) === 4500);
    await assertExactlyOnce(db, 4500);
    assert.deepEqual(errors, []);
  });

  it("spool full during an outage: a flooding device gets its fair share, every genuine reading is kept, one alert is raised", async function () {
    const db = "fairshare";
    await setUp(db, { batchSize: 1000, flushInterval: 50, maxSpoolMB: 1 });
    const alerts: { state: string; id: string }[] = [];
    client.on("message", (topic, payload) => {
      if (topic === `${root}/alerts/influx-hook/spool-full` && payload.length) alerts.push(JSON.parse(payload.toString()) as { state: string; id: string });
    });
    await client.subscribeAsync(`${root}/alerts/#`, { qos: 1 });
    await influxd.stop();
    const send = async (ns: number[]) => {
      for (let i = 0; i < ns.length; i += 200)
        await Promise.all(
          ns.slice(i, i + 200).map((n) => client.publishAsync(readingTopic(root, nth(DEVICES, n % DEVICES.length)), reading(n).payload, { qos: 1 })),
        );
    };
    // One device floods (4000 readings ≈ 0.9 MiB, the spool holds 1 MiB), then the seven others report 100 each.
    const FLOOD = 4000;
    await send(Array.from({ length: FLOOD }, (_, k) => k * 8));
    await waitUntil("the flood accepted or refused", () => (stats.at(-1)?.acceptedLines ?? 0) + errors.length >= FLOOD, 60000);
    await send(Array.from({ length: 700 }, (_, i) => Math.floor(i / 7) * 8 + 1 + (i % 7)));
    await waitUntil("every reading accepted or refused", () => (stats.at(-1)?.acceptedLines ?? 0) + errors.length >= FLOOD + 700, 60000);
    const refused = errors.length;
    assert.ok(refused > 100, `the flooder was refused (${refused})`);
    const flooder = nth(DEVICES, 0).id;
    for (const e of errors) {
      assert.equal(e.code, "SPOOL_FULL");
      assert.match(e.message, new RegExp(`^spool fair share: '[^']*device=${flooder}[,']`), "only the flooder is refused");
    }
    await waitUntil("the spool-full alert", () => alerts.length > 0);
    assert.deepEqual(
      alerts.map((a) => [a.id, a.state]),
      [["spool-full:influx-hook", "raised"]],
      "raised once",
    );
    await influxd.restart();
    await waitUntil("everything accepted in InfluxDB", async () => (await count(db)) === FLOOD + 700 - refused, 60000);
    const perDevice = await influxd.query(`SELECT count("power") FROM "plug" GROUP BY "device"`, db);
    const counts = Object.fromEntries((perDevice.results[0]?.series ?? []).map((x): [string, unknown] => [x.tags?.device ?? "", x.values[0]?.[1]]));
    for (const d of DEVICES.slice(1)) assert.equal(counts[d.id], 100, `${d.id}: every genuine reading stored`);
    assert.equal(counts[flooder], FLOOD - refused);
  });

  it("corruption inside already-delivered spool records (plus a torn tail) loses no unsent reading", async function () {
    const db = "corrupt";
    await setUp(db, { batchSize: 1000, flushInterval: 50 });
    await publish(0, 1000);
    // Stored is not enough: the hook must have had InfluxDB's answer (acknowledged them) before influxd stops.
    await waitUntil("1000 readings stored and acknowledged", async () => (await count(db)) === 1000 && stats.some((s) => s.writtenLines === 1000));
    await influxd.stop();
    await publish(1000, 2000);
    await waitUntil("2000 readings accepted into the spool", () => stats.some((s) => s.acceptedLines === 3000 && s.backlogLines === 2000));
    const spoolRoot = path.join(red.userDir, "plugwatch-spool", "hook");
    let seg = "";
    // While Node-RED is down: 64 bytes overwritten inside the delivered records, and a torn tail.
    await red.restart(() => {
      seg = path.join(
        spoolRoot,
        nth(
          readdirSync(spoolRoot)
            .filter((f) => f.endsWith(".seg"))
            .sort(),
          0,
          "spool segment",
        ),
      );
      assert.ok(statSync(seg).size > 100_000, "delivered and unsent records share the segment");
      const fd = openSync(seg, "r+");
      writeSync(fd, Buffer.alloc(64, 0x5a), 0, 64, 5000);
      closeSync(fd);
      appendFileSync(seg, Buffer.from([0x50, 0x57, 0x53, 0x31, 0, 0, 1]));
    });
    const warning = await red.waitForLog(/corrupt bytes at offset \d+ quarantined; 0 unsent line\(s\) lost/, 15000);
    assert.ok(warning);
    await red.waitForLog(/2000 unsent line\(s\) recovered/, 15000);
    assert.ok(readdirSync(path.join(spoolRoot, "quarantine")).length >= 1, "the bad bytes are kept for inspection");
    await influxd.restart();
    await waitUntil("every unsent reading in InfluxDB", async () => (await count(db)) === 3000, 60000);
    await assertExactlyOnce(db, 3000);
    assert.deepEqual(errors, []);
  });
});
