// Writes flows/plugwatch.json from scripts/flows/plugwatch-flow.ts: `node <build>/scripts/flows/write-flows.js [--check]`.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { plugwatchFlow } from "./plugwatch-flow";
import { projectRoot } from "../services/repo-root";


export const FLOW_FILE = "flows/plugwatch.json";

/** The file content: pretty JSON, as the Node-RED editor exports it with "formatted" on. */
export function flowFileText(backupNode: boolean): string {
  return JSON.stringify(plugwatchFlow({ backupNode }), null, 4) + "\n";
}

/** Whether the package provides the plugwatch-influx-backup node (then the Backup tab wires it). */
export function hasBackupNode(root: string): boolean {
  return existsSync(path.join(root, "nodes", "plugwatch-influx-backup", "plugwatch-influx-backup.ts"));
}

if (require.main === module) {
  const root = projectRoot();
  const file = path.join(root, FLOW_FILE);
  const text = flowFileText(hasBackupNode(root));
  if (process.argv.includes("--check")) {
    const same = existsSync(file) && readFileSync(file, "utf8") === text;
    console.log(same ? `${FLOW_FILE} is up to date` : `${FLOW_FILE} is stale: run node <build>/scripts/flows/write-flows.js`);
    process.exit(same ? 0 : 1);
  }
  writeFileSync(file, text);
  console.log(`wrote ${FLOW_FILE}`);
}
