// Energy per calendar period and resolution picking, against a real influxd: a counter reset, an offline stretch and both
// Europe/Paris DST days of 2026 with hand-computed kWh, the same answers from the 1-minute and 1-hour rollups (written
// directly into plugwatch_1m/plugwatch_1h, as the rollup worker names them) with a raw tail, and range aggregates over rollups.
import assert from "node:assert/strict";
import type { EnergyQuery, QueryData, RangeQuery } from "../../lib/contracts";
import { InfluxHttp } from "../../lib/influx/http";
import { influxRunner, QueryService } from "../../lib/influx/query-service";
import { NO_ROLLUPS, type RollupSettings } from "../../lib/influx/resolution";
import { TIER_RP } from "../../lib/influx/rollup-schema";
import { DEFAULT_SETTINGS } from "../../lib/influx/settings";
import { parisRegistry, ROLLUPS } from "../support/cost-fixtures";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { nth } from "../support/checked";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const STEP = 5 * MIN;
const registry = parisRegistry(29000);

interface Reading {
  device: string;
  room: string;
  ts: number;
  power: number;
  energy: number;
}

/**
 * Readings every 5 min at :02:30, :07:30 … (so a period holds exactly its own hours of energy: from the last reading before
 * it starts to the last reading before it ends), constant power P W, counter from `counter` kWh. `resetAt`: the counter
 * restarts from 0 just after the last reading before it. `offline`: no readings in [from, to) while the plug keeps metering.
 */
function readings(
  device: string,
  room: string,
  watts: number,
  from: number,
  to: number,
  counter: number,
  o: { resetAt?: number[]; offline?: [number, number] } = {},
): Reading[] {
  const out: Reading[] = [];
  const resets = [...(o.resetAt ?? [])];
  let energy = counter;
  for (let ts = Math.floor(from / STEP) * STEP + STEP / 2; ts < to; ts += STEP) {
    if (resets.length && ts >= nth(resets, 0)) {
      energy = 0;
      resets.shift();
    }
    energy += (watts / 1000) * (STEP / HOUR);
    if (o.offline && ts >= o.offline[0] && ts < o.offline[1]) continue;
    out.push({ device, room, ts, power: watts, energy });
  }
  return out;
}

const tags = (r: Reading) => `plug,building=hq,device=${r.device},floor=1,kind=workplace,room=${r.room}`;
const rawLine = (r: Reading) => `${tags(r)} power=${r.power},energy=${r.energy} ${r.ts}`;

/** Rollup rows of a tier from readings, as the rollup worker writes them (row time = step start). */
function rollupLines(rs: Reading[], stepMs: number): string[] {
  const rows = new Map<string, Reading[]>();
  for (const r of rs) {
    const key = `${r.device}|${Math.floor(r.ts / stepMs) * stepMs}`;
    rows.set(key, [...(rows.get(key) ?? []), r]);
  }
  return [...rows.entries()].map(([key, group]) => {
    const t = Number(key.split("|")[1]);
    const e = group.map((r) => r.energy);
    const p = group.map((r) => r.power);
    const mean = p.reduce((a, b) => a + b, 0) / p.length;
    return (
      `${tags(nth(group, 0))} power_mean=${mean},power_min=${Math.min(...p)},power_max=${Math.max(...p)},` +
      `energy_first=${e[0]},energy_last=${e[e.length - 1]},energy_min=${Math.min(...e)},energy_max=${Math.max(...e)},n=${group.length}i ${t}`
    );
  });
}

type Energy = Extract<QueryData, { type: "energy" }>;
type Range = Extract<QueryData, { type: "range" }>;
const table = (d: Energy) => d.rows.map((r) => `${r.group} ${new Date(r.ts).toISOString()} ${r.kWh.toFixed(4)}`);

describe("energy per calendar period and resolution picking (real influxd)", function () {
  this.timeout(120_000);
  let influxd: InfluxdInstance;
  const https: InfluxHttp[] = [];

  async function write(db: string, lines: string[], rp?: string): Promise<void> {
    for (let i = 0; i < lines.length; i += 5000) {
      const r = await fetch(`${influxd.url}/write?db=${db}&precision=ms${rp ? `&rp=${rp}` : ""}`, {
        method: "POST",
        body: lines.slice(i, i + 5000).join("\n"),
      });
      assert.equal(r.status, 204, await r.text());
    }
  }
  async function createDb(db: string): Promise<void> {
    await influxd.query(`CREATE DATABASE ${db}`);
    await influxd.query(`CREATE RETENTION POLICY ${TIER_RP["1m"]} ON ${db} DURATION 730d REPLICATION 1`);
    await influxd.query(`CREATE RETENTION POLICY ${TIER_RP["1h"]} ON ${db} DURATION INF REPLICATION 1`);
  }
  function service(db: string, now: number, rollups: RollupSettings): QueryService {
    const settings = { ...DEFAULT_SETTINGS, url: influxd.url, database: db };
    const http = new InfluxHttp(settings);
    https.push(http);
    return new QueryService({ run: influxRunner({ settings, http }), registry: () => registry, now: () => now, rollups });
  }
  const energy = async (s: QueryService, q: Omit<EnergyQuery, "type">) => (await s.execute({ type: "energy", ...q })) as Energy;

  before(async function () {
    influxd = await startInfluxd();
  });
  after(async function () {
    for (const h of https) h.close();
    await influxd?.destroy();
  });

  describe("spring: 2026-03-29 has 23 h in Europe/Paris", function () {
    // Local midnights (CET +01:00 before the change, CEST +02:00 after).
    const d28 = Date.UTC(2026, 2, 27, 23);
    const d29 = Date.UTC(2026, 2, 28, 23);
    const d30 = Date.UTC(2026, 2, 29, 22);
    const d31 = Date.UTC(2026, 2, 30, 22);
    const dataFrom = Date.UTC(2026, 2, 20, 12);
    const NOW = Date.UTC(2026, 3, 1, 10, 0, 20);
    // a: 600 W, counter restarts at 12:00 local on the 29th; b: 1200 W, offline 20:00 local on the 29th to 08:00 on the 30th; c: 300 W.
    const data = [
      ...readings("a", "r1", 600, dataFrom, NOW, 1000, { resetAt: [Date.UTC(2026, 2, 29, 10)] }),
      ...readings("b", "r1", 1200, dataFrom, NOW, 50, { offline: [Date.UTC(2026, 2, 29, 18), Date.UTC(2026, 2, 30, 6)] }),
      ...readings("c", "r2", 300, dataFrom, NOW, 7),
    ];
    // What the rollup worker has written at NOW: every step but the newest ones; raw readings kept only since 08:00 UTC.
    const cut = Date.UTC(2026, 3, 1, 9);
    let raw: QueryService;
    let rolled: QueryService;
    before(async function () {
      await createDb("spring");
      await write("spring", data.map(rawLine));
      await createDb("spring_rolled");
      await write("spring_rolled", data.filter((r) => r.ts >= Date.UTC(2026, 3, 1, 8)).map(rawLine));
      await write(
        "spring_rolled",
        rollupLines(
          data.filter((r) => r.ts < cut),
          MIN,
        ),
        TIER_RP["1m"],
      );
      await write(
        "spring_rolled",
        rollupLines(
          data.filter((r) => r.ts < cut),
          HOUR,
        ),
        TIER_RP["1h"],
      );
      raw = service("spring", NOW, NO_ROLLUPS);
      rolled = service("spring_rolled", NOW, ROLLUPS);
    });

    it("kWh per local day: 23 h on the 29th, a counter reset, an offline stretch counted on the day the counter is next seen", async function () {
      const d = await energy(raw, { from: d28, to: d31, calendar: "day" });
      assert.equal(d.tz, "Europe/Paris"); // the building's zone from the registry
      assert.equal(d.resolution, "raw");
      const iso = (t: number) => new Date(t).toISOString();
      assert.deepEqual(table(d), [
        `a ${iso(d28)} 14.4000`, // 24 h × 0.6 kW
        `a ${iso(d29)} 13.8000`, // 23 h × 0.6 kW, across the counter restart
        `a ${iso(d30)} 14.4000`,
        `b ${iso(d28)} 28.8000`,
        `b ${iso(d29)} 22.8000`, // last seen 19:57:30 local: 19 h × 1.2 kW
        `b ${iso(d30)} 33.6000`, // the 12 h offline (1.2 kW) on the day it is seen again: 28 h × 1.2 kW
        `c ${iso(d28)} 7.2000`,
        `c ${iso(d29)} 6.9000`,
        `c ${iso(d30)} 7.2000`,
      ]);
    });

    it("per room, and per local hour (23 rows on the short day)", async function () {
      const rooms = await energy(raw, { from: d29, to: d30, calendar: "day", groupBy: "room" });
      assert.deepEqual(table(rooms), [`hq/1/r1 ${new Date(d29).toISOString()} 36.6000`, `hq/1/r2 ${new Date(d29).toISOString()} 6.9000`]);
      const hours = await energy(raw, { target: { device: "c" }, from: d29, to: d30, calendar: "hour" });
      assert.equal(hours.rows.length, 23);
      assert.ok(
        hours.rows.every((r, i) => r.ts === d29 + i * HOUR && Math.abs(r.kWh - 0.3) < 1e-9),
        table(hours).join("\n"),
      );
    });

    it("a tz parameter overrides the building's zone (UTC days)", async function () {
      const d = await energy(raw, { target: { device: "c" }, from: Date.UTC(2026, 2, 29), to: Date.UTC(2026, 2, 30), calendar: "day", tz: "UTC" });
      assert.deepEqual(table(d), [`c 2026-03-29T00:00:00.000Z 7.2000`]);
      await assert.rejects(
        raw.execute({ type: "energy", from: d29, to: d30, calendar: "day", tz: "Europe/Pariss" }),
        (e: Error & { code?: string }) => e.code === "INVALID_QUERY" && /Europe\/Pariss/.test(e.message),
      );
      await assert.rejects(raw.execute({ type: "energy", from: d29, to: d30, calendar: "day", interval: "1d" }), /either 'interval' or 'calendar'/);
    });

    it("4 days from the 1-minute rollups and 9 days from the 1-hour rollups equal the raw answer; the unwritten last hour comes from raw", async function () {
      const threeDays = { from: d28, to: NOW, calendar: "day" } as const; // 28 March to now (1 April, 10:00 UTC)
      const fromRollups = await energy(rolled, threeDays);
      const fromRaw = await energy(raw, threeDays);
      assert.equal(fromRollups.resolution, "1m");
      assert.deepEqual(table(fromRollups), table(fromRaw));
      // Today (1 April, local midnight 22:00 UTC the day before) until 10:00 UTC: 12 h, the last of them from raw only.
      const today = fromRollups.rows.filter((r) => r.ts === d31 + DAY);
      assert.deepEqual(
        today.map((r) => `${r.group} ${r.kWh.toFixed(4)}`),
        ["a 7.2000", "b 14.4000", "c 3.6000"],
      );
      const nineDays = { from: Date.UTC(2026, 2, 21, 23), to: d31, calendar: "day", groupBy: "room" } as const;
      const hourly = await energy(rolled, nineDays);
      assert.equal(hourly.resolution, "1h");
      assert.deepEqual(table(hourly), table(await energy(raw, nineDays)));
      // r2 (c, 300 W), 22 to 30 March: eight 24 h days and the 23 h day.
      assert.equal(hourly.rows.filter((r) => r.group === "hq/1/r2").length, 9);
      assert.equal(
        hourly.rows
          .filter((r) => r.group === "hq/1/r2")
          .reduce((s, r) => s + r.kWh, 0)
          .toFixed(4),
        (0.3 * (8 * 24 + 23)).toFixed(4),
      );
      // A fixed 1d interval over 10 days also reads the hourly rollups.
      const fixed = await energy(rolled, { from: Date.UTC(2026, 2, 22), to: Date.UTC(2026, 3, 1), interval: "1d" });
      assert.equal(fixed.resolution, "1h");
      assert.deepEqual(table(fixed), table(await energy(raw, { from: Date.UTC(2026, 2, 22), to: Date.UTC(2026, 3, 1), interval: "1d" })));
    });
  });

  describe("autumn: 2026-10-25 has 25 h in Europe/Paris", function () {
    const d24 = Date.UTC(2026, 9, 23, 22);
    const d25 = Date.UTC(2026, 9, 24, 22);
    const d26 = Date.UTC(2026, 9, 25, 23);
    const d27 = Date.UTC(2026, 9, 26, 23);
    const NOW = Date.UTC(2026, 9, 28, 12);
    let raw: QueryService;
    before(async function () {
      await createDb("autumn");
      await write(
        "autumn",
        [
          ...readings("a", "r1", 600, Date.UTC(2026, 9, 23, 12), NOW, 3, { resetAt: [Date.UTC(2026, 9, 25, 1, 30)] }), // in the repeated hour
          ...readings("b", "r1", 1200, Date.UTC(2026, 9, 23, 12), NOW, 9),
          ...readings("c", "r2", 300, Date.UTC(2026, 9, 23, 12), NOW, 2),
        ].map(rawLine),
      );
      raw = service("autumn", NOW, NO_ROLLUPS);
    });

    it("kWh per local day, 25 h on the 25th with a reset in the repeated hour", async function () {
      const d = await energy(raw, { from: d24, to: d27, calendar: "day" });
      const iso = (t: number) => new Date(t).toISOString();
      assert.deepEqual(table(d), [
        `a ${iso(d24)} 14.4000`,
        `a ${iso(d25)} 15.0000`,
        `a ${iso(d26)} 14.4000`,
        `b ${iso(d24)} 28.8000`,
        `b ${iso(d25)} 30.0000`,
        `b ${iso(d26)} 28.8000`,
        `c ${iso(d24)} 7.2000`,
        `c ${iso(d25)} 7.5000`,
        `c ${iso(d26)} 7.2000`,
      ]);
      const hours = await energy(raw, { target: { device: "c" }, from: d25, to: d26, calendar: "hour" });
      assert.equal(hours.rows.length, 25);
      const week = await energy(raw, { target: { device: "c" }, from: Date.UTC(2026, 9, 18, 22), to: d26, calendar: "week" });
      // ISO week from Monday 19 October (local): data from the 23rd 12:02:30 UTC, so that first reading is the baseline; the
      // last reading before the range's end is at 22:57:30 UTC on the 25th.
      assert.deepEqual(table(week), [`c 2026-10-18T22:00:00.000Z ${((0.3 * (d26 - Date.UTC(2026, 9, 23, 12, 5))) / HOUR).toFixed(4)}`]);
    });
  });

  describe("range queries over rollups", function () {
    const t0 = Date.UTC(2026, 4, 4, 10);
    const NOW = t0 + 40 * DAY; // raw retention (30 days) no longer holds t0
    let s: QueryService;
    before(async function () {
      await createDb("weights");
      const row = (minute: number, mean: number, min: number, max: number, n: number, e: number) =>
        `plug,building=hq,device=c,floor=1,kind=workplace,room=r2 power_mean=${mean},power_min=${min},power_max=${max},energy_first=${e},energy_last=${e + 0.01},energy_min=${e},energy_max=${e + 0.01},n=${n}i ${t0 + minute * MIN}`;
      await write("weights", [row(0, 100, 100, 100, 1, 5), row(1, 400, 300, 500, 3, 5.01)], TIER_RP["1m"]);
      await write("weights", [`plug,building=hq,device=c,floor=1,kind=workplace,room=r2 power=999,energy=1 ${t0}`]); // raw: must not be read
      s = service("weights", NOW, ROLLUPS);
    });

    const agg = async (aggregate: NonNullable<RangeQuery["aggregate"]>) => {
      const d = (await s.execute({ type: "range", target: { device: "c" }, fields: ["power"], from: t0, to: t0 + HOUR, aggregate, interval: "1h" })) as Range;
      assert.equal(d.resolution, "1m");
      return d.series[0]?.points[0]?.power;
    };

    it("mean is weighted by n (the mean of every reading), sum/count/min/max exact", async function () {
      assert.equal(await agg("mean"), 325); // (100 × 1 + 400 × 3) / 4, not the mean of means (250)
      assert.equal(await agg("sum"), 1300);
      assert.equal(await agg("count"), 4);
      assert.equal(await agg("min"), 100);
      assert.equal(await agg("max"), 500);
    });

    it("raw rows past the raw retention come from the 1-minute rollups, never silently fewer", async function () {
      const d = (await s.execute({ type: "range", target: { device: "c" }, from: t0, to: t0 + HOUR })) as Range;
      assert.equal(d.resolution, "1m");
      assert.deepEqual(d.series, [
        {
          device: "c",
          points: [
            { ts: t0, power: 100, energy: 5 + 0.01 },
            { ts: t0 + MIN, power: 400, energy: 5.01 + 0.01 },
          ],
        },
      ]);
    });
  });
});
