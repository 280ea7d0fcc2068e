// Unit tests of the fleet capacity check (issue 18): the warning names the measured limit, and only fires above it.
import assert from "node:assert/strict";
import { checkFleetCapacity, MEASURED_FLEET, slotsPerSecond } from "../../lib/fleet-capacity";

describe("fleet capacity", function () {
  it("the measured fleet itself and anything smaller or slower pass", function () {
    assert.equal(checkFleetCapacity(MEASURED_FLEET.devices, MEASURED_FLEET.intervalMs), undefined);
    assert.equal(checkFleetCapacity(0, 1000), undefined);
    assert.equal(checkFleetCapacity(5000, 5000), undefined, "1000 polls/s, as measured");
    assert.equal(checkFleetCapacity(100, 200), undefined, "500 polls/s");
  });

  it("more polls per second than measured: a warning with the limit in figures", function () {
    const w = checkFleetCapacity(10_000, 2000);
    assert.ok(w);
    assert.equal(w.code, "LIMIT_EXCEEDED");
    assert.equal(w.exceeds, "rate");
    assert.equal(w.slotsPerSecond, 5000);
    assert.equal(w.limitDevices, 10_000);
    assert.equal(w.limitSlotsPerSecond, 1000);
    assert.equal(w.limitIntervalMs, 10_000);
    assert.equal(
      w.message,
      "10000 devices every 2 s (5000 polls/s) exceed the measured capacity of 10000 devices every 10 s (1000 polls/s, " +
        `${MEASURED_FLEET.source}): raise the interval or split the registry over several collectors`,
    );
    assert.equal(checkFleetCapacity(1001, 1000)?.exceeds, "rate", "one device over at 1 s");
    assert.equal(checkFleetCapacity(1000, 1000), undefined, "exactly the rate");
  });

  it("more devices than measured, whatever the interval", function () {
    const w = checkFleetCapacity(12, 60_000, { devices: 10, intervalMs: 1000, source: "test" });
    assert.equal(w?.exceeds, "devices");
    assert.match(
      w?.message ?? "",
      /^12 devices every 60 s \(0\.2 polls\/s\) exceed the measured capacity of 10 devices every 1 s \(10 polls\/s, test\): split/,
    );
  });

  it("bad numbers are a RangeError, not a silent pass", function () {
    assert.throws(() => checkFleetCapacity(-1, 1000), RangeError);
    assert.throws(() => checkFleetCapacity(1.5, 1000), RangeError);
    assert.throws(() => checkFleetCapacity(10, 0), RangeError);
    assert.throws(() => checkFleetCapacity(10, Number.NaN), RangeError);
    assert.equal(slotsPerSecond(10, 500), 20);
  });
});
