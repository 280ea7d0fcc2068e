// The shipped examples/*.json in e2e tests: load one, point its tab's environment at the test's services, check it is offered.
import { eventually } from "../../scripts/harness/wait";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { repoRoot, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";

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

/** A random address of its own in 127.0.0.0/8 (127.88.x.y), so a simulated plug can listen on the default port 9999. */
export function ownLoopbackAddress(): string {
  return `127.88.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`;
}

/** Points every device of the flow's inline registries (plugwatch-registry, source json) at `host`; returns the flow. */
export function withRegistryHost(flow: FlowNode[], host: string): FlowNode[] {
  const registries = flow.filter((n) => n.type === "plugwatch-registry" && n.source === "json");
  assert.ok(registries.length > 0, "the flow has an inline registry");
  for (const r of registries) {
    const doc = JSON.parse(r.json as string) as { devices: { host: string }[] };
    for (const d of doc.devices) d.host = host;
    r.json = JSON.stringify(doc);
  }
  return flow;
}

/** One message a debug node sent to the editor (its `msg` is the JSON text the sidebar shows). */
export interface DebugMessage {
  id: string;
  name?: string;
  msg: string;
  format?: string;
}

/**
 * The editor's debug sidebar, as the editor itself receives it: a WebSocket on the admin API's /comms subscribed to
 * "debug". Collects every debug message so a test can wait for one.
 */
export class DebugTap {
  readonly messages: DebugMessage[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener("message", (ev) => {
      const batch = JSON.parse(String(ev.data)) as { topic: string; data: unknown }[] | { topic: string; data: unknown };
      for (const m of Array.isArray(batch) ? batch : [batch]) if (m.topic === "debug") this.messages.push(m.data as DebugMessage);
    });
  }

  static async open(red: NodeRedInstance): Promise<DebugTap> {
    const ws = new WebSocket(`${red.url.replace(/^http/, "ws")}/comms`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("cannot open the /comms WebSocket")), { once: true });
    });
    ws.send(JSON.stringify({ subscribe: "debug" }));
    return new DebugTap(ws);
  }

  /** The first debug message of node `id` (parsed) that passes `accept`. */
  async waitFor<T>(id: string, accept: (msg: T) => boolean, red?: NodeRedInstance, timeoutMs = 15000): Promise<T> {
    let found: T | undefined;
    await waitFor(
      `a debug message from ${id}`,
      () => {
        for (const m of this.messages) {
          if (m.id !== id) continue;
          const v = JSON.parse(m.msg) as T;
          if (accept(v)) {
            found = v;
            return true;
          }
        }
        return false;
      },
      timeoutMs,
      red,
    );
    return found as T;
  }

  close(): void {
    this.ws.close();
  }
}
