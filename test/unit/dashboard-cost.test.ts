// The dashboard's cost and savings Function nodes, as the shipped flow holds them, run in a Function-node-like sandbox on
// a fake clock: the requests they send pass the query and schedule contracts; replies shaped by those contracts become
// the table rows (today = the daily bucket holding the request's time, month = all buckets, standing charges, total),
// hand-computed here. Errors become an "unavailable" row with the code.
import assert from "node:assert/strict";
import * as vm from "node:vm";
import { QueryReply, QueryRequest } from "../../lib/contracts/query";
import { validate } from "../../lib/contracts/validate";
import { ScheduleReply, ScheduleRequest } from "../../lib/schedule/contract";
import { DASHBOARD_COST_REPLY, DASHBOARD_SAVINGS_REPLY, plugwatchFlow } from "../../scripts/flows/plugwatch-flow";
import { nth } from "../support/checked";

type Msg = Record<string, unknown>;
type Out = (Msg | Msg[] | null)[] | Msg | null;

/** The body of a shipped Function node, run as Node-RED runs it, with `Date` fixed at `now` (local zone: process TZ). */
function runner(id: string, now: number): (msg: Msg) => Out {
  const node = plugwatchFlow().find((n) => n.id === id);
  assert.ok(node && node.type === "function", `no function node ${id}`);
  class FakeDate extends Date {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(now);
      else super(...(args as [number]));
    }
    static override now(): number {
      return now;
    }
  }
  const fn = vm.runInContext(`(function (msg) {\n${node.func as string}\n})`, vm.createContext({ Date: FakeDate })) as (m: Msg) => Out;
  return (msg) => JSON.parse(JSON.stringify(fn(msg) ?? null)) as Out;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("dashboard cost and savings (scripts/flows/functions/cost-*.js, savings-reply.js in the shipped flow)", function () {
  // Wednesday 15 April 2026, 10:30 local time of the test process.
  const now = new Date(2026, 3, 15, 10, 30).getTime();
  const monthStart = new Date(2026, 3, 1).getTime();

  it("sends two cost queries (room, kind) from the local month start and a savings request for the month, all valid", function () {
    const out = runner("pw-dash-cost-req", now)({ payload: "" }) as Msg[][];
    assert.equal(out.length, 1);
    const sent = nth(out, 0, "output 1");
    const [room, kind, savings] = [nth(sent, 0, "room query"), nth(sent, 1, "kind query"), nth(sent, 2, "savings request")];
    for (const [m, groupBy] of [
      [room, "room"],
      [kind, "kind"],
    ] as const) {
      assert.equal(m.topic, "plugwatch/api/request/query");
      assert.equal(m.retain, false);
      const r = validate(QueryRequest, m.payload);
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(m.payload, {
        v: 1,
        id: `dash-cost-${groupBy}-${now}`,
        replyTo: DASHBOARD_COST_REPLY,
        query: { type: "cost", groupBy, from: monthStart, to: now, interval: "day" },
      });
    }
    assert.equal(savings.topic, "plugwatch/api/request/schedule");
    const r = validate(ScheduleRequest, savings.payload);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(savings.payload, { v: 1, id: `dash-savings-${now}`, replyTo: DASHBOARD_SAVINGS_REPLY, op: "savings", month: "2026-04" });
    // The first instant of a month still asks a non-empty range.
    const first = nth(nth(runner("pw-dash-cost-req", monthStart)({}) as Msg[][], 0, "output 1"), 0, "room query").payload as {
      query: { from: number; to: number };
    };
    assert.deepEqual([first.query.from, first.query.to], [monthStart, monthStart + 1000]);
  });

  it("cost by room: today's bucket and the month per group, standing charges and the total (hand-computed)", function () {
    const today = new Date(2026, 3, 15).getTime();
    const yesterday = today - DAY;
    const payload = {
      v: 1,
      id: `dash-cost-room-${now}`,
      ok: true,
      data: {
        type: "cost",
        groupBy: "room",
        interval: "day",
        currency: "EUR",
        rows: [
          {
            group: "hq/1/open-space-1",
            ts: yesterday,
            end: today,
            kWh: 2.5,
            cost: 0.65,
            periods: { hp: { kWh: 2, cost: 0.54 }, hc: { kWh: 0.5, cost: 0.11 } },
          },
          { group: "hq/1/open-space-1", ts: today, end: today + DAY, kWh: 1.2, cost: 0.324, periods: { hp: { kWh: 1.2, cost: 0.324 } } },
          { group: "hq/2/copy", ts: yesterday, end: today, kWh: 0.4, cost: 0.08, periods: { hc: { kWh: 0.4, cost: 0.08 } } },
        ],
        standing: [
          { building: "hq", tariff: "example-hc-hp", ts: yesterday, end: today, amount: 0.45 },
          { building: "hq", tariff: "example-hc-hp", ts: today, end: today + DAY, amount: 0.196875 },
        ],
        total: { kWh: 4.1, energyCost: 1.054, standingCharge: 0.646875, cost: 1.700875, periods: {} },
      },
    };
    const r = validate(QueryReply, payload);
    assert.ok(r.ok, JSON.stringify(r));
    const out = runner("pw-dash-cost", now)({ topic: DASHBOARD_COST_REPLY, payload }) as [Msg, null];
    assert.equal(out[1], null);
    assert.deepEqual(out[0].payload, [
      { room: "hq/1/open-space-1", "today kWh": 1.2, today: 0.32, "month kWh": 3.7, month: 0.97, currency: "EUR" },
      { room: "hq/2/copy", "today kWh": 0, today: 0, "month kWh": 0.4, month: 0.08, currency: "EUR" },
      { room: "standing charges", "today kWh": 0, today: 0.2, "month kWh": 0, month: 0.65, currency: "EUR" },
      // today 0.324 + 0.196875 = 0.520875; month 1.054 + 0.646875 = 1.700875
      { room: "total", "today kWh": 1.2, today: 0.52, "month kWh": 4.1, month: 1.7, currency: "EUR" },
    ]);
  });

  it("cost by kind goes to the second table; an error reply shows its code; other replies are ignored", function () {
    const kind = runner(
      "pw-dash-cost",
      now,
    )({
      payload: { v: 1, id: `dash-cost-kind-${now}`, ok: false, error: { code: "TARIFF_INVALID", message: "no tariff for building 'hq'" } },
    }) as [null, Msg];
    assert.equal(kind[0], null);
    assert.deepEqual(kind[1].payload, [{ kind: "unavailable", note: "TARIFF_INVALID: no tariff for building 'hq'" }]);
    assert.equal(runner("pw-dash-cost", now)({ payload: { v: 1, id: "someone-else", ok: true } }), null);
    assert.equal(runner("pw-dash-cost", now)({ payload: "garbage" }), null);
  });

  it("savings per room: one row per room, sorted, cost rounded to cents; none yet; unavailable", function () {
    const payload = {
      v: 1,
      id: `dash-savings-${now}`,
      ok: true,
      savings: {
        ts: now,
        rows: [
          { month: "2026-04", building: "hq", floor: "2", room: "copy", offs: 2, hoursOff: 23, kWh: 0.08625, cost: 0.01725, currency: "EUR" },
          { month: "2026-04", building: "hq", floor: "1", room: "meeting-1", offs: 1, hoursOff: 11.5, kWh: 0.0575, cost: null, currency: null },
        ],
        totalKWh: 0.14375,
      },
    };
    const r = validate(ScheduleReply, payload);
    assert.ok(r.ok, JSON.stringify(r));
    const run = runner("pw-dash-savings", now);
    assert.deepEqual((run({ payload }) as Msg).payload, [
      { room: "hq/1/meeting-1", offs: 1, "hours off": 11.5, kWh: 0.058, saved: "", currency: "" },
      { room: "hq/2/copy", offs: 2, "hours off": 23, kWh: 0.086, saved: 0.02, currency: "EUR" },
    ]);
    assert.deepEqual((run({ payload: { ...payload, savings: { ts: now, rows: [], totalKWh: 0 } } }) as Msg).payload, [
      { room: "no automatic offs this month", offs: 0, kWh: 0 },
    ]);
    assert.deepEqual((run({ payload: { v: 1, id: "x", ok: false, error: { code: "TIMEOUT", message: "no scheduler" } } }) as Msg).payload, [
      { room: "unavailable", note: "TIMEOUT: no scheduler" },
    ]);
  });

  it("the shipped flow wires requests to MQTT and replies to the three tables", function () {
    const flow = plugwatchFlow();
    const byId = new Map(flow.map((n) => [n.id, n]));
    assert.deepEqual(byId.get("pw-dash-cost-req")?.wires, [["pw-dash-cost-out"]]);
    assert.equal(byId.get("pw-dash-cost-in")?.topic, DASHBOARD_COST_REPLY);
    assert.equal(byId.get("pw-dash-savings-in")?.topic, DASHBOARD_SAVINGS_REPLY);
    assert.deepEqual(byId.get("pw-dash-cost")?.wires, [["pw-ui-cost-room"], ["pw-ui-cost-kind"]]);
    assert.deepEqual(byId.get("pw-dash-savings")?.wires, [["pw-ui-savings"]]);
    for (const t of ["pw-ui-cost-room", "pw-ui-cost-kind", "pw-ui-savings"]) assert.equal(byId.get(t)?.type, "ui-table", t);
    // Cost is priced with the example tariff, which joins the schedule document's holidays; the scheduler prices savings with it.
    assert.equal(byId.get("pw-query")?.tariff, "pw-tariff");
    assert.equal(byId.get("pw-tariff")?.schedule, "pw-schedule");
    assert.equal(byId.get("pw-scheduler")?.tariff, "pw-tariff");
  });
});
