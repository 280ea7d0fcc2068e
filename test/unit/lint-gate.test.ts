// The lint and format gate of `npm test`: the project's ESLint config and Prettier settings reject deliberate errors,
// every eslint-disable gives its reason, and the test script runs both checks before mocha.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ESLint } from "eslint";
import * as prettier from "prettier";
import { repoRoot } from "../../scripts/harness/nodered";

const root = repoRoot();

/** Lints `files` (name → source) with the project's eslint.config.mjs, in a temp TypeScript project that extends the repo's tsconfig. */
async function lintWithProjectConfig(files: Record<string, string>): Promise<Map<string, string[]>> {
  // A small project of its own keeps the type-aware rules fast: the repo's whole program takes far longer to load.
  const dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-lint-gate-"));
  try {
    const tsconfig = { extends: path.join(root, "tsconfig.json"), compilerOptions: { rootDir: ".", types: [] }, include: ["*.ts"] };
    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    for (const [name, source] of Object.entries(files)) writeFileSync(path.join(dir, name), source);
    const eslint = new ESLint({ cwd: dir, overrideConfigFile: path.join(root, "eslint.config.mjs") });
    const results = await eslint.lintFiles(Object.keys(files));
    return new Map(results.map((r) => [path.basename(r.filePath), r.messages.map((m) => `${m.line}:${m.ruleId ?? "fatal"} ${m.message}`)]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every .ts source file under `dir` (relative to the repo), skipping build output and dependencies. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules") out.push(...sources(rel));
    else if (e.isFile() && e.name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

describe("lint and format gate", function () {
  // Loading typescript-eslint and a TypeScript program takes a few seconds on a busy machine.
  this.timeout(60_000);

  it("ESLint with the project's config reports a floating promise and an unused variable, and passes the fixed code", async function () {
    const bad = [
      "export async function save(write: () => Promise<void>): Promise<number> {",
      "  const unused = 1;",
      "  write();",
      "  await Promise.resolve();",
      "  return 2;",
      "}",
      "",
    ].join("\n");
    const good = bad.replace("  const unused = 1;\n", "").replace("  write();", "  await write();");
    const found = await lintWithProjectConfig({ "bad.ts": bad, "good.ts": good });
    const rules = (found.get("bad.ts") ?? []).map((m) => m.split(" ")[0]);
    assert.deepEqual(rules.sort(), ["2:@typescript-eslint/no-unused-vars", "3:@typescript-eslint/no-floating-promises"], found.get("bad.ts")?.join("\n"));
    assert.deepEqual(found.get("good.ts"), []);
  });

  it("Prettier with the project's settings rejects badly formatted code and accepts its own output", async function () {
    const file = path.join(root, "lib", "sample.ts");
    const options = { ...(await prettier.resolveConfig(file)), filepath: file };
    assert.equal(options.printWidth, 160, "the repo's .prettierrc.json is the one in use");
    const badly = "export const  f=(a:number)=>{return a+1}\n";
    assert.equal(await prettier.check(badly, options), false);
    const formatted = await prettier.format(badly, options);
    assert.equal(formatted, "export const f = (a: number) => {\n  return a + 1;\n};\n");
    assert.equal(await prettier.check(formatted, options), true);
  });

  it("every eslint-disable comment in the sources names its reason after ' -- '", function () {
    const missing: string[] = [];
    for (const file of ["lib", "nodes", "test", "scripts", "bench"].flatMap(sources)) {
      readFileSync(path.join(root, file), "utf8")
        .split("\n")
        .forEach((line, i) => {
          // A directive is a comment that starts with it (prose that mentions one is not).
          if (/\/[/*]\s*eslint-disable(-next-line|-line)?(\s|\*\/|$)/.test(line) && !/ -- \S/.test(line)) {
            missing.push(`${file}:${i + 1}: ${line.trim()}`);
          }
        });
    }
    assert.deepEqual(missing, []);
  });

  it("npm test runs the build, ESLint and the Prettier check before mocha", function () {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.test, "npm run build && npm run lint && npm run format:check && mocha");
    assert.equal(pkg.scripts.lint, "eslint .");
    assert.equal(pkg.scripts["format:check"], "prettier --check .");
  });
});
