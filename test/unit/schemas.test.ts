// The published JSON Schemas in schemas/ must be exactly what the TypeBox contracts generate (one source of truth).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { PUBLISHED_SCHEMAS } from "../../lib/contracts";
import { renderSchema } from "../../scripts/export-schemas";

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "package.json")) || !existsSync(path.join(dir, "schemas"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("repo root not found");
    dir = up;
  }
  return dir;
}

describe("published JSON Schemas", function () {
  const root = repoRoot();
  for (const file of Object.keys(PUBLISHED_SCHEMAS)) {
    it(`schemas/${file} matches the contract (run 'npm run schemas' after changing lib/contracts)`, function () {
      const text = readFileSync(path.join(root, "schemas", file), "utf8");
      assert.equal(text, renderSchema(file));
      const doc = JSON.parse(text) as { $id: string; type?: string };
      assert.ok(doc.$id.endsWith(file));
    });
  }
});
