// The dashboard's "active alerts" Function node, as the shipped flow holds it (scripts/flows/functions/active-alerts.js),
// run in a Function-node-like sandbox with a flow context: retained raised/cleared alert events keep the list, and a
// fleet with many active alerts shows the newest 100 rows and a count row (issue 18: rebuilding thousands of
// rows at every event stalled the runtime).
import assert from "node:assert/strict";
import * as vm from "node:vm";
import { plugwatchFlow } from "../../scripts/flows/plugwatch-flow";

type Row = { device: string; rule: string; severity: string; since: string; message: string };
type Msg = { topic?: string; payload: unknown };

/** The shipped node's body with its own flow context store (what Node-RED gives a Function node). */
function activeAlertsBody(): (msg: Msg) => { payload: Row[] } | null {
  const node = plugwatchFlow().find((n) => n.id === "pw-dash-alerts");
  assert.ok(node && node.type === "function", "the shipped flow has the active-alerts Function node");
  const store = new Map<string, unknown>();
  const flow = { get: (k: string) => store.get(k), set: (k: string, v: unknown) => void store.set(k, v) };
  const fn = vm.runInContext(`(function (msg) {\n${node.func as string}\n})`, vm.createContext({ flow })) as (m: Msg) => { payload: Row[] } | null;
  // Out of the sandbox's realm, as Node-RED's message cloning would hand it on.
  return (msg) => JSON.parse(JSON.stringify(fn(msg))) as { payload: Row[] } | null;
}

/** The message of the shipped flow's once-a-second inject that renders the table: its `props`, as the inject node sends them. */
const RENDER: Msg = renderTick();
function renderTick(): Msg {
  const tick = plugwatchFlow().find((n) => n.id === "pw-dash-alerts-init");
  assert.ok(tick && tick.type === "inject" && tick.repeat === "1" && tick.wires?.[0]?.includes("pw-dash-alerts"), "an inject ticks the node every second");
  const props = tick.props as { p: string }[];
  return Object.fromEntries(props.map(({ p }) => [p, tick[p]])) as Msg;
}

/** One alert event, then the next render tick: the rows the table gets (null: nothing changed, the table is not sent). */
function activeAlertsNode(): (msg: Msg) => Row[] | null {
  const fn = activeAlertsBody();
  return (msg) => {
    assert.equal(fn(msg), null, "an alert event only updates the list");
    return fn(RENDER)?.payload ?? null;
  };
}

const raised = (device: string, ts: number) => ({
  topic: `plugwatch/alerts/${device}/offline`,
  payload: { state: "raised", device, rule: "offline", severity: "warning", ts, message: `${device} offline` },
});

describe("dashboard active alerts (scripts/flows/functions/active-alerts.js in the shipped flow)", function () {
  it("lists raised alerts newest first and drops them when cleared or deleted (empty retained payload)", function () {
    const run = activeAlertsNode();
    run(raised("ws-1", 1000));
    const rows = run(raised("ws-2", 2000))!;
    assert.deepEqual(
      rows.map((r) => r.device),
      ["ws-2", "ws-1"],
    );
    assert.deepEqual(
      run({ topic: "plugwatch/alerts/ws-2/offline", payload: { state: "cleared", device: "ws-2", rule: "offline", ts: 3000 } })!.map((r) => r.device),
      ["ws-1"],
    );
    assert.deepEqual(run({ topic: "plugwatch/alerts/ws-1/offline", payload: "" }), [
      { device: "-", rule: "no active alerts", severity: "", since: "", message: "" },
    ]);
    assert.equal(run({ topic: "plugwatch/alerts/ws-1/offline", payload: { state: "bogus" } }), null, "anything else is ignored");
  });

  it("shows the empty list at the first tick, and sends nothing at a tick without a change", function () {
    const fn = activeAlertsBody();
    assert.deepEqual(fn(RENDER)?.payload, [{ device: "-", rule: "no active alerts", severity: "", since: "", message: "" }]);
    assert.equal(fn(RENDER), null);
    fn(raised("ws-1", 1000));
    assert.deepEqual(
      fn(RENDER)?.payload.map((r) => r.device),
      ["ws-1"],
    );
    assert.equal(fn(RENDER), null);
  });

  it("a burst of 9000 raised alerts builds the table once, at the next tick", function () {
    const fn = activeAlertsBody();
    fn(RENDER);
    for (let i = 0; i < 9000; i++) assert.equal(fn(raised(`dev-${i}`, 1_000_000 + i)), null);
    const rows = fn(RENDER)?.payload;
    assert.ok(rows);
    assert.equal(rows.length, 101);
    assert.equal(rows[0]?.device, "dev-8999");
    assert.deepEqual(rows[100], { device: "…", rule: "8900 more active alerts", severity: "", since: "", message: "" });
    assert.equal(fn(RENDER), null, "no change since");
  });

  it("shows at most the newest 100 rows and a count of the rest, with 1000 active alerts", function () {
    const run = activeAlertsNode();
    let rows: Row[] | null = null;
    for (let i = 0; i < 1000; i++) rows = run(raised(`dev-${i}`, 1_000_000 + i * 1000));
    assert.ok(rows);
    assert.equal(rows.length, 101);
    assert.deepEqual(
      rows.slice(0, 100).map((r) => r.device),
      Array.from({ length: 100 }, (_, k) => `dev-${999 - k}`),
      "the newest 100, newest first",
    );
    assert.deepEqual(rows[100], { device: "…", rule: "900 more active alerts", severity: "", since: "", message: "" });
    // Clearing brings the count down; at exactly 100 there is no count row.
    for (let i = 0; i < 900; i++) rows = run({ topic: `plugwatch/alerts/dev-${i}/offline`, payload: "" });
    assert.equal(rows!.length, 100);
    assert.ok(rows!.every((r) => r.device !== "…"));
  });
});
