// The cost query over the rollup tiers, against a real influxd: raw readings (every 30 s, a counter restart, an offline
// stretch) rolled up by the same SELECT … INTO as the continuous queries; a 2-day range is served by the 1-minute rollups
// (with a raw tail for the newest minutes) and a 9-day range by the 1-hour rollups, each with the same answer, to the
// micro-unit, as the same query over raw readings bucketed at the same width.
import assert from "node:assert/strict";
import type { CostQuery, QueryData } from "../../lib/contracts";
import { InfluxHttp } from "../../lib/influx/http";
import { influxRunner, QueryService } from "../../lib/influx/query-service";
import { NO_ROLLUPS, type RollupSettings } from "../../lib/influx/resolution";
import { rollupSelect } from "../../lib/influx/rollup-aggregate";
import { TIER_RP } from "../../lib/influx/rollup-schema";
import { DEFAULT_SETTINGS } from "../../lib/influx/settings";
import { buildTariffs } from "../../lib/tariff/load";
import { parisRegistry, ROLLUPS, threePeriodTariff } from "../support/cost-fixtures";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { nth } from "../support/checked";

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const registry = parisRegistry(29100);

/** Period boundaries at 02:30 and 07:00 local: a half-hour boundary splits hours, so the bucket width matters. */
const tariffs = buildTariffs(threePeriodTariff("three"));

// Local midnights in Europe/Paris (CEST, +02:00) from 2026-06-01.
const day = (n: number): number => Date.UTC(2026, 4, 31, 22) + n * DAY;
const DATA_FROM = day(-1);
const DATA_TO = day(10) + 3 * HOUR;

/** Readings every 30 s at :07 and :37; power follows the hour of day; a restarts its counter, b is offline for 5 h. */
function lines(): string[] {
  const out: string[] = [];
  const counters: Record<"a" | "b" | "c", number> = { a: 100, b: 20, c: 3 };
  for (let ts = DATA_FROM + 7 * SEC; ts < DATA_TO; ts += 30 * SEC) {
    const hour = new Date(ts).getUTCHours();
    for (const [id, room, base] of [
      ["a", "r1", 400],
      ["b", "r1", 900],
      ["c", "r2", 150],
    ] as const) {
      const watts = base + (hour >= 6 && hour < 18 ? 300 : 0) + ((ts / (30 * SEC)) % 7) * 10;
      if (id === "a" && ts >= day(3) + 14 * HOUR && ts < day(3) + 14 * HOUR + 30 * SEC) counters.a = 0; // counter restart
      counters[id] += (watts / 1000) * (30 / 3600);
      if (id === "b" && ts >= day(5) + 9 * HOUR && ts < day(5) + 14 * HOUR) continue; // offline, still metering
      out.push(`plug,building=hq,device=${id},floor=1,kind=workplace,room=${room} power=${watts},energy=${counters[id]} ${ts}`);
    }
  }
  return out;
}

type Cost = Extract<QueryData, { type: "cost" }>;

describe("cost over the rollup tiers (real influxd)", function () {
  this.timeout(120_000);
  let influxd: InfluxdInstance;
  const https: InfluxHttp[] = [];
  const db = "cost_rollups";
  /** Every statement run, to see which tiers answered. */
  const statements: string[] = [];

  function service(now: number, rollups: RollupSettings, maxRows: number): QueryService {
    const settings = { ...DEFAULT_SETTINGS, url: influxd.url, database: db };
    const http = new InfluxHttp(settings);
    https.push(http);
    const runner = influxRunner({ settings, http });
    const run: typeof runner = (stmt) => {
      statements.push(stmt.text);
      return runner(stmt);
    };
    return new QueryService({ run, registry: () => registry, tariffs: () => tariffs, now: () => now, rollups, limits: { maxRows } });
  }
  const cost = async (s: QueryService, q: Omit<CostQuery, "type">): Promise<Cost> => (await s.execute({ type: "cost", ...q })) as Cost;
  /** The answer without its resolution, for comparing a rollup answer with the raw one. */
  const body = ({ resolution: _r, ...rest }: Cost): Omit<Cost, "resolution"> => rest;

  before(async function () {
    influxd = await startInfluxd();
    await influxd.query(`CREATE DATABASE ${db}`);
    await influxd.query(`CREATE RETENTION POLICY ${TIER_RP.raw} ON ${db} DURATION INF REPLICATION 1 DEFAULT`);
    await influxd.query(`CREATE RETENTION POLICY ${TIER_RP["1m"]} ON ${db} DURATION INF REPLICATION 1`);
    await influxd.query(`CREATE RETENTION POLICY ${TIER_RP["1h"]} ON ${db} DURATION INF REPLICATION 1`);
    const all = lines();
    for (let i = 0; i < all.length; i += 10_000) await influxd.write(db, all.slice(i, i + 10_000).join("\n"));
    // The rollups, by the statements the CQs and the late-window re-aggregation run (a day at a time).
    for (let t = DATA_FROM; t < DATA_TO; t += DAY)
      for (const tier of ["1m", "1h"] as const) {
        const r = await influxd.query(rollupSelect(db, tier, TIER_RP.raw, { startMs: t, endMs: Math.min(DATA_TO + HOUR, t + DAY) }));
        assert.equal(r.results[0]?.error, undefined);
      }
  });
  after(async function () {
    for (const h of https) h.close();
    await influxd?.destroy();
  });

  it("2 days from the 1-minute rollups plus a raw tail: the same rows, periods and totals as raw bucketed per minute", async function () {
    // maxRows 10 000: 1-minute buckets fit (2 880 × 3), every reading does not (17 280), so raw is bucketed per minute too.
    const q = { from: day(8), to: day(10), groupBy: "device" as const, interval: "day" as const };
    const now = day(10) - 90 * SEC; // the newest minutes are not rolled up "yet": served from raw
    statements.length = 0;
    const rolled = await cost(service(now, ROLLUPS, 10_000), q);
    assert.deepEqual(
      statements.map((t) => (t.includes(`"${TIER_RP["1m"]}"`) ? "1m" : t.includes(`"${TIER_RP["1h"]}"`) ? "1h" : "raw")),
      ["1m", "raw"],
      "the 1-minute rows, then a raw tail (no count of raw readings)",
    );
    const raw = await cost(service(now, NO_ROLLUPS, 10_000), q);
    assert.deepEqual([rolled.resolution, raw.resolution], ["1m", "raw"]);
    assert.equal(rolled.rows.length, 6);
    assert.ok(rolled.total.kWh > 40, `energy counted: ${rolled.total.kWh}`);
    assert.deepEqual(Object.keys(rolled.total.periods).sort(), ["day", "early", "night"]);
    assert.deepEqual(body(rolled), body(raw));
  });

  it("9 days from the 1-hour rollups (across a counter restart and an offline stretch): the same as raw bucketed per hour", async function () {
    // maxRows 1 000: only 1-hour buckets fit (216 × 3), so raw is bucketed per hour as well.
    const q = { from: day(0), to: day(9), groupBy: "room" as const, interval: "day" as const };
    const now = day(12);
    statements.length = 0;
    const rolled = await cost(service(now, ROLLUPS, 1000), q);
    assert.equal(statements.length, 1);
    assert.match(nth(statements, 0), new RegExp(`FROM "${TIER_RP["1h"]}"."plug" .* GROUP BY time\\(3600000ms\\)`));
    const raw = await cost(service(now, NO_ROLLUPS, 1000), q);
    assert.deepEqual([rolled.resolution, raw.resolution], ["1h", "raw"]);
    assert.equal(rolled.rows.length, 18, "two rooms × nine days");
    assert.deepEqual(body(rolled), body(raw));
    // The restart day of a is still counted in full (no negative or lost day).
    const r1 = rolled.rows.filter((r) => r.group === "hq/1/r1").map((r) => r.kWh);
    assert.ok(Math.min(...r1) > 20, r1.join());
  });

  it("a range off the rollup rows' boundaries reads raw while raw holds it", async function () {
    const q = { from: day(1) + 17 * SEC, to: day(9), groupBy: "building" as const };
    const d = await cost(service(day(12), ROLLUPS, 1000), q);
    assert.equal(d.resolution, "raw");
  });
});
