// Energy deltas for pricing (lib/influx/cost.ts): from raw counter readings and from per-bucket first/last/min/max,
// across a counter restart and an offline stretch, clipped to the query range.
import { strict as assert } from "node:assert";
import { energyDeltas } from "../../lib/influx/cost";
import { rawBucket } from "../../lib/influx/energy";

const MIN = 60_000;
const T = Date.parse("2026-06-09T10:00:00Z");

describe("cost: energy deltas from the stored counter", () => {
  it("raw readings: one delta per pair, a restart counts its new value, a gap spreads over the gap", () => {
    const readings = [rawBucket(T, 10), rawBucket(T + MIN, 10.5), rawBucket(T + 2 * MIN, 0.25), rawBucket(T + 62 * MIN, 1.25)];
    assert.deepEqual(energyDeltas(readings, T, T + 100 * MIN), [
      { start: T, end: T + MIN, kWh: 0.5 },
      { start: T + MIN, end: T + 2 * MIN, kWh: 0.25 }, // restarted from 0: 0.25 since
      { start: T + 2 * MIN, end: T + 62 * MIN, kWh: 1 }, // one hour offline: 1 kWh over the hour
    ]);
  });

  it("buckets: each bucket's own rise over the bucket, the rise between buckets over the gap, clipped to [from, to)", () => {
    const W = 15 * MIN;
    const buckets = [
      { ts: T, first: 10, last: 10.2, min: 10, max: 10.2 },
      { ts: T + W, first: 10.3, last: 10.5, min: 10.3, max: 10.5 },
      // restart inside: 10.6 → 10.9 before, 0 → 0.1 after
      { ts: T + 2 * W, first: 10.6, last: 0.1, min: 0.0, max: 10.9 },
      { ts: T + 5 * W, first: 0.4, last: 0.5, min: 0.4, max: 0.5 },
    ];
    const d = energyDeltas(buckets, T + 5 * MIN, T + 5 * W + 10 * MIN, W).map((x) => ({ ...x, kWh: Math.round(x.kWh * 1e9) / 1e9 }));
    assert.deepEqual(d, [
      { start: T + 5 * MIN, end: T + W, kWh: 0.2 }, // first bucket, clipped at from
      { start: T + W, end: T + 2 * W, kWh: 0.1 }, // adjacent: the step between buckets goes to the later one
      { start: T + W, end: T + 2 * W, kWh: 0.2 },
      { start: T + 2 * W, end: T + 3 * W, kWh: 0.1 },
      { start: T + 2 * W, end: T + 3 * W, kWh: 0.4 }, // 0.3 before the restart + 0.1 after
      { start: T + 3 * W, end: T + 5 * W, kWh: 0.3 }, // 30 min without data: 0.1 → 0.4 over the gap
      { start: T + 5 * W, end: T + 5 * W + 10 * MIN, kWh: 0.1 }, // last bucket, clipped at to
    ]);
  });
});
