// Unit tests of the request/reply correlator: matching by id, timeout, late replies dropped, no leak.
import assert from "node:assert/strict";
import { Correlator } from "../../lib/api/correlator";
import { FakeTime } from "../support/fake-time";
import { ApiError } from "../../lib/api/problem";

function setup(timeoutMs = 5000) {
  const timers = new FakeTime();
  let n = 0;
  const c = new Correlator({ timeoutMs, timers: timers.asClock, newId: () => `r${++n}` });
  return { c, timers };
}

describe("api correlator", () => {
  it("delivers each reply to its own request among many in flight", async () => {
    const { c, timers } = setup();
    const reqs = Array.from({ length: 100 }, () => c.open("query"));
    assert.equal(c.size, 100);
    for (const r of [...reqs].reverse()) assert.equal(c.deliver(r.id, { id: r.id, n: Number(r.id.slice(1)) }), true);
    const replies = (await Promise.all(reqs.map((r) => r.reply))) as { id: string; n: number }[];
    replies.forEach((rep, i) => assert.deepEqual(rep, { id: `r${i + 1}`, n: i + 1 }));
    assert.equal(c.size, 0);
    assert.equal(timers.pending, 0, "timers cleared");
    assert.equal(c.stats.delivered, 100);
  });
  it("times out with TIMEOUT, then drops the late reply without side effects", async () => {
    const { c, timers } = setup(5000);
    const { id, reply } = c.open("command");
    timers.tick(4999);
    assert.equal(c.size, 1);
    timers.tick(1);
    await assert.rejects(reply, (e: unknown) => e instanceof ApiError && e.code === "TIMEOUT" && e.status === 504 && e.extra?.requestId === id);
    assert.equal(c.size, 0);
    assert.equal(c.deliver(id, { id }), false);
    assert.equal(c.stats.timedOut, 1);
    assert.equal(c.stats.dropped, 1);
    assert.equal(c.stats.delivered, 0);
  });
  it("honours a per-request timeout and a duplicate reply is dropped", async () => {
    const { c, timers } = setup(5000);
    const fast = c.open("query", 100);
    const slow = c.open("query");
    timers.tick(100);
    await assert.rejects(fast.reply, /within 100 ms/);
    assert.equal(c.deliver(slow.id, { ok: 1 }), true);
    assert.equal(c.deliver(slow.id, { ok: 2 }), false);
    assert.deepEqual(await slow.reply, { ok: 1 });
  });
  it("fail() rejects one request; close() rejects all and refuses new ones; nothing leaks", async () => {
    const { c, timers } = setup();
    const a = c.open("query");
    const b = c.open("query");
    c.fail(a.id, new Error("publish failed"));
    await assert.rejects(a.reply, /publish failed/);
    c.close();
    await assert.rejects(b.reply, (e: unknown) => e instanceof ApiError && e.code === "BROKER_UNAVAILABLE");
    await assert.rejects(c.open("query").reply, (e: unknown) => e instanceof ApiError && e.code === "BROKER_UNAVAILABLE");
    assert.equal(c.size, 0);
    assert.equal(timers.pending, 0);
  });
  it("never reuses an id that is still pending", () => {
    const timers = new FakeTime();
    const ids = ["x", "x", "y"];
    const c = new Correlator({ timeoutMs: 10, timers: timers.asClock, newId: () => ids.shift() as string });
    assert.equal(c.open("q").id, "x");
    assert.equal(c.open("q").id, "y");
    c.close();
  });
});
