// Queued commands for offline plugs (lib/command-queue.ts, lib/queued-control.ts) with the fake clock and in-memory plugs.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CommandQueue, parseQueueDuration, type QueueSnapshot, type QueueStore } from "../../lib/command-queue";
import { queueFileOf, queueFileStore } from "../../lib/command-queue-file";
import { Controller, type HandleResult } from "../../lib/control";
import { CommandLookupReply, CommandReply, PlugwatchError, validate, type DeviceEntry } from "../../lib/contracts";
import { onlineDevice, QueuedControl, type LookupResult } from "../../lib/queued-control";
import { buildRegistry } from "../../lib/registry";
import { FakeClient } from "../support/fake-control";
import { FakeTime } from "../support/fake-time";

const entry = (id: string, n: number): DeviceEntry => ({
  id,
  name: `Plug ${id}`,
  model: "HS110",
  host: "127.0.0.1",
  port: 21000 + n,
  kind: "printer",
  location: { building: "hq", floor: "1", room: "copy" },
});
const addr = (n: number): string => `127.0.0.1:${21000 + n}`;
const HOUR = 3600_000;
const TOPIC = "plugwatch/api/request/command";
const REPLY = "plugwatch/api/reply/test/1";

/** An in-memory store that keeps what was saved as JSON text, like the file does. */
function memoryStore(): QueueStore & { text: string; saves: number } {
  const s = {
    text: "null",
    saves: 0,
    load: () => JSON.parse(s.text) as unknown,
    save: (c: QueueSnapshot) => {
      s.text = JSON.stringify(c);
      s.saves++;
    },
  };
  return s;
}

function setup(opts: { max?: number; history?: number; store?: QueueStore } = {}) {
  const client = new FakeClient();
  const time = new FakeTime();
  let n = 0;
  const controller = new Controller({
    registry: buildRegistry({ devices: [entry("pr-1", 1), entry("pr-2", 2), entry("pr-3", 3)] }),
    client,
    clock: time.asClock,
    newId: () => `gen-${++n}`,
  });
  const deliveries: HandleResult[] = [];
  const make = (store = opts.store) =>
    new QueuedControl({
      controller,
      queue: new CommandQueue({ max: opts.max, history: opts.history, store }),
      clock: time.asClock,
      onDelivery: (r) => deliveries.push(r),
      newId: () => `gen-${++n}`,
    });
  const agent = make();
  const down = (i: number) => client.failing.set(addr(i), new PlugwatchError("DEVICE_UNREACHABLE", "connect ECONNREFUSED"));
  const up = (i: number) => client.failing.delete(addr(i));
  return { client, time, controller, agent, make, deliveries, down, up };
}

async function command(agent: QueuedControl, body: Record<string, unknown>): Promise<CommandReply> {
  const r = (await agent.handle({ replyTo: REPLY, ...body }, TOPIC)) as HandleResult;
  assert.ok(!("lookup" in r));
  const v = validate(CommandReply, r.reply);
  assert.ok(v.ok, JSON.stringify(v.ok ? [] : v.issues));
  return r.reply;
}

async function lookup(agent: QueuedControl, id: string): Promise<CommandLookupReply> {
  const r = (await agent.handle({ v: 1, id: `q-${id}`, replyTo: REPLY, command: id }, TOPIC)) as LookupResult;
  assert.equal(r.lookup, true);
  assert.equal(r.replyTo, REPLY);
  const v = validate(CommandLookupReply, r.reply);
  assert.ok(v.ok, JSON.stringify(v.ok ? [] : v.issues));
  assert.equal(r.reply.id, `q-${id}`);
  return r.reply;
}

describe("command queue", function () {
  describe("parseQueueDuration", function () {
    it("reads ISO 8601 durations in weeks, days, hours, minutes and seconds", function () {
      assert.equal(parseQueueDuration("PT1H"), HOUR);
      assert.equal(parseQueueDuration("PT90M"), 90 * 60_000);
      assert.equal(parseQueueDuration("P1DT12H"), 36 * HOUR);
      assert.equal(parseQueueDuration("P1W"), 7 * 24 * HOUR);
      assert.equal(parseQueueDuration("PT1S"), 1000);
    });
    it("refuses months, years, empty parts, out-of-range and non-strings with INVALID_REQUEST", function () {
      for (const bad of ["P1M", "P1Y", "P", "PT", "1H", "PT1.5H", "P8D", "P2W", "PT0S", "", 3600, null, "PT1H ".repeat(10)]) {
        assert.throws(
          () => parseQueueDuration(bad),
          (e: unknown) => e instanceof PlugwatchError && e.code === "INVALID_REQUEST",
          String(bad),
        );
      }
    });
  });

  describe("QueuedControl", function () {
    it("queues a command for a plug that does not answer and delivers it, audited, when the plug answers again", async function () {
      const { agent, client, time, down, up, deliveries } = setup();
      down(1);
      const reply = await command(agent, { id: "c1", action: "on", device: "pr-1", queue: "PT1H", by: "alice" });
      assert.equal(reply.ok, false);
      assert.deepEqual(reply.results, [{ device: "pr-1", ok: false, error: { code: "DEVICE_UNREACHABLE", message: "connect ECONNREFUSED" }, queued: true }]);
      assert.equal(reply.expiresAt, time.now + HOUR);
      assert.equal(agent.queue.waiting, 1);

      let l = await lookup(agent, "c1");
      assert.equal(l.command?.state, "queued");
      assert.equal(l.command?.by, "alice");
      assert.equal(l.command?.expiresAt, time.now + HOUR);

      // Still down: a round probes (status read) and leaves it waiting; nothing is audited.
      await time.advance(60_000);
      await agent.deliver();
      assert.equal(deliveries.length, 0);
      l = await lookup(agent, "c1");
      assert.equal(l.command?.devices[0]?.attempts, 1);
      assert.equal(client.relay.get(addr(1)) ?? false, false);

      up(1);
      await time.advance(60_000);
      await agent.deliver();
      assert.equal(client.relay.get(addr(1)), true);
      assert.equal(deliveries.length, 1);
      const audit = deliveries[0]?.audit;
      assert.equal(audit?.id, "c1");
      assert.equal(audit?.by, "alice");
      assert.equal(audit?.action, "on");
      assert.deepEqual(audit?.results, [{ device: "pr-1", ok: true, relay: true }]);
      l = await lookup(agent, "c1");
      assert.equal(l.command?.state, "delivered");
      assert.deepEqual(
        { state: l.command?.devices[0]?.state, relay: l.command?.devices[0]?.relay, attempts: l.command?.devices[0]?.attempts, at: l.command?.devices[0]?.at },
        { state: "delivered", relay: true, attempts: 2, at: time.now },
      );
      assert.equal(agent.queue.waiting, 0);
      // Delivered once: a further round sends nothing.
      const calls = client.calls.length;
      await agent.deliver();
      assert.equal(client.calls.length, calls);
    });

    it("expires a command whose plug does not come back in time, and never sends it afterwards", async function () {
      const { agent, client, time, down, up, deliveries } = setup();
      down(2);
      await command(agent, { id: "c2", action: "off", device: "pr-2", queue: "PT10M" });
      client.relay.set(addr(2), true);
      await time.advance(10 * 60_000 - 1);
      assert.equal((await lookup(agent, "c2")).command?.state, "queued");
      await time.advance(1);
      const l = await lookup(agent, "c2");
      assert.equal(l.command?.state, "expired");
      assert.equal(l.command?.devices[0]?.at, time.now);
      up(2);
      await agent.deliver();
      assert.equal(deliveries.length, 0);
      assert.equal(client.relay.get(addr(2)), true, "never switched after expiry");
    });

    it("a later command for the same device supersedes the waiting one, whatever its own outcome", async function () {
      const { agent, down, up, deliveries, client } = setup();
      down(1);
      await command(agent, { id: "first", action: "on", device: "pr-1", queue: "PT1H" });
      // A plain command (no queue) that also fails: the latest intent is off, so "on" must never be delivered.
      const r = await command(agent, { id: "second", action: "off", device: "pr-1" });
      assert.equal(r.results[0]?.queued, undefined);
      const l = await lookup(agent, "first");
      assert.equal(l.command?.state, "superseded");
      assert.equal(l.command?.devices[0]?.supersededBy, "second");
      up(1);
      await agent.deliver();
      assert.equal(deliveries.length, 0);
      assert.equal(client.relay.get(addr(1)) ?? false, false);
      // A status read does not supersede.
      down(1);
      await command(agent, { id: "third", action: "on", device: "pr-1", queue: "PT1H" });
      await command(agent, { action: "status", device: "pr-1" });
      assert.equal((await lookup(agent, "third")).command?.state, "queued");
    });

    it("is bounded: devices beyond the room get QUEUE_FULL, a request with no room is refused before any plug is touched", async function () {
      const { agent, client, down } = setup({ max: 1 });
      down(1);
      down(2);
      const r = await command(agent, { id: "bulk", action: "on", target: { devices: ["pr-1", "pr-2"] }, queue: "PT1H" });
      assert.deepEqual(
        r.results.map((x) => [x.device, x.queued ?? false, x.error?.code]),
        [
          ["pr-1", true, "DEVICE_UNREACHABLE"],
          ["pr-2", false, "QUEUE_FULL"],
        ],
      );
      const l = await lookup(agent, "bulk");
      assert.equal(l.command?.state, "queued");
      assert.deepEqual(
        l.command?.devices.map((d) => d.state),
        ["queued", "failed"],
      );
      const calls = client.calls.length;
      const full = await command(agent, { id: "more", action: "on", device: "pr-3", queue: "PT1H" });
      assert.equal(full.error?.code, "QUEUE_FULL");
      assert.equal(full.id, "more");
      assert.equal(client.calls.length, calls, "nothing was switched");
      assert.equal((await lookup(agent, "more")).error?.code, "UNKNOWN_COMMAND");
    });

    it("records a queued command whose plugs all answered at once as delivered; a plug error that is not retryable fails it", async function () {
      const { agent, client } = setup();
      const ok = await command(agent, { id: "now", action: "on", device: "pr-3", queue: "PT5M" });
      assert.equal(ok.ok, true);
      assert.equal(ok.expiresAt, undefined);
      assert.equal((await lookup(agent, "now")).command?.state, "delivered");
      client.stuck.add(addr(2));
      const nc = await command(agent, { id: "nc", action: "on", device: "pr-2", queue: "PT5M" });
      assert.equal(nc.results[0]?.error?.code, "NOT_CONFIRMED");
      assert.equal(nc.results[0]?.queued, undefined);
      const l = await lookup(agent, "nc");
      assert.equal(l.command?.state, "failed");
      assert.equal(l.command?.devices[0]?.error?.code, "NOT_CONFIRMED");
    });

    it("answers bad queue requests with coded errors, echoing the id, switching nothing", async function () {
      const { agent, client, down } = setup();
      down(1);
      for (const [body, code] of [
        [{ id: "t", action: "toggle", device: "pr-1", queue: "PT1H" }, "INVALID_REQUEST"],
        [{ id: "s", action: "status", device: "pr-1", queue: "PT1H" }, "INVALID_REQUEST"],
        [{ id: "d", action: "on", device: "pr-1", queue: "P1M" }, "INVALID_REQUEST"],
        [{ id: "x", action: "on", device: "pr-1", queue: "P30D" }, "INVALID_REQUEST"],
        [{ id: "u", action: "on", device: "nope", queue: "PT1H" }, "UNKNOWN_DEVICE"],
      ] as const) {
        const r = await command(agent, body);
        assert.equal(r.error?.code, code, JSON.stringify(body));
        assert.equal(r.id, body.id);
      }
      assert.equal(client.calls.filter((c) => !c.startsWith("poll")).length, 0);
      assert.equal(agent.queue.waiting, 0);
      // A lookup that breaks its contract, and one for an unknown id.
      const bad = (await agent.handle({ v: 1, id: "b", replyTo: REPLY, command: "has space" }, TOPIC)) as LookupResult;
      assert.equal(bad.reply.error?.code, "INVALID_REQUEST");
      assert.equal((await lookup(agent, "never")).error?.code, "UNKNOWN_COMMAND");
    });

    it("survives a restart through its store, and keeps delivering after it", async function () {
      const store = memoryStore();
      const { agent, make, time, down, up, deliveries, client } = setup({ store });
      down(1);
      down(2);
      await command(agent, { id: "r1", action: "on", device: "pr-1", queue: "PT1H" });
      await command(agent, { id: "r2", action: "on", device: "pr-2", queue: "PT2M" });
      assert.ok(store.saves >= 2);
      // "Restart": a new agent on the same store; pr-1 comes back, pr-2 never does within its 2 minutes.
      const again = make(store);
      assert.equal(again.queue.waiting, 2);
      await time.advance(5 * 60_000);
      up(1);
      await again.deliver();
      assert.equal(client.relay.get(addr(1)), true);
      assert.equal(deliveries.length, 1);
      assert.equal((await lookup(again, "r1")).command?.state, "delivered");
      assert.equal((await lookup(again, "r2")).command?.state, "expired");
      const third = make(store);
      assert.deepEqual(
        third.queue.list().map((c) => [c.id, c.state]),
        [
          ["r1", "delivered"],
          ["r2", "expired"],
        ],
      );
    });

    it("keeps a bounded history of finished commands, and skips damaged entries at load", async function () {
      const store = memoryStore();
      const { agent } = setup({ store, history: 2 });
      for (const id of ["h1", "h2", "h3"]) await command(agent, { id, action: "on", device: "pr-3", queue: "PT1M" });
      assert.deepEqual(
        agent.queue.list().map((c) => c.id),
        ["h2", "h3"],
      );
      const saved = JSON.parse(store.text) as QueueSnapshot;
      store.text = JSON.stringify({ ...saved, commands: [{ id: "junk" }, ...saved.commands, 42] });
      const q = new CommandQueue({ store });
      assert.equal(q.skippedAtLoad, 2);
      assert.equal(q.list().length, 2);
    });
  });

  describe("queueFileStore", function () {
    it("writes atomically and reads back; a damaged file is an empty queue with a warning", function () {
      const dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-queue-"));
      try {
        const file = queueFileOf(dir, "ab.cd/ef");
        assert.equal(path.basename(file), "plugwatch-command-queue-ab.cd_ef.json");
        const warnings: string[] = [];
        const store = queueFileStore(file, (m) => warnings.push(m));
        assert.equal(store.load(), undefined);
        const q = new CommandQueue({ store });
        q.record({
          id: "f1",
          action: "off",
          at: 1_700_000_000_000,
          expiresAt: 1_700_000_060_000,
          results: [{ device: "pr-1", ok: false, error: { code: "TIMEOUT", message: "x" } }],
          topic: "site/pw/api/request/command",
        });
        const saved = JSON.parse(readFileSync(file, "utf8")) as QueueSnapshot;
        assert.equal(saved.commands[0]?.state, "queued");
        assert.deepEqual(saved.topics, { f1: "site/pw/api/request/command" });
        const reloaded = new CommandQueue({ store: queueFileStore(file, (m) => warnings.push(m)) });
        assert.equal(reloaded.due(1_700_000_000_000)[0]?.topic, "site/pw/api/request/command");
        assert.equal(new CommandQueue({ store: queueFileStore(file, (m) => warnings.push(m)) }).waiting, 1);
        writeFileSync(file, "{not json");
        assert.equal(new CommandQueue({ store: queueFileStore(file, (m) => warnings.push(m)) }).waiting, 0);
        assert.equal(warnings.length, 1);
        assert.match(warnings[0] ?? "", /empty command queue/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it("onlineDevice reads the collector's availability messages", function () {
    assert.equal(onlineDevice("plugwatch/hq/1/copy/pr-1/availability", { v: 1, device: "pr-1", online: true }), "pr-1");
    assert.equal(onlineDevice("plugwatch/hq/1/copy/pr-1/availability", '{"v":1,"device":"pr-1","online":false}'), undefined);
    assert.equal(onlineDevice("plugwatch/hq/1/copy/pr-1/reading", { device: "pr-1", online: true }), undefined);
    assert.equal(onlineDevice("x/availability", "{broken"), undefined);
  });
});
