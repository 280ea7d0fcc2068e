// Writes schemas/*.json from the TypeBox contracts (the single source of truth). `--check` fails if they are stale.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import * as path from "node:path";
import { PUBLISHED_SCHEMAS } from "../lib/contracts";
import { projectRoot } from "./services/repo-root";

export const SCHEMA_BASE = "https://plugwatch.dev/schemas/";

/** The JSON text published for one schema (stable key order, $id and $schema added). */
export function renderSchema(file: string): string {
  const schema = PUBLISHED_SCHEMAS[file];
  if (!schema) throw new Error(`unknown schema ${file}`);
  const doc = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: SCHEMA_BASE + file,
    ...(JSON.parse(JSON.stringify(schema)) as Record<string, unknown>),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

function main(): void {
  const root = projectRoot();
  const dir = path.join(root, "schemas");
  const check = process.argv.includes("--check");
  mkdirSync(dir, { recursive: true });
  let stale = 0;
  for (const file of Object.keys(PUBLISHED_SCHEMAS)) {
    const target = path.join(dir, file);
    const text = renderSchema(file);
    const current = existsSync(target) ? readFileSync(target, "utf8") : "";
    if (current === text) continue;
    if (check) {
      stale++;
      console.error(`schemas/${file} is out of date: run npm run schemas`);
    } else {
      writeFileSync(target, text);
      console.log(`wrote schemas/${file}`);
    }
  }
  if (stale) process.exit(1);
}

if (require.main === module) main();
