// The node kit in the helper runtime: bad config, missing config node, errors to Catch, close frees timers and waits for work.
import assert from "node:assert/strict";
import type { NodeAPI, NodeDef } from "node-red";
import { defineNode, ConfigError } from "../../nodes/shared/kit";
import { calls, helper, history, lastStatus, waitFor, type TestNode } from "../support/node-helper";
import registryModule from "../../nodes/plugwatch-registry/plugwatch-registry";

interface ProbeDef extends NodeDef {
  mode: string;
  registry: string;
}

/** What the probe's setup saw, shared with the test (one probe per test). */
const probe = { ticks: 0, release: (): void => undefined };

function probeModule(RED: NodeAPI): void {
  defineNode<ProbeDef, { mode: string; registry: string }>(
    RED,
    "kit-probe",
    (def) => {
      if (def.mode === "bad") throw new ConfigError("mode must not be bad");
      return { mode: def.mode, registry: def.registry };
    },
    (_node, config, kit) => {
      if (config.mode === "registry") kit.loadRegistry(config.registry);
      kit.setInterval(() => probe.ticks++, 5);
      kit.onInput(async (msg, send) => {
        if (msg.payload === "throw") throw new ConfigError("thrown on purpose");
        if (msg.payload === "hang") {
          await new Promise<void>((resolve) => (probe.release = resolve));
          send({ payload: "late" });
          return;
        }
        send({ payload: `echo ${String(msg.payload)}` });
      });
    },
    { closeGraceMs: 300 },
  );
}

describe("node kit (nodes/shared/kit.ts) in the runtime", function () {
  this.timeout(10000);
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(function (done) {
    probe.release();
    helper.unload().then(
      () => helper.stopServer(done),
      (err: unknown) => done(err),
    );
  });

  async function load(props: Record<string, unknown>): Promise<{ p: TestNode; caught: { error: { message: string } }[]; out: unknown[] }> {
    await helper.load(
      [registryModule, probeModule],
      [
        { id: "tab", type: "tab" },
        { id: "p", type: "kit-probe", z: "tab", mode: "ok", registry: "", wires: [["out"]], ...props },
        { id: "out", type: "helper", z: "tab" },
        { id: "c", type: "catch", z: "tab", scope: ["p"], wires: [["caught"]] },
        { id: "caught", type: "helper", z: "tab" },
      ],
    );
    const caught: { error: { message: string } }[] = [];
    const out: unknown[] = [];
    helper.getNode("caught").on("input", (m: { error: { message: string } }) => caught.push(m));
    helper.getNode("out").on("input", (m: { payload: unknown }) => out.push(m.payload));
    return { p: helper.getNode("p"), caught, out };
  }

  it("a bad config: translated error, red status, inputs to Catch at most once a minute", async function () {
    const { p, caught } = await load({ mode: "bad" });
    assert.deepEqual(lastStatus(p), { fill: "red", shape: "ring", text: "kit-probe.status.badConfig" });
    assert.deepEqual(calls(p, "error")[0], ["kit-probe.errors.config: mode must not be bad"], "an untranslated key keeps the detail");
    p.receive({ payload: 1 });
    p.receive({ payload: 2 });
    await waitFor("catch", () => caught[0]);
    assert.equal(caught[0]?.error.message, "kit-probe.errors.config: mode must not be bad");
    await helper.clearFlows();
    assert.equal(caught.length, 1);
  });

  it("a missing config node: its stable code as the status, the translated reason logged", async function () {
    const { p } = await load({ mode: "registry", registry: "nope" });
    assert.deepEqual(lastStatus(p), { fill: "red", shape: "ring", text: "REGISTRY_INVALID" });
    assert.match(String(calls(p, "error")[0]?.[0]), /^kit-probe\.errors\.registry: kit-probe\.errors\.noConfigNode/);
  });

  it("a handler's rejection: red status with its code, done(err) to Catch; other inputs still answered", async function () {
    const { p, caught, out } = await load({});
    p.receive({ payload: "throw" });
    p.receive({ payload: "x" });
    await waitFor("catch and echo", () => caught[0] && out[0]);
    assert.equal(caught[0]?.error.message, "thrown on purpose");
    assert.ok(calls(p, "status").some((a) => (a[0] as { text?: string }).text === "INVALID_REQUEST"));
    assert.deepEqual(out, ["echo x"]);
  });

  it("close frees the kit's timers, waits for pending work at most the grace, and drops a late send", async function () {
    const { p, out } = await load({});
    await waitFor("ticking", () => probe.ticks > 2);
    p.receive({ payload: "hang" });
    const warned = history(p, "warn");
    const started = Date.now();
    await helper.clearFlows();
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 3000, `close waited for the grace (${took} ms)`);
    assert.deepEqual(warned(), [["kit-probe.errors.closeTimeout"]]);
    const ticks = probe.ticks;
    probe.release();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(probe.ticks, ticks, "no tick after close");
    assert.deepEqual(out, [], "the late send went nowhere");
  });
});
