// The range bucket cache of plugwatch-influx-query in a real Node-RED against a real influxd (rollups on): sliding 24 h
// windows from the 1-minute tier, short raw windows and windows reaching into the last hours equal the uncached answer
// cold and warm; the warm answer really comes from the cache (a row rewritten behind the pipeline's back is not seen,
// except by a window not aligned to its interval); a late reading through plugwatch-influx-hook (noted by the config
// node's RetentionManager, re-aggregated into the 1-minute tier) changes the answer.
import assert from "node:assert/strict";
import type { DeviceEntry, QueryData, RangeQuery, Reading } from "../../lib/contracts";
import { TIER_RP } from "../../lib/influx/rollup-schema";
import { buildRegistry } from "../../lib/registry";
import { Teardown } from "../../scripts/harness/services";
import { readingTopic } from "../../scripts/harness/storage-flow";
import { eventually } from "../../scripts/harness/wait";
import { dev } from "../support/cost-fixtures";
import { startQueryNodeStack, type QueryNodeStack } from "../support/query-node-stack";
import { nth } from "../support/checked";

const DB = "plugwatch_rangecache";
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = Math.floor(Date.now() / MIN) * MIN;
const START = NOW - 4 * DAY;
/** The start of a closed 24 h window (whole hour, ended more than two days ago, wholly in the 1-minute tier). */
const W0 = Math.floor((NOW - 3 * DAY - 6 * HOUR) / HOUR) * HOUR;

const DEVICES: DeviceEntry[] = [dev("a", "r1", 23201), dev("b", "r1", 23202), dev("c", "r2", 23203)];
const registry = buildRegistry({ version: 1, timezone: "UTC", devices: DEVICES });
/** b sends nothing for an hour inside that window. */
const OFFLINE: [number, number] = [W0 + 2 * HOUR, W0 + 3 * HOUR];

interface Point {
  device: string;
  room: string;
  ts: number;
  power: number;
  energy: number;
}

/** One reading a minute (at :30) of each device from START to NOW; the power changes every minute. */
function readings(): Point[] {
  const out: Point[] = [];
  for (const [i, d] of DEVICES.entries()) {
    let energy = 10 * (i + 1);
    for (let t = START; t < NOW; t += MIN) {
      const power = 100 * (i + 1) + ((t / MIN) % 37);
      energy = Math.round((energy + power / 1000 / 60) * 1e6) / 1e6;
      if (d.id === "b" && t >= OFFLINE[0] && t < OFFLINE[1]) continue;
      out.push({ device: d.id, room: d.location.room, ts: t + 30_000, power, energy });
    }
  }
  return out;
}
const DATA = readings();

const tags = (device: string, room: string) => `plug,building=hq,device=${device},floor=1,kind=workplace,room=${room}`;
const rawLine = (r: Point) => `${tags(r.device, r.room)} power=${r.power},energy=${r.energy} ${r.ts}`;
/** The 1-minute rollup row of one reading (one reading a minute), as the rollup worker computes it. */
const minuteLine = (r: Point, power = r.power) =>
  `${tags(r.device, r.room)} power_mean=${power},power_min=${power},power_max=${power},` +
  `energy_first=${r.energy},energy_last=${r.energy},energy_min=${r.energy},energy_max=${r.energy},n=1i ${Math.floor(r.ts / MIN) * MIN}`;

type Range = Extract<QueryData, { type: "range" }>;
const range = (from: number, to: number, extra: Partial<RangeQuery> = {}): RangeQuery => ({
  type: "range",
  target: { building: "hq" },
  fields: ["power"],
  from,
  to,
  aggregate: "mean",
  interval: "1m",
  ...extra,
});
/** The closed 24 h window from W0, shifted by `k` minutes. */
const window = (k: number, extra: Partial<RangeQuery> = {}) => range(W0 + k * MIN, W0 + DAY + k * MIN, extra);
const pointOf = (d: Range, device: string, ts: number) => d.series.find((s) => s.device === device)?.points.find((p) => p.ts === ts);

describe("range bucket cache in plugwatch-influx-query (real Node-RED, Mosquitto, influxd)", function () {
  this.timeout(120_000);
  const td = new Teardown();
  let s: QueryNodeStack;

  /** The query component's answer (range cache on). */
  async function viaNode(q: RangeQuery): Promise<Range> {
    const r = await s.ask({ ...q });
    assert.ok(r.ok, JSON.stringify(r.error));
    return r.data as Range;
  }
  /** The same query through the same code without a cache, in this process. */
  const direct = async (q: RangeQuery) => (await s.uncached.execute(q)) as Range;
  const write = (lines: string[], rp: string) => s.write(lines, rp);

  before(async function () {
    s = await startQueryNodeStack(td, { db: DB, rootPrefix: "pwrc", devices: DEVICES, registry });
    await write(DATA.map(rawLine), TIER_RP.raw);
    await write(
      DATA.map((r) => minuteLine(r)),
      TIER_RP["1m"],
    );
  });

  after(async function () {
    await td.run();
  });

  it("answers sliding 24 h windows from the 1-minute tier exactly as without the cache, cold and warm", async function () {
    for (const [k, extra] of [
      [0, {}],
      [7, {}],
      [3, {}],
      [59, {}],
      [0, {}],
      [5, { aggregate: "max", interval: "5m" }],
      [30, { aggregate: "max", interval: "5m" }],
      [5, { aggregate: "max", interval: "5m" }],
    ] as const) {
      const q = window(k, extra);
      const expected = await direct(q);
      assert.equal(expected.resolution, "1m");
      assert.deepEqual(await viaNode(q), expected, `window +${k} min ${JSON.stringify(extra)}`);
    }
    const day = await direct(window(0));
    // The fixture holds what it claims: 1440 minutes of a and c, b offline for one hour of the window.
    assert.deepEqual(
      day.series.map((s) => [s.device, s.points.length]),
      [
        ["a", 1440],
        ["b", 1380],
        ["c", 1440],
      ],
    );
  });

  it("answers short raw windows and windows reaching into the last hours exactly as without the cache", async function () {
    const queries = [
      range(NOW - 2 * DAY - 6 * HOUR, NOW - 2 * DAY - 3 * HOUR),
      range(NOW - 12 * HOUR, NOW),
      range(Math.floor((NOW - 26 * HOUR) / HOUR) * HOUR, NOW - 30 * MIN, { interval: "5m", aggregate: "max" }),
    ];
    const resolutions = [];
    for (const q of queries) {
      for (let i = 0; i < 2; i++) {
        const expected = await direct(q);
        assert.ok(expected.series.length > 0);
        assert.deepEqual(await viaNode(q), expected, `${JSON.stringify(q)}, ${i ? "warm" : "cold"}`);
        resolutions.push(expected.resolution);
      }
    }
    assert.deepEqual(resolutions, ["raw", "raw", "1m", "1m", "1m", "1m"]);
  });

  it("serves closed buckets from memory: a row rewritten behind the pipeline's back is not seen, except by an unaligned window", async function () {
    const q = window(0);
    const before = await viaNode(q);
    const minute = W0 + 10 * HOUR;
    const row = nth(
      DATA.filter((r) => r.device === "a" && r.ts === minute + 30_000),
      0,
      "a's reading of that minute",
    );
    await write([minuteLine(row, 9999)], TIER_RP["1m"]);
    try {
      assert.equal(pointOf(await direct(q), "a", minute)?.power, 9999, "the uncached answer sees the rewritten row");
      assert.deepEqual(await viaNode(q), before, "the cached answer does not");
      const unaligned = range(W0 + 30_000, W0 + DAY + 30_000);
      const fresh = await viaNode(unaligned);
      assert.deepEqual(fresh, await direct(unaligned));
      assert.equal(pointOf(fresh, "a", minute)?.power, 9999, "a window not aligned to its interval is read from InfluxDB");
    } finally {
      await write([minuteLine(row)], TIER_RP["1m"]);
    }
    assert.deepEqual(await direct(q), before);
  });

  it("forgets a closed bucket when a late reading for it arrives through the hook, then answers with it", async function () {
    const q = window(0);
    const before = await viaNode(q);
    assert.deepEqual(before, await direct(q));
    // c's spool replays a reading from the middle of the window, 15 s after the one already stored in that minute.
    const minute = W0 + 14 * HOUR;
    const stored = nth(
      DATA.filter((r) => r.device === "c" && r.ts === minute + 30_000),
      0,
      "c's reading of that minute",
    );
    const late: Reading = { v: 1, device: "c", ts: minute + 45_000, power: stored.power + 200, voltage: 230, current: 2, energy: stored.energy, relay: true };
    await s.client.publishAsync(readingTopic(s.root, nth(DEVICES, 2)), JSON.stringify(late), { qos: 1 });
    // The config node re-aggregates the minute from raw (after its 5 s flush delay): the mean moves by 100 W.
    const after = await eventually(
      "the re-aggregated 1-minute rollup",
      () => direct(q),
      (d) => pointOf(d, "c", minute)?.power === stored.power + 100,
      {
        timeoutMs: 30_000,
        everyMs: 200,
        context: () => s.red.logTail(30),
      },
    );
    await eventually(
      "the query component's answer with the late reading",
      () => viaNode(q),
      (d) => JSON.stringify(d) === JSON.stringify(after),
      {
        timeoutMs: 10_000,
        everyMs: 200,
      },
    );
    assert.deepEqual(await viaNode(q), after);
  });
});
