// Backup, list and restore of an InfluxDB 1.x database with `influxd -portable`, plus retention of the newest N backups.
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { connect } from "node:net";
import * as path from "node:path";
import { PlugwatchError } from "../contracts/errors";
import { backupCommand, checkRpcHost, commandLine, restoreCommand } from "./command";
import { runProcess, type ProcessRunner } from "./exec";
import { freeBackupName, parseBackupName, sortBackupNames } from "./naming";
import { explainFailure, parseManifest, type BackupManifestSummary } from "./parse";
import { checkKeep, selectExpiredBackups } from "./retention";

export interface BackupConfig {
  /** influxd binary (default "influxd" from PATH). */
  influxd?: string | undefined;
  /** host:port of influxd's RPC service (its top-level bind-address). */
  host: string;
  /** Database to back up; absent/"" = all databases. */
  database?: string | undefined;
  /** Folder that holds one sub-folder per backup. */
  dir: string;
  /** Backups to keep (newest first); older ones are deleted after a successful backup. */
  keep: number;
  /** Kill influxd after this long, ms (influxd itself retries an unreachable server for minutes). */
  timeoutMs?: number;
}

export interface BackupResult {
  name: string;
  path: string;
  /** Start time, epoch ms. */
  startedAt: number;
  durationMs: number;
  manifest: BackupManifestSummary;
  /** Names of the old backups removed by retention. */
  deleted: string[];
  command: string;
}

export interface BackupEntry {
  name: string;
  path: string;
  /** Start time from the name, epoch ms. */
  time: number;
  /** Summary of the manifest, or the reason it could not be read (an incomplete backup). */
  manifest?: BackupManifestSummary;
  problem?: string;
}

export interface RunnerDeps {
  run?: ProcessRunner;
  clock?: () => number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const PROBE_TIMEOUT_MS = 3000;

/** Resolves when a TCP connection to host:port succeeds; rejects with STORAGE_UNAVAILABLE otherwise. */
export function probeRpc(host: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
  const i = host.lastIndexOf(":");
  const h = host.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(host.slice(i + 1));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: h, port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new PlugwatchError("STORAGE_UNAVAILABLE", `influxd RPC not reachable at ${host} (${why}); check influxd's bind-address`));
    };
    socket.setTimeout(timeoutMs, () => fail("timeout"));
    socket.once("error", (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    socket.once("connect", () => {
      socket.end();
      resolve();
    });
  });
}

export class BackupRunner {
  private readonly run: ProcessRunner;
  private readonly clock: () => number;
  private current: AbortController | undefined;

  constructor(
    readonly config: BackupConfig,
    deps: RunnerDeps = {},
  ) {
    checkRpcHost(config.host);
    checkKeep(config.keep);
    if (!config.dir || typeof config.dir !== "string") throw new RangeError("backup folder must be set");
    this.run = deps.run ?? runProcess;
    this.clock = deps.clock ?? Date.now;
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  /**
   * Makes one backup in `<dir>/<UTC timestamp>`, then deletes the oldest so that `keep` remain. A failed backup
   * leaves no folder behind and deletes nothing. Throws PlugwatchError (STORAGE_UNAVAILABLE, TIMEOUT,
   * INVALID_REQUEST, INTERNAL) with influxd's own explanation.
   */
  async backup(): Promise<BackupResult> {
    if (this.current) throw new PlugwatchError("INVALID_REQUEST", "a backup is already running");
    const abort = new AbortController();
    this.current = abort;
    const startedAt = this.clock();
    const dir = path.resolve(this.config.dir);
    let target: string | undefined;
    try {
      await probeRpc(this.config.host);
      await mkdir(dir, { recursive: true });
      const name = freeBackupName(startedAt, new Set(await readdir(dir)));
      target = path.join(dir, name);
      const cmd = backupCommand({ influxd: this.config.influxd, host: this.config.host, database: this.config.database, target });
      const res = await this.run(cmd, { timeoutMs: this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal: abort.signal });
      if (abort.signal.aborted) throw new PlugwatchError("INTERNAL", "backup cancelled (node closed)");
      if (res.timedOut)
        throw new PlugwatchError("TIMEOUT", `influxd backup did not finish within ${Math.round((this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s`);
      if (res.code !== 0) {
        const why = explainFailure(res.output, res.code);
        throw new PlugwatchError(why.code, `backup failed: ${why.message}`);
      }
      const manifest = await readManifest(target);
      const done: BackupResult = { name, path: target, startedAt, durationMs: res.durationMs, manifest, deleted: [], command: commandLine(cmd) };
      target = undefined; // complete: keep it
      done.deleted = await this.prune();
      return done;
    } finally {
      this.current = undefined;
      if (target) await rm(target, { recursive: true, force: true });
    }
  }

  /** Deletes the backups beyond the newest `keep` complete ones (and older incomplete folders); returns their names. */
  async prune(): Promise<string[]> {
    const dir = path.resolve(this.config.dir);
    const entries = (await listBackups(dir)).map((b) => ({ name: b.name, complete: b.manifest !== undefined }));
    const expired = selectExpiredBackups(entries, this.config.keep);
    for (const name of expired) await rm(path.join(dir, name), { recursive: true, force: true });
    return expired;
  }

  /** Stops a running influxd (used on node close). */
  cancel(): void {
    this.current?.abort();
  }

  /** Restores `database` from a backup folder, under `newDatabase` when given (1.x refuses existing names). */
  async restore(source: string, database: string, newDatabase?: string): Promise<{ command: string; durationMs: number }> {
    await probeRpc(this.config.host);
    await readManifest(source);
    const cmd = restoreCommand({ influxd: this.config.influxd, host: this.config.host, database, newDatabase, source: path.resolve(source) });
    const res = await this.run(cmd, { timeoutMs: this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    if (res.timedOut) throw new PlugwatchError("TIMEOUT", "influxd restore did not finish in time");
    if (res.code !== 0) {
      const why = explainFailure(res.output, res.code);
      throw new PlugwatchError(why.code, `restore failed: ${why.message}`);
    }
    return { command: commandLine(cmd), durationMs: res.durationMs };
  }
}

/** Summary of the single `*.manifest` in a backup folder; throws when there is none (an incomplete backup). */
export async function readManifest(folder: string): Promise<BackupManifestSummary> {
  let files: string[];
  try {
    files = (await readdir(folder)).filter((f) => f.endsWith(".manifest"));
  } catch (err) {
    throw new PlugwatchError("INVALID_REQUEST", `no backup at ${folder}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const [manifest] = files;
  if (files.length !== 1 || manifest === undefined)
    throw new PlugwatchError("INVALID_REQUEST", `${folder} is not a complete portable backup (${files.length} manifest files)`);
  return parseManifest(await readFile(path.join(folder, manifest), "utf8"));
}

/** The backups in `dir`, oldest first (other folders and files are ignored). */
export async function listBackups(dir: string): Promise<BackupEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: BackupEntry[] = [];
  for (const name of sortBackupNames(names)) {
    const p = path.join(dir, name);
    if (!(await stat(p)).isDirectory()) continue;
    const entry: BackupEntry = { name, path: p, time: parseBackupName(name)?.time ?? 0 };
    try {
      entry.manifest = await readManifest(p);
    } catch (err) {
      entry.problem = (err as Error).message;
    }
    out.push(entry);
  }
  return out;
}
