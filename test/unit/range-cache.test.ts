// The bucket cache of aggregated range queries: what it keeps (closed buckets only, empty ones as known-empty), when it
// forgets (late data, tier changes, expiry of unsettled buckets, LRU), and QueryService answering exactly as without it
// while reading only the buckets it lacks. A bucket model answers the statements here (GROUP BY time means per device);
// the answers against a real influxd, and late data through the hook, are in test/e2e/range-cache.test.ts.
import assert from "node:assert/strict";
import type { QueryData, RangeQuery } from "../../lib/contracts";
import { RangeBucketCache, type BucketPoint } from "../../lib/influx/range-cache";
import { rangeCacheable } from "../../lib/influx/range-cached";
import { QueryService, type InfluxSeries } from "../../lib/influx/query-service";
import type { Statement } from "../../lib/influx/query-builder";
import { buildRegistry } from "../../lib/registry";
import { ROLLUPS } from "../support/cost-fixtures";

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;
const NOW = Date.UTC(2026, 10, 20, 12);
const SCOPE = "raw|plug|power|mean|60000";

const pt = (ts: number, power: number): BucketPoint => ({ ts, power });

describe("RangeBucketCache", () => {
  let now = NOW;
  const cache = (o: Partial<ConstructorParameters<typeof RangeBucketCache>[0]> = {}) => new RangeBucketCache({ now: () => now, ...o });
  beforeEach(() => (now = NOW));

  it("knows nothing at first, then the closed buckets of a read: rows, and empty buckets as null", () => {
    const c = cache();
    const from = NOW - DAY;
    assert.deepEqual(c.read(SCOPE, "a", from, from + 3 * MIN, MIN), [undefined, undefined, undefined]);
    c.put(SCOPE, "a", from, from + 3 * MIN, MIN, [pt(from, 10), pt(from + 2 * MIN, 30)], c.epoch);
    assert.deepEqual(c.read(SCOPE, "a", from, from + 4 * MIN, MIN), [pt(from, 10), null, pt(from + 2 * MIN, 30), undefined]);
    assert.deepEqual(c.read(SCOPE, "b", from, from + MIN, MIN), [undefined], "another device");
    assert.deepEqual(c.read("raw|plug|power|max|60000", "a", from, from + MIN, MIN), [undefined], "another scope");
    assert.equal(c.stats().buckets, 3);
  });

  it("keeps only buckets that ended 3 h ago or earlier", () => {
    const c = cache();
    const from = NOW - 4 * H;
    c.put(SCOPE, "a", from, NOW, H, [pt(from, 1), pt(from + H, 2), pt(from + 2 * H, 3), pt(from + 3 * H, 4)], c.epoch);
    assert.deepEqual(c.read(SCOPE, "a", from, NOW, H), [pt(from, 1), undefined, undefined, undefined]);
  });

  it("keeps nothing read across an invalidation, and forgets the buckets a late window touches", () => {
    const c = cache();
    const from = NOW - DAY;
    const epoch = c.epoch;
    c.invalidate(0, 1);
    c.put(SCOPE, "a", from, from + 2 * MIN, MIN, [pt(from, 1)], epoch);
    assert.equal(c.stats().buckets, 0);
    c.put(SCOPE, "a", from, from + 10 * MIN, MIN, [pt(from, 1)], c.epoch);
    c.onStorageChange({ kind: "late", ranges: [{ startMs: from + 2 * MIN + 30_000, endMs: from + 4 * MIN }] });
    const known = c.read(SCOPE, "a", from, from + 10 * MIN, MIN);
    assert.deepEqual(
      known.map((k) => k !== undefined),
      [true, true, false, false, true, true, true, true, true, true],
    );
    c.onStorageChange({ kind: "tiers" });
    assert.equal(c.stats().buckets, 0);
  });

  it("re-reads unsettled buckets after an hour; settled ones stay", () => {
    const c = cache();
    const recent = NOW - 4 * H;
    const old = NOW - 3 * DAY;
    c.put(SCOPE, "a", recent, recent + MIN, MIN, [pt(recent, 1)], c.epoch);
    c.put(SCOPE, "a", old, old + MIN, MIN, [pt(old, 2)], c.epoch);
    now += H + 1;
    assert.deepEqual(c.read(SCOPE, "a", recent, recent + MIN, MIN), [undefined]);
    assert.deepEqual(c.read(SCOPE, "a", old, old + MIN, MIN), [pt(old, 2)]);
  });

  it("drops the least recently used device lines beyond maxBuckets", () => {
    const c = cache({ maxBuckets: 5 });
    const from = NOW - DAY;
    c.put(SCOPE, "a", from, from + 3 * MIN, MIN, [], c.epoch);
    c.put(SCOPE, "b", from, from + 2 * MIN, MIN, [], c.epoch);
    c.read(SCOPE, "a", from, from + MIN, MIN); // a is now the most recently used
    c.put(SCOPE, "c", from, from + 2 * MIN, MIN, [], c.epoch);
    assert.deepEqual(c.read(SCOPE, "b", from, from + MIN, MIN), [undefined]);
    assert.deepEqual(c.read(SCOPE, "a", from, from + MIN, MIN), [null]);
    assert.deepEqual(c.stats().buckets, 5);
    assert.equal(c.stats().evicted, 2);
  });

  it("freezes what it keeps, since replies share the rows", () => {
    const c = cache();
    const from = NOW - DAY;
    const p = { ts: from, power: 5 };
    c.put(SCOPE, "a", from, from + MIN, MIN, [p], c.epoch);
    assert.throws(() => {
      (p as Record<string, number>).power = 6;
    }, TypeError);
  });

  it("refuses a negative setting", () => {
    assert.throws(() => cache({ maxBuckets: -1 }), /maxBuckets must be a number ≥ 0/);
  });
});

// ---- QueryService with the cache, against a bucket model of InfluxDB ----

const devices = ["a", "b", "c"].map((id, i) => ({
  id,
  name: id,
  model: "HS110",
  host: "127.0.0.1",
  port: 24100 + i,
  kind: "workplace" as const,
  location: { building: "hq", floor: "1", room: "r1" },
}));
const registry = buildRegistry({ version: 1, timezone: "UTC", devices });

/** Power of device i in the minute starting at t, or undefined while it is offline (b: 02:00–03:00 of every day). */
function power(i: number, t: number): number | undefined {
  if (i === 1 && t % DAY >= 2 * H && t % DAY < 3 * H) return undefined;
  return 100 * (i + 1) + ((t / MIN) % 37);
}

/** Answers raw GROUP BY time(step) MEAN("power") statements from the model; records the ranges read. */
function modelRunner(read: [number, number][]): (stmt: Statement) => Promise<InfluxSeries[]> {
  return (stmt) => {
    const m = /time >= (\d+)ms AND time < (\d+)ms/.exec(stmt.text);
    const step = Number(/GROUP BY time\((\d+)ms\)/.exec(stmt.text)?.[1]);
    assert.ok(m && step, stmt.text);
    const [from, to] = [Number(m[1]), Number(m[2])];
    read.push([from, to]);
    const ids = Object.values(stmt.params);
    const out: InfluxSeries[] = [];
    for (const [i, d] of devices.entries()) {
      if (!ids.includes(d.id)) continue;
      const values: unknown[][] = [];
      for (let b = Math.floor(from / step) * step; b < to; b += step) {
        const minutes: number[] = [];
        for (let t = Math.max(b, from); t < Math.min(b + step, to); t += MIN) {
          const p = power(i, t);
          if (p !== undefined) minutes.push(p);
        }
        if (minutes.length) values.push([b, minutes.reduce((s, x) => s + x, 0) / minutes.length]);
      }
      if (values.length) out.push({ name: "plug", tags: { device: d.id }, columns: ["time", "power"], values });
    }
    return Promise.resolve(out);
  };
}

function services(now: number) {
  const read: [number, number][] = [];
  const run = modelRunner(read);
  const rollups = { ...ROLLUPS, enabled: false };
  const cache = new RangeBucketCache({ now: () => now });
  return {
    read,
    cache,
    cached: new QueryService({ run, registry: () => registry, now: () => now, rollups, rangeCache: cache }),
    plain: new QueryService({ run: modelRunner([]), registry: () => registry, now: () => now, rollups }),
  };
}

const range = (from: number, to: number, interval = "1m", extra: Partial<RangeQuery> = {}): RangeQuery => ({
  type: "range",
  fields: ["power"],
  from,
  to,
  aggregate: "mean",
  interval,
  ...extra,
});

describe("QueryService with the range bucket cache", () => {
  const day = Date.UTC(2026, 10, 18);

  it("answers sliding 24 h windows exactly as without the cache, reading only the minutes each one lacks", async function () {
    const s = services(day + 2 * DAY + 12 * H);
    for (const k of [0, 7, 3, 59, 58, 0]) {
      const q = range(day + k * MIN, day + DAY + k * MIN);
      const before = s.read.length;
      const [got, want] = await Promise.all([s.cached.execute(q), s.plain.execute(q)]);
      assert.deepEqual(got, want, `window shifted by ${k} min`);
      const series = (got as Extract<QueryData, { type: "range" }>).series;
      assert.deepEqual(
        series.map((x) => [x.device, x.points.length]),
        [
          ["a", 1440],
          ["b", 1380],
          ["c", 1440],
        ],
      );
      if (k === 0 && before === 0) assert.deepEqual(s.read.slice(before), [[q.from, q.to]], "the first read is the whole window");
    }
    // After 0 (whole day), 7 (its last 7 min), 3 (nothing), 59 (52 min), 58 (nothing), 0 (nothing).
    assert.deepEqual(s.read, [
      [day, day + DAY],
      [day + DAY, day + DAY + 7 * MIN],
      [day + DAY + 7 * MIN, day + DAY + 59 * MIN],
    ]);
  });

  it("reads from the first to the last bucket any device lacks, and the same whatever the device set", async function () {
    const s = services(day + 3 * DAY);
    await s.cached.execute(range(day + H, day + 2 * H, "1m", { target: { device: "a" } }));
    const q = range(day, day + 3 * H, "5m");
    assert.deepEqual(await s.cached.execute(q), await s.plain.execute(q));
    assert.deepEqual(s.read.at(-1), [day, day + 3 * H], "another interval is another scope");
    const all = range(day, day + 3 * H);
    assert.deepEqual(await s.cached.execute(all), await s.plain.execute(all));
    assert.deepEqual(s.read.at(-1), [day, day + 3 * H], "b and c lack every minute: one read of the whole range");
    assert.deepEqual(await s.cached.execute(all), await s.plain.execute(all));
    assert.equal(s.read.length, 3, "then everything is known");
  });

  it("reads the open end of a range every time, and reads late data once the window is invalidated", async function () {
    const now = day + DAY + 5 * H;
    const s = services(now);
    const q = range(day + DAY - H, now - 30 * MIN);
    await s.cached.execute(q);
    await s.cached.execute(q);
    assert.deepEqual(s.read, [
      [q.from, q.to],
      [now - 3 * H, q.to],
    ]);
    s.cache.onStorageChange({ kind: "late", ranges: [{ startMs: day + DAY - 10 * MIN, endMs: day + DAY - 9 * MIN }] });
    assert.deepEqual(await s.cached.execute(q), await s.plain.execute(q));
    assert.deepEqual(s.read.at(-1), [day + DAY - 10 * MIN, q.to]);
  });

  it("does not cache a window not aligned to its interval, nor a query with a limit or without an interval", async function () {
    const s = services(day + 3 * DAY);
    const odd = range(day + 30_000, day + H + 30_000);
    assert.deepEqual(await s.cached.execute(odd), await s.plain.execute(odd));
    await s.cached.execute(odd);
    assert.deepEqual(s.read, [
      [odd.from, odd.to],
      [odd.from, odd.to],
    ]);
    assert.equal(s.cache.stats().buckets, 0);
    assert.equal(rangeCacheable(range(day, day + H, "1m", { limit: 10 })), false);
    assert.equal(rangeCacheable({ type: "range", from: day, to: day + H }), false);
    assert.equal(rangeCacheable(range(day, day + H)), true);
  });

  it("keeps the checks of the uncached path: too many rows are refused the same way, before anything is read", async function () {
    const s = services(day + 40 * DAY);
    const tooMany = range(day - 30 * DAY, day, "1m");
    const refusal = { code: "LIMIT_EXCEEDED", message: "43200 intervals × 3 devices = 129600 rows exceeds 100000" };
    await assert.rejects(s.cached.execute(tooMany), refusal);
    await assert.rejects(s.plain.execute(tooMany), refusal);
    assert.deepEqual(s.read, []);
  });
});
