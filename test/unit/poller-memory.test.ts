// Unit tests: the poller's latency/lag samples stay bounded when nobody reads the stats (statsIntervalMs 0).
import assert from "node:assert/strict";
import { Poller, SampleRing, STATS_SAMPLE_CAP } from "../../lib/poller";

import { FakeTime } from "../support/fake-time";

interface Dev {
  id: string;
}

/** The private sample buffers, read only to measure their size. */
function sampleCounts(p: Poller<Dev, number>): { latencies: number; lags: number } {
  const inner = p as unknown as { latencies: { length: number }; lags: { length: number } };
  return { latencies: inner.latencies.length, lags: inner.lags.length };
}

describe("poller memory (unit)", function () {
  this.timeout(20_000);

  it("keeps latency and lag samples bounded with statsIntervalMs 0 and nobody calling stats()", async () => {
    const time = new FakeTime();
    const devices: Dev[] = Array.from({ length: 50 }, (_, i) => ({ id: `d${i}` }));
    let polls = 0;
    const p = new Poller<Dev, number>({
      devices,
      poll: () => {
        polls++;
        return Promise.resolve(polls);
      },
      intervalMs: 100,
      statsIntervalMs: 0,
      clock: time.clock,
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
      random: () => 0.5,
    });
    p.start();
    await time.advance(30_000); // 300 rounds × 50 devices
    assert.ok(polls >= 14_000, `expected many polls, got ${polls}`);
    const counts = sampleCounts(p);
    assert.equal(counts.latencies, STATS_SAMPLE_CAP, "latency samples capped");
    assert.equal(counts.lags, STATS_SAMPLE_CAP, "lag samples capped");
    assert.ok(STATS_SAMPLE_CAP < polls, "the cap is below the number of polls, so an unbounded array would have failed");
    // The figures a reader such as bench/collector.ts takes stay valid, and a reset empties the buffers.
    const st = p.stats(true);
    assert.equal(st.totals.ok, polls);
    assert.equal(st.latencyP99Ms, 0, "polls resolve in 0 ms on the fake clock");
    assert.deepEqual(sampleCounts(p), { latencies: 0, lags: 0 });
    await p.stop();
    assert.equal(time.pending, 0, "stop leaves no timer");
  });

  it("stats after a reset reflect only the newest window", async () => {
    const time = new FakeTime();
    let latency = 40;
    const p = new Poller<Dev, number>({
      devices: [{ id: "a" }],
      poll: () => new Promise<number>((resolve) => time.setTimer(() => resolve(1), latency)),
      intervalMs: 100,
      statsIntervalMs: 0,
      clock: time.clock,
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
      random: () => 0,
    });
    p.start();
    await time.advance(1_000);
    assert.equal(p.stats(true).latencyP50Ms, 40);
    latency = 70;
    await time.advance(1_000);
    const st = p.stats(true);
    assert.equal(st.latencyP50Ms, 70);
    assert.equal(st.latencyP99Ms, 70);
    const stopping = p.stop();
    await time.advance(1_000);
    await stopping;
  });

  it("SampleRing keeps the most recent values and rejects a bad capacity", () => {
    const r = new SampleRing(3);
    for (const v of [5, 1, 9, 7, 2]) r.push(v);
    assert.equal(r.length, 3);
    assert.deepEqual(r.sorted(), [2, 7, 9]);
    r.clear();
    assert.equal(r.length, 0);
    r.push(4);
    assert.deepEqual(r.sorted(), [4]);
    assert.throws(() => new SampleRing(0), RangeError);
    assert.throws(() => new SampleRing(1.5), RangeError);
  });
});
