// Shipped flows: nrlint clean, flows/plugwatch.json up to date with its builder, every ${ENV} known and documented, no secret inside.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { envReferences, FLOW_ENV_NAMES } from "../../scripts/services/flow-env";
import { flowFileText, hasBackupNode } from "../../scripts/flows/write-flows";
import { repoRoot } from "../../scripts/harness/nodered";
import { nrlint } from "../support/nrlint";

const root = repoRoot();

const jsonFiles = (dir: string): string[] =>
  readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith(".json"))
    .map((f) => path.join(root, dir, f));
const flowFiles = (): string[] => jsonFiles("flows");

describe("shipped flows: lint, freshness, environment", function () {
  this.timeout(60000);

  it("there is at least the pipeline flow in flows/", function () {
    assert.ok(flowFiles().some((f) => f.endsWith("plugwatch.json")));
  });

  it("nrlint reports no errors on every flows/*.json and examples/*.json", async function () {
    const files = [...flowFiles(), ...jsonFiles("examples")];
    assert.ok(files.length >= 6, files.join(", "));
    for (const file of files) {
      const problems = await nrlint(file);
      const errors = problems.filter((p) => p.severity === "error");
      assert.deepEqual(errors, [], `${path.relative(root, file)}: ${JSON.stringify(errors)}`);
    }
  });

  it("nrlint does report an error in a broken flow (the check can fail)", async function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-nrlint-"));
    try {
      const file = path.join(dir, "bad.json");
      const bad = [
        { id: "t1", type: "tab", label: "bad" },
        { id: "f1", type: "function", z: "t1", name: "syntax error", func: "return msg +;", outputs: 1, x: 200, y: 100, wires: [[]] },
      ];
      writeFileSync(file, JSON.stringify(bad));
      const problems = await nrlint(file);
      assert.ok(
        problems.some((p) => p.severity === "error" && (p.location ?? []).includes("f1")),
        JSON.stringify(problems),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("flows/plugwatch.json is exactly what scripts/flows/plugwatch-flow.ts builds", function () {
    const onDisk = readFileSync(path.join(root, "flows", "plugwatch.json"), "utf8");
    assert.ok(onDisk === flowFileText(hasBackupNode(root)), "flows/plugwatch.json is stale: run node <build>/scripts/flows/write-flows.js");
  });

  it("every ${VAR} in the flow is a known flow variable and documented in docs/deployment.md", function () {
    const flow = JSON.parse(readFileSync(path.join(root, "flows", "plugwatch.json"), "utf8")) as unknown;
    const refs = [...envReferences(flow)].sort();
    assert.ok(refs.length >= 10, `expected the flow to take its settings from env, got ${refs.join(", ")}`);
    for (const r of refs) assert.ok((FLOW_ENV_NAMES as string[]).includes(r), `\${${r}} is not in scripts/services/flow-env.ts`);
    const docs = readFileSync(path.join(root, "docs", "deployment.md"), "utf8");
    for (const name of FLOW_ENV_NAMES) assert.ok(docs.includes(name), `docs/deployment.md does not mention ${name}`);
  });

  it("no secret in the flow file: every credential is an ${ENV} reference", function () {
    const flow = JSON.parse(readFileSync(path.join(root, "flows", "plugwatch.json"), "utf8")) as { id: string; credentials?: Record<string, unknown> }[];
    const withCreds = flow.filter((n) => n.credentials);
    assert.ok(withCreds.length >= 3, "broker, influx and API credentials are declared");
    for (const n of withCreds) {
      for (const [k, v] of Object.entries(n.credentials ?? {})) assert.match(String(v), /^\$\{PLUGWATCH_[A-Z_]+\}$/, `${n.id}.credentials.${k}`);
    }
    const text = JSON.stringify(flow);
    assert.doesNotMatch(text, /password"\s*:\s*"(?!\$\{)[^"]+"/i);
    assert.doesNotMatch(text, /token"\s*:\s*"(?!\$\{)[^"]+"/i);
  });
});
