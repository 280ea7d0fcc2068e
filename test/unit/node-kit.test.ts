// The node kit's pure parts: the throttled i18n status reporter and the saved-config migrations.
import assert from "node:assert/strict";
import type { NodeStatus } from "node-red";
import { StatusReporter } from "../../nodes/shared/status";
import { currentVersion, migrate } from "../../nodes/shared/migrations";
import { FakeTime } from "../support/fake-time";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../../scripts/harness/nodered";

const t = (key: string, subs?: Record<string, string | number>): string => `${key}${subs ? JSON.stringify(subs) : ""}`;

describe("node kit: status reporter", function () {
  it("translates keys, maps kinds to the fixed set and drops an unchanged status", function () {
    const fake = new FakeTime();
    const seen: NodeStatus[] = [];
    const r = new StatusReporter((s) => seen.push(s), t, fake.asClock);
    r.show("ok", "status.online", { online: 2 });
    r.show("ok", "status.online", { online: 2 });
    r.text("error", "DEVICE_UNREACHABLE");
    r.clear();
    assert.deepEqual(seen, [
      { fill: "green", shape: "dot", text: 'status.online{"online":2}' },
      { fill: "red", shape: "ring", text: "DEVICE_UNREACHABLE" },
      {},
    ]);
  });

  it("throttled: a burst is one status now and the latest one when the interval ends", async function () {
    const fake = new FakeTime();
    const seen: (string | undefined)[] = [];
    const r = new StatusReporter((s) => seen.push(s.text), t, fake.asClock, 500);
    for (let i = 1; i <= 1000; i++) r.text("ok", `${i}/1000 online`);
    assert.deepEqual(seen, ["1/1000 online"]);
    await fake.advance(499);
    assert.deepEqual(seen, ["1/1000 online"]);
    await fake.advance(1);
    assert.deepEqual(seen, ["1/1000 online", "1000/1000 online"]);
    r.text("ok", "soon");
    r.text("error", "DEVICE_UNREACHABLE");
    assert.deepEqual(seen, ["1/1000 online", "1000/1000 online", "DEVICE_UNREACHABLE"], "an error is shown at once");
    r.text("ok", "late");
    r.stop();
    await fake.advance(1000);
    assert.deepEqual(seen, ["1/1000 online", "1000/1000 online", "DEVICE_UNREACHABLE"], "stop() drops the pending status");
    assert.equal(fake.pending, 0, "and frees its timer");
  });
});

describe("node kit: config migrations", function () {
  it("plugwatch-http-api 0 → 1: numeric strings become numbers, the version is set", function () {
    const out = migrate("plugwatch-http-api", { id: "a", timeoutMs: "5000", inactiveAfterDays: " 30 ", historySize: "" });
    assert.deepEqual(out, { id: "a", timeoutMs: 5000, inactiveAfterDays: 30, historySize: "", version: 1 });
    assert.equal(currentVersion("plugwatch-http-api"), 1);
  });

  it("a current config is unchanged; a type without steps is version 0", function () {
    assert.deepEqual(migrate("plugwatch-http-api", { timeoutMs: "abc", version: 1 }), { timeoutMs: "abc", version: 1 });
    assert.deepEqual(migrate("plugwatch-control", { timeout: "3000" }), { timeout: "3000", version: 0 });
  });

  it("refuses a config saved by a newer release, or a version that is not one", function () {
    assert.throws(() => migrate("plugwatch-http-api", { version: 2 }), /config version 2 was saved by a newer release \(this one knows up to 1\)/);
    assert.throws(() => migrate("plugwatch-control", { version: "x" }), /config version 'x' is not a version number/);
  });
});

describe("node kit: each editor's version default is the migrations' current version", function () {
  const root = repoRoot();
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { "node-red": { nodes: Record<string, string> } };
  for (const type of Object.keys(pkg["node-red"].nodes)) {
    it(type, function () {
      const html = readFileSync(path.join(root, "nodes", type, `${type}.html`), "utf8");
      const m = /\bversion:\s*\{\s*value:\s*(\d+)\s*\}/.exec(html);
      assert.equal(m ? Number(m[1]) : 0, currentVersion(type), "a new migration step needs the editor's version default raised with it");
    });
  }
});
