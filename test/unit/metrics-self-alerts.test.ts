// Self-alert decisions (lib/metrics/self-alerts.ts) on hand-built pipeline views and a fake time: raise once, clear once.
import assert from "node:assert/strict";
import type { CollectorTotals, HookSnapshot } from "../../lib/metrics/hub";
import { PipelineHub, slugOf } from "../../lib/metrics/hub";
import { parseSelfAlertSettings, SELF_ALERT_DEFAULTS, SelfAlertMonitor, viewOf, type PipelineView } from "../../lib/metrics/self-alerts";

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const hook = (over: Partial<HookSnapshot> = {}): HookSnapshot => ({
  acceptedLines: 0,
  writtenLines: 0,
  rejectedLines: 0,
  retries: 0,
  spoolFullRefusals: 0,
  backlogLines: 0,
  backlogBytes: 0,
  maxBytes: 1000,
  ...over,
});
const totals = (cycles: number, ok: number, failed = 0, backoff = 0): CollectorTotals => ({
  cycles,
  ok,
  failed,
  overrun: 0,
  backoff,
  devices: 5,
  online: 5,
  offline: 0,
});
const view = (v: Partial<PipelineView>): PipelineView => ({ hooks: [], collectors: [], brokers: [], ...v });

describe("self-alerts (lib/metrics/self-alerts)", function () {
  it("parses editor values with defaults and refuses out-of-range thresholds naming the field", function () {
    assert.deepEqual(parseSelfAlertSettings({}), SELF_ALERT_DEFAULTS);
    const s = parseSelfAlertSettings({ enabled: false, storageDownS: "2", spoolPercent: 5, missWindowS: "" });
    assert.equal(s.enabled, false);
    assert.equal(s.storageDownS, 2);
    assert.equal(s.spoolPercent, 5);
    assert.equal(s.missWindowS, SELF_ALERT_DEFAULTS.missWindowS);
    assert.throws(() => parseSelfAlertSettings({ spoolPercent: 101 }), /spoolPercent must be a number from 0.01 to 100 \(got '101'\)/);
    assert.throws(() => parseSelfAlertSettings({ brokerDownS: "soon" }), /brokerDownS/);
  });

  it("storage unreachable: raised once after storageDownS, cleared once when writes are answered again", function () {
    const m = new SelfAlertMonitor({ ...SELF_ALERT_DEFAULTS, storageDownS: 10 });
    const down = view({ hooks: [{ slug: "store", label: "store", snap: hook({ unreachableSince: T0, backlogLines: 3 }) }] });
    assert.deepEqual(m.check(T0 + 5000, down), []);
    const raised = m.check(T0 + 10_500, down);
    assert.equal(raised.length, 1);
    assert.deepEqual(
      { id: raised[0]?.id, state: raised[0]?.state, severity: raised[0]?.severity, value: raised[0]?.value },
      { id: "storage-unreachable:store", state: "raised", severity: "critical", value: 11 },
    );
    assert.deepEqual(m.check(T0 + 20_000, down), [], "no second raised while it holds");
    assert.equal(m.active().length, 1);
    const up = view({ hooks: [{ slug: "store", label: "store", snap: hook() }] });
    const cleared = m.check(T0 + 21_000, up);
    assert.deepEqual(
      cleared.map((e) => [e.id, e.state]),
      [["storage-unreachable:store", "cleared"]],
    );
    assert.deepEqual(m.check(T0 + 22_000, up), []);
  });

  it("spool backlog: raised above the percentage of the cap or past the age, cleared when both are back", function () {
    const m = new SelfAlertMonitor({ ...SELF_ALERT_DEFAULTS, spoolPercent: 50, spoolAgeS: 60 });
    const at = (bytes: number, oldestTs?: number) =>
      view({ hooks: [{ slug: "h", label: "h", snap: hook({ backlogBytes: bytes, backlogLines: 1 }), oldestTs }] });
    assert.deepEqual(m.check(T0, at(400, T0)), []);
    const full = m.check(T0 + 1000, at(600, T0));
    assert.equal(full[0]?.rule, "spool-backlog");
    assert.match(full[0]?.message ?? "", /60.0 % of its cap/);
    assert.equal(m.check(T0 + 2000, at(100, T0))[0]?.state, "cleared");
    const old = m.check(T0 + 61_000, at(100, T0));
    assert.equal(old[0]?.state, "raised");
    assert.match(old[0]?.message ?? "", /61 s old/);
    assert.equal(m.check(T0 + 62_000, at(0))[0]?.state, "cleared");
  });

  it("collector misses: decided over a full window, raised above the share, cleared below", function () {
    const m = new SelfAlertMonitor({ ...SELF_ALERT_DEFAULTS, missPercent: 50, missWindowS: 10 });
    const c = (t: CollectorTotals) => view({ collectors: [{ slug: "col", label: "col", totals: t }] });
    assert.deepEqual(m.check(T0, c(totals(0, 0))), []);
    assert.deepEqual(m.check(T0 + 5000, c(totals(25, 5, 20))), [], "window not covered yet");
    const raised = m.check(T0 + 10_000, c(totals(50, 10, 30, 10)));
    assert.deepEqual(
      raised.map((e) => [e.id, e.state, e.value]),
      [["collector-misses:col", "raised", 80]],
    );
    assert.deepEqual(m.check(T0 + 15_000, c(totals(75, 20, 35, 20))), [], "still over: 55 of 50 cycles in the window");
    const cleared = m.check(T0 + 25_000, c(totals(125, 70, 35, 20)));
    assert.deepEqual(
      cleared.map((e) => [e.state, e.value]),
      [["cleared", 0]],
    );
  });

  it("broker disconnected: events are held while a broker is down and released in order when it is back", function () {
    const m = new SelfAlertMonitor({ ...SELF_ALERT_DEFAULTS, brokerDownS: 2, storageDownS: 1 });
    const v = (connected: boolean, since?: number) =>
      view({ brokers: [{ slug: "mqtt", label: "mqtt", connected }], hooks: [{ slug: "h", label: "h", snap: hook({ unreachableSince: since }) }] });
    assert.deepEqual(m.check(T0, v(false)), []);
    assert.deepEqual(m.check(T0 + 3000, v(false, T0)), [], "held: a publish now would be lost");
    assert.deepEqual(
      m.active().map((e) => e.id),
      ["storage-unreachable:h", "broker-disconnected:mqtt"],
    );
    const back = m.check(T0 + 4000, v(true));
    assert.deepEqual(
      back.map((e) => `${e.id} ${e.state}`),
      ["storage-unreachable:h raised", "broker-disconnected:mqtt raised", "storage-unreachable:h cleared", "broker-disconnected:mqtt cleared"],
    );
  });

  it("clears an alert whose source is gone after orphanMs, adopts restored alerts and ignores everything when disabled", function () {
    const m = new SelfAlertMonitor({ ...SELF_ALERT_DEFAULTS, storageDownS: 1 }, { orphanMs: 5000 });
    m.check(T0 + 2000, view({ hooks: [{ slug: "h", label: "h", snap: hook({ unreachableSince: T0 }) }] }));
    assert.deepEqual(m.check(T0 + 3000, view({})), []);
    assert.equal(m.check(T0 + 8000, view({}))[0]?.state, "cleared");
    const restored = new SelfAlertMonitor(SELF_ALERT_DEFAULTS);
    restored.restore([
      { v: 1, id: "spool-backlog:h", device: "h", rule: "spool-backlog", severity: "warning", state: "raised", ts: T0, value: 90, message: "x" },
      { v: 1, id: "offline:p", device: "p", rule: "offline", severity: "critical", state: "raised", ts: T0, value: null, message: "not ours" },
    ]);
    assert.deepEqual(
      restored.active().map((e) => e.id),
      ["spool-backlog:h"],
    );
    assert.equal(restored.check(T0, view({ hooks: [{ slug: "h", label: "h", snap: hook() }] }))[0]?.state, "cleared");
    const off = new SelfAlertMonitor({ ...SELF_ALERT_DEFAULTS, enabled: false, storageDownS: 0.1 });
    assert.deepEqual(off.check(T0 + 9000, view({ hooks: [{ slug: "h", label: "h", snap: hook({ unreachableSince: T0 }) }] })), []);
  });

  it("reads a hub: slugs from labels, the oldest spooled reading only when the spool holds something", async function () {
    const hub = new PipelineHub();
    let asked = 0;
    const remove = hub.hooks.add("n1", "Store readings!", {
      snapshot: () => hook({ backlogLines: 2 }),
      oldestTs: () => Promise.resolve(++asked && T0),
    });
    hub.collectors.add("n2", "n2", { totals: () => totals(1, 1) });
    const v = await viewOf(hub);
    assert.equal(v.hooks[0]?.slug, "store-readings");
    assert.equal(v.hooks[0]?.oldestTs, T0);
    assert.equal(asked, 1);
    remove();
    assert.equal((await viewOf(hub)).hooks.length, 0);
    assert.equal(slugOf("  "), "component");
    assert.equal(slugOf("MQTT (127.0.0.1)"), "mqtt-127-0-0-1");
  });
});
