// Every node's en-US catalogue has the messages the node kit uses, and every RED._ key a node file names exists.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../../scripts/harness/nodered";

const KIT_KEYS = ["status.badConfig", "errors.config", "errors.noConfigNode", "errors.closeTimeout"];

const lookup = (catalog: unknown, key: string): unknown =>
  key.split(".").reduce<unknown>((cur, part) => (cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[part] : undefined), catalog);

describe("node kit messages", function () {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot(), "package.json"), "utf8")) as { "node-red": { nodes: Record<string, string> } };
  for (const type of Object.keys(pkg["node-red"].nodes)) {
    it(`${type}: the kit's keys and every key its node file translates are in locales/en-US`, function () {
      const dir = path.join(repoRoot(), "nodes", type);
      const catalog = (JSON.parse(readFileSync(path.join(dir, "locales", "en-US", `${type}.json`), "utf8")) as Record<string, unknown>)[type];
      const source = readFileSync(path.join(dir, `${type}.ts`), "utf8");
      const used = [...source.matchAll(/kit\.(?:t|status\.show)\((?:"(?:ok|busy|warn|error|critical|idle)", )?"([a-zA-Z.-]+)"/g)].map((m) => m[1] ?? "");
      if (/kit\.loadRegistry\(/.test(source)) used.push("errors.registry");
      const missing = [...KIT_KEYS, ...used].filter((k) => typeof lookup(catalog, k) !== "string");
      assert.deepEqual(missing, []);
    });
  }
});
