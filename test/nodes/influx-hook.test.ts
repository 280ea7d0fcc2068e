// plugwatch-influx-hook in the Node-RED test helper against a real private influxd: round trip, batching, bad payloads, spool full, restart with a spool.
import { eventually } from "../../scripts/harness/wait";
import { helper, influxdSuite } from "../support/node-helper";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { ComponentStatus, validate, type DeviceEntry, type Reading } from "../../lib/contracts";
import { freePort } from "../../scripts/harness/ports";

import registryNode from "../../nodes/plugwatch-registry/plugwatch-registry";
import influxNode from "../../nodes/plugwatch-influx/plugwatch-influx";
import hookNode from "../../nodes/plugwatch-influx-hook/plugwatch-influx-hook";
import { nth } from "../support/checked";

const DEVICES: DeviceEntry[] = [
  {
    id: "ws-1",
    name: "Desk 1",
    model: "HS110",
    host: "127.0.0.1",
    port: 21001,
    kind: "workplace",
    location: { building: "hq", floor: "1", room: "open-1" },
    tags: { team: "ops" },
  },
  { id: "pr-1", name: "Printer", model: "HS110", host: "127.0.0.1", port: 21002, kind: "printer", location: { building: "hq", floor: "2", room: "copy" } },
];
const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

const reading = (i: number, device = "ws-1"): Reading => ({
  v: 1,
  device,
  ts: T0 + i * 1000,
  power: 10 + (i % 97) * 0.5,
  voltage: 230 + (i % 7),
  current: 0.05 + (i % 13) * 0.001,
  energy: 1 + i * 0.001,
  relay: i % 2 === 0,
});

let dbSeq = 0;
const uniqueDb = () => `hook_test_${process.pid}_${++dbSeq}`;

interface FlowOpts {
  url: string;
  db: string;
  spoolDir: string;
  batchSize?: number;
  flushInterval?: number;
  maxSpoolMB?: number;
  registry?: boolean;
  acceptUnknown?: boolean;
  statsInterval?: number;
}

function flow(o: FlowOpts): Record<string, unknown>[] {
  return [
    { id: "reg", type: "plugwatch-registry", source: "json", json: JSON.stringify({ measurements: ["toner"], devices: DEVICES }) },
    { id: "influx", type: "plugwatch-influx", url: o.url, flavour: "1.x", database: o.db, timeout: 2000, gzip: true, rejectUnauthorized: true },
    {
      id: "hook",
      type: "plugwatch-influx-hook",
      influx: "influx",
      registry: o.registry === false ? "" : "reg",
      measurement: "plug",
      batchSize: o.batchSize ?? 5000,
      flushInterval: o.flushInterval ?? 20,
      maxSpoolMB: o.maxSpoolMB ?? 16,
      spoolPolicy: "reject",
      acceptUnknown: o.acceptUnknown ?? false,
      maxInFlight: 1,
      createDatabase: true,
      statsInterval: o.statsInterval ?? 0,
      topicRoot: "pwtest",
      spoolDir: o.spoolDir,
      wires: [["stats"]],
    },
    { id: "stats", type: "helper" },
    { id: "catcher", type: "catch", scope: ["hook"], uncaught: false, wires: [["errors"]] },
    { id: "errors", type: "helper" },
    // done() without an error: the input was accepted (spooled and fsynced).
    { id: "completer", type: "complete", scope: ["hook"], uncaught: false, wires: [["completed"]] },
    { id: "completed", type: "helper" },
  ];
}

const load = (o: FlowOpts) => helper.load([registryNode, influxNode, hookNode], flow(o));

/** Resolves with fn()'s first value that is not undefined (test/support/wait.ts). */
const waitFor = <T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 15000): Promise<T> =>
  eventually(what, fn, (v) => v !== undefined, { timeoutMs, everyMs: 50 }) as Promise<T>;

describe("plugwatch-influx-hook node (real influxd)", function () {
  this.timeout(60000);

  const env = influxdSuite("plugwatch-hook-spool-");

  async function count(db: string, measurement = "plug"): Promise<number> {
    const r = await env.influx.query(`SELECT count("power") FROM "${measurement}"`, db);
    const v = r.results[0]?.series?.[0]?.values[0]?.[1];
    return typeof v === "number" ? v : 0;
  }
  const countIs = (db: string, n: number) => waitFor(`${n} points in ${db}`, async () => ((await count(db)) === n ? true : undefined));

  /** Counts inputs the hook accepted (done() without error). */
  function countAccepted(): { n: number } {
    const c = { n: 0 };
    helper.getNode("completed").on("input", () => c.n++);
    return c;
  }

  function collectErrors(): { message: string; code?: string; source?: { id: string } }[] {
    const errors: { message: string; code?: string }[] = [];
    helper.getNode("errors").on("input", (msg: { error: { message: string; code?: string } }) => errors.push(msg.error));
    return errors;
  }

  it("writes readings with registry tags, float fields, boolean relay and exact ms timestamps (object, JSON string, Buffer, array)", async () => {
    const db = uniqueDb();
    await load({ url: env.influx.url, db, spoolDir: env.dir });
    const errors = collectErrors();
    const hook = helper.getNode("hook");
    hook.receive({ payload: reading(0) });
    hook.receive({ payload: JSON.stringify(reading(1)) });
    hook.receive({ payload: Buffer.from(JSON.stringify(reading(2, "pr-1"))) });
    hook.receive({ payload: [reading(3), reading(4)] });
    hook.receive({ payload: { v: 1, device: "pr-1", ts: T0 + 9000, measurement: "toner", fields: { level: 42.5, jammed: true }, tags: { colour: "cyan" } } });
    await countIs(db, 5);
    const r = await env.influx.query(`SELECT * FROM "plug" WHERE "device" = 'ws-1' ORDER BY time`, db);
    const s = r.results[0]?.series?.[0];
    assert.ok(s, JSON.stringify(r));
    const rows = s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]])));
    assert.equal(rows.length, 4);
    const exp = reading(1);
    assert.deepEqual(rows[1], {
      time: exp.ts,
      building: "hq",
      current: exp.current,
      device: "ws-1",
      energy: exp.energy,
      floor: "1",
      kind: "workplace",
      power: exp.power,
      relay: exp.relay,
      room: "open-1",
      team: "ops",
      voltage: exp.voltage,
    });
    const types = await env.influx.query(`SHOW FIELD KEYS FROM "plug"`, db);
    assert.deepEqual(types.results[0]?.series?.[0]?.values, [
      ["current", "float"],
      ["energy", "float"],
      ["power", "float"],
      ["relay", "boolean"],
      ["voltage", "float"],
    ]);
    const toner = await waitFor("toner point", async () => {
      const q = await env.influx.query(`SELECT "level", "jammed", "colour", "kind" FROM "toner"`, db);
      return q.results[0]?.series?.[0]?.values[0];
    });
    assert.deepEqual(toner, [T0 + 9000, 42.5, true, "cyan", "printer"]);
    assert.deepEqual(errors, []);
  });

  it("batches by size at once and sends the remainder on close", async () => {
    const db = uniqueDb();
    await load({ url: env.influx.url, db, spoolDir: env.dir, batchSize: 100, flushInterval: 600_000 });
    helper.getNode("hook").receive({ payload: Array.from({ length: 250 }, (_, i) => reading(i)) });
    await countIs(db, 200);
    assert.equal(await count(db), 200, "the 50 leftover lines wait for the (long) flush interval");
    await helper.unload(); // close() drains
    assert.equal(await count(db), 250);
  });

  it("sends a partial batch after the flush interval", async () => {
    const db = uniqueDb();
    await load({ url: env.influx.url, db, spoolDir: env.dir, batchSize: 5000, flushInterval: 300 });
    const t = Date.now();
    helper.getNode("hook").receive({ payload: [reading(0), reading(1), reading(2)] });
    await countIs(db, 3);
    assert.ok(Date.now() - t >= 250, `sent after ${Date.now() - t} ms, before the 300 ms interval`);
  });

  it("rejects bad payloads with coded errors to Catch, keeps running and stores the good ones", async () => {
    const db = uniqueDb();
    await load({ url: env.influx.url, db, spoolDir: env.dir });
    const errors = collectErrors();
    const hook = helper.getNode("hook");
    const bad: unknown[] = [
      "{not json",
      { ...reading(100), power: "12" },
      { ...reading(101), device: "ghost" },
      { ...reading(102), power: NaN },
      { ...reading(103), voltage: Infinity },
      { ...reading(104), ts: 0 },
      { ...reading(105), ts: Date.UTC(3000, 0, 1) },
      42,
      null,
    ];
    let good = 0;
    for (let i = 0; i < bad.length; i++) {
      hook.receive({ payload: bad[i] });
      hook.receive({ payload: reading(i) });
      good++;
    }
    hook.receive({ payload: [reading(50), { ...reading(51), current: -1 }, reading(52)] });
    good += 2;
    await countIs(db, good);
    await waitFor("10 errors", () => (errors.length >= 10 ? true : undefined));
    assert.deepEqual(
      errors.map((e) => e.code),
      [
        "INVALID_READING",
        "INVALID_READING",
        "UNKNOWN_DEVICE",
        "INVALID_READING",
        "INVALID_READING",
        "INVALID_READING",
        "INVALID_READING",
        "INVALID_READING",
        "INVALID_READING",
        "INVALID_READING",
      ],
    );
    assert.match(nth(errors, 0).message, /not JSON/);
    assert.match(nth(errors, 1).message, /\$\.power/);
    assert.match(nth(errors, 2).message, /unknown device 'ghost'/);
    assert.match(nth(errors, 5).message, /\$\.ts/);
    assert.match(nth(errors, 9).message, /\$\[1\]\.current/);
  });

  it("accepts unknown devices when configured (and without a registry), tagged with device only", async () => {
    const db = uniqueDb();
    await load({ url: env.influx.url, db, spoolDir: env.dir, registry: false, acceptUnknown: true });
    helper.getNode("hook").receive({ payload: reading(0, "foreign-meter") });
    await countIs(db, 1);
    const r = await env.influx.query(`SHOW TAG KEYS FROM "plug"`, db);
    assert.deepEqual(r.results[0]?.series?.[0]?.values, [["device"]]);
  });

  it("without a registry and without acceptUnknown: every input fails with REGISTRY_INVALID", async () => {
    const db = uniqueDb();
    await load({ url: env.influx.url, db, spoolDir: env.dir, registry: false });
    const errors = collectErrors();
    helper.getNode("hook").receive({ payload: reading(0) });
    await waitFor("error", () => (errors.length ? true : undefined));
    assert.equal(errors[0]?.code, "REGISTRY_INVALID");
  });

  it("emits stats on its output", async () => {
    const db = uniqueDb();
    await load({ url: env.influx.url, db, spoolDir: env.dir, statsInterval: 1 });
    const stats: { topic: string; payload: { writtenLines: number; backlogLines: number; node: string } }[] = [];
    helper.getNode("stats").on("input", (m: (typeof stats)[number]) => stats.push(m));
    helper.getNode("hook").receive({ payload: [reading(0), reading(1)] });
    await countIs(db, 2);
    const s = await waitFor("stats with 2 written", () => stats.find((m) => m.payload.writtenLines === 2));
    assert.equal(s.topic, "pwtest/status/influx-hook");
    assert.equal(s.payload.node, "hook");
    assert.equal(s.payload.backlogLines, 0);
    // The payload is the component status contract the API's /health reads (docs/contracts.md#component-status).
    const r = validate(ComponentStatus, JSON.parse(JSON.stringify(s.payload)));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    assert.equal(r.value.component, "influx-hook");
    assert.equal(r.value.backlog, 0);
    assert.equal(r.value.acceptedLines, 2);
    assert.ok(Math.abs(r.value.ts - Date.now()) < 60_000);
  });

  it("SPOOL_FULL: refuses with an error once the spool bound is reached; everything accepted arrives later", async () => {
    const db = uniqueDb();
    const dead = `http://127.0.0.1:${await freePort()}`;
    await load({ url: dead, db, spoolDir: env.dir, maxSpoolMB: 1, batchSize: 1000 });
    const errors = collectErrors();
    const accepted = countAccepted();
    const hook = helper.getNode("hook");
    const statuses: { fill?: string; text?: string }[] = [];
    hook.on("call:status", (call: { args: [{ fill?: string; text?: string }] }) => statuses.push(call.args[0]));
    const warnings: string[] = [];
    hook.on("call:warn", (c: { args: unknown[] }) => warnings.push(String(c.args[0])));
    const out: { topic: string; payload: { id?: string; state?: string; severity?: string } | ""; retain?: boolean }[] = [];
    helper.getNode("stats").on("input", (m: (typeof out)[number]) => out.push(m));
    // ~200 bytes per line: 1 MiB holds ~5000 readings; offer 10000 in batches of 500.
    for (let b = 0; b < 20; b++) hook.receive({ payload: Array.from({ length: 500 }, (_, i) => reading(b * 500 + i)) });
    await waitFor("SPOOL_FULL errors", () => (errors.some((e) => e.code === "SPOOL_FULL") && errors.length + 0 >= 1 ? true : undefined));
    await waitFor("every input accepted or refused", () => (accepted.n + errors.length === 20 ? true : undefined));
    assert.equal(accepted.n, 20 - errors.length);
    const refused = errors.filter((e) => e.code === "SPOOL_FULL").length;
    assert.ok(refused > 0 && refused < 20, `refused ${refused} of 20 batches`);
    // One device alone: its fair share (half the spool, the rest kept for other devices) is reached first.
    assert.match(errors.find((e) => e.code === "SPOOL_FULL")!.message, /^spool fair share: .* holds \d+ of its 524288 bytes \(1 active key/);
    // Loud but rate-limited: one warning in the log for all the refusals of this minute.
    assert.equal(warnings.filter((w) => /^spool fair share: /.test(w)).length, 1, warnings.join("\n"));
    // An alert, raised once for all the refusals, retained on {root}/alerts/influx-hook/spool-full.
    await waitFor("the spool-full alert", () => (out.length ? true : undefined));
    const alerts = out.filter((m) => m.topic === "pwtest/alerts/influx-hook/spool-full");
    assert.equal(alerts.length, 1, JSON.stringify(out));
    assert.deepEqual(
      [alerts[0]?.retain, (alerts[0]?.payload as { state: string }).state, (alerts[0]?.payload as { severity: string }).severity],
      [true, "raised", "critical"],
    );
    // The policy is visible: a red status naming SPOOL_FULL and the backlog, not a silent drop.
    await waitFor("a red SPOOL_FULL status", () =>
      statuses.some((st) => st.fill === "red" && /^SPOOL_FULL, backlog \d+$/.test(st.text ?? "")) ? true : undefined,
    );
    await helper.unload();
    // "Node-RED restarts" with the database reachable: the accepted batches are all written, once.
    await load({ url: env.influx.url, db, spoolDir: env.dir, maxSpoolMB: 1, batchSize: 1000 });
    await countIs(db, (20 - refused) * 500);
  });

  it("repeated refusals of InfluxDB (400 partial write) are logged once per minute, whatever their counts", async () => {
    const db = uniqueDb();
    // A string 'power' in the same shard: every later float 'power' is a field type conflict (400, dropped=N).
    await env.influx.query(`CREATE DATABASE "${db}"`);
    await env.influx.write(db, `plug,device=ws-1 power="text" ${T0 - 1000}`);
    await load({ url: env.influx.url, db, spoolDir: env.dir, batchSize: 5000, flushInterval: 20 });
    const hook = helper.getNode("hook");
    const warnings: string[] = [];
    hook.on("call:warn", (c: { args: unknown[] }) => warnings.push(String(c.args[0])));
    const acked = (n: number) => () =>
      existsSync(path.join(env.dir, "ack")) && readFileSync(path.join(env.dir, "ack"), "utf8") === String(n) ? true : undefined;
    hook.receive({ payload: [reading(0), reading(1)] });
    await waitFor("the first batch refused and acknowledged", acked(2));
    await waitFor("the first refusal logged", () => (warnings.some((w) => /^InfluxDB refused 2 of 2 line\(s\)/.test(w)) ? true : undefined));
    hook.receive({ payload: [reading(2), reading(3), reading(4)] });
    await waitFor("the second batch refused and acknowledged", acked(5));
    await new Promise((r) => setImmediate(r)); // the helper reports warn calls on the next tick
    // Another count ("3 of 3") is the same kind of message: suppressed, not a second line in the log.
    assert.deepEqual(warnings.filter((w) => /InfluxDB refused/.test(w)).length, 1, warnings.join("\n"));
    assert.equal(await count(db), 1, "only the conflicting point written first; the refused readings are not stored");
  });

  it("keeps readings accepted while influxd is down across a node restart, and writes each exactly once", async () => {
    const db = uniqueDb();
    await load({ url: env.influx.url, db, spoolDir: env.dir, batchSize: 50, flushInterval: 20 });
    const accepted = countAccepted();
    const hook = helper.getNode("hook");
    hook.receive({ payload: Array.from({ length: 100 }, (_, i) => reading(i)) });
    await countIs(db, 100);
    await env.influx.stop();
    for (let b = 1; b < 5; b++) hook.receive({ payload: Array.from({ length: 100 }, (_, i) => reading(b * 100 + i)) });
    await waitFor("the 400 readings accepted while influxd is down", () => (accepted.n === 5 ? true : undefined));
    await helper.unload(); // closes while the database is down: the backlog stays spooled
    await env.influx.restart();
    assert.equal(await count(db), 100);
    await load({ url: env.influx.url, db, spoolDir: env.dir, batchSize: 50, flushInterval: 20 });
    await countIs(db, 500);
    const sum = await env.influx.query(`SELECT sum("energy") FROM "plug"`, db);
    const expected = Array.from({ length: 500 }, (_, i) => reading(i).energy).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs((sum.results[0]?.series?.[0]?.values[0]?.[1] as number) - expected) < 1e-6);
  });
});
