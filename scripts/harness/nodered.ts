// A real Node-RED runtime as a child process (red.js + the project's settings.js) on a free loopback port, driven over the admin HTTP API.
import { nodeRedDir } from "./runtime";
import { spawn, type ChildProcess } from "node:child_process";
import { get as httpsGet } from "node:https";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { FlowNode } from "../flows/plugwatch-flow";
import { freePort } from "./ports";
// bcryptjs ships with node-red (its own dependency), so the hash matches what adminAuth checks.
import { hashSync } from "bcryptjs";

/** One node of a flow as the admin API speaks it; only id and type are required (the shipped flow builder's type). */
export type { FlowNode };

export interface NodeRedOptions {
  /** Extra environment for the runtime (e.g. PLUGWATCH_* read by settings.js or `${VAR}` used in flows). */
  env?: Record<string, string> | undefined;
  /** Flows written to the flow file before start (the runtime starts them); default: none. */
  flows?: FlowNode[];
  /** Settings file (default: the repo's settings.js). */
  settingsFile?: string;
  /**
   * Directory Node-RED loads this package from (settings.js `nodesDir`). Default: the repo root when the
   * harness runs from `dist/`, otherwise a shim package in the temp dir whose `dist` links to the build
   * the harness itself was compiled into (so `.build/<name>` builds test their own output).
   */
  nodesDir?: string;
  /** Turns on adminAuth in settings.js with this user; the harness logs in and sends the bearer token. */
  admin?: { user: string; password: string };
  /**
   * Default "info": startup then waits for the runtime's "Started flows" line (and fails fast on missing node
   * types). Below info the harness cannot see that line and returns once the HTTP API answers.
   */
  logLevel?: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
  /** Address Node-RED listens on (settings.js PLUGWATCH_HOST) and the harness talks to; default 127.0.0.1. */
  host?: string;
  /** Serve HTTPS (settings.js PLUGWATCH_HTTPS_KEY/CERT); the harness trusts `ca` (PEM) when it waits for the start. */
  https?: { key: string; cert: string; ca: string };
  /** Startup timeout in ms (default 30000). */
  timeoutMs?: number;
}

export interface NodeRedInstance {
  /** http://127.0.0.1:<port> — admin API and HTTP-in nodes share it. */
  url: string;
  port: number;
  /** The runtime's user directory (flow file, context, spool). */
  userDir: string;
  /** File receiving the runtime's stdout + stderr across restarts. */
  logFile: string;
  /** Bearer token when `admin` was given. */
  token?: string | undefined;
  /** fetch() against the runtime with the admin token (if any) added. */
  request(pathname: string, init?: RequestInit): Promise<Response>;
  /** Full deploy (default) of `flows`; resolves with the new revision once the runtime has started them. */
  deploy(flows: FlowNode[], type?: "full" | "nodes" | "flows"): Promise<string>;
  getFlows(): Promise<{ rev: string; flows: FlowNode[] }>;
  /** Node types the runtime has registered (GET /nodes), to assert this package loaded. */
  nodeTypes(): Promise<string[]>;
  /** The whole log so far. */
  log(): string;
  logTail(lines?: number): string;
  /** Resolves with the first log line matching `re` (polls the log file), or rejects after timeoutMs. */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Stops the process (SIGTERM, SIGKILL after 10 s) and starts it again on the same port and user dir; `whileStopped` runs in between. */
  restart(whileStopped?: () => Promise<void> | void): Promise<void>;
  /** Stops the process and removes every temp file. Safe to call twice. */
  stop(): Promise<void>;
  /** Resident memory of the runtime process in bytes (Linux /proc), or undefined when it is not running. */
  rssBytes(): number | undefined;
}

/** The repository root: the nearest ancestor of this file with the package's package.json. */
export function repoRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg)) {
      const json = JSON.parse(readFileSync(pkg, "utf8")) as { name?: string };
      if (json.name === "@plugwatch/node-red-plugwatch") return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`package.json of @plugwatch/node-red-plugwatch not found above ${from}`);
  }
}

/** Build output this file was compiled into (<outDir>/test/support/nodered.js → <outDir>). */
export function buildDir(): string {
  return path.resolve(__dirname, "..", "..");
}

function redJs(): string {
  return path.join(nodeRedDir, "red.js");
}

/**
 * A package directory that looks like the repo root to Node-RED but whose `dist/` is `outDir`:
 * package.json copied, dist → outDir, examples → repo examples. Module resolution follows the real
 * paths, so `require("mqtt")` from the build still finds the repo's node_modules.
 */
function shimPackage(root: string, outDir: string, into: string): string {
  mkdirSync(into, { recursive: true });
  writeFileSync(path.join(into, "package.json"), readFileSync(path.join(root, "package.json")));
  symlinkSync(outDir, path.join(into, "dist"), "dir");
  for (const d of ["examples", "schemas", "flows"]) if (existsSync(path.join(root, d))) symlinkSync(path.join(root, d), path.join(into, d), "dir");
  return into;
}

async function fetchStatus(u: string): Promise<number> {
  const r = await fetch(u, { signal: AbortSignal.timeout(2000) });
  await r.arrayBuffer();
  return r.status;
}

/** GET over HTTPS trusting `ca` (fetch cannot be given a CA); resolves with the status. */
function httpsStatus(u: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(u, { ca: readFileSync(ca), timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
  });
}

function hashPassword(password: string): string {
  return hashSync(password, 8);
}

export async function startNodeRed(opts: NodeRedOptions = {}): Promise<NodeRedInstance> {
  const root = repoRoot();
  const tmp = mkdtempSync(path.join(os.tmpdir(), "plugwatch-nodered-"));
  const userDir = path.join(tmp, "user");
  mkdirSync(userDir);
  const logFile = path.join(tmp, "node-red.log");
  writeFileSync(logFile, "");
  const outDir = buildDir();
  const nodesDir = opts.nodesDir ?? (outDir === path.join(root, "dist") ? root : shimPackage(root, outDir, path.join(tmp, "package")));
  if (opts.flows) writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(opts.flows, null, 2));
  const logLevel = opts.logLevel ?? "info";
  const logsInfo = ["info", "debug", "trace"].includes(logLevel);
  const port = await freePort();
  const host = opts.host ?? "127.0.0.1";
  const url = `${opts.https ? "https" : "http"}://${host}:${port}`;

  // Start from the parent's environment minus anything settings.js would pick up by accident.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith("PLUGWATCH_") && k !== "PORT" && !k.startsWith("NODE_RED_")) env[k] = v;
  Object.assign(env, {
    PORT: String(port),
    PLUGWATCH_HOST: host,
    ...(opts.https ? { PLUGWATCH_HTTPS_KEY: opts.https.key, PLUGWATCH_HTTPS_CERT: opts.https.cert } : {}),
    PLUGWATCH_USER_DIR: userDir,
    PLUGWATCH_FLOW_FILE: "flows.json",
    PLUGWATCH_NODES_DIR: nodesDir,
    PLUGWATCH_CREDENTIAL_SECRET: "plugwatch-test-secret",
    PLUGWATCH_LOG_LEVEL: logLevel,
    NODE_RED_DISABLE_TELEMETRY: "true",
  });
  if (opts.admin) {
    env.PLUGWATCH_ADMIN_USER = opts.admin.user;
    env.PLUGWATCH_ADMIN_PASSWORD_HASH = hashPassword(opts.admin.password);
  }
  Object.assign(env, opts.env ?? {});
  const settingsFile = opts.settingsFile ?? path.join(root, "settings.js");

  let proc: ChildProcess | undefined;
  let token: string | undefined;
  const readLog = () => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  const logTail = (lines = 40) => readLog().split("\n").slice(-lines).join("\n");

  const headers = (extra?: HeadersInit): Headers => {
    const h = new Headers(extra);
    if (token && !h.has("authorization")) h.set("authorization", `Bearer ${token}`);
    return h;
  };
  const request = (pathname: string, init: RequestInit = {}) => fetch(url + pathname, { ...init, headers: headers(init.headers) });

  const launch = async () => {
    const logOffset = readLog().length;
    const fd = openSync(logFile, "a");
    const child = spawn(process.execPath, [redJs(), "-u", userDir, "-p", String(port), "-s", settingsFile], { cwd: root, env, stdio: ["ignore", fd, fd] });
    closeSync(fd);
    proc = child;
    const deadline = Date.now() + (opts.timeoutMs ?? 30000);
    // The HTTP server listens only after the runtime has loaded the nodes and started the flows.
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Node-RED exited at startup (code ${child.exitCode}):\n${logTail()}`);
      try {
        const status = opts.https ? await httpsStatus(`${url}/settings`, opts.https.ca) : await fetchStatus(`${url}/settings`);
        if (status === 200 || status === 401) break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) {
        await terminate();
        throw new Error(`Node-RED did not answer GET /settings within ${opts.timeoutMs ?? 30000} ms:\n${logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // The HTTP server answers before the flows run (the runtime starts them asynchronously); at info level the
    // runtime logs "Started flows", or "Waiting for missing types" when a node type of the flow file is unknown.
    if (logsInfo) {
      for (;;) {
        const fresh = readLog().slice(logOffset);
        if (/\] (Started flows|Flujos iniciados)/.test(fresh)) break; // en-US, or es-ES (settings lang)
        if (/Waiting for missing types/.test(fresh)) {
          await new Promise((r) => setTimeout(r, 200)); // let it log the list of types
          const types = readLog()
            .slice(logOffset)
            .split("\n")
            .filter((l) => /\[info\] +- /.test(l))
            .map((l) => l.replace(/^.*\[info\] +- /, ""));
          await terminate();
          throw new Error(`Node-RED cannot start the flows, unknown node types: ${types.join(", ")}\n${logTail()}`);
        }
        if (child.exitCode !== null || Date.now() > deadline) {
          await terminate();
          throw new Error(`Node-RED did not start its flows within ${opts.timeoutMs ?? 30000} ms:\n${logTail()}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (opts.admin) {
      const r = await fetch(`${url}/auth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ client_id: "node-red-admin", grant_type: "password", scope: "*", username: opts.admin.user, password: opts.admin.password }),
      });
      const body = (await r.json()) as { access_token?: string };
      if (!r.ok || !body.access_token) throw new Error(`Node-RED admin login failed: HTTP ${r.status}`);
      token = body.access_token;
    }
  };

  const terminate = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => p.kill("SIGKILL"), 10000);
      p.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      p.kill("SIGTERM");
    });
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await terminate();
    rmSync(tmp, { recursive: true, force: true });
  };

  try {
    await launch();
  } catch (err) {
    await stop();
    throw err;
  }

  const instance: NodeRedInstance = {
    url,
    port,
    userDir,
    logFile,
    rssBytes() {
      if (!proc?.pid) return undefined;
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, "utf8"));
      return m ? Number(m[1]) * 1024 : undefined;
    },
    get token() {
      return token;
    },
    request,
    async deploy(flows, type = "full") {
      const r = await request("/flows", {
        method: "POST",
        headers: { "content-type": "application/json", "Node-RED-API-Version": "v2", "Node-RED-Deployment-Type": type },
        body: JSON.stringify({ flows }),
      });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`deploy failed: HTTP ${r.status} ${text}\n${logTail()}`);
      return (JSON.parse(text) as { rev: string }).rev;
    },
    async getFlows() {
      const r = await request("/flows", { headers: { "Node-RED-API-Version": "v2" } });
      if (r.status !== 200) throw new Error(`GET /flows: HTTP ${r.status} ${await r.text()}`);
      return (await r.json()) as { rev: string; flows: FlowNode[] };
    },
    async nodeTypes() {
      const r = await request("/nodes", { headers: { accept: "application/json" } });
      if (r.status !== 200) throw new Error(`GET /nodes: HTTP ${r.status} ${await r.text()}`);
      const sets = (await r.json()) as { types?: string[]; enabled?: boolean; err?: string }[];
      return sets.filter((s) => s.enabled !== false && !s.err).flatMap((s) => s.types ?? []);
    },
    log: readLog,
    logTail,
    async waitForLog(re, timeoutMs = 10000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = readLog()
          .split("\n")
          .find((l) => re.test(l));
        if (line !== undefined) return line;
        if (Date.now() > deadline) throw new Error(`no log line matching ${re} within ${timeoutMs} ms:\n${logTail()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async restart(whileStopped?: () => Promise<void> | void) {
      if (stopped) throw new Error("Node-RED instance was stopped");
      await terminate();
      await whileStopped?.();
      await launch();
    },
    stop,
  };
  return instance;
}
