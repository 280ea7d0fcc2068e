// Unit tests for lib/alerts/node-state.ts: the alert node's scope, status, save schedule and re-publish choice.
import assert from "node:assert/strict";
import type { AlertEvent } from "../../lib/contracts/alert";
import type { Device } from "../../lib/contracts/device";
import { alertScope, alertStatus, SaveSchedule, SAVE_EVERY_MS, SAVE_GAP_MS, stillActive } from "../../lib/alerts/node-state";

const event = (id: string): AlertEvent => ({
  v: 1,
  id,
  device: id.split(":")[1] ?? "x",
  rule: "r",
  severity: "warning",
  state: "raised",
  ts: 1,
  value: null,
  message: "m",
});

describe("alert node state (lib/alerts/node-state.ts)", () => {
  it("without a registry: no preset devices and every device is admitted", () => {
    const s = alertScope("office", undefined);
    assert.deepEqual(s.devices, []);
    assert.equal(s.admit, undefined);
  });

  it("with a registry: its devices (id, kind, location, idleWatts only) and backup health of the same root", () => {
    const registry = [
      { id: "desk-1", kind: "plug", host: "127.0.0.1", port: 9999, location: { building: "hq", floor: "1", room: "a" }, idleWatts: 3 },
    ] as unknown as Device[];
    const s = alertScope("office", registry);
    assert.deepEqual(s.devices, [{ id: "desk-1", kind: "plug", location: { building: "hq", floor: "1", room: "a" }, idleWatts: 3 }]);
    assert.equal(s.admit?.("nas", { source: "office/backup/nas/availability" }), true);
    assert.equal(s.admit?.("nas", { source: "other/backup/nas/availability" }), false);
    assert.equal(s.admit?.("stranger", {}), false);
  });

  it("status: colour from the highest severity, the bad-input count only when there is one", () => {
    assert.deepEqual(alertStatus(undefined, 0, 0), { kind: "ok", key: "status.active", subs: { count: 0 } });
    assert.deepEqual(alertStatus("warning", 2, 0), { kind: "warn", key: "status.active", subs: { count: 2 } });
    assert.deepEqual(alertStatus("critical", 3, 5), { kind: "critical", key: "status.activeBad", subs: { count: 3, bad: 5 } });
    assert.equal(alertStatus("info", 1, 0).kind, "ok");
  });

  it("re-publishes only the restored alerts still active, in restored order", () => {
    const [a, b, c] = [event("r:a"), event("r:b"), event("r:c")];
    assert.deepEqual(stillActive([c, a, b], [a, c]), [c, a]);
    assert.deepEqual(stillActive([a], []), []);
  });

  it("saves a dirty state at most once per SAVE_EVERY_MS", () => {
    const s = new SaveSchedule();
    assert.equal(s.due(SAVE_EVERY_MS * 5), false, "nothing changed");
    s.dirty = true;
    assert.equal(s.due(SAVE_EVERY_MS - 1), false);
    assert.equal(s.due(SAVE_EVERY_MS), true);
    s.saved(SAVE_EVERY_MS);
    assert.equal(s.dirty, false);
    s.dirty = true;
    assert.equal(s.due(2 * SAVE_EVERY_MS - 1), false);
    assert.equal(s.due(2 * SAVE_EVERY_MS), true);
  });

  it("after alert events: saves at once, then at most one pending save per SAVE_GAP_MS", () => {
    const s = new SaveSchedule();
    const t0 = 100_000;
    assert.equal(s.afterEvents(t0), 0, "first event: save now");
    s.saved(t0);
    assert.equal(s.afterEvents(t0 + 10), SAVE_GAP_MS - 10, "within the gap: one save at its end");
    assert.equal(s.afterEvents(t0 + 20), undefined, "already pending: no second timer");
    assert.equal(s.afterEvents(t0 + 500), undefined);
    s.saved(t0 + SAVE_GAP_MS);
    assert.equal(s.afterEvents(t0 + 2 * SAVE_GAP_MS), 0, "after the gap: at once again");
  });
});
