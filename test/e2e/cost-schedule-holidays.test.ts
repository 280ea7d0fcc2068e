// GET /api/v1/cost with a plugwatch-tariff whose "Holidays of" names the plugwatch-schedule node the scheduler runs,
// end to end over Mosquitto, influxd and Node-RED: a weekday the schedule (not the tariff) calls a holiday is priced at
// the tariff's holiday price; once PUT /api/v1/schedules drops that holiday the next query prices it at the peak price,
// and a PUT that lists it again counts from the next query too. A tariff naming a node that is not a schedule answers
// INVALID_SCHEDULE naming that node.
import assert from "node:assert/strict";
import type { DeviceEntry } from "../../lib/contracts/device";
import type { CostData } from "../../lib/contracts/query";
import { BASE, eventually, TOKENS, type ApiStack } from "../../scripts/harness/api-stack";
import { apiStackSuite } from "../support/api-stack-suite";
import type { FlowNode } from "../../scripts/harness/nodered";
import { nth } from "../support/checked";

const MIN = 60_000;
/** Wednesday 11 March 2026 in Paris (CET): 00:00 = 2026-03-10T23:00Z, 24:00 = 2026-03-11T23:00Z. */
const DAY = "2026-03-11";
const FROM = Date.parse("2026-03-10T23:00:00Z");
const TO = Date.parse("2026-03-11T23:00:00Z");

/** Weekdays all day at 0.30 (peak), weekends at 0.10, holidays at 0.05 (their own period). The tariff's own holiday is Christmas. */
const TARIFF = {
  tariffs: {
    office: {
      currency: "EUR",
      holidays: { dates: ["2026-12-25"], priceAs: "holiday" },
      versions: [
        {
          standingChargePerDay: 0,
          periods: { peak: { pricePerKWh: 0.3 }, weekend: { pricePerKWh: 0.1 }, holiday: { pricePerKWh: 0.05 } },
          rules: [
            { days: ["mon", "tue", "wed", "thu", "fri"], from: "00:00", to: "24:00", period: "peak" },
            { days: ["sat", "sun"], from: "00:00", to: "24:00", period: "weekend" },
            { days: ["holiday"], from: "00:00", to: "24:00", period: "holiday" },
          ],
        },
      ],
    },
  },
  default: "office",
};

const scheduleDoc = (holidays: string[]): string => JSON.stringify({ holidays, schedules: [] });

/** pr-1 draws 0.6 kW from 10:00 to 11:00 CET (09:00Z-10:00Z), one reading a minute, 0.01 kWh a minute: 0.6 kWh. */
function data(devices: DeviceEntry[]): string {
  const d = devices.find((x) => x.id === "pr-1") as DeviceEntry;
  const { building, floor, room } = d.location;
  const p0 = Date.parse("2026-03-11T09:00:00Z");
  const lines: string[] = [];
  for (let k = 0; k <= 60; k++) {
    lines.push(
      `plug,device=${d.id},kind=${d.kind},building=${building},floor=${floor},room=${room} power=600,voltage=230,current=1,energy=${(50 + 0.01 * k).toFixed(2)},relay=true ${p0 + k * MIN}`,
    );
  }
  return lines.join("\n");
}

/** The stack's schedule config node (the one its plugwatch-scheduler serves GET/PUT /schedules from). */
const SCHEDULE = "sch";

/**
 * The API flow in Europe/Paris with the tariff on the query component and its holidays taken from the stack's schedule
 * node. (The first version of this test added its own schedule node with id "sched", the id of the stack's
 * plugwatch-scheduler: the tariff then found a scheduler under that id and answered INVALID_SCHEDULE.)
 */
function withTariff(nodes: FlowNode[]): FlowNode[] {
  const ids = new Set(nodes.map((n) => n.id));
  assert.ok(ids.has(SCHEDULE) && !ids.has("tariff"), "the stack's flow has the schedule node and no 'tariff' id");
  return [
    ...nodes.map((n) => {
      if (n.id === "reg") return { ...n, json: JSON.stringify({ timezone: "Europe/Paris", ...(JSON.parse(n.json as string) as object) }) };
      if (n.id === "q") return { ...n, tariff: "tariff" };
      if (n.id === SCHEDULE) return { ...n, json: scheduleDoc([DAY]) };
      return n;
    }),
    { id: "tariff", type: "plugwatch-tariff", name: "office tariff", source: "json", file: "", json: JSON.stringify(TARIFF), schedule: SCHEDULE },
  ];
}

describe("GET /cost honours the schedule's holidays (Mosquitto, influxd, plugwatch-tariff + plugwatch-schedule)", function () {
  this.timeout(120_000);
  let s: ApiStack;
  const cost = () =>
    s.request<CostData>("GET", `${BASE}/cost?from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}&groupBy=device&interval=day`, {
      token: TOKENS.read,
    });

  apiStackSuite("mosquitto", { data, flow: withTariff }, (stack) => (s = stack));

  it("prices a weekday the schedule lists as a holiday in the tariff's holiday period", async function () {
    const r = await cost();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // By hand: 0.6 kWh on a holiday → holiday period 0.05 → 0.03 EUR; nothing at peak.
    assert.deepEqual(
      r.body.rows.map((x) => [x.group, x.ts, x.end, x.kWh, x.cost]),
      [["pr-1", FROM, TO, 0.6, 0.03]],
    );
    assert.deepEqual(Object.keys(nth(r.body.rows, 0).periods), ["holiday"]);
  });

  it("after PUT /schedules drops that holiday, the next query prices the day at peak", async function () {
    const put = await s.request("PUT", `${BASE}/schedules`, { token: TOKENS.control, body: { holidays: [], schedules: [] } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    // No waiting: the PUT answered after the document was saved, so the very next query must see it.
    const r = await cost();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // By hand: 0.6 kWh on an ordinary Wednesday → peak 0.30 → 0.18 EUR.
    assert.deepEqual(
      r.body.rows.map((x) => [x.group, x.kWh, x.cost]),
      [["pr-1", 0.6, 0.18]],
    );
    assert.deepEqual(Object.keys(nth(r.body.rows, 0).periods), ["peak"]);
  });

  it("a PUT that lists the day again prices it as a holiday from the next query", async function () {
    const put = await s.request("PUT", `${BASE}/schedules`, { token: TOKENS.control, body: { holidays: [DAY], schedules: [] } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const r = await cost();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // By hand: 0.6 kWh × 0.05 (holiday period) = 0.03 EUR.
    assert.deepEqual(
      r.body.rows.map((x) => [x.group, x.kWh, x.cost]),
      [["pr-1", 0.6, 0.03]],
    );
    assert.deepEqual(Object.keys(nth(r.body.rows, 0).periods), ["holiday"]);
  });

  it("a tariff whose 'Holidays of' names the scheduler's id (the first version's mistake) answers INVALID_SCHEDULE naming that node", async function () {
    await s.red.deploy(s.flows.map((n) => (n.id === "tariff" ? { ...n, schedule: "sched" } : n)));
    // Plain fetch while the redeploy settles (the route is briefly absent: express's 404 is not the API's answer).
    await eventually(
      () => fetch(`${s.red.url}${BASE}/openapi.json`).then(async (x) => (await x.arrayBuffer(), x.status)),
      (st) => st === 200,
      20_000,
      "the API after the redeploy",
    );
    const r = await cost();
    assert.equal(r.status, 422, JSON.stringify(r.body));
    const body = r.body as unknown as { code: string; detail: string };
    assert.equal(body.code, "INVALID_SCHEDULE");
    assert.equal(body.detail, "Holidays of: node 'sched' (sched) is a plugwatch-scheduler, not a plugwatch-schedule");
  });
});
