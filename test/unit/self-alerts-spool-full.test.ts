// The spool-backlog self-alert and SPOOL_FULL: a refusal counts as full whatever the fill (per-device fair shares keep
// the fill of a small fleet under the threshold), held REFUSAL_HOLD_MS after the last one; raised once, cleared once.
import assert from "node:assert/strict";
import type { HookSnapshot } from "../../lib/metrics/hub";
import { REFUSAL_HOLD_MS, SELF_ALERT_DEFAULTS, SelfAlertMonitor, type PipelineView } from "../../lib/metrics/self-alerts";

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const CAP = 1_048_576;

/** A hook whose spool holds `fill` (0..1) of its cap, having refused `refusals` inputs with SPOOL_FULL. */
const at = (fill: number, refusals: number): PipelineView => {
  const snap: HookSnapshot = {
    acceptedLines: 0,
    writtenLines: 0,
    rejectedLines: 0,
    retries: 0,
    spoolFullRefusals: refusals,
    backlogLines: 10,
    backlogBytes: Math.round(fill * CAP),
    maxBytes: CAP,
  };
  return { hooks: [{ slug: "store", label: "store", snap, oldestTs: T0 }], collectors: [], brokers: [] };
};

describe("self-alerts: SPOOL_FULL refusals", function () {
  it("raises on a refusal below the threshold (fair shares stop five devices at ~80 %), clears once refusals stopped and the fill is back", function () {
    const m = new SelfAlertMonitor({ ...SELF_ALERT_DEFAULTS, spoolAgeS: 3600 });
    assert.deepEqual(m.check(T0, at(0.5, 0)), []);
    assert.deepEqual(m.check(T0 + 1000, at(0.79, 0)), [], "under 80 %, no refusal");
    const [raised, ...rest] = m.check(T0 + 2000, at(0.796, 3));
    assert.deepEqual(rest, []);
    assert.deepEqual([raised?.id, raised?.state, raised?.severity, raised?.value], ["spool-backlog:store", "raised", "warning", 79.6]);
    assert.equal(raised?.message, "spool of hook store at 79.6 % of its cap (refusing readings: SPOOL_FULL)");
    // More refusals, then none while the spool stays at its plateau: held for REFUSAL_HOLD_MS after the last one.
    assert.deepEqual(m.check(T0 + 10_000, at(0.797, 9)), []);
    assert.deepEqual(m.check(T0 + 10_000 + REFUSAL_HOLD_MS - 1, at(0.797, 9)), [], "still within the hold");
    const [cleared] = m.check(T0 + 10_000 + REFUSAL_HOLD_MS, at(0.3, 9));
    assert.deepEqual([cleared?.state, cleared?.value], ["cleared", 30]);
    assert.deepEqual(m.check(T0 + 60_000, at(0.01, 9)), [], "cleared once");
  });

  it("refusals counted before the first check do not raise it (a counter carried over from before the monitor)", function () {
    const m = new SelfAlertMonitor({ ...SELF_ALERT_DEFAULTS, spoolAgeS: 3600 });
    assert.deepEqual(m.check(T0, at(0.2, 50)), []);
    assert.deepEqual(m.check(T0 + 1000, at(0.2, 50)), []);
    assert.equal(m.check(T0 + 2000, at(0.2, 51))[0]?.state, "raised");
  });

  it("a fill over the threshold raises without refusals, as before", function () {
    const m = new SelfAlertMonitor({ ...SELF_ALERT_DEFAULTS, spoolAgeS: 3600 });
    const [e] = m.check(T0, at(0.85, 0));
    assert.equal(e?.message, "spool of hook store at 85.0 % of its cap (over 80 %)");
  });
});
