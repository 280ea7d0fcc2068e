// Readings over real Mosquitto into plugwatch-influx-hook in a real Node-RED, read back through plugwatch-influx-query's MQTT request/reply: every query type.
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { DeviceEntry, QueryReply, Reading } from "../../lib/contracts";
import { QueryReply as QueryReplySchema, validate } from "../../lib/contracts";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { startNodeRed, type NodeRedInstance } from "../../scripts/harness/nodered";
import { connectClient, startBroker, Teardown, uniqueRoot } from "../../scripts/harness/services";
import { errorTopic, readingTopic, storageFlow } from "../../scripts/harness/storage-flow";
import { lastOf, member, nth } from "../support/checked";

const DB = "plugwatch_rt";
const MIN = 60_000;
const DAY = 86_400_000;
const D = Date.UTC(2025, 10, 24); // a fixed day of readings, more than 30 days before any run of this test
const NOW = Date.now();

const DEVICES: DeviceEntry[] = [
  { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 22001, kind: "workplace", location: { building: "hq", floor: "1", room: "open-1" } },
  { id: "ws-2", name: "Desk 2", model: "HS110", host: "127.0.0.1", port: 22002, kind: "workplace", location: { building: "hq", floor: "2", room: "open-2" } },
  { id: "pr-1", name: "Printer", model: "HS110", host: "127.0.0.1", port: 22003, kind: "printer", location: { building: "hq", floor: "2", room: "copy" } },
  {
    id: "mr-1",
    name: "Room Alpha",
    model: "HS110",
    host: "127.0.0.1",
    port: 22004,
    kind: "meeting-room",
    location: { building: "annex", floor: "0", room: "alpha" },
  },
];
const dev = (id: string) => DEVICES.find((d) => d.id === id) as DeviceEntry;

/** Cumulative energy counters, kWh, one reading a minute from D. ws-1's plug restarts its counter after the third. */
const ENERGY: Record<string, number[]> = {
  "ws-1": [10.0, 10.5, 11.0, 0.0, 0.2, 0.4], // 1.0 + 0.4 = 1.4 kWh (the drop is a reset, not -11 kWh)
  "ws-2": [5.0, 5.1, 5.2, 5.3, 5.4, 5.5], // 0.5
  "pr-1": [2.0, 2.25, 2.5, 2.75, 3.0, 3.25], // 1.25
  "mr-1": [7.0, 7.2, 7.4, 7.6, 7.8, 8.0], // 1.0
};
const POWER = (id: string, i: number) => (DEVICES.indexOf(dev(id)) + 1) * 100 + i * 10;

const READINGS: Reading[] = [
  ...DEVICES.flatMap((d) =>
    member(ENERGY, d.id).map((energy, i) => ({
      v: 1 as const,
      device: d.id,
      ts: D + i * MIN,
      power: POWER(d.id, i),
      voltage: 230 + i,
      current: 0.5 + i / 10,
      energy,
      relay: i % 2 === 0,
      kind: d.kind,
    })),
  ),
  // Latest readings: ws-1 an hour ago (active), pr-1 40 days ago (inactive for the default 30 days).
  { v: 1, device: "ws-1", ts: NOW - 3_600_000, power: 42, voltage: 232, current: 0.2, energy: 0.9, relay: true },
  { v: 1, device: "pr-1", ts: NOW - 40 * DAY, power: 7, voltage: 228, current: 0.03, energy: 3.5, relay: false },
];
const FIELDS = ["power", "voltage", "current", "energy", "relay"];
const row = (r: Reading) => ({ ts: r.ts, power: r.power, voltage: r.voltage, current: r.current, energy: r.energy, relay: r.relay });

describe("storage round trip (Mosquitto → plugwatch-influx-hook → influxd → plugwatch-influx-query → Mosquitto)", function () {
  this.timeout(60000);
  const td = new Teardown();
  const root = uniqueRoot("pwrt");
  let influxd: InfluxdInstance;
  let red: NodeRedInstance;
  let client: MqttClient;
  const waiters = new Map<string, (r: QueryReply) => void>();
  const errors: { message: string; code?: string }[] = [];
  let seq = 0;

  function ask(query: Record<string, unknown>, timeoutMs = 5000): Promise<QueryReply> {
    const id = `rt-${++seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${id} (${JSON.stringify(query)})`)), timeoutMs);
      waiters.set(id, (r) => {
        clearTimeout(timer);
        waiters.delete(id);
        resolve(r);
      });
      client.publish(`${root}/api/request/query`, JSON.stringify({ v: 1, id, replyTo: `${root}/api/reply/t/${id}`, query }), { qos: 1 });
    });
  }
  async function data<T>(query: Record<string, unknown>): Promise<T> {
    const r = await ask(query);
    assert.ok(r.ok, `query ${JSON.stringify(query)} failed: ${JSON.stringify(r.error)}`);
    return r.data as T;
  }
  async function count(): Promise<number> {
    const r = await influxd.query(`SELECT count("power") FROM "plug"`, DB);
    const v = r.results[0]?.series?.[0]?.values[0]?.[1];
    return typeof v === "number" ? v : 0;
  }
  async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${red?.logTail(30) ?? ""}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async function () {
    influxd = td.add(await startInfluxd(), (i) => i.destroy());
    const broker = await startBroker(td, "mosquitto");
    red = td.add(await startNodeRed(), (r) => r.stop());
    await red.deploy(storageFlow({ root, mqttPort: broker.port, influxUrl: influxd.url, database: DB, devices: DEVICES }));
    client = await connectClient(td, broker.url);
    client.on("message", (topic, payload) => {
      if (topic === errorTopic(root)) {
        errors.push(JSON.parse(payload.toString()) as { message: string; code?: string });
        return;
      }
      const reply = JSON.parse(payload.toString()) as QueryReply;
      waiters.get(reply.id)?.(reply);
    });
    await client.subscribeAsync([`${root}/api/reply/t/#`, errorTopic(root)], { qos: 1 });
    // The flow's MQTT client connects asynchronously: publish once it is subscribed (a query gets an answer).
    await waitUntil("the flow's MQTT subscriptions", async () => {
      try {
        return (await ask({ type: "latest", all: true }, 1000)).id !== undefined;
      } catch {
        return false;
      }
    });
    for (const r of READINGS) await client.publishAsync(readingTopic(root, dev(r.device)), JSON.stringify(r), { qos: 1 });
    await waitUntil(`${READINGS.length} points in InfluxDB`, async () => (await count()) === READINGS.length);
  });

  after(async function () {
    await td.run();
  });

  it("stores every reading once with registry tags and exact values", async function () {
    assert.equal(await count(), READINGS.length);
    const tags = await influxd.query(`SHOW TAG VALUES FROM "plug" WITH KEY IN ("building", "floor", "room", "kind") WHERE "device" = 'mr-1'`, DB);
    assert.deepEqual(tags.results[0]?.series?.[0]?.values, [
      ["building", "annex"],
      ["floor", "0"],
      ["kind", "meeting-room"],
      ["room", "alpha"],
    ]);
    assert.deepEqual(errors, []);
  });

  it("range raw: exactly the readings written, oldest first", async function () {
    const d = await data<{ series: { device: string; points: Record<string, unknown>[] }[] }>({
      type: "range",
      target: { device: "ws-1" },
      fields: FIELDS,
      from: D,
      to: D + 10 * MIN,
    });
    const expected = READINGS.filter((r) => r.device === "ws-1" && r.ts < D + 10 * MIN).map(row);
    assert.deepEqual(d.series, [{ device: "ws-1", points: expected }]);
    const reply = await ask({ type: "range", target: { kind: "workplace" }, fields: ["power"], from: D, to: D + 2 * MIN });
    assert.ok(validate(QueryReplySchema, reply).ok, "the reply matches the contract");
  });

  it("range aggregated: mean, min, max, sum, last and count per interval, per device of a kind", async function () {
    const expect = (id: string, agg: (v: number[]) => number) => [
      { ts: D, power: agg([0, 1, 2].map((i) => POWER(id, i))) },
      { ts: D + 3 * MIN, power: agg([3, 4, 5].map((i) => POWER(id, i))) },
    ];
    const aggs: Record<string, (v: number[]) => number> = {
      mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
      min: (v) => Math.min(...v),
      max: (v) => Math.max(...v),
      sum: (v) => v.reduce((a, b) => a + b, 0),
      last: (v) => lastOf(v),
      count: (v) => v.length,
    };
    for (const [aggregate, fn] of Object.entries(aggs)) {
      const d = await data<{ series: { device: string; points: unknown[] }[] }>({
        type: "range",
        target: { kind: "workplace" },
        fields: ["power"],
        from: D,
        to: D + 6 * MIN,
        aggregate,
        interval: "3m",
      });
      const byDevice = Object.fromEntries(d.series.map((s) => [s.device, s.points]));
      assert.deepEqual(byDevice, { "ws-1": expect("ws-1", fn), "ws-2": expect("ws-2", fn) }, aggregate);
    }
  });

  it("latest: hides devices silent for 30 days unless all; inactiveAfterDays widens the window", async function () {
    const ids = (d: { readings: { device?: unknown }[] }) => d.readings.map((r) => r.device).sort();
    const active = await data<{ readings: Record<string, unknown>[] }>({ type: "latest" });
    const newest = nth(READINGS, READINGS.length - 2, "the newest ws-1 reading");
    assert.deepEqual(
      active.readings.map((r) => [r.device, r.ts, r.power, r.energy, r.relay]),
      [["ws-1", newest.ts, newest.power, newest.energy, newest.relay]],
    );
    assert.deepEqual(ids(await data({ type: "latest", all: true })), ["mr-1", "pr-1", "ws-1", "ws-2"]);
    assert.deepEqual(ids(await data({ type: "latest", inactiveAfterDays: 50 })), ["pr-1", "ws-1"]);
  });

  it("latestN: the newest N readings of one device, newest first", async function () {
    const d = await data<{ device: string; readings: Record<string, unknown>[] }>({ type: "latestN", device: "ws-1", limit: 3 });
    const ws1 = READINGS.filter((r) => r.device === "ws-1").sort((a, b) => b.ts - a.ts);
    assert.equal(d.device, "ws-1");
    const pick = (r: Record<string, unknown>) => Object.fromEntries(["ts", ...FIELDS].map((k) => [k, r[k]]));
    assert.deepEqual(d.readings.map(pick), ws1.slice(0, 3).map(row));
    assert.deepEqual([d.readings[0]?.kind, d.readings[0]?.room], ["workplace", "open-1"], "rows carry the registry tags");
  });

  it("energy by device, room, kind, floor and building: the counter reset gives no negative and no spike", async function () {
    const q = (groupBy: string, interval = "1h") =>
      data<{ groupBy: string; rows: { group: string; ts: number; kWh: number }[] }>({ type: "energy", groupBy, from: D, to: D + 10 * MIN, interval });
    const expected: Record<string, Record<string, number>> = {
      device: { "mr-1": 1, "pr-1": 1.25, "ws-1": 1.4, "ws-2": 0.5 },
      room: { "annex/0/alpha": 1, "hq/1/open-1": 1.4, "hq/2/copy": 1.25, "hq/2/open-2": 0.5 },
      kind: { "meeting-room": 1, printer: 1.25, workplace: 1.9 },
      floor: { "annex/0": 1, "hq/1": 1.4, "hq/2": 1.75 },
      building: { annex: 1, hq: 3.15 },
    };
    for (const [groupBy, groups] of Object.entries(expected)) {
      const d = await q(groupBy);
      assert.equal(d.groupBy, groupBy);
      assert.deepEqual(
        d.rows.map((r) => [r.group, r.ts, r.kWh]),
        Object.entries(groups).map(([g, kWh]) => [g, D, kWh]),
        groupBy,
      );
    }
    // Per 3 minutes: ws-1 is 1.0 then 0.4 (11.0 → 0.0 is a restart: 0, not -11 and not +11).
    const perInterval = await q("device", "3m");
    assert.deepEqual(
      perInterval.rows.filter((r) => r.group === "ws-1").map((r) => [r.ts, r.kWh]),
      [
        [D, 1],
        [D + 3 * MIN, 0.4],
      ],
    );
    for (const r of perInterval.rows) assert.ok(r.kWh >= 0 && r.kWh <= 1.0, `${r.group} ${r.ts}: ${r.kWh} kWh`);
  });

  it("bad payloads reach Catch with stable codes, nothing crashes and later readings are stored", async function () {
    const topic = readingTopic(root, dev("ws-2"));
    const good = { v: 1, device: "ws-2", ts: D + 30 * MIN, power: 1, voltage: 230, current: 0.01, energy: 6, relay: true };
    const bad: [string, string, RegExp][] = [
      ["{not json", "INVALID_READING", /not JSON/],
      // Forged readings (issue 14): another device's topic, an implausible value for an HS110, a measurement the
      // registry does not list, negative energy. None may reach InfluxDB.
      [JSON.stringify({ ...good, device: "ghost" }), "INVALID_READING", /device 'ghost' published on the topic of device 'ws-2'/],
      [JSON.stringify({ ...good, device: "ws-1" }), "INVALID_READING", /device 'ws-1' published on the topic of device 'ws-2'/],
      [JSON.stringify({ ...good, power: 99_999, current: 15 }), "INVALID_READING", /99999 W is more than a HS110/],
      [JSON.stringify({ v: 1, device: "ws-2", ts: D + 31 * MIN, measurement: "evil2", fields: { x: 1 } }), "INVALID_READING", /measurement 'evil2'/],
      [JSON.stringify({ ...good, energy: -5 }), "INVALID_READING", /\$\.energy/],
      [JSON.stringify({ ...good, power: "NaN" }), "INVALID_READING", /\$\.power/],
      [JSON.stringify({ ...good, ts: 0 }), "INVALID_READING", /\$\.ts/],
      [JSON.stringify({ ...good, v: 2 }), "INVALID_READING", /\$\.v/],
      ["", "INVALID_READING", /./],
    ];
    for (const [payload] of bad) await client.publishAsync(topic, payload, { qos: 1 });
    await client.publishAsync(topic, JSON.stringify(good), { qos: 1 });
    await waitUntil(`${bad.length} errors on ${errorTopic(root)}`, () => errors.length >= bad.length);
    await waitUntil("the good reading after the bad ones", async () => (await count()) === READINGS.length + 1);
    assert.deepEqual(
      errors.map((e) => e.code),
      bad.map((b) => b[1]),
    );
    bad.forEach(([, , re], i) => assert.match(errors[i]?.message ?? "", re));
    const measurements = await influxd.query("SHOW MEASUREMENTS", DB);
    assert.doesNotMatch(JSON.stringify(measurements), /evil2/, "no forged measurement was created");
    const ws1 = await influxd.query(`SELECT count("power") FROM "plug" WHERE "device" = 'ws-1' AND time = ${good.ts}ms`, DB);
    assert.doesNotMatch(JSON.stringify(ws1), /"count"/, "nothing stored as ws-1 from ws-2's topic");
    const max = await influxd.query(`SELECT max("power") FROM "plug"`, DB);
    assert.doesNotMatch(JSON.stringify(max), /99999/, "the implausible value was not stored");
    assert.equal((await red.request("/settings")).status, 200, "the runtime is still up");
  });
});
