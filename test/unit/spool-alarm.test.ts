// SPOOL_FULL alert (raise once, clear once, only when quiet and below 80 %), line timestamps, and the storage verdict of /health.
import assert from "node:assert/strict";
import { AlertEvent, validate } from "../../lib/contracts";
import { SpoolFullAlarm, lineTimestampMs, storageProblem } from "../../lib/influx/spool-alarm";
import { alertMessages } from "../../lib/alerts/messages";

describe("spool-full alarm", () => {
  it("raises once on the first refusal, clears once after 30 s without refusals and below 80 %", () => {
    const a = new SpoolFullAlarm({ component: "influx-hook" });
    const t0 = 1_764_000_000_000;
    const raised = a.refused(t0, "spool full: 512 MiB used");
    assert.ok(raised && validate(AlertEvent, raised).ok);
    assert.deepEqual([raised.id, raised.state, raised.severity, raised.ts], ["spool-full:influx-hook", "raised", "critical", t0]);
    assert.equal(a.refused(t0 + 1000, "again"), undefined, "no second raise");
    assert.equal(a.active, true);
    assert.equal(a.check(t0 + 20_000, 0.1), undefined, "refusals too recent");
    a.refused(t0 + 25_000, "still");
    assert.equal(a.check(t0 + 50_000, 0.1), undefined, "30 s from the last refusal, not the first");
    assert.equal(a.check(t0 + 60_000, 0.85), undefined, "still over 80 %");
    const cleared = a.check(t0 + 61_000, 0.5);
    assert.ok(cleared && validate(AlertEvent, cleared).ok);
    assert.deepEqual([cleared.id, cleared.state, cleared.ts], ["spool-full:influx-hook", "cleared", t0 + 61_000]);
    assert.equal(a.check(t0 + 62_000, 0), undefined, "cleared once");
    assert.equal(a.active, false);
    // Published like every alert: raised retained on {root}/alerts/influx-hook/spool-full.
    assert.deepEqual(
      alertMessages("pw", [raised]).map((m) => [m.topic, m.retain]),
      [["pw/alerts/influx-hook/spool-full", true]],
    );
  });

  it("reads the ms timestamp at the end of a line", () => {
    assert.equal(lineTimestampMs("plug,device=a\\ b power=1 1764000000123"), 1764000000123);
    assert.equal(lineTimestampMs("plug power=1"), undefined);
  });

  it("storage makes /health degraded when the spool is full, over 90 % or writes fail", () => {
    assert.equal(storageProblem({ fill: 0.5 }), undefined);
    assert.equal(storageProblem({ spoolFull: true, fill: 0.5 }), "spool full");
    assert.equal(storageProblem({ fill: 0.95 }), "spool over 90 % full");
    assert.equal(storageProblem({ retrying: true }), "database writes failing");
  });
});
