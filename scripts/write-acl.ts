// Writes the Mosquitto ACL from lib/broker/acl.ts (the embedded broker enforces the same rules), with one collector
// `topic write` line per device and stream of a registry; a unit test fails when deploy/mosquitto/acl is stale.
// Usage: node dist/scripts/write-acl.js [registry.json] [out-file]
//   defaults: flows/registry/office.json (the compose default PLUGWATCH_REGISTRY) → deploy/mosquitto/acl.
// Run it again after every registry change, then `kill -HUP` Mosquitto (it re-reads the ACL on SIGHUP).
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { DEPLOY_USERS, mosquittoAcl } from "../lib/broker/acl";
import { loadRegistryFile, RegistryError } from "../lib/registry";
import { DEFAULT_ROOT } from "../lib/topics";
import { projectRoot } from "./services/repo-root";

export const DEFAULT_ACL_REGISTRY = path.join("flows", "registry", "office.json");

/** The ACL text for a registry file (label: its path relative to the repository when inside it). */
export function aclForRegistry(file: string, root = DEFAULT_ROOT): string {
  const registry = loadRegistryFile(file);
  const rel = path.relative(projectRoot(), file);
  const label = rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
  return mosquittoAcl(root, DEPLOY_USERS, { collectorDevices: registry.devices, registryLabel: label });
}

if (require.main === module) {
  const [registryArg, outArg] = process.argv.slice(2);
  const registryFile = path.resolve(registryArg ?? path.join(projectRoot(), DEFAULT_ACL_REGISTRY));
  const file = path.resolve(outArg ?? path.join(projectRoot(), "deploy", "mosquitto", "acl"));
  try {
    writeFileSync(file, aclForRegistry(registryFile));
    console.log(`wrote ${path.relative(process.cwd(), file)} (collector: the devices of ${registryFile})`);
  } catch (err) {
    if (!(err instanceof RegistryError)) throw err;
    console.error(`${err.code}: ${err.message}`);
    process.exitCode = 1;
  }
}
