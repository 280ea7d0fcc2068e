// The continuous queries Plugwatch creates, run by a real influxd's CQ service (run interval 1 s): readings written
// straight to plugwatch_raw (not through the hook, so no late-window re-aggregation is involved) reach plugwatch_1m at
// the next minute boundary and plugwatch_1h when the CQ service runs after a restart; every rollup row equals the
// aggregate of its window computed here from what was written.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { RetentionManager, RetentionStatus } from "../../lib/influx/retention-manager";
import { rollupFields, TIER_RP } from "../../lib/influx/rollup-schema";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { helper } from "../support/node-helper";
import { eventually } from "../../scripts/harness/wait";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED node modules are `export =`
import influxNode = require("../../nodes/plugwatch-influx/plugwatch-influx");
import { lastOf, member, nth } from "../support/checked";

const MIN = 60_000;
const HOUR = 3_600_000;
const DEVICES = ["ws-a", "ws-b"];

interface Point {
  device: string;
  ts: number;
  power: number;
  voltage: number;
  current: number;
  energy: number;
}

/** Point i of device d: values vary inside every window, the counter rises. */
function point(device: string, ts: number, i: number): Point {
  const k = device === "ws-a" ? 0 : 5;
  return { device, ts, power: 15 + ((i * 7 + k) % 29) + 0.5, voltage: 229 + ((i + k) % 4), current: 0.08 + ((i + k) % 9) * 0.01, energy: 1.5 + i * 0.0007 + k };
}

function line(p: Point): string {
  return `plug,device=${p.device},building=hq,floor=1,room=open-1,kind=workplace power=${p.power},voltage=${p.voltage},current=${p.current},energy=${p.energy},relay=true ${p.ts}`;
}

/** The rollup row of a window, computed here (not by InfluxDB): mean/min/max of gauges, first/last/min/max of the counter, n. */
function aggregate(points: Point[]): Record<string, number> {
  const sorted = [...points].sort((a, b) => a.ts - b.ts);
  const row: Record<string, number> = {};
  for (const f of ["power", "voltage", "current"] as const) {
    const v = sorted.map((p) => p[f]);
    row[`${f}_mean`] = v.reduce((s, x) => s + x, 0) / v.length;
    row[`${f}_min`] = Math.min(...v);
    row[`${f}_max`] = Math.max(...v);
  }
  const e = sorted.map((p) => p.energy);
  row.energy_first = nth(e, 0, "first energy reading");
  row.energy_last = lastOf(e, "last energy reading");
  row.energy_min = Math.min(...e);
  row.energy_max = Math.max(...e);
  row.n = sorted.length;
  return row;
}

function windows(points: Point[], step: number): Map<string, Point[]> {
  const out = new Map<string, Point[]>();
  for (const p of points) {
    const key = `${p.device} ${Math.floor(p.ts / step) * step}`;
    out.set(key, [...(out.get(key) ?? []), p]);
  }
  return out;
}

describe("rollup continuous queries run by influxd's CQ service", function () {
  this.timeout(150_000);
  let influxd: InfluxdInstance;
  const db = `cq_e2e_${process.pid}`;

  before(async function () {
    influxd = await startInfluxd({ continuousQueries: { runInterval: "1s" } });
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

  const manager = (): RetentionManager => (helper.getNode("influx") as unknown as { retention: RetentionManager }).retention;

  /** How many runs of CQ `name` influxd has logged as finished. */
  const cqRuns = (name: string): number =>
    readFileSync(path.join(influxd.dir, "influxd.log"), "utf8")
      .split("\n")
      .filter((l) => l.includes('msg="Finished continuous query"') && l.includes(` name=${name} `)).length;

  /** Every row of a tier: key `device time` → fields. */
  async function rollupRows(tier: "1m" | "1h"): Promise<Map<string, Record<string, unknown>>> {
    const r = await influxd.query(`SELECT * FROM "${db}"."${TIER_RP[tier]}"."plug" GROUP BY "device"`);
    const out = new Map<string, Record<string, unknown>>();
    for (const s of r.results[0]?.series ?? [])
      for (const v of s.values) {
        const row = Object.fromEntries(s.columns.map((c, i) => [c, v[i]]));
        out.set(`${s.tags?.device} ${Number(row.time)}`, row);
      }
    return out;
  }

  /** Each row equals the aggregate of the written points of its window; returns how many rows were checked. */
  function checkRows(rows: Map<string, Record<string, unknown>>, written: Point[], step: number, tier: string): number {
    const expected = windows(written, step);
    for (const [key, got] of rows) {
      const pts = expected.get(key);
      assert.ok(pts, `${tier} row ${key} has no written points`);
      const want = aggregate(pts);
      for (const f of rollupFields()) assert.ok(Math.abs(Number(got[f]) - member(want, f)) < 1e-9, `${tier} ${key} ${f}: ${String(got[f])} != ${want[f]}`);
      assert.equal(got.room, "open-1", "tags kept as tags");
    }
    return rows.size;
  }

  it("populates plugwatch_1m at the next minute boundary and plugwatch_1h after a restart, each row equal to its raw aggregate", async function () {
    await helper.load([influxNode], [{ id: "influx", type: "plugwatch-influx", url: influxd.url, flavour: "1.x", database: db, timeout: 2000, rollups: true }]);
    const st = await eventually(
      "tiers applied",
      () => manager().status(),
      (s: RetentionStatus) => s.state !== "pending",
      { timeoutMs: 15_000, everyMs: 50 },
    );
    assert.equal(st.state, "applied", JSON.stringify(st.error));
    const cqs = (await influxd.query("SHOW CONTINUOUS QUERIES")).results[0]?.series?.find((s) => s.name === db)?.values.map((v) => String(v[0])) ?? [];
    assert.equal(cqs.length, 2, cqs.join());

    // The CQ service runs a new CQ once right away (before any reading exists here), then at every RESAMPLE EVERY boundary.
    const cq1m = cqs.find((n) => n.startsWith("plugwatch_rollup_1m_")) as string;
    await eventually(
      "the 1-minute CQ's first run",
      () => cqRuns(cq1m),
      (n) => n >= 1,
      { timeoutMs: 15_000, everyMs: 100 },
    );

    // 1-minute tier: two finished minutes before the current one, a reading every 5 s per plug.
    const written: Point[] = [];
    const m0 = Math.floor(Date.now() / MIN) * MIN;
    const minutePoints: Point[] = [];
    for (const d of DEVICES) for (let ts = m0 - 3 * MIN, i = 0; ts < m0 - MIN; ts += 5000, i++) minutePoints.push(point(d, ts, i));
    await influxd.write(db, minutePoints.map(line).join("\n"));
    written.push(...minutePoints);
    const minuteKeys = [...windows(minutePoints, MIN).keys()].sort();
    assert.equal(minuteKeys.length, 4, "two windows × two plugs");
    const early = await rollupRows("1m");
    if (Math.floor(Date.now() / MIN) * MIN === m0) assert.equal(early.size, 0, "no 1-minute row before the next scheduled run");

    const rows1m = await eventually(
      "the 1-minute CQ run",
      () => rollupRows("1m"),
      (rows) => minuteKeys.every((k) => rows.has(k)),
      { timeoutMs: 75_000, everyMs: 500, context: () => influxd.logTail() },
    );
    assert.equal(checkRows(rows1m, written, MIN, "1m"), 4);
    assert.ok(Date.now() >= m0 + MIN, "served by the run at the next minute boundary");

    // 1-hour tier: the CQ runs at each hour boundary and once right after influxd starts (covering the last two
    // finished hours). A reading a minute per plug in the previous hour, then a restart.
    const h0 = Math.floor(Date.now() / HOUR) * HOUR;
    const hourPoints: Point[] = [];
    for (const d of DEVICES) for (let ts = h0 - HOUR + 7000, i = 0; ts < h0; ts += MIN, i++) hourPoints.push(point(d, ts, 3 * i));
    await influxd.write(db, hourPoints.map(line).join("\n"));
    written.push(...hourPoints);
    const hourKeys = DEVICES.map((d) => `${d} ${h0 - HOUR}`);
    const before = await rollupRows("1h");
    // (The CQ also runs at the hour boundary: only meaningful when none passed since the write.)
    if (Math.floor(Date.now() / HOUR) * HOUR === h0) assert.equal(before.size, 0, "no hourly row before the CQ ran");
    await influxd.restart();
    const rows1h = await eventually(
      "the 1-hour CQ run after the restart",
      () => rollupRows("1h"),
      (rows) => hourKeys.every((k) => rows.has(k)),
      { timeoutMs: 30_000, everyMs: 250, context: () => influxd.logTail() },
    );
    assert.ok(checkRows(rows1h, written, HOUR, "1h") >= 2);
    // 60 readings written for the hour, plus the 1-minute part's when the test started in the hour's first minutes.
    const inHour = written.filter((p) => p.device === DEVICES[0] && p.ts >= h0 - HOUR && p.ts < h0).length;
    assert.ok(inHour >= 60);
    assert.equal(Number(rows1h.get(nth(hourKeys, 0))?.n), inHour, `${inHour} readings behind the hourly row`);
    // Every 1-minute row, including any the run after the restart added, still equals its window's aggregate.
    checkRows(await rollupRows("1m"), written, MIN, "1m");

    // None of it came from Plugwatch's late-window re-aggregation: only the CQs wrote the rollups.
    assert.deepEqual([manager().status().latePoints, manager().status().reaggregated], [0, 0]);
  });
});
