// The day energy cache: day summaries compose to the same kWh as energyPerPeriod; closed-day rule, expiry, invalidation
// and the memory bound, on an injected clock.
import assert from "node:assert/strict";
import { DayEnergyCache, energyFromSummaries, summarize, type DaySummary } from "../../lib/influx/day-energy-cache";
import { energyPerPeriod, roundKWh, type CounterBucket } from "../../lib/influx/energy";
import { periodLookup } from "../../lib/influx/energy-calendar";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const D0 = Date.UTC(2026, 2, 1); // a UTC midnight

/** Deterministic pseudo-random numbers (LCG), so a failure is reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

/** Hourly counter buckets over `days` days with resets, silent stretches and jitter. */
function buckets(seed: number, days: number): CounterBucket[] {
  const r = rng(seed);
  const out: CounterBucket[] = [];
  let e = 50 + r() * 10;
  for (let t = D0; t < D0 + days * DAY; t += HOUR) {
    if (r() < 0.15) continue; // offline hour
    if (r() < 0.03) e = r() * 0.01; // counter restart between buckets
    const first = e;
    const rise = r() * 0.3;
    if (r() < 0.05) {
      // restart inside the bucket
      const peak = e + rise;
      e = r() * 0.05;
      out.push({ ts: t, first, last: e, min: 0, max: peak });
      continue;
    }
    e += rise;
    out.push({ ts: t, first, last: e, min: first, max: e });
  }
  return out;
}

const days = (n: number) => Array.from({ length: n }, (_, i) => ({ start: D0 + i * DAY, end: D0 + (i + 1) * DAY }));

describe("day-energy-cache: summaries", function () {
  it("compose to energyPerPeriod's kWh per day across resets, gaps and a baseline", function () {
    for (let seed = 1; seed <= 20; seed++) {
      const b = buckets(seed, 10);
      const periods = days(10);
      const periodOf = periodLookup(periods);
      const expected = energyPerPeriod(b, periodOf, 40);
      const s = summarize(b, periodOf);
      const got = energyFromSummaries(
        periods.map((p) => [p.start, s.get(p.start)]),
        40,
      );
      assert.deepEqual([...got.keys()], [...expected.keys()], `seed ${seed}: days`);
      for (const [k, v] of expected) assert.equal(roundKWh(got.get(k) ?? NaN), roundKWh(v), `seed ${seed}, day ${new Date(k).toISOString()}`);
    }
  });

  it("carries the last reading over a day without readings", function () {
    const b: CounterBucket[] = [
      { ts: D0 + HOUR, first: 1, last: 2, min: 1, max: 2 },
      { ts: D0 + 2 * DAY + HOUR, first: 3, last: 3.5, min: 3, max: 3.5 },
    ];
    const s = summarize(b, periodLookup(days(3)));
    const got = energyFromSummaries(days(3).map((p) => [p.start, s.get(p.start) ?? null]));
    // day 1: 1 kWh inside; day 2: nothing; day 3: 2 → 3 across the gap, then 0.5 inside
    assert.deepEqual(
      [...got.entries()],
      [
        [D0, 1],
        [D0 + 2 * DAY, 1.5],
      ],
    );
  });
});

describe("day-energy-cache: DayEnergyCache", function () {
  let now: number;
  const sum = (x: number): DaySummary => ({ first: x, last: x + 1, inner: 1 });
  const make = (o: Partial<ConstructorParameters<typeof DayEnergyCache>[0]> = {}) => new DayEnergyCache({ now: () => now, ...o });

  beforeEach(function () {
    now = D0 + 10 * DAY + 12 * HOUR; // noon of day 10
  });

  it("keeps only days closed for closeLagMs", function () {
    const c = make({ closeLagMs: 3 * HOUR });
    assert.equal(c.closed(D0 + 10 * DAY), true, "ended 12 h ago");
    assert.equal(c.closed(D0 + 10 * DAY + 9 * HOUR), true, "ended exactly 3 h ago");
    assert.equal(c.closed(D0 + 10 * DAY + 10 * HOUR), false, "ended 2 h ago");
    c.put("z|1h", D0 + 10 * DAY, D0 + 11 * DAY, ["a"], new Map([["a", sum(1)]]), c.epoch); // today: open
    assert.equal(c.get("z|1h", D0 + 10 * DAY, ["a"]), undefined);
    assert.equal(c.stats().days, 0);
  });

  it("serves a day only when it holds every asked device; null marks a device without readings", function () {
    const c = make();
    c.put("z|1h", D0, D0 + DAY, ["a", "b"], new Map([["a", sum(5)]]), c.epoch);
    const got = c.get("z|1h", D0, ["b", "a"]);
    assert.deepEqual(got && [...got.entries()], [
      ["a", sum(5)],
      ["b", null],
    ]);
    assert.equal(c.get("z|1h", D0, ["a", "c"]), undefined, "c was never read");
    assert.equal(c.get("other|1h", D0, ["a"]), undefined, "another zone or tier is another scope");
    c.put("z|1h", D0, D0 + DAY, ["c"], new Map([["c", sum(7)]]), c.epoch);
    assert.equal(c.get("z|1h", D0, ["a", "b", "c"])?.get("c")?.first, 7);
    assert.deepEqual({ ...c.stats(), evicted: 0 }, { hits: 2, misses: 2, days: 1, deviceDays: 3, evicted: 0, invalidated: 0, expired: 0 });
  });

  it("re-reads a day read before it settled after recheckMs; a settled day never expires by time", function () {
    const c = make({ settleMs: 48 * HOUR, recheckMs: HOUR });
    const recent = D0 + 9 * DAY; // ended 12 h ago
    const old = D0 + 5 * DAY; // ended 4.5 days ago
    c.put("z|1h", recent, recent + DAY, ["a"], new Map([["a", sum(1)]]), c.epoch);
    c.put("z|1h", old, old + DAY, ["a"], new Map([["a", sum(2)]]), c.epoch);
    now += HOUR - 1;
    assert.ok(c.get("z|1h", recent, ["a"]));
    now += 1;
    assert.equal(c.get("z|1h", recent, ["a"]), undefined, "expired after 1 h");
    now += 365 * DAY;
    assert.equal(c.get("z|1h", old, ["a"])?.get("a")?.first, 2);
    assert.equal(c.stats().expired, 1);
  });

  it("drops the days a late range or a tier change touches, and nothing else", function () {
    const c = make();
    for (let i = 0; i < 5; i++) c.put("z|1h", D0 + i * DAY, D0 + (i + 1) * DAY, ["a"], new Map([["a", sum(i)]]), c.epoch);
    // A late 1-hour window in day 2 and one ending exactly where day 4 starts.
    c.onStorageChange({ kind: "late", ranges: [{ startMs: D0 + 2 * DAY + 5 * HOUR, endMs: D0 + 2 * DAY + 6 * HOUR }] });
    c.onStorageChange({ kind: "late", ranges: [{ startMs: D0 + 4 * DAY - HOUR, endMs: D0 + 4 * DAY }] });
    const kept = [0, 1, 2, 3, 4].filter((i) => c.get("z|1h", D0 + i * DAY, ["a"]) !== undefined);
    assert.deepEqual(kept, [0, 1, 4]);
    c.onStorageChange({ kind: "tiers" });
    assert.deepEqual(
      [0, 1, 4].filter((i) => c.get("z|1h", D0 + i * DAY, ["a"]) !== undefined),
      [],
    );
    assert.equal(c.stats().deviceDays, 0);
  });

  it("keeps at most maxDeviceDays, dropping the least recently used days", function () {
    const c = make({ maxDeviceDays: 4 });
    const two = new Map([
      ["a", sum(1)],
      ["b", sum(2)],
    ]);
    c.put("z|1h", D0, D0 + DAY, ["a", "b"], two, c.epoch);
    c.put("z|1h", D0 + DAY, D0 + 2 * DAY, ["a", "b"], two, c.epoch);
    assert.ok(c.get("z|1h", D0, ["a", "b"]), "day 0 used: day 1 is now the oldest");
    c.put("z|1h", D0 + 2 * DAY, D0 + 3 * DAY, ["a", "b"], two, c.epoch);
    assert.equal(c.stats().deviceDays, 4);
    assert.equal(c.get("z|1h", D0 + DAY, ["a"]), undefined);
    assert.ok(c.get("z|1h", D0, ["a"]));
    assert.ok(c.get("z|1h", D0 + 2 * DAY, ["a"]));
    assert.equal(c.stats().evicted, 1);
    const off = make({ maxDeviceDays: 0 });
    off.put("z|1h", D0, D0 + DAY, ["a"], two, off.epoch);
    assert.equal(off.stats().days, 0);
  });

  it("does not keep what a read overlapping an invalidation saw", function () {
    const c = make();
    const epoch = c.epoch; // a read starts
    c.invalidate(D0, D0 + HOUR); // late data lands while it runs
    c.put("z|1h", D0, D0 + DAY, ["a"], new Map([["a", sum(1)]]), epoch);
    assert.equal(c.get("z|1h", D0, ["a"]), undefined);
    c.put("z|1h", D0, D0 + DAY, ["a"], new Map([["a", sum(1)]]), c.epoch);
    assert.ok(c.get("z|1h", D0, ["a"]));
  });

  it("rejects a negative or non-numeric setting", function () {
    assert.throws(() => make({ closeLagMs: -1 }), /closeLagMs/);
    assert.throws(() => make({ maxDeviceDays: Number.NaN }), /maxDeviceDays/);
  });
});
