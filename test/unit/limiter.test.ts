// lib/limiter.ts: bound, arrival order, a full queue refused at once, timed-out and cancelled waiters never run.
import assert from "node:assert/strict";
import { Limiter } from "../../lib/limiter";
import { PlugwatchError } from "../../lib/contracts/errors";
import { FakeTime } from "../support/fake-time";

describe("Limiter", function () {
  it("runs at most `concurrency` tasks, the rest in arrival order", async function () {
    const fake = new FakeTime();
    const l = new Limiter({ concurrency: 2, clock: fake.asClock });
    const started: number[] = [];
    let peak = 0;
    const task = (i: number) => () => {
      started.push(i);
      peak = Math.max(peak, l.running);
      return fake.after(10, () => i);
    };
    const all = Promise.all([1, 2, 3, 4, 5].map((i) => l.run(task(i))));
    await fake.advance(0);
    assert.deepEqual([started, l.running, l.waiting, l.free], [[1, 2], 2, 3, 0]);
    await fake.advance(30);
    assert.deepEqual(await all, [1, 2, 3, 4, 5]);
    assert.deepEqual([started, peak, l.running, l.waiting], [[1, 2, 3, 4, 5], 2, 0, 0]);
  });

  it("a full queue refuses at once with LIMIT_EXCEEDED; a timed-out or cancelled waiter never runs", async function () {
    const fake = new FakeTime();
    const l = new Limiter({ concurrency: 1, maxWaiting: 2, clock: fake.asClock });
    const ran: string[] = [];
    const job = (name: string, ms: number) => () => {
      ran.push(name);
      return fake.after(ms, () => name);
    };
    const a = l.run(job("a", 100));
    const b = l.run(job("b", 1), { maxWaitMs: 50 });
    const c = l.run(job("c", 1));
    await assert.rejects(l.run(job("d", 1)), (e: unknown) => e instanceof PlugwatchError && e.code === "LIMIT_EXCEEDED");
    assert.equal(l.full, true);
    const bErr = assert.rejects(b, (e: unknown) => e instanceof PlugwatchError && e.code === "TIMEOUT");
    await fake.advance(50);
    await bErr;
    assert.equal(l.cancelWaiting(new Error("closing")), 1);
    await assert.rejects(c, /closing/);
    await fake.advance(100);
    assert.equal(await a, "a");
    assert.deepEqual([ran, l.running, fake.pending], [["a"], 0, 0]);
  });
});
