// Controller command queue: bounded length (LIMIT_EXCEEDED) and a deadline (TIMEOUT), so a stale command never switches a plug late.
import assert from "node:assert/strict";
import { Controller } from "../../lib/control";
import { buildRegistry, type Registry } from "../../lib/registry";
import { CommandReply, validate, type DeviceEntry } from "../../lib/contracts";

import { FakeClient } from "../support/fake-control";
import { FakeTime } from "../support/fake-time";

function entry(id: string, n: number, room: string): DeviceEntry {
  return { id, name: `Plug ${id}`, model: "HS110", host: "127.0.0.1", port: 21000 + n, kind: "workplace", location: { building: "hq", floor: "1", room } };
}

function office(): Registry {
  return buildRegistry({ devices: [entry("ws-1", 1, "a"), entry("ws-2", 2, "a"), entry("ws-3", 3, "b"), entry("ws-4", 4, "b"), entry("ws-5", 5, "b")] });
}
const addr = (n: number): string => `127.0.0.1:${21000 + n}`;

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(opts: { concurrency?: number; timeoutMs?: number; maxQueued?: number } = {}) {
  const client = new FakeClient();
  const clock = new FakeTime();
  let n = 0;
  const controller = new Controller({ registry: office(), client, clock: clock.asClock, newId: () => `gen-${++n}`, ...opts });
  return { client, clock, controller };
}

function assertValidReply(reply: unknown): void {
  const r = validate(CommandReply, reply);
  assert.ok(r.ok, `reply does not match the CommandReply contract: ${JSON.stringify(r.ok ? [] : r.issues)}`);
}

describe("Controller command queue (unit)", function () {
  it("drops a queued command once its timeout has passed: TIMEOUT, and the plug is never switched", async function () {
    const { client, clock, controller } = setup({ concurrency: 1, timeoutMs: 500 });
    client.hanging.add(addr(1));
    const first = controller.handle({ action: "on", device: "ws-1" });
    const stale = controller.handle({ id: "late-off", replyTo: "clients/r/late", action: "off", device: "ws-2" });
    await flush();
    assert.equal(controller.queued, 1, "the second command waits behind the hanging one");
    clock.tick(499);
    await flush();
    assert.equal(controller.queued, 1, "still within its budget");
    clock.tick(1);
    const [a, b] = await Promise.all([first, stale]);
    assert.equal(a.reply.results[0]?.error?.code, "DEVICE_UNREACHABLE");
    assertValidReply(b.reply);
    assert.equal(b.replyTo, "clients/r/late");
    assert.equal(b.reply.id, "late-off");
    assert.equal(b.reply.ok, false);
    assert.equal(b.reply.results.length, 1);
    assert.equal(b.reply.results[0]?.device, "ws-2");
    assert.equal(b.reply.results[0]?.error?.code, "TIMEOUT");
    assert.match(b.reply.results[0]?.error?.message ?? "", /command queue.*nothing was switched/);
    // Let everything else run out: the dropped command must never reach the plug.
    clock.tick(10_000);
    for (let i = 0; i < 5; i++) await flush();
    assert.ok(!client.calls.some((c) => c.endsWith(addr(2))), `no call to ws-2, got ${client.calls.join(", ")}`);
    assert.equal(controller.queued, 0);
    assert.equal(clock.pending, 0, "every timer is cleared");
  });

  it("a command that waited less than its timeout still runs, and its queue timer is cleared", async function () {
    const { client, clock, controller } = setup({ concurrency: 1, timeoutMs: 500 });
    client.hold = true;
    const a = controller.handle({ action: "on", device: "ws-1" });
    const b = controller.handle({ action: "off", device: "ws-2" });
    await flush();
    clock.tick(200);
    for (let i = 0; i < 20 && controller.busy > 0; i++) {
      client.releaseAll();
      await flush();
    }
    const [ra, rb] = await Promise.all([a, b]);
    assert.deepEqual(ra.reply.results, [{ device: "ws-1", ok: true, relay: true }]);
    assert.deepEqual(rb.reply.results, [{ device: "ws-2", ok: true, relay: false }]);
    assert.deepEqual(client.calls, ["on " + addr(1), "poll " + addr(1), "off " + addr(2), "poll " + addr(2)]);
    assert.equal(clock.pending, 0);
  });

  it("refuses a request that would overflow the queue with LIMIT_EXCEEDED, before touching any plug", async function () {
    const { client, controller } = setup({ concurrency: 1, maxQueued: 2 });
    client.hold = true;
    const running = controller.handle({ action: "on", device: "ws-1" }); // takes the only slot
    const tooBig = await controller.handle({ id: "big", replyTo: "clients/r/big", action: "off", target: { all: true } }); // 5 would wait
    assertValidReply(tooBig.reply);
    assert.equal(tooBig.reply.ok, false);
    assert.equal(tooBig.replyTo, "clients/r/big");
    assert.deepEqual(tooBig.reply.results, []);
    assert.equal(tooBig.reply.error?.code, "LIMIT_EXCEEDED");
    assert.match(tooBig.reply.error?.message ?? "", /command queue full.*at most 2/);
    const fits = controller.handle({ action: "on", devices: ["ws-2", "ws-3"] }); // exactly fills the queue
    await flush();
    assert.equal(controller.queued, 2);
    const over = await controller.handle({ action: "on", device: "ws-4" });
    assert.equal(over.reply.error?.code, "LIMIT_EXCEEDED");
    for (let i = 0; i < 30 && controller.busy > 0; i++) {
      client.releaseAll();
      await flush();
    }
    assert.equal((await running).reply.ok, true);
    assert.equal((await fits).reply.ok, true);
    for (const n of [4, 5]) assert.ok(!client.calls.some((c) => c.endsWith(addr(n))), `refused requests touched no plug (${client.calls.join(", ")})`);
    assert.equal(client.relay.get(addr(1)), true, "the refused 'all off' did not switch ws-1 back");
  });

  it("rejects an absurd maxQueued", function () {
    assert.throws(() => new Controller({ registry: office(), client: new FakeClient(), maxQueued: -1 }), /maxQueued/);
    assert.throws(() => new Controller({ registry: office(), client: new FakeClient(), maxQueued: 1.5 }), /maxQueued/);
  });
});
