// The Flow Library scorecard: `node-red-dev validate` on the repo (the package as published: dist built, examples),
// with the catalogue look-up (catalogue.nodered.org, unreachable here) answered by test/support/catalogue-stub.ts
// from the Node-RED packages installed in node_modules (their ids and node types). No check may fail.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../scripts/harness/nodered";
import { nth } from "../support/checked";

const PACKAGE = "@plugwatch/node-red-plugwatch";

/** Every installed package with a `node-red` section (except Node-RED itself and this one), with the types its editor files register. */
export function localCatalogue(root: string): { modules: { id: string; types: string[] }[] } {
  const nm = path.join(root, "node_modules");
  const dirs = readdirSync(nm).flatMap((d) => (d.startsWith("@") ? readdirSync(path.join(nm, d)).map((s) => `${d}/${s}`) : [d]));
  const modules: { id: string; types: string[] }[] = [];
  for (const d of dirs) {
    const pj = path.join(nm, d, "package.json");
    if (!existsSync(pj)) continue;
    const pkg = JSON.parse(readFileSync(pj, "utf8")) as { name: string; "node-red"?: { nodes?: Record<string, string> } };
    if (!pkg["node-red"]?.nodes || pkg.name === "node-red" || pkg.name.startsWith("@node-red/") || pkg.name === PACKAGE) continue;
    const types = new Set<string>();
    for (const js of Object.values(pkg["node-red"].nodes)) {
      const html = path.join(nm, d, js.replace(/\.js$/, ".html"));
      if (!existsSync(html)) continue;
      for (const m of readFileSync(html, "utf8").matchAll(/registerType\(\s*['"]([^'"]+)['"]/g)) types.add(nth(m, 1, "registered type"));
    }
    modules.push({ id: pkg.name, types: [...types] });
  }
  return { modules };
}

describe("Flow Library scorecard: node-red-dev validate (catalogue stubbed)", function () {
  this.timeout(180000);
  const root = repoRoot();
  let tmp: string;
  let scorecard: Record<string, { test: boolean } & Record<string, unknown>>;
  let output: string;

  before(function () {
    tmp = mkdtempSync(path.join(os.tmpdir(), "plugwatch-scorecard-"));
    const catalogue = localCatalogue(root);
    assert.ok(
      catalogue.modules.some((m) => m.types.includes("aedes broker")),
      "the stub catalogue holds the companion packages",
    );
    writeFileSync(path.join(tmp, "catalogue.json"), JSON.stringify(catalogue));
    const out = path.join(tmp, "scorecard.json");
    const r = spawnSync(
      process.execPath,
      [
        "-r",
        path.join(__dirname, "..", "support", "catalogue-stub.js"),
        path.join(root, "node_modules", "node-red-dev", "bin", "run"),
        "validate",
        "-p",
        root,
        "-o",
        out,
      ],
      {
        cwd: root,
        encoding: "utf8",
        timeout: 150000,
        env: { ...process.env, PLUGWATCH_CATALOGUE_FILE: path.join(tmp, "catalogue.json"), FORCE_COLOR: "0" },
      },
    );
    output = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, output);
    scorecard = JSON.parse(readFileSync(out, "utf8")) as typeof scorecard;
    if (process.env.PLUGWATCH_SCORECARD_LOG) writeFileSync(process.env.PLUGWATCH_SCORECARD_LOG, `${output}\n${JSON.stringify(scorecard, null, 2)}\n`);
  });

  after(function () {
    rmSync(tmp, { recursive: true, force: true });
  });

  it("runs every check of the package, node and dependency groups", function () {
    for (const k of ["P01", "P03", "P04", "P05", "P06", "P07", "P08", "N01", "N02", "D01", "D02", "D03"])
      assert.ok(k in scorecard, `${k} in ${Object.keys(scorecard).join(",")}\n${output}`);
  });

  it("no check fails (P06 Node-RED 5 compatible, N02 an example per node, N01 no clash with the companion packages' types)", function () {
    const failed = Object.entries(scorecard).filter(([, v]) => typeof v === "object" && v !== null && v.test === false);
    assert.deepEqual(failed, [], output);
  });
});
