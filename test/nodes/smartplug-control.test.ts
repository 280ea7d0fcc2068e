// plugwatch-control in the Node-RED test helper, switching real-protocol HS110 simulators over TCP on loopback.
import assert from "node:assert/strict";
import * as path from "node:path";
import type { CommandReply, Device } from "../../lib/contracts";
import { validate, CommandReply as CommandReplySchema } from "../../lib/contracts";
import { SimulatedOffice, type SimulatedPlug } from "../../scripts/sim/office";
import { registryConfig } from "../support/config-nodes";
import { helper, recordStatuses, withMessages, type SpyCall, type TestNode } from "../support/node-helper";

import registryNode from "../../nodes/plugwatch-registry/plugwatch-registry";
import controlModule from "../../nodes/plugwatch-control/plugwatch-control";

const controlNode = withMessages(controlModule, path.join(__dirname, "..", "..", "nodes", "plugwatch-control"), "plugwatch-control");

interface Sim {
  entry: Device;
  plug: SimulatedPlug;
}
const relayOf = (s: Sim): number => (s.plug.relay ? 1 : 0);
const setRelay = (s: Sim, on: boolean): void => {
  s.plug.relay = on;
};

const device = (id: string, kind: Device["kind"], room: string): Device => ({
  id,
  name: `Plug ${id}`,
  model: "HS110",
  host: "127.0.0.1",
  port: 0,
  kind,
  location: { building: "hq", floor: "1", room },
});

interface Out {
  topic?: string;
  payload: CommandReply;
  qos?: number;
  retain?: boolean;
  [k: string]: unknown;
}

describe("plugwatch-control node (real simulators over TCP)", function () {
  this.timeout(20000);
  let office: SimulatedOffice;
  let sims: Sim[] = [];
  const sim = (id: string): Sim => {
    const s = sims.find((x) => x.entry.id === id);
    if (!s) throw new Error(`no sim ${id}`);
    return s;
  };

  before(async function () {
    // The simulated office starts real-protocol HS110s on OS-chosen loopback ports (retrying a port taken between
    // its UDP and TCP bind), with a frozen model (tickMs 0).
    office = await SimulatedOffice.start(
      [
        device("ws-1", "workplace", "open-1"),
        device("ws-2", "workplace", "open-1"),
        device("mr-a", "meeting-room", "alpha"),
        device("mr-b", "meeting-room", "beta"),
        device("pr-1", "printer", "copy"),
        device("pr-2", "printer", "copy"),
        device("slow", "other", "lab"),
      ],
      { portFor: () => 0, tickMs: 0, relayOn: false },
    );
    // "slow" answers after 1 s: longer than the timeouts some tests use.
    office.plug("slow").sim.deviceNetworking.responseDelay = 1000;
    sims = office.registryDevices().map((entry) => ({ entry, plug: office.plug(entry.id) }));
  });

  after(async function () {
    await office?.stop();
    sims = [];
  });

  beforeEach(async function () {
    for (const s of sims) {
      await s.plug.start();
      setRelay(s, false);
    }
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
  });

  afterEach(function (done) {
    helper.unload().then(
      () => helper.stopServer(done),
      (err: unknown) => done(err),
    );
  });

  function flow(opts: { registryJson?: string; concurrency?: number | string; timeout?: number | string } = {}): Record<string, unknown>[] {
    return [
      { id: "tab", type: "tab", label: "control test" },
      registryConfig(opts.registryJson ?? { devices: sims.map((s) => s.entry) }, { name: "office", file: "" }),
      {
        id: "ctl",
        x: 100,
        y: 100,
        z: "tab",
        type: "plugwatch-control",
        name: "",
        registry: "reg",
        concurrency: opts.concurrency ?? 4,
        timeout: opts.timeout ?? 1500,
        wires: [["out"]],
      },
      { id: "out", x: 100, y: 100, z: "tab", type: "helper" },
      { id: "catch", x: 100, y: 100, z: "tab", type: "catch", scope: ["ctl"], uncaught: false, wires: [["caught"]] },
      { id: "caught", x: 100, y: 100, z: "tab", type: "helper" },
    ];
  }

  async function load(opts: Parameters<typeof flow>[0] = {}): Promise<{ ctl: TestNode; out: TestNode; caught: TestNode }> {
    await helper.load([registryNode, controlNode], flow(opts));
    return { ctl: helper.getNode("ctl"), out: helper.getNode("out"), caught: helper.getNode("caught") };
  }

  /** Sends one message and resolves with the first reply. */
  function command(nodes: { ctl: TestNode; out: TestNode }, msg: Record<string, unknown>): Promise<Out> {
    return new Promise((resolve) => {
      nodes.out.on("input", (m: Out) => resolve(m));
      nodes.ctl.receive(msg);
    });
  }

  it("'on' flips the simulator's relay and replies on replyTo with relay true", async function () {
    const nodes = await load();
    const seen = recordStatuses(nodes.ctl);
    const msg = await command(nodes, {
      topic: "plugwatch/api/request/command",
      payload: JSON.stringify({ v: 1, id: "c-1", replyTo: "clients/app/c-1", action: "on", target: { device: "ws-1" } }),
    });
    assert.equal(relayOf(sim("ws-1")), 1);
    assert.equal(relayOf(sim("ws-2")), 0);
    assert.equal(msg.topic, "clients/app/c-1");
    assert.equal(msg.qos, 1);
    assert.equal(msg.retain, false);
    assert.deepEqual(msg.payload, { v: 1, id: "c-1", ok: true, results: [{ device: "ws-1", ok: true, relay: true }] });
    assert.ok(validate(CommandReplySchema, msg.payload).ok);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen.at(-1), { fill: "green", shape: "dot", text: "on 1/1 ok" });
  });

  it("'off' from a Buffer payload switches the plug off", async function () {
    setRelay(sim("ws-2"), true);
    const nodes = await load();
    const msg = await command(nodes, { payload: Buffer.from(JSON.stringify({ action: "off", device: "ws-2" })) });
    assert.equal(relayOf(sim("ws-2")), 0);
    assert.deepEqual(msg.payload.results, [{ device: "ws-2", ok: true, relay: false }]);
    assert.equal(msg.topic, undefined, "plain form without replyTo: no topic");
  });

  it("a group by kind switches exactly the devices of that kind", async function () {
    const nodes = await load();
    const msg = await command(nodes, { payload: { action: "on", kind: "meeting-room" } });
    assert.equal(msg.payload.ok, true);
    assert.deepEqual(
      msg.payload.results.map((r) => [r.device, r.relay]),
      [
        ["mr-a", true],
        ["mr-b", true],
      ],
    );
    assert.deepEqual(
      sims.map((s) => [s.entry.id, relayOf(s)]),
      [
        ["ws-1", 0],
        ["ws-2", 0],
        ["mr-a", 1],
        ["mr-b", 1],
        ["pr-1", 0],
        ["pr-2", 0],
        ["slow", 0],
      ],
    );
  });

  it("a group by room switches exactly the devices in that room", async function () {
    const nodes = await load();
    const msg = await command(nodes, {
      payload: { v: 1, id: "room-1", replyTo: "clients/r/room", action: "on", target: { building: "hq", floor: "1", room: "open-1" } },
    });
    assert.deepEqual(
      msg.payload.results.map((r) => r.device),
      ["ws-1", "ws-2"],
    );
    assert.deepEqual(
      sims.filter((s) => relayOf(s) === 1).map((s) => s.entry.id),
      ["ws-1", "ws-2"],
    );
  });

  it("toggle inverts each plug's relay", async function () {
    setRelay(sim("pr-1"), true);
    const nodes = await load();
    const msg = await command(nodes, { payload: { action: "toggle", kind: "printer" } });
    assert.deepEqual(msg.payload.results, [
      { device: "pr-1", ok: true, relay: false },
      { device: "pr-2", ok: true, relay: true },
    ]);
    assert.equal(relayOf(sim("pr-1")), 0);
    assert.equal(relayOf(sim("pr-2")), 1);
  });

  it("status reports each relay without changing it", async function () {
    setRelay(sim("mr-b"), true);
    const nodes = await load();
    const msg = await command(nodes, { payload: { action: "status", devices: ["mr-a", "mr-b"] } });
    assert.deepEqual(msg.payload.results, [
      { device: "mr-a", ok: true, relay: false },
      { device: "mr-b", ok: true, relay: true },
    ]);
    assert.equal(relayOf(sim("mr-a")), 0);
    assert.equal(relayOf(sim("mr-b")), 1);
  });

  const badRequests: [string, unknown, string][] = [
    ["unknown device", { v: 1, id: "u-1", replyTo: "clients/r/u", action: "on", target: { device: "ws-404" } }, "UNKNOWN_DEVICE"],
    ["bad action", { v: 1, id: "u-2", replyTo: "clients/r/u", action: "explode", target: { device: "ws-1" } }, "BAD_ACTION"],
    ["empty group", { v: 1, id: "u-3", replyTo: "clients/r/u", action: "on", target: { building: "annex" } }, "EMPTY_TARGET"],
    ["schema violation", { v: 1, id: "u-4", replyTo: "clients/r/u", action: "on", target: { device: "ws-1" }, extra: 1 }, "INVALID_REQUEST"],
  ];
  for (const [name, payload, code] of badRequests) {
    it(`${name} → error reply ${code}, a warning, no Catch, no plug touched`, async function () {
      const nodes = await load();
      const seen = recordStatuses(nodes.ctl);
      const warned: unknown[] = [];
      nodes.ctl.on("call:warn", (c: SpyCall) => warned.push(c.args[0]));
      let caught = false;
      nodes.caught.on("input", () => (caught = true));
      const msg = await command(nodes, { topic: "plugwatch/api/request/command", payload: payload });
      assert.equal(msg.topic, "clients/r/u");
      assert.equal(msg.payload.ok, false);
      assert.deepEqual(msg.payload.results, []);
      assert.equal(msg.payload.error?.code, code);
      assert.equal(msg.payload.id, (payload as { id: string }).id);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(caught, false);
      assert.equal(warned.length, 1);
      assert.match(String(warned[0]), new RegExp(code));
      assert.equal(seen.at(-1)?.fill, "red");
      assert.ok(sims.every((s) => relayOf(s) === 0));
    });
  }

  it("bad JSON cannot be answered: no reply, INVALID_REQUEST to Catch, red status", async function () {
    const nodes = await load();
    const seen = recordStatuses(nodes.ctl);
    let replied = false;
    nodes.out.on("input", () => (replied = true));
    const caught = await new Promise<{ error: { message: string; source: { id: string } } }>((resolve) => {
      nodes.caught.on("input", (m: { error: { message: string; source: { id: string } } }) => resolve(m));
      nodes.ctl.receive({ payload: "{not json" });
    });
    assert.match(caught.error.message, /not JSON/);
    assert.equal(caught.error.source.id, "ctl");
    assert.equal(replied, false);
    assert.deepEqual(seen.at(-1), { fill: "red", shape: "ring", text: "INVALID_REQUEST" });
  });

  it("a stopped simulator gives DEVICE_UNREACHABLE while the others in the group succeed", async function () {
    const nodes = await load();
    const gone = sim("pr-2");
    await gone.plug.stop();
    const seen = recordStatuses(nodes.ctl);
    const msg = await command(nodes, { payload: { action: "on", kind: "printer" } });
    assert.equal(msg.payload.ok, false);
    assert.deepEqual(msg.payload.results[0], { device: "pr-1", ok: true, relay: true });
    assert.equal(msg.payload.results[1]?.device, "pr-2");
    assert.equal(msg.payload.results[1]?.ok, false);
    assert.equal(msg.payload.results[1]?.error?.code, "DEVICE_UNREACHABLE");
    assert.equal(relayOf(sim("pr-1")), 1);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen.at(-1), { fill: "red", shape: "ring", text: "on 1/2 ok" });
  });

  it("a plug slower than the timeout is reported DEVICE_UNREACHABLE within the budget", async function () {
    const nodes = await load({ timeout: 300 });
    const started = Date.now();
    const msg = await command(nodes, { payload: { action: "status", target: { devices: ["slow", "ws-1"] } } });
    const took = Date.now() - started;
    assert.ok(took < 2500, `took ${took} ms`);
    assert.equal(msg.payload.results[0]?.error?.code, "DEVICE_UNREACHABLE");
    assert.deepEqual(msg.payload.results[1], { device: "ws-1", ok: true, relay: false });
  });

  it("an MQTT v5 request without replyTo keeps responseTopic/correlationData and drops the request topic", async function () {
    const nodes = await load();
    const msg = await command(nodes, {
      topic: "plugwatch/api/request/command",
      responseTopic: "clients/v5/1",
      correlationData: Buffer.from("abc"),
      payload: { action: "status", device: "ws-1" },
    });
    assert.equal(msg.topic, undefined);
    assert.equal(msg.responseTopic, "clients/v5/1");
    assert.deepEqual(msg.correlationData, Buffer.from("abc"));
    assert.equal(msg.payload.ok, true);
  });

  it("a forbidden reply topic (replyTo or v5 response topic) switches nothing, sends nothing, no Catch; counted in status", async function () {
    const nodes = await load();
    const seen = recordStatuses(nodes.ctl);
    const warnings: string[] = [];
    nodes.ctl.on("call:warn", (call: { args: unknown[] }) => warnings.push(String(call.args[0])));
    let sent = 0;
    let caught = 0;
    const audits: { topic: string; payload: { by?: string; action: string; results: unknown[] } }[] = [];
    nodes.out.on("input", (m: { topic: string; payload: { by?: string; action: string; results: unknown[] } }) =>
      m.topic === "plugwatch/audit/command" ? audits.push(m) : sent++,
    );
    nodes.caught.on("input", () => caught++);
    const topic = "plugwatch/api/request/command";
    const hostile = ["$SYS/x", "#", "+/x", "plugwatch/hq/1/open-1/ws-2/reading", "plugwatch/alerts/ws-1/offline", "clients/" + "a/".repeat(999) + "a", ""];
    for (const replyTo of hostile)
      nodes.ctl.receive({ topic, qos: 1, retain: false, payload: { v: 1, id: "h", replyTo, action: "on", target: { device: "ws-1" } } });
    nodes.ctl.receive({ topic, qos: 1, retain: false, responseTopic: "$SYS/v5", payload: { action: "on", device: "ws-1" } });
    const want = { fill: "yellow", shape: "dot", text: `replyTo refused: ${hostile.length + 1}` };
    const deadline = Date.now() + 5000;
    while (!seen.some((x) => x.text === want.text) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen.at(-1), want);
    assert.equal(relayOf(sim("ws-1")), 0, "nothing was switched");
    assert.equal(sent, 0);
    assert.equal(caught, 0);
    assert.ok(warnings.length >= 1 && warnings.length <= 5, `at most one warning per problem (${warnings.length})`);
    // Still serving, and a plain command from MQTT without any reply topic is run but nothing goes to mqtt out.
    const ok = await command(nodes, {
      topic,
      qos: 1,
      payload: { v: 1, id: "fine", replyTo: "plugwatch/api/reply/app/1", action: "status", target: { device: "ws-2" } },
    });
    assert.equal(ok.topic, "plugwatch/api/reply/app/1");
    assert.equal(ok.payload.id, "fine");
    nodes.ctl.receive({ topic, qos: 1, retain: false, payload: { action: "on", device: "ws-2", by: "ops-laptop" } });
    const until = Date.now() + 5000;
    while (!(seen.some((x) => x.text === "on 1/1 ok") && audits.length > 0) && Date.now() < until) await new Promise((r) => setImmediate(r));
    assert.equal(relayOf(sim("ws-2")), 1, "the plain command ran");
    assert.equal(sent, 1, "only the addressed reply was sent");
    // The switch (not the status read, not the refused ones) is in the audit trail with who asked.
    assert.deepEqual(
      audits.map((a) => [a.payload.action, a.payload.by, a.payload.results]),
      [["on", "ops-laptop", [{ device: "ws-2", ok: true, relay: true }]]],
    );
  });

  it("an invalid registry answers REGISTRY_INVALID and tells Catch", async function () {
    const nodes = await load({ registryJson: JSON.stringify({ devices: [{ id: "x" }] }) });
    const caughtP = new Promise<{ error: { message: string } }>((resolve) => {
      nodes.caught.on("input", (m: { error: { message: string } }) => resolve(m));
    });
    const msg = await command(nodes, { payload: { id: "r-1", replyTo: "clients/r/x", action: "on", device: "ws-1" } });
    assert.equal(msg.payload.error?.code, "REGISTRY_INVALID");
    assert.match((await caughtP).error.message, /missing required property 'name'/);
  });

  it("bad editor config (concurrency 0) sets a red status and sends input errors to Catch", async function () {
    const nodes = await load({ concurrency: 0 });
    const caught = await new Promise<{ error: { message: string } }>((resolve) => {
      nodes.caught.on("input", (m: { error: { message: string } }) => resolve(m));
      nodes.ctl.receive({ payload: { action: "on", device: "ws-1" } });
    });
    assert.match(caught.error.message, /plugwatch-control is misconfigured: concurrency must be an integer/);
    assert.equal(relayOf(sim("ws-1")), 0);
  });

  it("close waits for a command in flight and lets it finish", async function () {
    const nodes = await load({ timeout: 400 });
    const sent: Out[] = [];
    nodes.ctl.on("call:send", (c: SpyCall) => sent.push(c.args[0] as Out));
    nodes.ctl.receive({ payload: { action: "status", device: "slow" } });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await helper.unload();
    const waited = Date.now() - t0;
    assert.ok(waited >= 250 && waited < 5000, `close waited ${waited} ms`);
    await new Promise((r) => setImmediate(r));
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.payload.results[0]?.error?.code, "DEVICE_UNREACHABLE");
  });
});
