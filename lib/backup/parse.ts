// Reading influxd's output: the portable backup manifest (what a backup holds) and the failure line worth showing.
import type { ErrorCode } from "../contracts/errors";

export interface BackupManifestSummary {
  /** Databases with at least one shard in the backup, sorted. */
  databases: string[];
  /** Retention policies with at least one shard in the backup, as `database.policy`, sorted (rollup tiers included). */
  policies: string[];
  /** Shard archives in the backup. */
  shards: number;
  /** Bytes of shard data as recorded by influxd (before compression). */
  bytes: number;
}

/**
 * Summarises a portable backup's `<timestamp>.manifest` (JSON: { meta: {fileName,size}, files: [{database, policy,
 * shardID, fileName, size}] }). Throws a clear Error when the text is not such a manifest.
 */
export function parseManifest(text: string): BackupManifestSummary {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`backup manifest is not JSON: ${(err as Error).message}`);
  }
  const files = json !== null && typeof json === "object" ? (json as { files?: unknown }).files : undefined;
  const meta = json !== null && typeof json === "object" ? (json as { meta?: unknown }).meta : undefined;
  if (!Array.isArray(files) || meta === null || typeof meta !== "object") throw new Error("backup manifest has no 'meta' and 'files'");
  const databases = new Set<string>();
  const policies = new Set<string>();
  let bytes = 0;
  for (const f of files as unknown[]) {
    const e = f !== null && typeof f === "object" ? (f as { database?: unknown; policy?: unknown; size?: unknown }) : {};
    if (typeof e.database !== "string") throw new Error("backup manifest entry without a database name");
    databases.add(e.database);
    if (typeof e.policy === "string") policies.add(`${e.database}.${e.policy}`);
    if (typeof e.size === "number" && Number.isFinite(e.size)) bytes += e.size;
  }
  return { databases: [...databases].sort(), policies: [...policies].sort(), shards: files.length, bytes };
}

export interface FailureExplanation {
  code: ErrorCode;
  message: string;
}

/** Strips influxd's "2026/11/25 11:27:41 " log prefix. */
const unstamp = (line: string): string => line.replace(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? /, "").trim();

/**
 * The most useful line of a failed influxd run, with a stable code: unreachable RPC → STORAGE_UNAVAILABLE,
 * a bare EOF (what 1.x prints for a database that does not exist) or a restore into an existing database →
 * INVALID_REQUEST, otherwise INTERNAL.
 */
export function explainFailure(output: string, exitCode: number | null): FailureExplanation {
  const lines = output
    .split(/\r?\n/)
    .map(unstamp)
    .filter((l) => l !== "");
  const last = [...lines].reverse().find((l) => /^(backup|restore)\b|error|failed/i.test(l)) ?? lines.at(-1) ?? "";
  const status = exitCode === null ? "was killed" : `exited with ${exitCode}`;
  if (/connection refused|no such host|i\/o timeout|network is unreachable|dial tcp/i.test(output)) {
    return { code: "STORAGE_UNAVAILABLE", message: `influxd RPC not reachable (${last || status})` };
  }
  if (/^(backup|restore)(?: failed)?: EOF$/i.test(last) || /backup failed: EOF/i.test(output)) {
    return { code: "INVALID_REQUEST", message: `influxd ${status}: EOF (the database probably does not exist)` };
  }
  if (/already exist/i.test(output)) {
    return { code: "INVALID_REQUEST", message: `${last} (restore under a new name (-newdb), or drop the database first)` };
  }
  return { code: "INTERNAL", message: last ? `influxd ${status}: ${last}` : `influxd ${status}` };
}
