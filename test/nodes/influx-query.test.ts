// plugwatch-influx-query in the Node-RED test helper against a real private influxd: every query type returns what was written.
import assert from "node:assert/strict";
import type { DeviceEntry, QueryReply } from "../../lib/contracts";
import { QueryReply as QueryReplySchema, validate } from "../../lib/contracts";
import { influxConfig, registryConfig } from "../support/config-nodes";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { helper, recordStatuses } from "../support/node-helper";
import { freePort } from "../../scripts/harness/ports";

import registryNode from "../../nodes/plugwatch-registry/plugwatch-registry";
import influxNode from "../../nodes/plugwatch-influx/plugwatch-influx";
import queryNode from "../../nodes/plugwatch-influx-query/plugwatch-influx-query";
import { nth } from "../support/checked";

const DB = "plugwatch_q";
const MIN = 60_000;
const DAY = 86_400_000;
const D = Date.UTC(2025, 10, 24); // 2025-11-24T00:00Z, a fixed day of readings
const NOW = Date.now();

const DEVICES: DeviceEntry[] = [
  { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 20001, kind: "workplace", location: { building: "hq", floor: "1", room: "open-1" } },
  { id: "ws-2", name: "Desk 2", model: "HS110", host: "127.0.0.1", port: 20002, kind: "workplace", location: { building: "hq", floor: "1", room: "open-1" } },
  { id: "pr-1", name: "Printer", model: "HS110", host: "127.0.0.1", port: 20003, kind: "printer", location: { building: "hq", floor: "2", room: "copy" } },
  { id: "mr-a", name: "Room A", model: "HS110", host: "127.0.0.1", port: 20004, kind: "meeting-room", location: { building: "hq", floor: "2", room: "alpha" } },
];

function line(d: DeviceEntry, ts: number, f: { power: number; voltage: number; current: number; energy: number; relay: boolean }): string {
  const { building, floor, room } = d.location;
  const fields = `power=${f.power},voltage=${f.voltage},current=${f.current},energy=${f.energy},relay=${f.relay}`;
  return `plug,device=${d.id},kind=${d.kind},building=${building},floor=${floor},room=${room} ${fields} ${ts}`;
}
const dev = (id: string): DeviceEntry => DEVICES.find((d) => d.id === id) as DeviceEntry;

// ws-1: six readings a minute apart with a counter restart after the third (10.0, 10.5, 11.0, 0.0, 0.2, 0.4).
const WS1_POWER = [100, 110, 120, 130, 140, 150];
const WS1_ENERGY = [10.0, 10.5, 11.0, 0.0, 0.2, 0.4];
const DATA = [
  ...WS1_POWER.map((p, i) => line(dev("ws-1"), D + i * MIN, { power: p, voltage: 230 + i, current: p / 230, energy: nth(WS1_ENERGY, i), relay: i % 2 === 0 })),
  ...[0, 1, 2, 3, 4, 5].map((i) => line(dev("ws-2"), D + i * MIN, { power: 10 * i, voltage: 231, current: 0.01 * i, energy: 5 + 0.1 * i, relay: true })),
  ...[0, 1, 2].map((i) => line(dev("pr-1"), D + i * MIN, { power: 5, voltage: 229, current: 0.02, energy: 2 + 0.25 * i, relay: true })),
  // Latest readings: ws-1 one hour ago (active), pr-1 40 days ago (inactive), ws-2's newest is D (inactive).
  line(dev("ws-1"), NOW - 3_600_000, { power: 42, voltage: 232, current: 0.2, energy: 0.9, relay: true }),
  line(dev("pr-1"), NOW - 40 * DAY, { power: 7, voltage: 228, current: 0.03, energy: 3, relay: false }),
].join("\n");

interface Out {
  topic: string;
  payload: QueryReply;
  qos: number;
}

function flow(opts: { url: string; maxRows?: number; concurrency?: number; database?: string }): Record<string, unknown>[] {
  return [
    registryConfig({ devices: DEVICES }),
    influxConfig(opts.url, { database: DB }),
    {
      id: "q",
      type: "plugwatch-influx-query",
      influx: "influx",
      registry: "reg",
      database: opts.database ?? "",
      maxSpanDays: 366,
      maxRawSpanDays: 31,
      maxRows: opts.maxRows ?? 100000,
      timeout: 5000,
      concurrency: opts.concurrency ?? 8,
      wires: [["out"]],
    },
    { id: "out", type: "helper" },
  ];
}

let seq = 0;
/** Sends one request and resolves with the reply the node sent (correlated by id). */
function ask(query: Record<string, unknown>, payloadOverride?: unknown): Promise<Out> {
  const id = `q-${++seq}`;
  const out = helper.getNode("out");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to ${id}`)), 10000);
    out.on("input", (msg: Out) => {
      if (msg.payload.id !== id) return;
      clearTimeout(timer);
      resolve(msg);
    });
    helper.getNode("q").receive({ payload: payloadOverride ?? { v: 1, id, replyTo: `clients/t/${id}`, query } });
  });
}

describe("plugwatch-influx-query node (real influxd)", function () {
  this.timeout(30000);
  let influxd: InfluxdInstance;

  before(async function () {
    influxd = await startInfluxd();
    await influxd.query(`CREATE DATABASE ${DB}`);
    await influxd.write(DB, DATA);
  });
  after(async function () {
    await influxd?.destroy();
  });
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  const load = (opts: Partial<Parameters<typeof flow>[0]> = {}) => helper.load([registryNode, influxNode, queryNode], flow({ url: influxd.url, ...opts }));

  it("range raw: exactly the written values, ts in ms, oldest first, reply topic and qos 1", async function () {
    await load();
    const msg = await ask({ type: "range", target: { device: "ws-1" }, fields: ["power", "energy", "relay"], from: D, to: D + 10 * MIN });
    assert.equal(msg.topic, `clients/t/q-${seq}`);
    assert.equal(msg.qos, 1);
    assert.ok(validate(QueryReplySchema, msg.payload).ok, "reply matches the contract");
    assert.deepEqual(msg.payload.data, {
      type: "range",
      series: [{ device: "ws-1", points: WS1_POWER.map((p, i) => ({ ts: D + i * MIN, power: p, energy: nth(WS1_ENERGY, i), relay: i % 2 === 0 })) }],
      resolution: "raw",
    });
  });

  it("range aggregated: mean/min/max/sum/last/count per interval and device", async function () {
    await load();
    const agg = async (aggregate: string) => {
      const r = await ask({ type: "range", target: { kind: "workplace" }, fields: ["power"], from: D, to: D + 6 * MIN, aggregate, interval: "3m" });
      assert.equal(r.payload.ok, true, JSON.stringify(r.payload.error));
      const data = r.payload.data as unknown as { series: { device: string; points: { ts: number; power: number }[] }[] };
      return Object.fromEntries(data.series.map((s) => [s.device, s.points.map((p) => [p.ts - D, p.power])]));
    };
    // Per aggregate: the value of the [0, 3m) and [3m, 6m) buckets of each device.
    const want: Record<string, { "ws-1": [number, number]; "ws-2": [number, number] }> = {
      mean: { "ws-1": [110, 140], "ws-2": [10, 40] },
      min: { "ws-1": [100, 130], "ws-2": [0, 30] },
      max: { "ws-1": [120, 150], "ws-2": [20, 50] },
      sum: { "ws-1": [330, 420], "ws-2": [30, 120] },
      last: { "ws-1": [120, 150], "ws-2": [20, 50] },
      count: { "ws-1": [3, 3], "ws-2": [3, 3] },
    };
    for (const [aggregate, byDevice] of Object.entries(want)) {
      const expected = Object.fromEntries(
        Object.entries(byDevice).map(([device, [first, second]]) => [
          device,
          [
            [0, first],
            [3 * MIN, second],
          ],
        ]),
      );
      assert.deepEqual(await agg(aggregate), expected, aggregate);
    }
  });

  it("latest hides devices silent for 30 days unless all; inactiveAfterDays widens the window", async function () {
    await load();
    const latest = async (q: Record<string, unknown>) => {
      const r = await ask({ type: "latest", ...q });
      return (r.payload.data as unknown as { readings: { device: string; ts: number; power: number }[] }).readings.map((x) => [x.device, x.ts, x.power]);
    };
    assert.deepEqual(await latest({}), [["ws-1", NOW - 3_600_000, 42]]);
    assert.deepEqual(await latest({ inactiveAfterDays: 45 }), [
      ["pr-1", NOW - 40 * DAY, 7],
      ["ws-1", NOW - 3_600_000, 42],
    ]);
    assert.deepEqual(await latest({ all: true }), [
      ["pr-1", NOW - 40 * DAY, 7],
      ["ws-1", NOW - 3_600_000, 42],
      ["ws-2", D + 5 * MIN, 50],
    ]);
  });

  it("latestN: newest first, limit respected, every field of the row", async function () {
    await load();
    const r = await ask({ type: "latestN", device: "ws-1", limit: 3 });
    const data = r.payload.data as { device: string; readings: Record<string, unknown>[] };
    assert.equal(data.device, "ws-1");
    assert.deepEqual(
      data.readings.map((x) => x.ts),
      [NOW - 3_600_000, D + 5 * MIN, D + 4 * MIN],
    );
    assert.deepEqual(data.readings[1], {
      ts: D + 5 * MIN,
      power: 150,
      voltage: 235,
      current: 150 / 230,
      energy: 0.4,
      relay: false,
      kind: "workplace",
      building: "hq",
      floor: "1",
      room: "open-1",
    });
    const all = await ask({ type: "latestN", device: "ws-1" });
    assert.equal((all.payload.data as { readings: unknown[] }).readings.length, 7, "default limit 1440 returns all 7 rows");
  });

  it("energy across a counter reset: 1.4 kWh for ws-1, never negative, per device and per interval", async function () {
    await load();
    const r = await ask({ type: "energy", target: { device: "ws-1" }, from: D, to: D + 10 * MIN });
    assert.deepEqual(r.payload.data, { type: "energy", groupBy: "device", rows: [{ group: "ws-1", ts: D, kWh: 1.4 }], resolution: "raw" });
    const perInterval = await ask({ type: "energy", target: { device: "ws-1" }, from: D, to: D + 6 * MIN, interval: "3m" });
    // First interval 10.0→11.0 = 1.0; second: 11.0→0.0 (restart) = 0, then 0.2 + 0.2.
    assert.deepEqual((perInterval.payload.data as { rows: unknown[] }).rows, [
      { group: "ws-1", ts: D, kWh: 1 },
      { group: "ws-1", ts: D + 3 * MIN, kWh: 0.4 },
    ]);
  });

  it("energy grouped by room and by kind through the registry", async function () {
    await load();
    const room = await ask({ type: "energy", groupBy: "room", from: D, to: D + 10 * MIN });
    assert.deepEqual((room.payload.data as { rows: unknown[] }).rows, [
      { group: "hq/1/open-1", ts: D, kWh: 1.9 },
      { group: "hq/2/copy", ts: D, kWh: 0.5 },
    ]);
    const kind = await ask({ type: "energy", groupBy: "kind", from: D, to: D + 10 * MIN, interval: "1h" });
    assert.deepEqual((kind.payload.data as { rows: unknown[] }).rows, [
      { group: "printer", ts: D, kWh: 0.5 },
      { group: "workplace", ts: D, kWh: 1.9 },
    ]);
  });

  it("energy with more readings than maxRows falls back to per-interval first/last/min/max with the same answer", async function () {
    await load({ maxRows: 5 });
    const r = await ask({ type: "energy", target: { device: "ws-1" }, from: D, to: D + 6 * MIN, interval: "3m" });
    assert.deepEqual((r.payload.data as unknown as { rows: unknown[] }).rows, [
      { group: "ws-1", ts: D, kWh: 1 },
      { group: "ws-1", ts: D + 3 * MIN, kWh: 0.4 },
    ]);
  });

  it("raw range over the row budget is refused with LIMIT_EXCEEDED, an explicit limit truncates", async function () {
    await load({ maxRows: 4 });
    const over = await ask({ type: "range", target: { device: "ws-1" }, fields: ["power"], from: D, to: D + 10 * MIN });
    assert.equal(over.payload.error?.code, "LIMIT_EXCEEDED");
    const limited = await ask({ type: "range", target: { device: "ws-1" }, fields: ["power"], from: D, to: D + 10 * MIN, limit: 2 });
    assert.deepEqual((limited.payload.data as { series: { points: unknown[] }[] }).series[0]?.points, [
      { ts: D, power: 100 },
      { ts: D + MIN, power: 110 },
    ]);
  });

  it("client errors are answered with stable codes; status turns yellow", async function () {
    await load();
    const statuses = recordStatuses(helper.getNode("q"));
    const codes = await Promise.all([
      ask({ type: "latestN", device: "nobody" }),
      ask({ type: "range", from: D, to: D + 40 * DAY }),
      ask({ type: "range", from: D + MIN, to: D }),
      ask({ type: "energy", target: { kind: "other" }, from: D, to: D + DAY }),
      ask({ type: "sql", q: "DROP DATABASE x" }),
      ask({ type: "range", from: D, to: D + DAY, fields: ["relay"], aggregate: "mean", interval: "1h" }),
    ]);
    assert.deepEqual(
      codes.map((c) => c.payload.error?.code),
      ["UNKNOWN_DEVICE", "LIMIT_EXCEEDED", "INVALID_QUERY", "EMPTY_TARGET", "INVALID_QUERY", "INVALID_QUERY"],
    );
    assert.ok(statuses.some((s) => s.fill === "yellow" && s.shape === "dot" && /INVALID_QUERY|LIMIT_EXCEEDED|UNKNOWN_DEVICE|EMPTY_TARGET/.test(s.text ?? "")));
  });

  it("an unaddressable payload goes to done(err) (Catch), nothing is sent", async function () {
    await load();
    const errors: unknown[] = [];
    let sent = 0;
    helper.getNode("q").on("call:error", (call: { args: unknown[] }) => errors.push(call.args[0]));
    helper.getNode("out").on("input", () => sent++);
    for (const p of ["not json", Buffer.from("{"), 42, { v: 1, query: { type: "latest" } }]) {
      helper.getNode("q").receive({ payload: p });
    }
    const deadline = Date.now() + 5000;
    while (errors.length < 4 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(errors.length, 4);
    assert.equal(sent, 0);
    // Still serving afterwards.
    assert.equal((await ask({ type: "latest", all: true })).payload.ok, true);
  });

  it("a forbidden reply topic is never answered: no send, no Catch, counted in status, one rate-limited warning", async function () {
    await load();
    const errors: unknown[] = [];
    const warnings: string[] = [];
    const statuses: { text?: string }[] = [];
    let sent = 0;
    const q = helper.getNode("q");
    q.on("call:error", (call: { args: unknown[] }) => errors.push(call.args[0]));
    q.on("call:warn", (call: { args: unknown[] }) => warnings.push(String(call.args[0])));
    q.on("call:status", (call: { args: { text?: string }[] }) => statuses.push(call.args[0] ?? {}));
    helper.getNode("out").on("input", () => sent++);
    const hostile = ["$SYS/x", "#", "+/x", "plugwatch/hq/1/r/pr-1/reading", "plugwatch/alerts/pr-1/x", "clients/" + "a/".repeat(999) + "a", "", "a/+/b"];
    for (const replyTo of hostile) q.receive({ topic: "plugwatch/api/request/query", payload: { v: 1, id: "h", replyTo, query: { type: "latest" } } });
    const deadline = Date.now() + 5000;
    while (!statuses.some((s) => s.text === `replyTo refused: ${hostile.length}`) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.ok(
      statuses.some((s) => s.text === `replyTo refused: ${hostile.length}`),
      JSON.stringify(statuses.slice(-3)),
    );
    assert.equal(sent, 0);
    assert.equal(errors.length, 0);
    assert.ok(warnings.length >= 1 && warnings.length <= 6, `one warning per problem at most (${warnings.length})`);
    // Still serving afterwards.
    assert.equal((await ask({ type: "latest", all: true })).payload.ok, true);
  });

  it("JSON string and Buffer payloads are accepted", async function () {
    await load();
    const body = (id: string) => JSON.stringify({ v: 1, id, replyTo: "clients/r/x", query: { type: "latestN", device: "pr-1", limit: 1 } });
    const a = await ask({}, body(`q-${seq + 1}`));
    assert.equal(a.payload.ok, true);
    const b = await ask({}, Buffer.from(body(`q-${seq + 1}`)));
    assert.deepEqual(
      (b.payload.data as unknown as { readings: { ts: number }[] }).readings.map((x) => x.ts),
      [NOW - 40 * DAY],
    );
  });

  it("many concurrent queries: one reply each, all correct", async function () {
    await load({ concurrency: 3 });
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => ask({ type: "range", target: { device: "pr-1" }, fields: ["energy"], from: D, to: D + DAY })),
    );
    for (const r of replies)
      assert.deepEqual(
        (r.payload.data as unknown as { series: { points: { energy: number }[] }[] }).series[0]?.points.map((p) => p.energy),
        [2, 2.25, 2.5],
      );
  });

  it("unreachable InfluxDB: STORAGE_UNAVAILABLE reply, red status and done(err)", async function () {
    const port = await freePort();
    await helper.load([registryNode, influxNode, queryNode], flow({ url: `http://127.0.0.1:${port}` }));
    const statuses = recordStatuses(helper.getNode("q"));
    const errors: unknown[] = [];
    helper.getNode("q").on("call:error", (c: { args: unknown[] }) => errors.push(c.args[0]));
    const r = await ask({ type: "latest" });
    assert.equal(r.payload.ok, false);
    assert.equal(r.payload.error?.code, "STORAGE_UNAVAILABLE");
    const deadline = Date.now() + 2000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((res) => setImmediate(res));
    assert.equal(statuses.at(-1)?.fill, "red");
    assert.equal(errors.length, 1);
  });

  it("a database that does not exist is STORAGE_UNAVAILABLE, not a crash", async function () {
    await load({ database: "nope" });
    const r = await ask({ type: "latest", all: true });
    assert.equal(r.payload.error?.code, "STORAGE_UNAVAILABLE");
    assert.match(r.payload.error?.message ?? "", /nope/);
  });

  it("bad editor config: red status and done(err) on input", async function () {
    await helper.load([registryNode, influxNode, queryNode], flow({ url: influxd.url, maxRows: -3 }));
    const errors: unknown[] = [];
    helper.getNode("q").on("call:error", (c: { args: unknown[] }) => errors.push(c.args[0]));
    helper.getNode("q").receive({ payload: { v: 1, id: "x", replyTo: "clients/r", query: { type: "latest" } } });
    const deadline = Date.now() + 2000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((res) => setImmediate(res));
    assert.match(String(errors[0]), /maxRows/);
  });

  it("close while queries run: every message gets done exactly once, close completes", async function () {
    await load({ concurrency: 1 });
    const q = helper.getNode("q");
    const errors: string[] = [];
    let replies = 0;
    let busy = false;
    q.on("call:error", (c: { args: unknown[] }) => errors.push(String(c.args[0])));
    q.on("call:status", (c: { args: [{ fill?: string }] }) => (busy ||= c.args[0].fill === "yellow"));
    q.on("call:send", () => replies++);
    for (let i = 0; i < 5; i++) q.receive({ payload: { v: 1, id: `c-${i}`, replyTo: "clients/r", query: { type: "latest", all: true } } });
    const deadline = Date.now() + 5000;
    while (!busy && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.ok(busy, "a query is running");
    await helper.clearFlows();
    // The four queued ones were ended with an error.
    await new Promise((r) => setImmediate(r));
    // The running query replied (ok, or STORAGE_UNAVAILABLE when the config node closed its socket first), and
    // each of the four queued ones got a STORAGE_UNAVAILABLE reply.
    assert.equal(replies, 5);
    assert.equal(errors.filter((e) => /closed before the query ran/.test(e)).length, 4, errors.join("; "));
    assert.ok(errors.length <= 5);
  });
});
