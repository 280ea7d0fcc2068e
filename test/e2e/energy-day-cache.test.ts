// The day energy cache of plugwatch-influx-query in a real Node-RED against a real influxd: daily kWh over months in
// Europe/Paris (the last DST day, a counter reset, an offline stretch) equal the uncached answer cold and warm; the warm
// answer really comes from the cache; a late reading for a closed day (through plugwatch-influx-hook, noted by the
// config node's RetentionManager) changes the answer once its rollup is re-aggregated.
import assert from "node:assert/strict";
import type { DeviceEntry, EnergyQuery, QueryData, Reading } from "../../lib/contracts";
import { fastCalendarPeriods } from "../../lib/influx/energy-calendar";
import { TIER_RP } from "../../lib/influx/rollup-schema";
import { buildRegistry } from "../../lib/registry";
import { Teardown } from "../../scripts/harness/services";
import { readingTopic } from "../../scripts/harness/storage-flow";
import { eventually } from "../../scripts/harness/wait";
import { dev } from "../support/cost-fixtures";
import { startQueryNodeStack, type QueryNodeStack } from "../support/query-node-stack";
import { lastOf, nth } from "../support/checked";

const DB = "plugwatch_daycache";
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const STEP = 5 * MIN;
const TZ = "Europe/Paris";
const NOW = Date.now();

const DEVICES: DeviceEntry[] = [dev("a", "r1", 23101), dev("b", "r1", 23102), dev("c", "r2", 23103)];
const REGISTRY_DOC = { version: 1, timezone: "UTC", buildings: { hq: { timezone: TZ } }, devices: DEVICES };
const registry = buildRegistry(REGISTRY_DOC);

// Local days of the last 400 days; the last DST day (23 or 25 h) that ended at least 3 days ago.
const localDays = fastCalendarPeriods(TZ, NOW - 400 * DAY, NOW, "day");
const dstIndex =
  localDays
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => p.end - p.start !== DAY && p.end < NOW - 3 * DAY)
    .pop()?.i ?? -1;
const today = lastOf(localDays, "today");
const dayBefore = (k: number) => nth(localDays, localDays.length - 1 - k, `the day ${k} days before today`); // k days before today
const FROM = nth(localDays, dstIndex - 3, "the third day before the DST day").start;
const TO = today.end;
const DST = nth(localDays, dstIndex, "the last DST day");
// b is offline from 18:00 local two days ago to 08:00 local yesterday (both closed days, whatever the hour of the run).
const OFFLINE: [number, number] = [dayBefore(2).start + 18 * HOUR, dayBefore(1).start + 8 * HOUR];
const RESET_AT = DST.start + 12 * HOUR;
const RAW_FROM = dayBefore(3).start;

interface Point {
  device: string;
  room: string;
  ts: number;
  power: number;
  energy: number;
}

/** Readings every 5 min at :02:30, :07:30 … from a day before FROM to now; the plug meters while offline. */
function readings(device: string, room: string, watts: number, counter: number, o: { resetAt?: number; offline?: [number, number] } = {}): Point[] {
  const out: Point[] = [];
  let energy = counter;
  let reset = o.resetAt;
  for (let ts = Math.floor((FROM - DAY) / STEP) * STEP + STEP / 2; ts < NOW; ts += STEP) {
    if (reset !== undefined && ts >= reset) {
      energy = 0;
      reset = undefined;
    }
    energy += (watts / 1000) * (STEP / HOUR);
    if (o.offline && ts >= o.offline[0] && ts < o.offline[1]) continue;
    out.push({ device, room, ts, power: watts, energy: Math.round(energy * 1e6) / 1e6 });
  }
  return out;
}
const DATA = [...readings("a", "r1", 600, 1000, { resetAt: RESET_AT }), ...readings("b", "r1", 1200, 50, { offline: OFFLINE }), ...readings("c", "r2", 300, 7)];

const tags = (device: string, room: string) => `plug,building=hq,device=${device},floor=1,kind=workplace,room=${room}`;
const rawLine = (r: Point) => `${tags(r.device, r.room)} power=${r.power},energy=${r.energy} ${r.ts}`;

/** Rollup rows of a tier, as the rollup worker computes them (row time = step start); every step with readings. */
function rollupLines(rs: Point[], stepMs: number): string[] {
  const rows = new Map<string, Point[]>();
  for (const r of rs) {
    const key = `${r.device}|${Math.floor(r.ts / stepMs) * stepMs}`;
    let g = rows.get(key);
    if (!g) rows.set(key, (g = []));
    g.push(r);
  }
  return [...rows.entries()].map(([key, group]) => {
    const t = Number(key.split("|")[1]);
    const e = group.map((r) => r.energy);
    const p = nth(group, 0).power;
    return (
      `${tags(nth(group, 0).device, nth(group, 0).room)} power_mean=${p},power_min=${p},power_max=${p},` +
      `energy_first=${e[0]},energy_last=${e[e.length - 1]},energy_min=${Math.min(...e)},energy_max=${Math.max(...e)},n=${group.length}i ${t}`
    );
  });
}

type Energy = Extract<QueryData, { type: "energy" }>;
const QUERY = { type: "energy", calendar: "day", groupBy: "device", target: { building: "hq" }, from: FROM, to: TO } as const;
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
const kWhOf = (d: Energy, device: string, ts: number) => d.rows.find((r) => r.group === device && r.ts === ts)?.kWh;

describe("day energy cache in plugwatch-influx-query (real Node-RED, Mosquitto, influxd)", function () {
  this.timeout(120_000);
  const td = new Teardown();
  let s: QueryNodeStack;
  const ask = (query: Record<string, unknown>) => s.ask(query);
  /** The query component's answer (day cache on). */
  async function viaNode(): Promise<Energy> {
    const r = await ask({ ...QUERY });
    assert.ok(r.ok, JSON.stringify(r.error));
    return r.data as Energy;
  }
  /** The same query through the same code without a cache, in this process. */
  const direct = async () => (await s.uncached.execute({ ...QUERY })) as Energy;
  const write = (lines: string[], rp: string) => s.write(lines, rp);

  before(async function () {
    assert.ok(dstIndex > 3, "a DST day in the last 400 days");
    s = await startQueryNodeStack(td, { db: DB, rootPrefix: "pwdc", devices: DEVICES, registry, registryDoc: REGISTRY_DOC });
    await write(DATA.filter((r) => r.ts >= RAW_FROM).map(rawLine), TIER_RP.raw);
    await write(
      rollupLines(
        DATA.filter((r) => r.ts >= dayBefore(8).start),
        MIN,
      ),
      TIER_RP["1m"],
    );
    await write(rollupLines(DATA, HOUR), TIER_RP["1h"]);
  });

  after(async function () {
    await td.run();
  });

  it("answers exactly as without the cache, cold and warm, across the DST day, a counter reset and an offline stretch", async function () {
    const expected = await direct();
    assert.equal(expected.resolution, "1h");
    assert.equal(expected.tz, TZ);
    // The fixture holds what it claims: a 23/25-hour day, the reset day (< 24 h × 0.6 kW), b's offline stretch on the day it is seen again.
    const dstHours = (DST.end - DST.start) / HOUR;
    assert.equal(kWhOf(expected, "c", DST.start), r6(dstHours * 0.3));
    assert.equal(kWhOf(expected, "a", DST.start), r6(dstHours * 0.6), "the reset day counts the whole day");
    assert.equal(kWhOf(expected, "b", dayBefore(2).start), r6(18 * 1.2));
    assert.equal(kWhOf(expected, "b", dayBefore(1).start), r6(30 * 1.2));
    const cold = await viaNode();
    assert.deepEqual(cold, expected);
    const warm = await viaNode();
    assert.deepEqual(warm, expected);
    assert.equal(warm.rows.length, 3 * (localDays.length - dstIndex + 3));
  });

  it("answers exactly as without the cache for partial first and last days, per room, and for a week from the 1-minute tier", async function () {
    const queries: EnergyQuery[] = [
      { ...QUERY, groupBy: "room", from: FROM + 5 * HOUR, to: dayBefore(1).start + 13 * HOUR },
      { ...QUERY, from: dayBefore(6).start, to: dayBefore(1).end },
    ];
    for (const q of queries) {
      const expected = (await s.uncached.execute(q)) as Energy;
      assert.ok(expected.rows.length > 0);
      for (let i = 0; i < 2; i++) {
        const r = await ask({ ...q });
        assert.ok(r.ok, JSON.stringify(r.error));
        assert.deepEqual(r.data, expected, `${JSON.stringify(q)}, ${i ? "warm" : "cold"}`);
      }
    }
    assert.equal(((await s.uncached.execute(nth(queries, 1))) as Energy).resolution, "1m");
  });

  it("serves closed days from the cache: a change written behind the pipeline's back is not seen", async function () {
    // Rewrites one 1-hour row of c on the day after the DST day (straight into influxd, so no late window is noted).
    const hour = nth(localDays, dstIndex + 1, "the day after the DST day").end - HOUR; // its last hour: the day's LAST() moves

    const rows = DATA.filter((r) => r.device === "c" && r.ts >= hour && r.ts < hour + HOUR);
    const original = rollupLines(rows, HOUR);
    const bumped = rollupLines(
      rows.map((r) => ({ ...r, energy: r.energy + 1 })),
      HOUR,
    );
    const before = await viaNode();
    await write(bumped, TIER_RP["1h"]);
    try {
      const changed = await direct();
      const day = nth(localDays, dstIndex + 1, "the day after the DST day").start;
      assert.equal(kWhOf(changed, "c", day), r6((kWhOf(before, "c", day) ?? NaN) + 1), "the uncached answer sees the rewritten row");
      assert.deepEqual(await viaNode(), before, "the cached answer does not");
    } finally {
      await write(original, TIER_RP["1h"]);
    }
    assert.deepEqual(await direct(), before);
  });

  it("drops a closed day when late data for it arrives through the hook, then answers with it", async function () {
    const before = await viaNode();
    assert.deepEqual(before, await direct());
    // b's spool replays one reading from its offline stretch: 22:02:30 local two days ago, with its true counter.
    const ts = dayBefore(2).start + 22 * HOUR + 150_000;
    const last = DATA.filter((r) => r.device === "b" && r.ts < OFFLINE[0]).pop() as Point;
    const energy = Math.round((last.energy + 1.2 * ((ts - last.ts) / HOUR)) * 1e6) / 1e6;
    const late: Reading = { v: 1, device: "b", ts, power: 1200, voltage: 230, current: 5.2, energy, relay: true };
    await s.client.publishAsync(readingTopic(s.root, nth(DEVICES, 1)), JSON.stringify(late), { qos: 1 });
    // The config node re-aggregates the touched windows from raw (after its 5 s flush delay); then both answers move.
    const moved = 1.2 * ((ts - last.ts) / HOUR); // 4 h 05 min × 1.2 kW
    const after = await eventually(
      "the re-aggregated 1-hour rollup",
      direct,
      (d) => kWhOf(d, "b", dayBefore(2).start) !== kWhOf(before, "b", dayBefore(2).start),
      { timeoutMs: 30_000, everyMs: 200, context: () => s.red.logTail(30) },
    );
    assert.equal(kWhOf(after, "b", dayBefore(2).start), r6(18 * 1.2 + moved));
    assert.equal(kWhOf(after, "b", dayBefore(1).start), r6(30 * 1.2 - moved));
    await eventually("the query component's answer with the late reading", viaNode, (d) => JSON.stringify(d) === JSON.stringify(after), {
      timeoutMs: 10_000,
      everyMs: 200,
    });
    assert.deepEqual(await viaNode(), after);
  });
});
