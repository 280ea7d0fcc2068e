// Unit tests of the availability tracker: N consecutive misses, first success, no flapping, reasons.
import assert from "node:assert/strict";
import { AvailabilityTracker, failureReason, toAvailability } from "../../lib/availability";
import { Availability } from "../../lib/contracts/reading";
import { validate } from "../../lib/contracts/validate";

const T0 = 1_700_000_000_000;
const down = { code: "DEVICE_UNREACHABLE" as const, message: "connect ECONNREFUSED 127.0.0.1:9999" };

describe("AvailabilityTracker", function () {
  it("reports a device online on its first success, as an initial state", function () {
    const t = new AvailabilityTracker(3);
    const c = t.success("ws-1", T0);
    assert.deepEqual(c, { device: "ws-1", online: true, ts: T0, reason: "poll ok", initial: true });
    assert.equal(t.isOnline("ws-1"), true);
    assert.equal(t.success("ws-1", T0 + 1000), undefined, "a second success is not a change");
  });

  it("reports a device that is down at start offline only after N misses", function () {
    const t = new AvailabilityTracker(3);
    assert.equal(t.failure("ws-1", down, T0), undefined);
    assert.equal(t.failure("ws-1", down, T0 + 1000), undefined);
    assert.equal(t.isOnline("ws-1"), undefined);
    const c = t.failure("ws-1", down, T0 + 2000);
    assert.ok(c);
    assert.equal(c.online, false);
    assert.equal(c.initial, true);
    assert.equal(c.ts, T0 + 2000);
    assert.equal(c.reason, "DEVICE_UNREACHABLE: connect ECONNREFUSED 127.0.0.1:9999");
    assert.equal(t.failure("ws-1", down, T0 + 3000), undefined, "further misses are not changes");
    assert.equal(t.consecutiveFailures("ws-1"), 4);
  });

  it("goes offline after N consecutive misses and back online on the first success", function () {
    const t = new AvailabilityTracker(2);
    t.success("p", T0);
    assert.equal(t.failure("p", down, T0 + 1), undefined);
    const off = t.failure("p", down, T0 + 2);
    assert.equal(off?.online, false);
    assert.equal(off?.initial, false);
    const on = t.success("p", T0 + 3);
    assert.deepEqual(on, { device: "p", online: true, ts: T0 + 3, reason: "poll ok", initial: false });
    assert.equal(t.lastError("p"), undefined);
  });

  it("does not flap: misses interrupted by a success never reach N", function () {
    const t = new AvailabilityTracker(3);
    t.success("p", T0);
    const changes = [];
    for (let i = 0; i < 20; i++) {
      // fail, fail, ok, fail, fail, ok … never three in a row
      const c = i % 3 === 2 ? t.success("p", T0 + i) : t.failure("p", down, T0 + i);
      if (c) changes.push(c);
    }
    assert.deepEqual(changes, []);
    assert.equal(t.isOnline("p"), true);
  });

  it("counts online, offline and unknown devices", function () {
    const t = new AvailabilityTracker(1);
    t.success("a", T0);
    t.failure("b", down, T0);
    assert.deepEqual(t.counts(), { online: 1, offline: 1, unknown: 0 });
    t.forget("b");
    assert.deepEqual(t.counts(), { online: 1, offline: 0, unknown: 0 });
  });

  it("rejects a threshold below 1", function () {
    assert.throws(() => new AvailabilityTracker(0), RangeError);
    assert.throws(() => new AvailabilityTracker(1.5), RangeError);
  });

  it("carries the error code in reasons, bounded to the contract's 256 characters", function () {
    const r = failureReason({ code: "UNSUPPORTED_FIRMWARE", message: "x".repeat(400) });
    assert.ok(r.startsWith("UNSUPPORTED_FIRMWARE: xxx"));
    assert.equal(r.length, 256);
  });

  it("builds Availability payloads that validate against the contract", function () {
    const t = new AvailabilityTracker(1);
    const c = t.failure("ws-2-14", { code: "DEVICE_UNREACHABLE", message: "a\n  b".padEnd(600, "z") }, T0 + 0.4);
    assert.ok(c);
    const a = toAvailability(c);
    assert.deepEqual(validate(Availability, a), { ok: true, value: a });
    assert.equal(a.ts, T0);
    assert.equal(a.online, false);
    assert.match(a.reason, /^DEVICE_UNREACHABLE: a bz+…$/);
  });
});
