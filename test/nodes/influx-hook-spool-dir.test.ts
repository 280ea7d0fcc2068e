// plugwatch-influx-hook and its spool directory: deleting a node removes only the spool's own files; two hooks never share one spool.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { influxConfig } from "../support/config-nodes";
import { calls, helper, influxdSuite, waitWithin, type TestNode } from "../support/node-helper";

import influxNode from "../../nodes/plugwatch-influx/plugwatch-influx";
import hookNode from "../../nodes/plugwatch-influx-hook/plugwatch-influx-hook";

const waitFor = waitWithin(15_000);
const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const reading = (i: number) => ({ v: 1, device: "ws-1", ts: T0 + i * 1000, power: 10, voltage: 230, current: 0.05, energy: 1 + i, relay: true });

function hook(id: string, spoolDir: string): Record<string, unknown> {
  return { id, type: "plugwatch-influx-hook", influx: "influx", registry: "", acceptUnknown: true, batchSize: 100, flushInterval: 10, spoolDir, wires: [[]] };
}

/** Closes a node as Node-RED does when it is deleted and deployed (removed = true). */
const removeNode = (node: TestNode) => (node as unknown as { close(removed: boolean): Promise<void> }).close(true);

describe("plugwatch-influx-hook spool directory (real influxd)", function () {
  this.timeout(60000);
  let db = 0;

  const env = influxdSuite("plugwatch-spooldir-");

  const config = () => influxConfig(env.influx.url, { flavour: "1.x", database: `spooldir_${process.pid}_${++db}`, timeout: 2000 });

  /** Sends n readings and waits until all are written (the ack file records them). */
  async function writeAndDrain(spoolDir: string, n: number): Promise<void> {
    const h = helper.getNode("hook");
    for (let i = 0; i < n; i++) h.receive({ payload: reading(i) });
    await waitFor(
      `${n} lines acknowledged in ${spoolDir}`,
      () => existsSync(path.join(spoolDir, "ack")) && readFileSync(path.join(spoolDir, "ack"), "utf8") === String(n),
    );
  }

  it("removing a node whose spool dir is shared deletes only the spool's files: foreign files and folders stay", async () => {
    const shared = path.join(env.dir, "shared");
    mkdirSync(path.join(shared, "other-hook-spool"), { recursive: true });
    writeFileSync(path.join(shared, "flows.json"), "[]");
    writeFileSync(path.join(shared, "other-hook-spool", "000000000001.seg"), "unsent readings");
    await helper.load([influxNode, hookNode], [config(), hook("hook", shared)]);
    await writeAndDrain(shared, 5);
    const before = readdirSync(shared).sort();
    assert.ok(
      before.some((f) => /^\d{12}\.seg$/.test(f)),
      `a segment file exists before removal: ${before.join(",")}`,
    );
    await removeNode(helper.getNode("hook"));
    assert.deepEqual(readdirSync(shared).sort(), ["flows.json", "other-hook-spool"]);
    assert.equal(readFileSync(path.join(shared, "flows.json"), "utf8"), "[]");
    assert.equal(readFileSync(path.join(shared, "other-hook-spool", "000000000001.seg"), "utf8"), "unsent readings");
  });

  it("removing a node whose spool dir holds nothing else removes the directory too", async () => {
    const own = path.join(env.dir, "own");
    await helper.load([influxNode, hookNode], [config(), hook("hook", own)]);
    await writeAndDrain(own, 3);
    await removeNode(helper.getNode("hook"));
    assert.equal(existsSync(own), false);
    assert.equal(existsSync(env.dir), true);
  });

  it("a second hook with the same spool dir refuses to start with a clear error; the first keeps working", async () => {
    const dir = path.join(env.dir, "same");
    await helper.load([influxNode, hookNode], [config(), hook("hook", dir), hook("hook2", dir)]);
    const errs = () => [...calls(helper.getNode("hook"), "error"), ...calls(helper.getNode("hook2"), "error")].map((a) => String(a[0]));
    const err = await waitFor("a start error of one hook", () => errs().find((m) => /already used by another running spool/.test(m)));
    assert.match(err, new RegExp(`spool directory ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is already used`));
    assert.equal(errs().length, 1, errs().join("\n"));
    // Whichever started first owns the directory and writes.
    const owner = calls(helper.getNode("hook"), "error").length === 0 ? "hook" : "hook2";
    const h = helper.getNode(owner);
    for (let i = 0; i < 4; i++) h.receive({ payload: reading(i) });
    await waitFor("4 lines acknowledged", () => existsSync(path.join(dir, "ack")) && readFileSync(path.join(dir, "ack"), "utf8") === "4");
  });
});
