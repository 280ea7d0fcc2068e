// Injection attempts in every query field, over real Mosquitto → plugwatch-influx-query → real influxd: all refused, database unchanged.
import { coreNodes } from "../../scripts/harness/runtime";
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { DeviceEntry, QueryReply } from "../../lib/contracts";
import { InfluxHttp } from "../../lib/influx/http";
import { DEFAULT_SETTINGS } from "../../lib/influx/settings";
import { buildLatest, buildLatestN } from "../../lib/influx/query-builder";
import { influxRunner } from "../../lib/influx/query-service";
import { influxConfig, registryConfig } from "../support/config-nodes";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { helper } from "../support/node-helper";
import { connectClient, startBroker, Teardown, uniqueRoot } from "../../scripts/harness/services";

import registryNode from "../../nodes/plugwatch-registry/plugwatch-registry";
import influxNode from "../../nodes/plugwatch-influx/plugwatch-influx";
import queryNode from "../../nodes/plugwatch-influx-query/plugwatch-influx-query";
import { lastOf } from "../support/checked";
const mqttNodes = coreNodes("network/10-mqtt.js");

const DB = "plugwatch";
const D = Date.UTC(2025, 10, 24);
const MIN = 60_000;
const DEVICES: DeviceEntry[] = [
  { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 21001, kind: "workplace", location: { building: "hq", floor: "1", room: "open-1" } },
  { id: "pr-1", name: "Printer", model: "HS110", host: "127.0.0.1", port: 21002, kind: "printer", location: { building: "hq", floor: "2", room: "copy" } },
];
const DATA = DEVICES.flatMap((d, n) =>
  [0, 1, 2, 3].map(
    (i) =>
      `plug,device=${d.id},kind=${d.kind},building=${d.location.building},floor=${d.location.floor},room=${d.location.room} ` +
      `power=${10 * (n + 1) + i},voltage=230,current=0.1,energy=${1 + 0.1 * i},relay=true ${D + i * MIN}`,
  ),
).join("\n");

const HOSTILE: unknown[] = [
  `x" OR 1=1 --`,
  `'; DROP DATABASE plugwatch`,
  `power" FROM plug; DROP SERIES FROM plug; --`,
  "po\u201dwer\u201c OR 1=1",
  "ws-1\nDROP DATABASE plugwatch",
  "ws-1' OR '1'='1",
  "/.*/",
  "$d0",
  "ws-1; DELETE FROM plug",
  "\u0000",
  { $gt: "" },
  ["ws-1", 'x" OR 1=1'],
  null,
];
const HOSTILE_NUMBERS: unknown[] = ["1764000000000; DROP DATABASE plugwatch", "now() - 1000d", 1.5, -1, 1e300, null, "1m", { $gt: 0 }, true];

/** A valid base query per type and the paths of every client-controlled field in it. */
const BASES: { query: Record<string, unknown> & { type: string }; strings: string[]; numbers: string[] }[] = [
  {
    query: {
      type: "range",
      target: { device: "ws-1" },
      measurement: "plug",
      fields: ["power"],
      from: D,
      to: D + 10 * MIN,
      aggregate: "mean",
      interval: "1m",
      limit: 10,
    },
    strings: ["type", "target.device", "measurement", "fields.0", "aggregate", "interval"],
    numbers: ["from", "to", "limit"],
  },
  { query: { type: "range", target: { devices: ["ws-1", "pr-1"] }, from: D, to: D + 10 * MIN }, strings: ["target.devices.1"], numbers: [] },
  {
    query: { type: "range", target: { building: "hq", floor: "1", room: "open-1", kind: "workplace" }, from: D, to: D + 10 * MIN },
    strings: ["target.building", "target.floor", "target.room", "target.kind"],
    numbers: [],
  },
  {
    query: { type: "latest", target: { kind: "printer" }, measurement: "plug", all: false, inactiveAfterDays: 30 },
    strings: ["target.kind", "measurement", "all"],
    numbers: ["inactiveAfterDays"],
  },
  { query: { type: "latestN", device: "ws-1", measurement: "plug", limit: 5 }, strings: ["device", "measurement"], numbers: ["limit"] },
  {
    query: { type: "energy", target: { all: true }, groupBy: "room", from: D, to: D + 10 * MIN, interval: "1h" },
    strings: ["groupBy", "interval", "target.all"],
    numbers: ["from", "to"],
  },
];

function withField(query: Record<string, unknown>, dotted: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(query);
  const keys = dotted.split(".");
  let obj = copy;
  for (const k of keys.slice(0, -1)) obj = obj[k] as Record<string, unknown>;
  obj[lastOf(keys)] = value;
  return copy;
}

async function snapshot(influxd: InfluxdInstance): Promise<string> {
  const parts = await Promise.all([
    influxd.query("SHOW DATABASES"),
    influxd.query("SHOW MEASUREMENTS", DB),
    influxd.query("SHOW SERIES", DB),
    influxd.query(`SELECT COUNT(*) FROM "plug"`, DB),
  ]);
  return JSON.stringify(parts);
}

describe("query injection (Mosquitto → plugwatch-influx-query → influxd)", function () {
  this.timeout(60000);
  const td = new Teardown();
  let influxd: InfluxdInstance;
  let client: MqttClient;
  let before0: string;
  const root = uniqueRoot("pwq");
  const replies = new Map<string, QueryReply>();
  const waiters = new Map<string, (r: QueryReply) => void>();
  let seq = 0;

  function ask(query: unknown, envelope: Record<string, unknown> = {}): Promise<QueryReply> {
    const id = `inj-${++seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${id} (${JSON.stringify(query)})`)), 5000);
      waiters.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      client.publish(`${root}/api/request/query`, JSON.stringify({ v: 1, id, replyTo: `${root}/api/reply/t/${id}`, query, ...envelope }), { qos: 1 });
    });
  }

  before(async function () {
    influxd = td.add(await startInfluxd(), (i) => i.destroy());
    await influxd.query(`CREATE DATABASE ${DB}`);
    await influxd.write(DB, DATA);
    before0 = await snapshot(influxd);
    const broker = await startBroker(td, "mosquitto");
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    td.add(null, () => new Promise<void>((resolve) => helper.stopServer(() => resolve())));
    const port = new URL(broker.url).port;
    await helper.load(
      [registryNode, influxNode, queryNode, mqttNodes],
      [
        {
          id: "b",
          type: "mqtt-broker",
          broker: "127.0.0.1",
          port,
          clientid: "",
          autoConnect: true,
          usetls: false,
          protocolVersion: "4",
          keepalive: "15",
          cleansession: true,
        },
        registryConfig({ devices: DEVICES }),
        influxConfig(influxd.url, { database: DB }),
        {
          id: "in",
          type: "mqtt in",
          topic: `${root}/api/request/query`,
          qos: "1",
          datatype: "auto-detect",
          broker: "b",
          nl: false,
          rap: true,
          inputs: 0,
          wires: [["q"]],
        },
        {
          id: "q",
          type: "plugwatch-influx-query",
          influx: "influx",
          registry: "reg",
          database: "",
          maxSpanDays: 366,
          maxRawSpanDays: 31,
          maxRows: 100000,
          timeout: 5000,
          concurrency: 8,
          wires: [["out"]],
        },
        { id: "out", type: "mqtt out", topic: "", qos: "", retain: "", broker: "b" },
      ],
    );
    td.add(null, () => helper.unload());
    client = await connectClient(td, broker.url);
    client.on("message", (_topic, payload) => {
      const reply = JSON.parse(payload.toString()) as QueryReply;
      replies.set(reply.id, reply);
      waiters.get(reply.id)?.(reply);
    });
    await client.subscribeAsync(`${root}/api/reply/t/#`, { qos: 1 });
    // The flow's MQTT client connects asynchronously: retry a valid query until it is answered.
    const deadline = Date.now() + 15000;
    for (;;) {
      try {
        const r = await ask({ type: "latest", all: true });
        if (r.ok) break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
  });

  after(async function () {
    await td.run();
  });

  it("answers a valid query over MQTT with the written data", async function () {
    const r = await ask({ type: "latestN", device: "pr-1", limit: 2 });
    assert.equal(r.ok, true);
    assert.deepEqual(
      (r.data as unknown as { readings: { ts: number; power: number }[] }).readings.map((x) => [x.ts, x.power]),
      [
        [D + 3 * MIN, 23],
        [D + 2 * MIN, 22],
      ],
    );
  });

  it("refuses every hostile value in every client-controlled field with INVALID_QUERY / INVALID_REQUEST", async function () {
    const cases: { path: string; query: Record<string, unknown> }[] = [];
    for (const base of BASES) {
      for (const path of base.strings) for (const v of HOSTILE) cases.push({ path: `${base.query.type}.${path}`, query: withField(base.query, path, v) });
      for (const path of base.numbers)
        for (const v of [...HOSTILE_NUMBERS, ...HOSTILE]) cases.push({ path: `${base.query.type}.${path}`, query: withField(base.query, path, v) });
      // An extra property smuggling query text.
      cases.push({ path: `${base.query.type}.q`, query: { ...base.query, q: "DROP DATABASE plugwatch" } });
    }
    assert.ok(cases.length > 250, `${cases.length} cases`);
    const results = await Promise.all(cases.map(async (c) => ({ c, r: await ask(c.query) })));
    const accepted = results.filter(({ r }) => r.ok || !["INVALID_QUERY", "INVALID_REQUEST"].includes(r.error?.code ?? ""));
    assert.deepEqual(
      accepted.map(({ c, r }) => `${c.path}=${JSON.stringify(c.query)} → ${JSON.stringify(r)}`),
      [],
    );
  });

  it("refuses hostile envelopes (version, extra keys) and survives garbage that cannot be answered", async function () {
    assert.equal((await ask({ type: "latest" }, { v: "1 OR 1=1" })).error?.code, "UNSUPPORTED_VERSION");
    assert.equal((await ask({ type: "latest" }, { sql: "DROP DATABASE plugwatch" })).error?.code, "INVALID_REQUEST");
    assert.equal((await ask("DROP DATABASE plugwatch")).error?.code, "INVALID_QUERY");
    for (const garbage of ["DROP DATABASE plugwatch", "{", "", JSON.stringify({ v: 1, id: 'x" OR 1=1', replyTo: `${root}/api/reply/t/x`, query: {} })]) {
      await client.publishAsync(`${root}/api/request/query`, garbage, { qos: 1 });
    }
    const r = await ask({ type: "latest", all: true });
    assert.equal(r.ok, true, "still answering after garbage");
    assert.equal((r.data as { readings: unknown[] }).readings.length, 2);
  });

  it("even bypassing validation, a hostile bound parameter matches nothing and runs nothing", async function () {
    const http = td.add(new InfluxHttp({ ...DEFAULT_SETTINGS, url: influxd.url, database: DB }), (h) => h.close());
    const run = influxRunner({ settings: { ...DEFAULT_SETTINGS, url: influxd.url, database: DB }, http });
    for (const v of HOSTILE.filter((x): x is string => typeof x === "string")) {
      assert.deepEqual(await run(buildLatest("plug", [v])), [], v);
      assert.deepEqual(await run(buildLatestN("plug", v, 10)), [], v);
    }
    // Control: the same statements with a real id do find data.
    assert.equal((await run(buildLatestN("plug", "ws-1", 10)))[0]?.values.length, 4);
  });

  it("the database is unchanged: same databases, measurements, series and point counts", async function () {
    assert.equal(await snapshot(influxd), before0);
    const count = await influxd.query(`SELECT COUNT("power") FROM "plug"`, DB);
    assert.equal(count.results[0]?.series?.[0]?.values[0]?.[1], 8);
  });
});
