// Starts a private InfluxDB 1.x (Debian `influxd`) on free loopback ports with a temp data dir; used by tests and benches.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync, closeSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findInfluxd as findInstalledInfluxd, influxdConfig, tailFile, type ContinuousQueryService } from "../services/influxd";
import { freePort } from "./ports";

export type { ContinuousQueryService };

export interface InfluxdInstance {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:41234 */
  url: string;
  httpPort: number;
  /** host:port of the RPC (backup/restore) service */
  rpcAddress: string;
  dir: string;
  /** Runs InfluxQL (GET for SELECT/SHOW, POST otherwise) and returns the parsed JSON. */
  query(q: string, db?: string): Promise<InfluxQueryResult>;
  /** Writes line protocol with ms precision. */
  write(db: string, lines: string): Promise<void>;
  /** Stops the server (SIGTERM, then SIGKILL); keeps the data dir so restart() resumes with the same data. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data dir. */
  restart(): Promise<void>;
  /** Stops and removes the data dir. */
  destroy(): Promise<void>;
  logTail(): string;
}

export interface InfluxQueryResult {
  results: { statement_id: number; error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
  error?: string;
}

export function findInfluxd(): string {
  const bin = findInstalledInfluxd();
  if (!bin) throw new Error("influxd not found: install InfluxDB 1.x (`apt-get install -y influxdb`, or run `bash scripts/install.sh`)");
  return bin;
}

async function waitPing(url: string, proc: ChildProcess, timeoutMs: number, log: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`influxd exited with ${proc.exitCode}: ${tailFile(log)}`);
    try {
      const r = await fetch(`${url}/ping`);
      if (r.status === 204) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`influxd did not answer /ping within ${timeoutMs} ms: ${tailFile(log)}`);
}

/**
 * `data`: extra string settings of the [data] section (e.g. `cache-snapshot-write-cold-duration` for bench/disk-growth).
 * `continuousQueries`: run the CQ service (off by default, so CQs are only stored): a CQ runs when its RESAMPLE EVERY
 * boundary passes, checked every `runInterval`, and right after each start of influxd (it keeps its last runs in memory only).
 */
export async function startInfluxd(
  opts: { timeoutMs?: number; data?: Record<string, string>; continuousQueries?: ContinuousQueryService } = {},
): Promise<InfluxdInstance> {
  const bin = findInfluxd();
  const dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-influxd-"));
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const conf = path.join(dir, "influxdb.conf");
  const log = path.join(dir, "influxd.log");
  writeFileSync(conf, influxdConfig(dir, httpPort, rpcPort, opts.data, opts.continuousQueries));
  const url = `http://127.0.0.1:${httpPort}`;
  let proc: ChildProcess | undefined;

  const launch = async () => {
    const fd = openSync(log, "a");
    proc = spawn(bin, ["-config", conf], { stdio: ["ignore", fd, fd], env: { ...process.env, INFLUXDB_DATA_QUERY_LOG_ENABLED: "false" } });
    closeSync(fd);
    await waitPing(url, proc, opts.timeoutMs ?? 20000, log);
  };
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => p.kill("SIGKILL"), 10000);
      p.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      p.kill("SIGTERM");
    });
  };

  await launch();
  const instance: InfluxdInstance = {
    url,
    httpPort,
    rpcAddress: `127.0.0.1:${rpcPort}`,
    dir,
    async query(q, db) {
      const params = new URLSearchParams({ q, epoch: "ms" });
      if (db) params.set("db", db);
      const isRead = /^\s*(SELECT|SHOW)\b/i.test(q);
      const r = isRead ? await fetch(`${url}/query?${params}`) : await fetch(`${url}/query`, { method: "POST", body: params });
      return (await r.json()) as InfluxQueryResult;
    },
    async write(db, lines) {
      const r = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=ms`, { method: "POST", body: lines });
      if (r.status !== 204) throw new Error(`write failed: ${r.status} ${await r.text()}`);
    },
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    logTail: () => tailFile(log),
  };
  return instance;
}
