// Controller logic with an injected plug client and clock: request forms, error replies, read-back, timeouts, concurrency.
import assert from "node:assert/strict";
import { Controller, checkControllerOptions } from "../../lib/control";
import { buildRegistry, RegistryError, type Registry } from "../../lib/registry";
import { CommandReply, PlugwatchError, validate, type DeviceEntry } from "../../lib/contracts";

import { FakeClient } from "../support/fake-control";
import { FakeTime } from "../support/fake-time";

/** Typed factory: a device on 127.0.0.1 with a unique port per id. */
function entry(id: string, n: number, kind: DeviceEntry["kind"], room: string, floor = "1"): DeviceEntry {
  return { id, name: `Plug ${id}`, model: "HS110", host: "127.0.0.1", port: 20000 + n, kind, location: { building: "hq", floor, room } };
}

function office(): Registry {
  return buildRegistry({
    devices: [
      entry("ws-1-01", 1, "workplace", "open-1"),
      entry("ws-1-02", 2, "workplace", "open-1"),
      entry("ws-2-01", 3, "workplace", "open-2", "2"),
      entry("mr-alpha", 4, "meeting-room", "alpha"),
      entry("mr-beta", 5, "meeting-room", "beta", "2"),
    ],
  });
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const port = (n: number): string => `127.0.0.1:${20000 + n}`;

function setup(opts: { concurrency?: number; timeoutMs?: number; registry?: Registry | (() => Registry) } = {}) {
  const client = new FakeClient();
  const clock = new FakeTime();
  let n = 0;
  const controller = new Controller({
    registry: opts.registry ?? office(),
    client,
    clock: clock.asClock,
    concurrency: opts.concurrency,
    timeoutMs: opts.timeoutMs,
    newId: () => `gen-${++n}`,
  });
  return { client, clock, controller };
}

function assertValidReply(reply: unknown): void {
  const r = validate(CommandReply, reply);
  assert.ok(r.ok, `reply does not match the CommandReply contract: ${JSON.stringify(r.ok ? [] : r.issues)}`);
}

async function assertRejectsCode(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof PlugwatchError, `expected PlugwatchError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

describe("Controller", function () {
  describe("request forms", function () {
    it("switches one device on from the plain form, confirms by read-back, generates an id and no replyTo", async function () {
      const { client, controller } = setup();
      const out = await controller.handle({ action: "on", device: "ws-1-01" });
      assert.deepEqual(out.reply, { v: 1, id: "gen-1", ok: true, results: [{ device: "ws-1-01", ok: true, relay: true }] });
      assert.equal(out.replyTo, undefined);
      assert.equal(out.action, "on");
      assert.deepEqual(client.calls, [`on ${port(1)}`, `poll ${port(1)}`]);
      assert.equal(client.relay.get(port(1)), true);
      assertValidReply(out.reply);
    });

    it("answers the contract envelope on its replyTo with its id", async function () {
      const { controller } = setup();
      const out = await controller.handle({ v: 1, id: "req-42", replyTo: "clients/app/7", action: "off", target: { device: "mr-alpha" } });
      assert.equal(out.replyTo, "clients/app/7");
      assert.deepEqual(out.reply, { v: 1, id: "req-42", ok: true, results: [{ device: "mr-alpha", ok: true, relay: false }] });
    });

    it("accepts a JSON string and a Buffer (mqtt in delivers both)", async function () {
      const { controller } = setup();
      const a = await controller.handle(JSON.stringify({ action: "on", target: { device: "ws-1-02" } }));
      assert.equal(a.reply.ok, true);
      const b = await controller.handle(Buffer.from(JSON.stringify({ id: "b-1", action: "status", device: "ws-1-02" })));
      assert.deepEqual(b.reply, { v: 1, id: "b-1", ok: true, results: [{ device: "ws-1-02", ok: true, relay: true }] });
    });

    it("plain form with id and replyTo echoes both", async function () {
      const { controller } = setup();
      const out = await controller.handle({ id: "x1", replyTo: "clients/r/1", action: "status", kind: "meeting-room" });
      assert.equal(out.reply.id, "x1");
      assert.equal(out.replyTo, "clients/r/1");
      assert.deepEqual(
        out.reply.results.map((r) => r.device),
        ["mr-alpha", "mr-beta"],
      );
    });
  });

  describe("actions", function () {
    it("toggle reads the relay, sets the opposite and reads back", async function () {
      const { client, controller } = setup();
      client.relay.set(port(1), true);
      const out = await controller.handle({ action: "toggle", device: "ws-1-01" });
      assert.deepEqual(out.reply.results, [{ device: "ws-1-01", ok: true, relay: false }]);
      assert.deepEqual(client.calls, [`poll ${port(1)}`, `off ${port(1)}`, `poll ${port(1)}`]);
      const again = await controller.handle({ action: "toggle", device: "ws-1-01" });
      assert.equal(again.reply.results[0]?.relay, true);
    });

    it("status only polls", async function () {
      const { client, controller } = setup();
      client.relay.set(port(4), true);
      const out = await controller.handle({ action: "status", target: { building: "hq", floor: "1" } });
      assert.deepEqual(
        out.reply.results.map((r) => [r.device, r.relay]),
        [
          ["ws-1-01", false],
          ["ws-1-02", false],
          ["mr-alpha", true],
        ],
      );
      assert.ok(
        client.calls.every((c) => c.startsWith("poll ")),
        client.calls.join(","),
      );
    });

    it("group by kind and by room switch exactly those devices", async function () {
      const { client, controller } = setup();
      const byKind = await controller.handle({ action: "on", kind: "meeting-room" });
      assert.deepEqual(
        byKind.reply.results.map((r) => r.device),
        ["mr-alpha", "mr-beta"],
      );
      assert.deepEqual(
        [...client.relay.entries()]
          .filter(([, v]) => v)
          .map(([k]) => k)
          .sort(),
        [port(4), port(5)],
      );
      const byRoom = await controller.handle({ action: "on", target: { building: "hq", floor: "1", room: "open-1" } });
      assert.deepEqual(
        byRoom.reply.results.map((r) => r.device),
        ["ws-1-01", "ws-1-02"],
      );
      assert.equal(client.relay.get(port(3)), undefined, "ws-2-01 was never touched");
    });

    it("a relay that does not follow gives NOT_CONFIRMED with the state read back", async function () {
      const { client, controller } = setup();
      client.stuck.add(port(2));
      const out = await controller.handle({ action: "on", devices: ["ws-1-01", "ws-1-02"] });
      assert.equal(out.reply.ok, false);
      assert.deepEqual(out.reply.results[0], { device: "ws-1-01", ok: true, relay: true });
      assert.equal(out.reply.results[1]?.error?.code, "NOT_CONFIRMED");
      assert.equal(out.reply.results[1]?.relay, false);
      assertValidReply(out.reply);
    });
  });

  describe("device failures become results, never throws", function () {
    it("an unreachable plug fails alone; the others succeed", async function () {
      const { client, controller } = setup();
      client.failing.set(port(5), new PlugwatchError("DEVICE_UNREACHABLE", "connect ECONNREFUSED 127.0.0.1:20005"));
      const out = await controller.handle({ action: "on", kind: "meeting-room" });
      assert.equal(out.reply.ok, false);
      assert.deepEqual(out.reply.results[0], { device: "mr-alpha", ok: true, relay: true });
      assert.deepEqual(out.reply.results[1], {
        device: "mr-beta",
        ok: false,
        error: { code: "DEVICE_UNREACHABLE", message: "connect ECONNREFUSED 127.0.0.1:20005" },
      });
      assertValidReply(out.reply);
    });

    it("an unclassified error from the client is reported as DEVICE_UNREACHABLE", async function () {
      const { client, controller } = setup();
      client.failing.set(port(1), new Error("socket exploded"));
      const out = await controller.handle({ action: "status", device: "ws-1-01" });
      assert.deepEqual(out.reply.results[0]?.error, { code: "DEVICE_UNREACHABLE", message: "socket exploded" });
    });

    it("a plug that never answers times out after timeoutMs (injected clock) while the others finish", async function () {
      const { client, clock, controller } = setup({ timeoutMs: 500 });
      client.hanging.add(port(2));
      const p = controller.handle({ action: "on", target: { building: "hq", floor: "1", room: "open-1" } });
      await flush();
      let settled = false;
      void p.then(() => (settled = true));
      clock.tick(499);
      await flush();
      assert.equal(settled, false, "must wait for the whole budget");
      clock.tick(1);
      const out = await p;
      assert.deepEqual(out.reply.results[0], { device: "ws-1-01", ok: true, relay: true });
      assert.equal(out.reply.results[1]?.ok, false);
      assert.equal(out.reply.results[1]?.error?.code, "DEVICE_UNREACHABLE");
      assert.match(out.reply.results[1]?.error?.message ?? "", /within 500 ms/);
      assert.equal(clock.pending, 0, "every timer is cleared");
    });
  });

  describe("bounded concurrency", function () {
    it("never has more than `concurrency` plug operations in flight, within and across requests", async function () {
      const { client, controller } = setup({ concurrency: 2 });
      client.hold = true;
      const all = controller.handle({ action: "status", target: { all: true } });
      const one = controller.handle({ action: "on", device: "mr-beta" });
      let released = 0;
      for (let i = 0; i < 50 && (released === 0 || client.inFlight > 0); i++) {
        await flush();
        assert.ok(client.inFlight <= 2, `in flight ${client.inFlight}`);
        released += client.releaseAll();
      }
      const [a, b] = await Promise.all([all, one]);
      assert.equal(client.maxInFlight, 2);
      assert.equal(a.reply.results.length, 5);
      assert.equal(b.reply.ok, true);
      assert.equal(released, 5 + 2, "5 polls plus on + read-back");
    });

    it("uses up to the limit when there is enough work", async function () {
      const { client, controller } = setup({ concurrency: 16 });
      client.hold = true;
      const p = controller.handle({ action: "status", target: { all: true } });
      await flush();
      assert.equal(client.inFlight, 5);
      client.releaseAll();
      assert.equal((await p).reply.ok, true);
    });
  });

  describe("bad requests give documented error replies", function () {
    const cases: [string, unknown, string, RegExp][] = [
      ["unknown action", { id: "e1", replyTo: "clients/r", action: "explode", device: "ws-1-01" }, "BAD_ACTION", /"explode".*on, off, toggle, status/],
      ["missing action", { device: "ws-1-01" }, "BAD_ACTION", /no action/],
      ["unknown device", { action: "on", device: "ws-9-99" }, "UNKNOWN_DEVICE", /ws-9-99/],
      ["unknown among several", { action: "on", devices: ["ws-1-01", "nope"] }, "UNKNOWN_DEVICE", /nope/],
      ["group matching nothing", { action: "on", kind: "printer" }, "EMPTY_TARGET", /printer/],
      ["room matching nothing", { action: "on", target: { building: "hq", floor: "9" } }, "EMPTY_TARGET", /"floor":"9"/],
      ["missing target", { action: "on" }, "INVALID_REQUEST", /missing target/],
      ["device id not a slug", { action: "on", device: "WS 1" }, "INVALID_REQUEST", /\$\.device: "WS 1" is not a valid device/],
      ["bad kind", { action: "on", target: { kind: "lamp" } }, "INVALID_REQUEST", /\$\.target\.kind: "lamp" is not a valid kind/],
      ["unknown plain property", { action: "on", device: "ws-1-01", colour: "red" }, "INVALID_REQUEST", /\$\.colour: unknown property/],
      ["target and inline selector", { action: "on", device: "ws-1-01", target: { kind: "printer" } }, "INVALID_REQUEST", /either 'target' or device/],
      ["mixed selectors", { action: "on", target: { device: "ws-1-01", kind: "printer" } }, "INVALID_REQUEST", /\$\.target\.kind: unknown property 'kind'/],
      ["envelope without target", { v: 1, id: "e2", replyTo: "clients/r", action: "on" }, "INVALID_REQUEST", /missing target/],
      [
        "envelope extra property",
        { v: 1, id: "e3", replyTo: "clients/r", action: "on", target: { device: "ws-1-01" }, force: true },
        "INVALID_REQUEST",
        /\$\.force: unknown property/,
      ],
      [
        "envelope without id",
        { v: 1, replyTo: "clients/r", action: "on", target: { device: "ws-1-01" } },
        "INVALID_REQUEST",
        /\$\.id: missing required property 'id'/,
      ],
      ["wrong version", { v: 2, id: "e4", replyTo: "clients/r", action: "on", target: { device: "ws-1-01" } }, "UNSUPPORTED_VERSION", /version 2/],
    ];
    for (const [name, request, code, message] of cases) {
      it(`${name} → ${code}`, async function () {
        const { client, controller } = setup();
        const out = await controller.handle(request);
        assert.equal(out.reply.ok, false);
        assert.deepEqual(out.reply.results, []);
        assert.equal(out.reply.error?.code, code);
        assert.match(out.reply.error?.message ?? "", message);
        assertValidReply(out.reply);
        assert.deepEqual(client.calls, [], "no plug is touched");
        const r = request as { id?: string; replyTo?: string };
        if (r.id) assert.equal(out.reply.id, r.id);
        assert.equal(out.replyTo, r.replyTo);
      });
    }

    it("a registry that failed to load gives REGISTRY_INVALID", async function () {
      const { controller } = setup({
        registry: () => {
          throw new RegistryError("office.json", [{ file: "office.json", path: "$.devices[0].kind", message: "bad" }]);
        },
      });
      const out = await controller.handle({ id: "q", replyTo: "clients/r", action: "on", device: "ws-1-01" });
      assert.equal(out.reply.error?.code, "REGISTRY_INVALID");
      assert.match(out.reply.error?.message ?? "", /office\.json: \$\.devices\[0\]\.kind: bad/);
    });
  });

  describe("input that cannot be answered throws INVALID_REQUEST", function () {
    const cases: [string, unknown, RegExp][] = [
      ["not JSON", "{action: on", /not JSON/],
      ["a number", 42, /JSON object, got number/],
      ["an array", [{ action: "on" }], /JSON object, got an array/],
      ["null", null, /got null/],
      ["JSON null", Buffer.from("null"), /got null/],
      ["id with spaces", { id: "has space", replyTo: "clients/r", action: "on", device: "ws-1-01" }, /\$\.id/],
      ["wildcard replyTo", { id: "ok", replyTo: "replies/#", action: "on", device: "ws-1-01" }, /\$\.replyTo/],
      ["empty replyTo", { id: "ok", replyTo: "", action: "on", device: "ws-1-01" }, /\$\.replyTo/],
    ];
    for (const [name, request, message] of cases) {
      it(name, async function () {
        const { client, controller } = setup();
        await assertRejectsCode(controller.handle(request), "INVALID_REQUEST", message);
        assert.deepEqual(client.calls, []);
      });
    }
  });

  describe("lifecycle and options", function () {
    it("stop() waits for in-flight requests", async function () {
      const { client, controller } = setup();
      client.hold = true;
      const p = controller.handle({ action: "on", device: "ws-1-01" });
      await flush();
      assert.equal(controller.busy, 1);
      let stopped: boolean | undefined;
      const s = controller.stop(10_000).then((v) => (stopped = v));
      await flush();
      assert.equal(stopped, undefined, "still waiting");
      for (let i = 0; i < 10 && controller.busy > 0; i++) {
        client.releaseAll();
        await flush();
      }
      await s;
      assert.equal(stopped, true);
      assert.equal((await p).reply.ok, true);
      assert.equal(controller.busy, 0);
    });

    it("stop() gives up after the grace period", async function () {
      const { client, clock, controller } = setup({ timeoutMs: 60_000 });
      client.hanging.add(port(1));
      void controller.handle({ action: "on", device: "ws-1-01" });
      await flush();
      const s = controller.stop(1000);
      clock.tick(1000);
      assert.equal(await s, false);
      clock.tick(60_000); // let the device budget expire so nothing is left pending
      await flush();
      assert.equal(controller.busy, 0);
    });

    it("stop() with nothing in flight resolves at once", async function () {
      const { controller } = setup();
      assert.equal(await controller.stop(), true);
    });

    it("rejects absurd options", function () {
      assert.match(checkControllerOptions(0, 3000) ?? "", /concurrency/);
      assert.match(checkControllerOptions(1.5, 3000) ?? "", /concurrency/);
      assert.match(checkControllerOptions(16, 10) ?? "", /timeout/);
      assert.match(checkControllerOptions(16, Number.NaN) ?? "", /timeout/);
      assert.equal(checkControllerOptions(16, 3000), undefined);
      assert.throws(() => new Controller({ registry: office(), client: new FakeClient(), concurrency: 0 }), /concurrency/);
    });
  });
});
