// runEnergy with a day cache: the same answer as without, and what it reads: only the days the cache lacks (the open
// day, invalidated days, days not closed for 3 h), no baseline statement when it is kept. A counter model answers the
// statements (GROUP BY time buckets and the baseline LAST), so the statements read are what is checked here; the
// answers against a real influxd are in test/e2e/energy-day-cache.test.ts.
import assert from "node:assert/strict";
import type { EnergyQuery } from "../../lib/contracts";
import { DayEnergyCache } from "../../lib/influx/day-energy-cache";
import { runEnergy, type EnergyContext } from "../../lib/influx/energy-query";
import { DEFAULT_LIMITS, type Statement } from "../../lib/influx/query-builder";
import { buildRegistry } from "../../lib/registry";
import { ROLLUPS } from "../support/cost-fixtures";

const H = 3_600_000;
const DAY = 24 * H;
const TODAY = Date.UTC(2026, 10, 20);
const devices = ["a", "b", "c"].map((id, i) => ({
  id,
  name: id,
  model: "HS110",
  host: "127.0.0.1",
  port: 24000 + i,
  kind: "workplace" as const,
  location: { building: "hq", floor: "1", room: i < 2 ? "r1" : "r2" },
}));
const registry = buildRegistry({ version: 1, timezone: "UTC", devices });

/** Counter of device i at t (kWh): rises 10 kWh a day, times (i + 1); c restarts from 0 on the 10th day before TODAY. */
function counter(i: number, t: number): number {
  const reset = TODAY - 10 * DAY;
  if (i === 2 && t >= reset) return ((t - reset) / DAY) * 10;
  return ((t - (TODAY - 100 * DAY)) / DAY) * 10 * (i + 1);
}

type Series = Awaited<ReturnType<EnergyContext["run"]>>[number];

/** Answers a counter-bucket statement (GROUP BY time(step[, offset])) or a baseline LAST from the model; records ranges. */
function modelRunner(read: [number, number][]): (stmt: Statement) => Promise<Series[]> {
  return (stmt) => {
    const m = /time >= (\d+)ms AND time < (\d+)ms/.exec(stmt.text);
    assert.ok(m, stmt.text);
    const [from, to] = [Number(m[1]), Number(m[2])];
    const ids = Object.values(stmt.params);
    if (!/GROUP BY time/.test(stmt.text)) {
      // Baseline: the last reading before `to` (= the query's from), 5 min earlier.
      return Promise.resolve(
        devices
          .filter((d) => ids.includes(d.id))
          .map((d, i) => ({ tags: { device: d.id }, columns: ["time", "last"], values: [[to - 300_000, counter(i, to - 300_000)]] })),
      );
    }
    read.push([from, to]);
    const step = Number(/GROUP BY time\((\d+)ms/.exec(stmt.text)?.[1]);
    return Promise.resolve(
      devices
        .filter((d) => ids.includes(d.id))
        .map((d) => {
          const i = devices.indexOf(d);
          const values: unknown[][] = [];
          for (let b = Math.floor(from / step) * step; b < to; b += step) {
            const [s, e] = [Math.max(b, from), Math.min(b + step, to) - 300_000];
            const [first, last] = [counter(i, s), counter(i, e)];
            values.push([b, first, last, last < first ? 0 : first, Math.max(first, last)]);
          }
          return { tags: { device: d.id }, columns: ["time", "first", "last", "min", "max"], values };
        }),
    );
  };
}

describe("energy query with the day cache (statements read)", function () {
  let now: number;
  let cache: DayEnergyCache;
  const read: [number, number][] = [];
  const ctx = (withCache: boolean): EnergyContext => ({
    run: modelRunner(read),
    registry,
    limits: { ...DEFAULT_LIMITS, maxSpanDays: 366 },
    rollups: ROLLUPS,
    now,
    ...(withCache ? { dayCache: cache } : {}),
  });
  const q: EnergyQuery = { type: "energy", calendar: "day", groupBy: "room", tz: "UTC", from: TODAY - 30 * DAY, to: TODAY + DAY };
  const run = (withCache: boolean, query: EnergyQuery = q) => runEnergy(query, registry.select({ all: true }), ctx(withCache));

  beforeEach(function () {
    now = TODAY + 15 * H;
    cache = new DayEnergyCache({ now: () => now });
    read.length = 0;
  });

  it("reads every day cold, then only the open day, with the same answer", async function () {
    const expected = await run(false);
    assert.equal(expected.rows.length, 2 * 31);
    read.length = 0;
    assert.deepEqual(await run(true), expected, "cold");
    assert.equal(Math.min(...read.map((r) => r[0])), q.from);
    read.length = 0;
    assert.deepEqual(await run(true), expected, "warm");
    assert.ok(read.length > 0 && read.every(([from]) => from >= TODAY), `only today is read: ${JSON.stringify(read)}`);
    assert.equal(cache.stats().days, 31, "30 closed days and the kept baseline");
  });

  it("reads an invalidated day again, and a day that ended less than 3 h ago", async function () {
    await run(true);
    cache.invalidate(TODAY - 12 * DAY + 5 * H, TODAY - 12 * DAY + 6 * H);
    read.length = 0;
    const expected = await run(false);
    const readNow = [...read];
    read.length = 0;
    assert.deepEqual(await run(true), expected);
    const span = (rs: [number, number][]) => rs.reduce((n, [a, b]) => n + (b - a), 0);
    assert.equal(span(readNow), 31 * DAY, "uncached: every day");
    assert.equal(span(read), 2 * DAY, "cached: the invalidated day and today");
    assert.deepEqual(
      read.filter(([from]) => from < TODAY),
      [[TODAY - 12 * DAY, TODAY - 11 * DAY]],
    );
    // 01:00: yesterday ended 1 h ago, so it is not kept and is read with today.
    now = TODAY + DAY + H;
    cache = new DayEnergyCache({ now: () => now });
    const q2 = { ...q, to: TODAY + 2 * DAY };
    await run(true, q2);
    read.length = 0;
    await run(true, q2);
    assert.equal(Math.min(...read.map((r) => r[0])), TODAY);
  });

  it("a query whose from falls inside a day reads that partial day every time", async function () {
    const q3 = { ...q, from: TODAY - 20 * DAY + 7 * H };
    const expected = await run(false, q3);
    await run(true, q3);
    read.length = 0;
    assert.deepEqual(await run(true, q3), expected);
    assert.deepEqual(
      read.filter(([from]) => from < TODAY),
      [[q3.from, TODAY - 19 * DAY]],
    );
  });
});
