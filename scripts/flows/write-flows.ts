// Writes flows/plugwatch.json from scripts/flows/plugwatch-flow.ts: `node <build>/scripts/flows/write-flows.js [--check]`.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { derivedExamples } from "./example-flows";
import { plugwatchFlow } from "./plugwatch-flow";
import { projectRoot } from "../services/repo-root";

export const FLOW_FILE = "flows/plugwatch.json";

/** The file content: pretty JSON, as the Node-RED editor exports it with "formatted" on. */
export function flowFileText(backupNode: boolean): string {
  return JSON.stringify(plugwatchFlow({ backupNode }), null, 4) + "\n";
}

/** examples/<name>.json derived from the shipped flow (scripts/flows/example-flows.ts) → file content. */
export function exampleFileTexts(backupNode: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, flow] of Object.entries(derivedExamples(plugwatchFlow({ backupNode }))))
    out[`examples/${name}.json`] = JSON.stringify(flow, null, 2) + "\n";
  return out;
}

/** Whether the package provides the plugwatch-influx-backup node (then the Backup tab wires it). */
export function hasBackupNode(root: string): boolean {
  return existsSync(path.join(root, "nodes", "plugwatch-influx-backup", "plugwatch-influx-backup.ts"));
}

if (require.main === module) {
  const root = projectRoot();
  const files: Record<string, string> = { [FLOW_FILE]: flowFileText(hasBackupNode(root)), ...exampleFileTexts(hasBackupNode(root)) };
  if (process.argv.includes("--check")) {
    let stale = 0;
    for (const [rel, text] of Object.entries(files)) {
      const same = existsSync(path.join(root, rel)) && readFileSync(path.join(root, rel), "utf8") === text;
      if (!same) stale++;
      console.log(same ? `${rel} is up to date` : `${rel} is stale: run node <build>/scripts/flows/write-flows.js`);
    }
    process.exit(stale === 0 ? 0 : 1);
  }
  for (const [rel, text] of Object.entries(files)) {
    writeFileSync(path.join(root, rel), text);
    console.log(`wrote ${rel}`);
  }
}
