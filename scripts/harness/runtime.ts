// Which Node-RED the tests run against: the project's own (devDependency) unless PLUGWATCH_NODE_RED_DIR names
// another install's node-red package folder (.ci/run uses it to run the node tests on Node-RED 4.1 as well).
import { readFileSync } from "node:fs";
import * as path from "node:path";

/** The node-red package folder in use. */
export const nodeRedDir: string = process.env.PLUGWATCH_NODE_RED_DIR
  ? path.resolve(process.env.PLUGWATCH_NODE_RED_DIR)
  : path.dirname(require.resolve("node-red/package.json"));

/** Node-RED's main module (what node-red-node-test-helper's init() takes). */
export const nodeRedMain: string = require.resolve("node-red", { paths: [nodeRedDir, path.dirname(nodeRedDir)] });

/** A core node module of that Node-RED, e.g. coreNodes("network/10-mqtt.js"). */
export function coreNodes(file: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a module path known only at run time (the Node-RED in use), loaded synchronously
  return require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [nodeRedDir] })) as unknown;
}

/** The Node-RED version in use (for messages and version-dependent expectations). */
export const nodeRedVersion: string = (JSON.parse(readFileSync(path.join(nodeRedDir, "package.json"), "utf8")) as { version: string }).version;
