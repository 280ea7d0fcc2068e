// GET /api/v1/cost end to end: real HTTP → plugwatch-http-api → Mosquitto → plugwatch-influx-query with a plugwatch-tariff
// → real influxd holding known readings; every figure is computed by hand below (literal numbers), every answer checked
// against /openapi.json.
import assert from "node:assert/strict";
import type { DeviceEntry } from "../../lib/contracts/device";
import type { CostData } from "../../lib/contracts/query";
import { threePeriodTariff } from "../support/cost-fixtures";
import { BASE, TOKENS, type ApiStack } from "../../scripts/harness/api-stack";
import { apiStackSuite } from "../support/api-stack-suite";
import type { FlowNode } from "../../scripts/harness/nodered";
import { nth } from "../support/checked";

const MIN = 60_000;
/** The fall-back day in Paris: 2026-10-25 00:00 CEST = 2026-10-24T22:00Z, 24:00 CET = 2026-10-25T23:00Z (25 hours). */
const FROM = Date.parse("2026-10-24T22:00:00Z");
const TO = Date.parse("2026-10-25T23:00:00Z");
/** ws-a's counter restarts from 0 at 12:00 CET (11:00Z); nothing is stored 14:00-16:00 CET (13:00Z-15:00Z). */
const RESET = Date.parse("2026-10-25T11:00:00Z");
const OFF_FROM = Date.parse("2026-10-25T13:00:00Z");
const OFF_TO = Date.parse("2026-10-25T15:00:00Z");

/** Every day alike: night 00:00-02:30 (0.10), early 02:30-07:00 (0.15), day 07:00-24:00 (0.30); 0.46 per day. */
const TARIFF = threePeriodTariff("office");

function line(d: DeviceEntry, ts: number, kW: number, energy: number): string {
  const { building, floor, room } = d.location;
  return `plug,device=${d.id},kind=${d.kind},building=${building},floor=${floor},room=${room} power=${kW * 1000},voltage=230,current=1,energy=${energy.toFixed(2)},relay=true ${ts}`;
}

/**
 * ws-a: 1.2 kW all day, one reading a minute from 00:00 local (the baseline) to 23:59 CET, 0.02 kWh a minute; the
 * counter restarts at RESET (first reading after it: 0.02) and the readings of the offline stretch are missing (the
 * next one carries the whole rise). pr-1: 0.6 kW from 10:00 to 11:00 CET (09:00Z-10:00Z), 0.01 kWh a minute.
 */
function data(devices: DeviceEntry[]): string {
  const by = (id: string) => devices.find((d) => d.id === id) as DeviceEntry;
  const lines: string[] = [];
  const r = (RESET - FROM) / MIN;
  for (let t = FROM; t < TO; t += MIN) {
    if (t > OFF_FROM && t < OFF_TO) continue;
    const i = (t - FROM) / MIN;
    lines.push(line(by("ws-a"), t, 1.2, i < r ? 100 + 0.02 * i : 0.02 * (i - r + 1)));
  }
  const p0 = Date.parse("2026-10-25T09:00:00Z");
  for (let k = 0; k <= 60; k++) lines.push(line(by("pr-1"), p0 + k * MIN, 0.6, 50 + 0.01 * k));
  return lines.join("\n");
}

/** The API flow with the registry in Europe/Paris and the tariff on the query component. */
function withTariff(nodes: FlowNode[]): FlowNode[] {
  return [
    ...nodes.map((n) => {
      if (n.id === "reg") return { ...n, json: JSON.stringify({ timezone: "Europe/Paris", ...(JSON.parse(n.json as string) as object) }) };
      if (n.id === "q") return { ...n, tariff: "tariff" };
      return n;
    }),
    { id: "tariff", type: "plugwatch-tariff", name: "office tariff", source: "json", file: "", json: JSON.stringify(TARIFF) },
  ];
}

const near = (actual: unknown, expected: number, what: string): void =>
  assert.ok(typeof actual === "number" && Math.abs(actual - expected) < 1e-6, `${what}: ${String(actual)} ≠ ${expected}`);

describe("GET /cost end to end (Mosquitto, influxd, plugwatch-tariff)", function () {
  this.timeout(90_000);
  let s: ApiStack;
  const get = (p: string) => s.request<CostData>("GET", BASE + p, { token: TOKENS.read });
  const span = `from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}`;

  apiStackSuite("mosquitto", { data, flow: withTariff }, (stack) => (s = stack));

  it("prices a 25-hour day by period, across a counter restart and an offline stretch", async function () {
    const r = await get(`/cost?${span}&groupBy=device&interval=day`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.currency, "EUR");
    const rows = r.body.rows;
    assert.deepEqual(
      rows.map((x) => [x.group, x.ts, x.end]),
      [
        ["pr-1", FROM, TO],
        ["ws-a", FROM, TO],
      ],
    );
    const a = nth(rows, 1, "ws-a row");
    // By hand, 1.2 kW: night 00:00-02:00 CEST + 02:00-02:30 CEST + 02:00-02:30 CET = 3 h → 3.6 kWh × 0.10 = 0.36;
    // early 02:30-03:00 CEST + 02:30-07:00 CET = 5 h → 6 kWh × 0.15 = 0.90; day 07:00-24:00 CET less the last minute
    // (the last reading is at 23:59) = 16 h 59 min → 20.38 kWh × 0.30 = 6.114. Total 29.98 kWh, 7.374 EUR.
    // The restart adds 0.02 kWh (its first reading), the offline stretch its whole rise: nothing is lost or doubled.
    near(a.kWh, 29.98, "kWh");
    near(a.cost, 7.374, "cost");
    near(a.periods.night?.kWh, 3.6, "night kWh");
    near(a.periods.night?.cost, 0.36, "night cost");
    near(a.periods.early?.kWh, 6, "early kWh");
    near(a.periods.early?.cost, 0.9, "early cost");
    near(a.periods.day?.kWh, 20.38, "day kWh");
    near(a.periods.day?.cost, 6.114, "day cost");
    // Standing charge: one local day, 0.46 (for the building, not split over devices).
    assert.deepEqual(
      r.body.standing.map((x) => [x.building, x.tariff, x.ts, x.amount]),
      [["hq", "office", FROM, 0.46]],
    );
    near(r.body.total.cost, 8.014, "total with standing charge"); // ws-a 7.374 + pr-1 0.18 (below) + 0.46
  });

  it("groups by kind and building; hourly buckets price the repeated hour twice", async function () {
    const kinds = await get(`/cost?${span}&groupBy=kind`);
    assert.equal(kinds.status, 200, JSON.stringify(kinds.body));
    // pr-1: 0.6 kW for 1 h at 10:00-11:00 CET (day) → 0.6 kWh × 0.30 = 0.18.
    assert.deepEqual(
      kinds.body.rows.map((x) => [x.group, x.kWh, x.cost]),
      [
        ["printer", 0.6, 0.18],
        ["workplace", 29.98, 7.374],
      ],
    );
    const building = await get(`/cost?${span}&groupBy=building&interval=hour`);
    assert.equal(building.status, 200, JSON.stringify(building.body));
    const hours = building.body.rows;
    assert.equal(hours.length, 25);
    // The second 02:00 hour (CET, 01:00Z-02:00Z): 0.6 kWh night × 0.10 + 0.6 kWh early × 0.15 = 0.15.
    const repeated = hours.find((x) => x.ts === Date.parse("2026-10-25T01:00:00Z"));
    near(repeated?.cost, 0.15, "repeated hour");
    near(building.body.total.kWh, 30.58, "kWh"); // 29.98 + 0.6
    near(building.body.total.energyCost, 7.554, "energy cost"); // 7.374 + 0.18
    near(building.body.total.standingCharge, 0.46, "standing"); // 25 hourly shares of 0.46
  });

  it("tz moves the buckets, not the prices", async function () {
    const r = await get(`/cost?${span}&groupBy=building&tz=UTC`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // UTC day 2026-10-24 holds 22:00Z-24:00Z = 00:00-02:00 CEST, night: 2.4 kWh × 0.10 = 0.24.
    assert.deepEqual(
      r.body.rows.map((x) => [x.ts, x.kWh, x.cost]),
      [
        [Date.parse("2026-10-24T00:00:00Z"), 2.4, 0.24],
        [Date.parse("2026-10-25T00:00:00Z"), 28.18, 7.314], // 30.58 - 2.4, 7.554 - 0.24
      ],
    );
    assert.equal((await get(`/cost?${span}&tz=Mars/Olympus`)).status, 400);
    assert.equal((await get(`/cost?${span}&interval=1h`)).status, 400);
  });
});
