// plugwatch-registry config node with the bad registry fixtures: documented errors, never half-loaded, never a crash.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { loadRegistryFile, RegistryError } from "../../lib/registry";
import type { PlugwatchRegistryNode } from "../../nodes/plugwatch-registry/types";
import { repoRoot } from "../../scripts/harness/nodered";
import { calls, helper, lastStatus, withMessages, type TestNode } from "../support/node-helper";

import registryModule from "../../nodes/plugwatch-registry/plugwatch-registry";
import collectorModule from "../../nodes/plugwatch-collector/plugwatch-collector";
import controlModule from "../../nodes/plugwatch-control/plugwatch-control";

const nodesDir = path.join(__dirname, "..", "..", "nodes");
const registryNode = withMessages(registryModule, path.join(nodesDir, "plugwatch-registry"), "plugwatch-registry");
const collectorNode = withMessages(collectorModule, path.join(nodesDir, "plugwatch-collector"), "plugwatch-collector");
const controlNode = withMessages(controlModule, path.join(nodesDir, "plugwatch-control"), "plugwatch-control");

const fixtures = path.join(repoRoot(), "test", "fixtures", "registries");
const BAD = readdirSync(fixtures)
  .filter((f) => f.endsWith(".json") && f !== "good.json")
  .sort();

/** The issues the library reports for a file (the node must report exactly these). */
function expectedIssues(file: string): RegistryError["issues"] {
  try {
    loadRegistryFile(file);
  } catch (err) {
    if (err instanceof RegistryError) return err.issues;
  }
  throw new Error(`${file} unexpectedly loads`);
}

describe("plugwatch-registry config node", function () {
  this.timeout(15000);

  beforeEach(function (done) {
    helper.startServer(done);
  });

  afterEach(function (done) {
    helper.unload().then(
      () => helper.stopServer(done),
      (err: unknown) => done(err),
    );
  });

  function flow(registry: Record<string, unknown>): Record<string, unknown>[] {
    return [
      { id: "tab", type: "tab", label: "registry test" },
      { id: "reg", type: "plugwatch-registry", name: "office", source: "file", file: "", json: "", ...registry },
      // A one-day interval: the first polls are spread over the day, so no plug address in a fixture is contacted.
      {
        id: "col",
        type: "plugwatch-collector",
        z: "tab",
        name: "",
        registry: "reg",
        root: "pwreg",
        kind: "",
        building: "",
        floor: "",
        room: "",
        interval: 86400,
        timeout: 500,
        concurrency: 4,
        offlineAfter: 2,
        wires: [[]],
      },
      { id: "ctl", type: "plugwatch-control", z: "tab", name: "", registry: "reg", concurrency: 4, timeout: 500, wires: [["out"]] },
      { id: "out", type: "helper", z: "tab" },
    ];
  }

  async function load(registry: Record<string, unknown>): Promise<{ reg: PlugwatchRegistryNode & TestNode; col: TestNode; ctl: TestNode; out: TestNode }> {
    await helper.load([registryNode, collectorNode, controlNode], flow(registry));
    return {
      reg: helper.getNode("reg") as unknown as PlugwatchRegistryNode & TestNode,
      col: helper.getNode("col"),
      ctl: helper.getNode("ctl"),
      out: helper.getNode("out"),
    };
  }

  for (const name of BAD) {
    it(`${name}: every issue logged with file, JSON path and reason; no device loaded; users show REGISTRY_INVALID`, async function () {
      const file = path.join(fixtures, name);
      const { reg, col, ctl, out } = await load({ file });
      const expected = expectedIssues(file);
      assert.equal(reg.registry, undefined, "never half-loaded");
      assert.deepEqual(reg.loadError?.issues, expected);
      assert.deepEqual(
        calls(reg, "error").map((a) => a[0]),
        expected.map((i) => `${file} ${i.path}: ${i.message}`),
      );
      assert.throws(
        () => reg.require(),
        (err: unknown) => err instanceof RegistryError && err.code === "REGISTRY_INVALID" && err.file === file,
      );

      assert.deepEqual(lastStatus(col), { fill: "red", shape: "ring", text: "REGISTRY_INVALID" });
      assert.match(String(calls(col, "error")[0]?.[0]), new RegExp(`^registry unavailable: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: \\$`));
      assert.deepEqual(lastStatus(ctl), { fill: "red", shape: "ring", text: "REGISTRY_INVALID" });

      // The control agent still answers, with the registry's error.
      const reply = await new Promise<{ payload: { ok: boolean; error?: { code: string; details?: { path: string }[] } } }>((resolve) => {
        out.on("input", (m: never) => resolve(m));
        ctl.receive({ payload: { id: "r-1", replyTo: "clients/r/x", action: "status", device: "ws-1-01" } });
      });
      assert.equal(reply.payload.ok, false);
      assert.equal(reply.payload.error?.code, "REGISTRY_INVALID");
      assert.deepEqual(
        reply.payload.error?.details?.map((d) => d.path),
        expected.map((i) => i.path),
      );
    });
  }

  it("a missing file and an empty file setting are reported, not thrown", async function () {
    const missing = path.join(fixtures, "no-such-registry.json");
    const a = await load({ file: missing });
    assert.equal(a.reg.registry, undefined);
    assert.match(String(calls(a.reg, "error")[0]?.[0]), new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\$: cannot read file: ENOENT`));
    await helper.unload();

    const b = await load({ file: "" });
    assert.deepEqual(
      calls(b.reg, "error").map((x) => x[0]),
      ["(no file) $: no registry file configured"],
    );
    assert.deepEqual(lastStatus(b.col), { fill: "red", shape: "ring", text: "REGISTRY_INVALID" });
  });

  it("inline JSON that does not parse names the line and column", async function () {
    const { reg } = await load({ source: "json", json: '{"devices": [\n  {"id": "a",}\n]}' });
    assert.equal(reg.registry, undefined);
    assert.match(String(calls(reg, "error")[0]?.[0]), /^registry 'office' \(inline JSON\) \$: not valid JSON: .*line 2,? column 14/);
  });

  it("the good fixture loads every device and the runtime keeps working after bad ones", async function () {
    const file = path.join(fixtures, "good.json");
    const { reg, col } = await load({ file });
    assert.equal(reg.registry?.size, 5);
    assert.deepEqual(
      reg.registry?.devices.map((d) => d.id),
      ["ws-1-01", "ws-1-02", "ws-2-01", "mr-alpha", "pr-annex"],
    );
    assert.deepEqual(
      calls(reg, "log").map((a) => a[0]),
      [`loaded 5 devices from ${file}`],
    );
    assert.deepEqual(calls(reg, "error"), []);
    assert.deepEqual(lastStatus(col), { fill: "yellow", shape: "ring", text: "starting (5 plugs)" });
  });
});
