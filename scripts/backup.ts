// Backup CLI for InfluxDB 1.x (influxd -portable): `backup`, `list` and `restore`, with retention of the newest N.
//   node dist/scripts/backup.js backup  --dir DIR [--host 127.0.0.1:8088] [--db plugwatch] [--keep 7]
//   node dist/scripts/backup.js list    --dir DIR [--json]
//   node dist/scripts/backup.js restore --dir DIR --db plugwatch [--from latest|NAME|PATH] [--newdb NAME]
//                                        [--replace --url http://127.0.0.1:8086]
// Procedure and InfluxDB 2.x/3.x equivalents: docs/operations.md.
import * as path from "node:path";
import { itemAt } from "../lib/arrays";
import { DEFAULT_RPC_HOST, checkDatabase } from "../lib/backup/command";
import { BackupRunner, listBackups } from "../lib/backup/runner";
import { PlugwatchError } from "../lib/contracts/errors";

const USAGE = `usage:
  backup.js backup  --dir DIR [--host HOST:PORT] [--db NAME] [--keep N] [--influxd PATH] [--timeout S] [--json]
  backup.js list    --dir DIR [--json]
  backup.js restore --dir DIR --db NAME [--from latest|NAME|PATH] [--newdb NAME] [--host HOST:PORT]
                    [--url http://HOST:8086 [--user U --password P]] [--replace] [--influxd PATH] [--json]

  --dir      folder with one sub-folder per backup   (env PLUGWATCH_BACKUP_DIR)
  --host     influxd RPC address (its bind-address)  (env PLUGWATCH_INFLUX_RPC, default ${DEFAULT_RPC_HOST})
  --db       database (backup: default all databases) (env PLUGWATCH_INFLUX_DB)
  --keep     backups to keep, oldest deleted          (default 7)
  --from     backup to restore: latest (default), a folder name in --dir, or a path
  --newdb    restore under this new name (InfluxDB 1.x refuses to restore into an existing database)
  --url      InfluxDB HTTP API (env PLUGWATCH_INFLUX_URL): restore waits until the restored data answers queries
  --replace  DROP the existing database through the HTTP API (--url) first, then restore under its own name`;

type Flags = Record<string, string | true>;

class UsageError extends Error {}

function parseArgs(argv: string[]): { command: string; flags: Flags } {
  const [command = "", ...rest] = argv;
  const flags: Flags = {};
  for (let i = 0; i < rest.length; i++) {
    const a = itemAt(rest, i);
    if (!a.startsWith("--")) throw new UsageError(`unexpected argument '${a}'`);
    const key = a.slice(2);
    const next = rest[i + 1];
    if (["replace", "json", "help"].includes(key)) flags[key] = true;
    else if (next === undefined || next.startsWith("--")) throw new UsageError(`--${key} needs a value`);
    else {
      flags[key] = next;
      i++;
    }
  }
  return { command, flags };
}

const str = (flags: Flags, key: string, env?: string, fallback?: string): string | undefined => {
  const v = flags[key];
  if (typeof v === "string") return v;
  const e = env ? process.env[env]?.trim() : undefined;
  return e || fallback;
};

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`${what} is required`);
  return value;
}

const bytes = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`);

/** DROP DATABASE through the 1.x HTTP API (used by restore --replace). */
async function dropDatabase(url: string, db: string, user?: string, password?: string): Promise<void> {
  const params = new URLSearchParams({ q: `DROP DATABASE "${db}"` });
  if (user) params.set("u", user);
  if (password) params.set("p", password);
  let r: Response;
  try {
    r = await fetch(`${url.replace(/\/$/, "")}/query`, { method: "POST", body: params, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new PlugwatchError("STORAGE_UNAVAILABLE", `cannot reach InfluxDB at ${url}: ${(err as Error).message}`);
  }
  const text = await r.text();
  if (r.status !== 200 || /"error"/.test(text))
    throw new PlugwatchError("STORAGE_UNAVAILABLE", `DROP DATABASE ${db} failed: HTTP ${r.status} ${text.slice(0, 200)}`);
}

/**
 * Waits until the restored database answers a query over the 1.x HTTP API: influxd enables restored shards
 * asynchronously, and until then every SELECT fails with "shard is disabled". Returns the wait in ms.
 */
async function waitUntilQueryable(url: string, db: string, user: string | undefined, password: string | undefined, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let last = "";
  while (Date.now() - started < timeoutMs) {
    const params = new URLSearchParams({ db, q: "SELECT * FROM /.*/ LIMIT 1" });
    if (user) params.set("u", user);
    if (password) params.set("p", password);
    try {
      const r = await fetch(`${url.replace(/\/$/, "")}/query?${params}`, { signal: AbortSignal.timeout(10_000) });
      last = await r.text();
      if (r.status === 200 && !/"error"/.test(last)) return Date.now() - started;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new PlugwatchError("STORAGE_UNAVAILABLE", `restored ${db}, but it did not answer queries within ${timeoutMs / 1000} s: ${last.slice(0, 200)}`);
}

async function main(argv: string[]): Promise<number> {
  const { command, flags } = parseArgs(argv);
  if (flags.help || command === "" || command === "help") {
    console.log(USAGE);
    return command === "" ? 2 : 0;
  }
  const json = flags.json === true;
  const dir = path.resolve(need(str(flags, "dir", "PLUGWATCH_BACKUP_DIR"), "--dir"));
  const host = str(flags, "host", "PLUGWATCH_INFLUX_RPC", DEFAULT_RPC_HOST) as string;
  const influxd = str(flags, "influxd");
  const timeoutMs = Number(str(flags, "timeout", undefined, "600")) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError("--timeout must be a number of seconds > 0");

  switch (command) {
    case "backup": {
      const database = str(flags, "db", "PLUGWATCH_INFLUX_DB");
      const runner = new BackupRunner({ influxd, host, database, dir, keep: Number(str(flags, "keep", undefined, "7")), timeoutMs });
      const r = await runner.backup();
      if (json) console.log(JSON.stringify(r));
      else {
        console.log(
          `backup ${r.name} done in ${(r.durationMs / 1000).toFixed(1)} s: ${r.manifest.databases.join(", ") || "(no data)"}, ${r.manifest.shards} shard(s), ${bytes(r.manifest.bytes)}`,
        );
        console.log(`  ${r.path}`);
        if (r.deleted.length) console.log(`retention: deleted ${r.deleted.join(", ")}`);
      }
      return 0;
    }
    case "list": {
      const list = await listBackups(dir);
      if (json) console.log(JSON.stringify(list));
      else if (!list.length) console.log(`no backups in ${dir}`);
      else
        for (const b of list) {
          const what = b.manifest
            ? `${b.manifest.databases.join(",") || "-"}  ${b.manifest.shards} shard(s)  ${bytes(b.manifest.bytes)}`
            : `INCOMPLETE: ${b.problem}`;
          console.log(`${b.name}  ${new Date(b.time).toISOString()}  ${what}`);
        }
      return 0;
    }
    case "restore": {
      const database = checkDatabase(need(str(flags, "db", "PLUGWATCH_INFLUX_DB"), "--db"));
      const newdb = str(flags, "newdb");
      const from = str(flags, "from", undefined, "latest") as string;
      let source: string;
      if (from === "latest") {
        const complete = (await listBackups(dir)).filter((b) => b.manifest);
        const last = complete.at(-1);
        if (!last) throw new PlugwatchError("INVALID_REQUEST", `no complete backup in ${dir}`);
        source = last.path;
      } else source = from.includes("/") ? path.resolve(from) : path.join(dir, from);
      if (flags.replace === true) {
        if (newdb) throw new UsageError("--replace restores under the original name; do not combine it with --newdb");
        const url = need(str(flags, "url", "PLUGWATCH_INFLUX_URL"), "--url (InfluxDB HTTP API, for DROP DATABASE)");
        await dropDatabase(url, database, str(flags, "user", "PLUGWATCH_INFLUX_USER"), str(flags, "password", "PLUGWATCH_INFLUX_PASSWORD"));
        if (!json) console.log(`dropped database ${database}`);
      }
      const runner = new BackupRunner({ influxd, host, dir, keep: 1, timeoutMs });
      const r = await runner.restore(source, database, newdb);
      const into = newdb || database;
      // With the HTTP API known, report success only once the restored data answers queries.
      const url = str(flags, "url", "PLUGWATCH_INFLUX_URL");
      const readyAfterMs = url
        ? await waitUntilQueryable(url, into, str(flags, "user", "PLUGWATCH_INFLUX_USER"), str(flags, "password", "PLUGWATCH_INFLUX_PASSWORD"), 60_000)
        : undefined;
      if (json) console.log(JSON.stringify({ source, database, into, ...r, readyAfterMs }));
      else
        console.log(
          `restored ${database} from ${path.basename(source)} into ${into} in ${(r.durationMs / 1000).toFixed(1)} s${url ? ", answering queries" : ""}`,
        );
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`backup.js: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    const code = err instanceof PlugwatchError ? `${err.code}: ` : "";
    console.error(`backup.js: ${code}${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
