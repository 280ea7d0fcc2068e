// plugwatch-influx with Rollups on, against a real private influxd: tiers and CQs created, a retention change alters
// them, a second start changes nothing, and readings replayed late from the hook's spool after an outage reach the rollups.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DeviceEntry, Reading } from "../../lib/contracts";
import type { RetentionManager, RetentionStatus } from "../../lib/influx/retention-manager";
import { lateWindowsFileOf } from "../../lib/influx/late-windows-file";
import { rollupFields } from "../../lib/influx/rollup-schema";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { helper } from "../support/node-helper";
import { eventually } from "../../scripts/harness/wait";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED node modules are `export =`
import registryNode = require("../../nodes/plugwatch-registry/plugwatch-registry");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED node modules are `export =`
import influxNode = require("../../nodes/plugwatch-influx/plugwatch-influx");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED node modules are `export =`
import hookNode = require("../../nodes/plugwatch-influx-hook/plugwatch-influx-hook");
import { lastOf, member, nth } from "../support/checked";

const DEVICES: DeviceEntry[] = ["a", "b"].map((x, i) => ({
  id: `ws-${x}`,
  name: `Desk ${x}`,
  model: "HS110",
  host: "127.0.0.1",
  port: 22001 + i,
  kind: "workplace",
  location: { building: "hq", floor: "1", room: "open-1" },
}));
const MIN = 60_000;
const HOUR = 3_600_000;

let dbSeq = 0;
const uniqueDb = (): string => `retention_test_${process.pid}_${++dbSeq}`;

function flow(url: string, db: string, spoolDir: string, tiers: Record<string, unknown>): Record<string, unknown>[] {
  return [
    { id: "reg", type: "plugwatch-registry", source: "json", json: JSON.stringify({ devices: DEVICES }) },
    { id: "influx", type: "plugwatch-influx", url, flavour: "1.x", database: db, timeout: 2000, gzip: true, rejectUnauthorized: true, ...tiers },
    {
      id: "hook",
      type: "plugwatch-influx-hook",
      influx: "influx",
      registry: "reg",
      measurement: "plug",
      batchSize: 500,
      flushInterval: 20,
      maxSpoolMB: 16,
      spoolPolicy: "reject",
      acceptUnknown: false,
      maxInFlight: 1,
      createDatabase: true,
      statsInterval: 0,
      topicRoot: "pwtest",
      spoolDir,
      wires: [[]],
    },
  ];
}

/** Reading i of device d: values vary inside each minute, the counter rises. */
function reading(device: string, ts: number, i: number): Reading {
  return { v: 1, device, ts, power: 20 + ((i * 7) % 31) + 0.25, voltage: 228 + (i % 5), current: 0.1 + (i % 11) * 0.01, energy: 3 + i * 0.0004, relay: true };
}

interface Agg {
  power: number[];
  voltage: number[];
  current: number[];
  energy: number[];
}

/** The expected rollup row of a window, computed here from what was sent (not by InfluxDB). */
function expected(a: Agg): Record<string, number> {
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const row: Record<string, number> = {};
  for (const f of ["power", "voltage", "current"] as const) {
    row[`${f}_mean`] = mean(a[f]);
    row[`${f}_min`] = Math.min(...a[f]);
    row[`${f}_max`] = Math.max(...a[f]);
  }
  row.energy_first = nth(a.energy, 0, "first energy reading");
  row.energy_last = lastOf(a.energy, "last energy reading");
  row.energy_min = Math.min(...a.energy);
  row.energy_max = Math.max(...a.energy);
  row.n = a.power.length;
  return row;
}

describe("plugwatch-influx retention tiers (real influxd)", function () {
  this.timeout(90_000);
  let influxd: InfluxdInstance;
  let spoolDir: string;

  before(async function () {
    influxd = await startInfluxd();
  });
  after(async function () {
    await influxd?.destroy();
  });
  beforeEach(function (done) {
    spoolDir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-retention-spool-"));
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    rmSync(spoolDir, { recursive: true, force: true });
  });

  const manager = (): RetentionManager => (helper.getNode("influx") as unknown as { retention: RetentionManager }).retention;
  const applied = (): Promise<RetentionStatus> =>
    eventually(
      "retention applied",
      () => manager().status(),
      (s) => s.state === "applied" || s.state === "failed",
      { timeoutMs: 15_000, everyMs: 50 },
    );

  async function rps(db: string): Promise<Record<string, [string, boolean]>> {
    const r = await influxd.query(`SHOW RETENTION POLICIES ON "${db}"`);
    return Object.fromEntries((r.results[0]?.series?.[0]?.values ?? []).map((v) => [String(v[0]), [String(v[1]), v[4] === true]]));
  }
  async function cqs(db: string): Promise<string[]> {
    const r = await influxd.query(`SHOW CONTINUOUS QUERIES`);
    return (r.results[0]?.series ?? []).filter((s) => s.name === db).flatMap((s) => s.values.map((v) => String(v[0])));
  }

  it("creates the tiers (raw DEFAULT) and CQs, changes nothing on the next start, and alters a changed duration", async function () {
    const db = uniqueDb();
    await helper.load([registryNode, influxNode, hookNode], flow(influxd.url, db, spoolDir, { rollups: true }));
    // A reading sent at once: the hook waits for the first apply, so it lands in plugwatch_raw, not autogen.
    helper.getNode("hook").receive({ payload: reading("ws-a", Date.now(), 0) });
    const first = await applied();
    assert.equal(first.state, "applied", JSON.stringify(first.error));
    assert.equal(first.changes, 6, "database, three RPs, two CQs");
    assert.deepEqual(first.tiers, { raw: "30d", "1m": "730d", "1h": "inf" });
    assert.deepEqual(await rps(db), {
      autogen: ["0s", false],
      plugwatch_raw: ["720h0m0s", true],
      plugwatch_1m: ["17520h0m0s", false],
      plugwatch_1h: ["0s", false],
    });
    await eventually(
      "the first reading stored",
      () => influxd.query(`SELECT count(power) FROM "${db}"."plugwatch_raw"."plug"`),
      (r) => r.results[0]?.series?.[0]?.values[0]?.[1] === 1,
    );
    assert.equal((await influxd.query(`SELECT count(power) FROM "${db}"."autogen"."plug"`)).results[0]?.series, undefined, "nothing in autogen");
    const names = await cqs(db);
    assert.equal(names.length, 2);
    assert.ok(names.some((n) => /^plugwatch_rollup_1m_[0-9a-f]{8}$/.test(n)) && names.some((n) => /^plugwatch_rollup_1h_/.test(n)), names.join());

    await helper.unload();
    await helper.load([registryNode, influxNode, hookNode], flow(influxd.url, db, spoolDir, { rollups: true }));
    assert.deepEqual([(await applied()).state, manager().status().changes], ["applied", 0]);
    assert.deepEqual(await cqs(db), names);

    await helper.unload();
    await helper.load([registryNode, influxNode, hookNode], flow(influxd.url, db, spoolDir, { rollups: true, rawRetention: "7d", rollup1mRetention: "365d" }));
    const changed = await applied();
    assert.deepEqual([changed.state, changed.changes, changed.tiers.raw], ["applied", 2, "7d"]);
    const after = await rps(db);
    assert.deepEqual(
      [after.plugwatch_raw, after.plugwatch_1m, after.plugwatch_1h],
      [
        ["168h0m0s", true],
        ["8760h0m0s", false],
        ["0s", false],
      ],
    );
    assert.deepEqual(await cqs(db), names, "same rollup set: CQs kept");
  });

  it("leaves the database alone when Rollups is off (flows saved before the setting)", async function () {
    const db = uniqueDb();
    await helper.load([registryNode, influxNode, hookNode], flow(influxd.url, db, spoolDir, {}));
    assert.equal(manager().status().state, "off");
    helper.getNode("hook").receive({ payload: reading("ws-a", Date.now(), 0) });
    await eventually(
      "the reading stored",
      () => influxd.query(`SELECT count(power) FROM plug`, db),
      (r) => r.results[0]?.series?.[0]?.values[0]?.[1] === 1,
    );
    assert.deepEqual(Object.keys(await rps(db)), ["autogen"]);
  });

  it("late data: readings spooled while influxd is down reach the 1-minute and 1-hour rollups after the replay", async function () {
    const db = uniqueDb();
    await helper.load([registryNode, influxNode, hookNode], flow(influxd.url, db, spoolDir, { rollups: true }));
    assert.equal((await applied()).state, "applied");
    const hook = helper.getNode("hook");

    // Outage: 20 minutes of readings (every 10 s per plug, timestamped in the past) arrive while influxd is down,
    // plus a backfill of an hour three hours ago (one reading a minute). All of it waits in the spool.
    await influxd.stop();
    const now = Date.now();
    const start = Math.floor((now - 24 * MIN) / MIN) * MIN;
    const outage: Reading[] = [];
    for (let ts = start, i = 0; ts < start + 20 * MIN; ts += 10_000, i++) for (const d of DEVICES) outage.push(reading(d.id, ts, i));
    const hourStart = Math.floor((now - 3 * HOUR) / HOUR) * HOUR;
    const backfill: Reading[] = [];
    for (let ts = hourStart, i = 0; ts < hourStart + HOUR; ts += MIN, i++) backfill.push(reading("ws-b", ts, i * 3));
    for (let k = 0; k < outage.length; k += 40) hook.receive({ payload: outage.slice(k, k + 40) });
    hook.receive({ payload: backfill });
    await influxd.restart();

    const total = outage.length + backfill.length;
    await eventually(
      "the spool replayed",
      () => influxd.query(`SELECT count(power) FROM "${db}"."plugwatch_raw"."plug"`),
      (r) => r.results[0]?.series?.[0]?.values[0]?.[1] === total,
      { timeoutMs: 30_000, everyMs: 200 },
    );
    await eventually(
      "late windows re-aggregated",
      () => manager().status(),
      (s) => s.pendingRanges === 0 && s.reaggregated >= 3,
      { timeoutMs: 30_000, everyMs: 100 },
    );
    assert.ok(manager().status().latePoints >= total);

    // Every 1-minute window of the outage: the rollup row equals the aggregate of what was sent in it.
    const byWindow = new Map<string, Agg>();
    for (const r of outage) {
      const key = `${r.device} ${Math.floor(r.ts / MIN) * MIN}`;
      const a = byWindow.get(key) ?? { power: [], voltage: [], current: [], energy: [] };
      a.power.push(r.power);
      a.voltage.push(r.voltage);
      a.current.push(r.current);
      a.energy.push(r.energy);
      byWindow.set(key, a);
    }
    const res = await influxd.query(`SELECT * FROM "${db}"."plugwatch_1m"."plug" WHERE time >= ${start}ms AND time < ${start + 20 * MIN}ms GROUP BY "device"`);
    let rows = 0;
    for (const s of res.results[0]?.series ?? []) {
      const device = s.tags?.device;
      for (const v of s.values) {
        const got = Object.fromEntries(s.columns.map((c, i) => [c, v[i]]));
        const exp = byWindow.get(`${device} ${Number(got.time)}`);
        assert.ok(exp, `unexpected rollup row ${device} ${String(got.time)}`);
        const want = expected(exp);
        for (const f of rollupFields())
          assert.ok(Math.abs(Number(got[f]) - member(want, f)) < 1e-9, `${device} ${String(got.time)} ${f}: ${String(got[f])} != ${want[f]}`);
        assert.equal(got.building, "hq", "tags kept as tags");
        rows++;
      }
    }
    assert.equal(rows, byWindow.size, "one rollup row per device and minute");
    assert.equal(rows, 2 * 20);

    // The backfilled hour: one 1-hour row equal to its 60 readings.
    const h = await influxd.query(
      `SELECT * FROM "${db}"."plugwatch_1h"."plug" WHERE "device" = 'ws-b' AND time >= ${hourStart}ms AND time < ${hourStart + HOUR}ms`,
    );
    const series = h.results[0]?.series?.[0];
    assert.equal(series?.values.length, 1);
    const got = Object.fromEntries((series?.columns ?? []).map((c, i) => [c, series?.values[0]?.[i]]));
    const want = expected({
      power: backfill.map((r) => r.power),
      voltage: backfill.map((r) => r.voltage),
      current: backfill.map((r) => r.current),
      energy: backfill.map((r) => r.energy),
    });
    assert.equal(got.time, hourStart);
    for (const f of rollupFields()) assert.ok(Math.abs(Number(got[f]) - member(want, f)) < 1e-9, `1h ${f}: ${String(got[f])} != ${want[f]}`);
  });
  it("late windows noted before a crash are re-aggregated after the restart (kept in userDir)", async function () {
    const db = uniqueDb();
    const userDir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-retention-userdir-"));
    const file = lateWindowsFileOf(userDir, "influx");
    const savedRanges = (): unknown[] => (existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { ranges: unknown[] }).ranges : []);
    helper.settings({ userDir });
    try {
      await helper.load([registryNode, influxNode, hookNode], flow(influxd.url, db, spoolDir, { rollups: true }));
      assert.equal((await applied()).state, "applied");
      // Ten minutes of readings from half an hour ago (a backfill): late for the 1-minute tier.
      const start = Math.floor((Date.now() - 30 * MIN) / MIN) * MIN;
      const late: Reading[] = [];
      for (let ts = start, i = 0; ts < start + 10 * MIN; ts += 15_000, i++) for (const d of DEVICES) late.push(reading(d.id, ts, i));
      helper.getNode("hook").receive({ payload: late });
      await eventually(
        "the backfill stored and its windows saved",
        async (): Promise<[unknown, unknown[]]> => [
          (await influxd.query(`SELECT count(power) FROM "${db}"."plugwatch_raw"."plug"`)).results[0]?.series?.[0]?.values[0]?.[1],
          savedRanges(),
        ],
        ([n, ranges]) => n === late.length && ranges.length > 0,
        { timeoutMs: 4000, everyMs: 20 },
      );
      // "Crash" before the re-aggregation (due 5 s after the write): the flow stops with the windows still waiting.
      assert.equal(manager().status().reaggregated, 0, "not re-aggregated before the stop");
      await helper.unload();
      assert.ok(savedRanges().length > 0, "the windows are still in the file");
      const rollupRows = async (): Promise<number> =>
        ((await influxd.query(`SELECT count(n) FROM "${db}"."plugwatch_1m"."plug" WHERE time >= ${start}ms AND time < ${start + 10 * MIN}ms`)).results[0]
          ?.series?.[0]?.values[0]?.[1] as number | undefined) ?? 0;
      assert.equal(await rollupRows(), 0, "no rollup rows yet (the CQ service does not run in the test influxd)");

      await helper.load([registryNode, influxNode, hookNode], flow(influxd.url, db, spoolDir, { rollups: true }));
      await eventually(
        "the saved windows re-aggregated by the new instance",
        () => manager().status(),
        (s) => s.reaggregated >= 1 && s.pendingRanges === 0,
        { timeoutMs: 20_000, everyMs: 100 },
      );
      assert.deepEqual(savedRanges(), [], "the file is emptied once they are done");
      const byWindow = new Map<string, Agg>();
      for (const r of late) {
        const key = `${r.device} ${Math.floor(r.ts / MIN) * MIN}`;
        const a = byWindow.get(key) ?? { power: [], voltage: [], current: [], energy: [] };
        a.power.push(r.power);
        a.voltage.push(r.voltage);
        a.current.push(r.current);
        a.energy.push(r.energy);
        byWindow.set(key, a);
      }
      const res = await influxd.query(
        `SELECT * FROM "${db}"."plugwatch_1m"."plug" WHERE time >= ${start}ms AND time < ${start + 10 * MIN}ms GROUP BY "device"`,
      );
      let rows = 0;
      for (const s of res.results[0]?.series ?? [])
        for (const v of s.values) {
          const got = Object.fromEntries(s.columns.map((c, i) => [c, v[i]]));
          const exp = byWindow.get(`${s.tags?.device} ${Number(got.time)}`);
          assert.ok(exp, `unexpected row ${s.tags?.device} ${String(got.time)}`);
          const want = expected(exp);
          for (const f of rollupFields())
            assert.ok(Math.abs(Number(got[f]) - member(want, f)) < 1e-9, `${String(got.time)} ${f}: ${String(got[f])} != ${want[f]}`);
          rows++;
        }
      assert.equal(rows, 2 * 10, "one row per device and minute of the backfill");
    } finally {
      helper.settings({});
      rmSync(userDir, { recursive: true, force: true });
    }
  });
});
