// The shipped examples/*.json in e2e tests: load one, point its tab's environment at the test's services, check it is offered.
import { eventually } from "./wait";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { repoRoot, type FlowNode, type NodeRedInstance } from "./nodered";

const EXAMPLES_URL = "/library/examples/flows/@plugwatch/node-red-plugwatch";

/** examples/<name>.json as the file holds it (a fresh copy each call). */
export function loadExample(name: string): FlowNode[] {
  return JSON.parse(readFileSync(path.join(repoRoot(), "examples", `${name}.json`), "utf8")) as FlowNode[];
}

/** The example with its tab's environment variables set to `env`; each name must already be declared on the tab. */
export function exampleWithEnv(name: string, env: Record<string, string>): FlowNode[] {
  const flow = loadExample(name);
  const tab = flow.find((n) => n.type === "tab");
  assert.ok(tab, "the example has a tab");
  const vars = tab.env as { name: string; value: string }[];
  for (const [key, value] of Object.entries(env)) {
    const v = vars.find((e) => e.name === key);
    assert.ok(v, `the example's tab has no environment variable ${key}`);
    v.value = value;
  }
  return flow;
}

/** Asserts the runtime lists the example under Import → Examples and serves it exactly as the file holds it. */
export async function assertOfferedAsExample(red: NodeRedInstance, name: string): Promise<void> {
  const list = await red.request(EXAMPLES_URL);
  assert.equal(list.status, 200);
  assert.ok(((await list.json()) as unknown[]).some((e) => (e as { fn?: string }).fn === name));
  const r = await red.request(`${EXAMPLES_URL}/${name}`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), loadExample(name));
}

/** Polls check() every 50 ms until it is true; the timeout error names `what` and, given `red`, its log tail (test/support/wait.ts). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15000, red?: NodeRedInstance): Promise<void> {
  await eventually(what, check, Boolean, { timeoutMs, everyMs: 50, ...(red ? { context: () => red.logTail(30) } : {}) });
}
