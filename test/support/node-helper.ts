// node-red-node-test-helper for the node tests: its small typed surface, call history, real en-US messages, waiting.
import { nodeRedMain } from "../../scripts/harness/runtime";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import type { NodeAPI } from "node-red";
import testHelper from "node-red-node-test-helper";

/** A node of a loaded test flow (the helper ships no types: the part used here, see types/node-red-node-test-helper.d.ts). */
export interface TestNode {
  id: string;
  receive(msg: Record<string, unknown>): void;
  on(event: string, fn: (arg: never) => void): void;
  context(): { get(key: string, store?: string): unknown };
  [key: string]: unknown;
}

/** What a `call:<method>` event of a spied Node method hands its listener (one call of the spy). */
export interface SpyCall {
  thisValue: unknown;
  args: unknown[];
}

/** Node-RED's context module (internal): the helper initialises it but never loads configured stores. */
export interface ContextModule {
  init(settings: unknown): void;
  load(): Promise<void>;
  close(): Promise<void>;
}

export interface Helper {
  init(runtimePath: string): void;
  startServer(done: (err?: Error) => void): void;
  stopServer(done: (err?: Error) => void): void;
  load(nodes: unknown[], flow: Record<string, unknown>[], cb?: (err?: unknown) => void): Promise<void>;
  /** `credentials` by node id, e.g. `{ influx: { token: "…" } }`. */
  load(nodes: unknown[], flow: Record<string, unknown>[], credentials: Record<string, unknown>, cb?: (err?: unknown) => void): Promise<void>;
  unload(): Promise<void>;
  /** Stops the flows (runs every close handler) while the method spies stay active. */
  clearFlows(): Promise<void>;
  getNode(id: string): TestNode;
  /** Runtime settings merged over the defaults (with an argument: replaces the user part). */
  settings(userSettings?: Record<string, unknown>): Record<string, unknown>;
  _redNodes: { startFlows(): Promise<void> };
  _context: ContextModule;
  request(): {
    get(url: string): PromiseLike<{ status: number; body: unknown }> & { query(q: Record<string, string>): PromiseLike<{ status: number; body: unknown }> };
  };
}

export const helper: Helper = testHelper;
helper.init(nodeRedMain);

/**
 * Mocha hooks for helper tests against one real influxd: starts it before the suite and destroys it after; each test
 * gets the helper's server and a fresh temporary directory (named `prefix`…), unloaded, stopped and removed after it.
 * Read `influx` and `dir` inside tests and hooks only.
 */
export function influxdSuite(prefix: string): { readonly influx: InfluxdInstance; readonly dir: string } {
  let influx: InfluxdInstance | undefined;
  let dir = "";
  before(async () => {
    influx = await startInfluxd();
  });
  after(async () => {
    await influx?.destroy();
  });
  beforeEach(function (done) {
    dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get influx(): InfluxdInstance {
      if (!influx) throw new Error("influxd is not started yet: read it inside a test or hook");
      return influx;
    },
    get dir(): string {
      return dir;
    },
  };
}

/**
 * Every call of a Node method (status, error, warn, log, send) made by `node` since the flow was loaded,
 * constructor included. The helper spies on the Node prototype; its `call:<method>` events fire only after a
 * listener is attached, this reads the spy's history instead.
 */
export function calls(node: TestNode, method: SpiedMethod): unknown[][] {
  return history(node, method)();
}

export type SpiedMethod = "status" | "error" | "warn" | "log" | "send";

/** Like calls(), but holds on to the spy now, so the history stays readable after helper.unload() restores Node. */
export function history(node: TestNode, method: SpiedMethod): () => unknown[][] {
  const spy = node[method] as { getCalls?: () => SpyCall[] };
  if (typeof spy?.getCalls !== "function") throw new Error(`Node.${method} is not spied on (call helper.load first)`);
  const getCalls = spy.getCalls.bind(spy);
  return () =>
    getCalls()
      .filter((c) => c.thisValue === node)
      .map((c) => c.args);
}

export interface Status {
  fill?: string;
  shape?: string;
  text?: string;
}
export const statuses = (node: TestNode): Status[] => calls(node, "status").map((a) => a[0] as Status);
export const lastStatus = (node: TestNode): Status | undefined => statuses(node).at(-1);

/** The statuses `node` sets from now on, oldest first, filled as they happen (statuses() reads the whole history). */
export function recordStatuses(node: TestNode): Status[] {
  const list: Status[] = [];
  node.on("call:status", (c: SpyCall) => list.push(c.args[0] as Status));
  return list;
}

/**
 * The helper replaces RED._ with the identity, so status texts would be bare keys. This wraps a node module so
 * its RED._ looks keys up in the node's real locales/en-US/<name>.json and substitutes __name__ placeholders.
 * `dir` is the compiled node folder (copy-assets puts the locales next to the .js).
 */
export function withMessages(nodeModule: (RED: NodeAPI) => void, dir: string, name: string): (RED: NodeAPI) => void {
  const catalog = JSON.parse(readFileSync(path.join(dir, "locales", "en-US", `${name}.json`), "utf8")) as Record<string, unknown>;
  const lookup = (key: string): string | undefined => {
    let cur: unknown = catalog;
    for (const part of key.split(".")) {
      if (cur === null || typeof cur !== "object") return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
    return typeof cur === "string" ? cur : undefined;
  };
  return (RED: NodeAPI) => {
    const original = RED._ as (key: string, subs?: Record<string, unknown>) => string;
    const translate = (key: string, subs: Record<string, unknown> = {}): string => {
      const text = lookup(key);
      if (text === undefined) return original(key, subs);
      return text.replace(/__([A-Za-z0-9_]+)__/g, (m, k: string) => (k in subs ? String(subs[k]) : m));
    };
    (RED as unknown as { _: typeof translate })._ = translate;
    nodeModule(RED);
  };
}

export { waitFor, waitWithin } from "../../scripts/harness/wait";
