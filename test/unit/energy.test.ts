// Energy from a cumulative kWh counter: deltas, counter restarts, gaps, interval attribution and grouping.
import assert from "node:assert/strict";
import { bucketInner, counterDelta, energyPerInterval, rawBucket, roundKWh, sumByGroup, type CounterBucket } from "../../lib/influx/energy";

const T0 = 1_764_000_000_000 - (1_764_000_000_000 % 86_400_000); // a UTC midnight
const MIN = 60_000;
const HOUR = 3_600_000;

function raw(values: [number, number][]): CounterBucket[] {
  return values.map(([t, v]) => rawBucket(T0 + t, v));
}

function total(m: Map<number, number>): number {
  return roundKWh([...m.values()].reduce((a, b) => a + b, 0));
}

describe("energy: counterDelta", function () {
  it("is cur - prev while the counter rises", function () {
    assert.equal(roundKWh(counterDelta(10, 10.5)), 0.5);
    assert.equal(counterDelta(3, 3), 0);
  });
  it("is cur after a restart (the counter went down)", function () {
    assert.equal(counterDelta(11, 0), 0);
    assert.equal(counterDelta(11, 0.2), 0.2);
  });
  it("ignores sub-Wh jitter instead of counting the whole counter", function () {
    assert.equal(counterDelta(11.0004, 11.0), 0);
  });
});

describe("energy: energyPerInterval on raw readings", function () {
  it("sums 10.0, 10.5, 11.0, reset, 0.0, 0.2, 0.4 to 1.4 kWh, never negative", function () {
    const series = raw([
      [0, 10],
      [MIN, 10.5],
      [2 * MIN, 11],
      [3 * MIN, 0],
      [4 * MIN, 0.2],
      [5 * MIN, 0.4],
    ]);
    const m = energyPerInterval(series, T0);
    assert.deepEqual([...m.keys()], [T0]);
    assert.equal(total(m), 1.4);
  });

  it("restart to a value above 0 counts the post-restart energy only once", function () {
    // Counter 5.0 → restarts and has already reached 0.3 at the next reading.
    const m = energyPerInterval(
      raw([
        [0, 4.8],
        [MIN, 5.0],
        [2 * MIN, 0.3],
        [3 * MIN, 0.5],
      ]),
      T0,
    );
    assert.equal(total(m), 0.7);
  });

  it("splits per hour; the delta across a boundary belongs to the later interval", function () {
    const series = raw([
      [50 * MIN, 1.0],
      [59 * MIN, 1.1],
      [61 * MIN, 1.4],
      [119 * MIN, 2.0],
      [121 * MIN, 2.5],
    ]);
    const m = energyPerInterval(series, T0, HOUR);
    assert.deepEqual(
      [...m].map(([t, v]) => [(t - T0) / HOUR, roundKWh(v)]),
      [
        [0, 0.1],
        [1, 0.9],
        [2, 0.5],
      ],
    );
  });

  it("a reset exactly at an interval boundary gives no negative and no spike", function () {
    const series = raw([
      [0, 20],
      [30 * MIN, 20.5],
      [59 * MIN, 21],
      [60 * MIN, 0],
      [90 * MIN, 0.25],
      [119 * MIN, 0.5],
    ]);
    const m = energyPerInterval(series, T0, HOUR);
    assert.equal(roundKWh(m.get(T0) as number), 1);
    assert.equal(roundKWh(m.get(T0 + HOUR) as number), 0.5);
    for (const v of m.values()) assert.ok(v >= 0);
  });

  it("a gap (no readings for hours) adds the whole gap's energy to the interval where readings resume", function () {
    const series = raw([
      [0, 1.0],
      [10 * MIN, 1.1],
      [5 * HOUR, 3.1],
      [5 * HOUR + 10 * MIN, 3.2],
    ]);
    const m = energyPerInterval(series, T0, HOUR);
    assert.deepEqual(
      [...m.keys()].map((t) => (t - T0) / HOUR),
      [0, 5],
    );
    assert.equal(roundKWh(m.get(T0 + 5 * HOUR) as number), 2.1);
    assert.equal(total(m), 2.2);
  });

  it("skips non-finite values and tolerates an empty series", function () {
    assert.equal(energyPerInterval([], T0, HOUR).size, 0);
    const m = energyPerInterval([rawBucket(T0, 1), rawBucket(T0 + MIN, Number.NaN), rawBucket(T0 + 2 * MIN, 1.5)], T0);
    assert.equal(total(m), 0.5);
  });
});

describe("energy: per-interval first/last/min/max buckets", function () {
  it("a bucket without reset contributes last - first", function () {
    assert.equal(roundKWh(bucketInner({ ts: T0, first: 1, last: 1.75, min: 1, max: 1.75 })), 0.75);
  });
  it("a reset inside a bucket: peak before (max) plus last after", function () {
    // 10 → 11 (peak), reset, 0 → 0.4
    assert.equal(roundKWh(bucketInner({ ts: T0, first: 10, last: 0.4, min: 0, max: 11 })), 1.4);
  });
  it("a reset inside a bucket whose post-reset value passed the old peak is a lower bound, never negative", function () {
    const v = bucketInner({ ts: T0, first: 0.2, last: 0.9, min: 0, max: 0.9 });
    assert.equal(roundKWh(v), 0.9);
  });
  it("buckets and raw readings agree on a series with a reset at a boundary", function () {
    const rawSeries = raw([
      [0, 10],
      [20 * MIN, 10.5],
      [40 * MIN, 11],
      [60 * MIN, 0],
      [80 * MIN, 0.2],
      [100 * MIN, 0.4],
    ]);
    const buckets: CounterBucket[] = [
      { ts: T0, first: 10, last: 11, min: 10, max: 11 },
      { ts: T0 + HOUR, first: 0, last: 0.4, min: 0, max: 0.4 },
    ];
    assert.deepEqual(
      [...energyPerInterval(buckets, T0, HOUR)].map(([t, v]) => [t, roundKWh(v)]),
      [...energyPerInterval(rawSeries, T0, HOUR)].map(([t, v]) => [t, roundKWh(v)]),
    );
  });
});

describe("energy: sumByGroup", function () {
  it("sums devices into groups, sorted by group then time", function () {
    const perDevice = new Map<string, Map<number, number>>([
      [
        "a",
        new Map([
          [T0, 0.1],
          [T0 + HOUR, 0.2],
        ]),
      ],
      ["b", new Map([[T0, 0.3]])],
      ["c", new Map([[T0 + HOUR, 1]])],
    ]);
    const room = (d: string) => (d === "c" ? "hq/1/lab" : "hq/1/office");
    assert.deepEqual(sumByGroup(perDevice, room), [
      { group: "hq/1/lab", ts: T0 + HOUR, kWh: 1 },
      { group: "hq/1/office", ts: T0, kWh: 0.4 },
      { group: "hq/1/office", ts: T0 + HOUR, kWh: 0.2 },
    ]);
  });
});
