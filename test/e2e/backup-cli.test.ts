// scripts/backup.ts against the real influxd: write points → backup → DROP DATABASE → restore → the same points come back.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseContinuousQueries, parseRetentionPolicies, parseRetentionSettings, planRetention } from "../../lib/influx/retention";
import { rollupSelect } from "../../lib/influx/rollup-aggregate";
import type { BackupResult } from "../../lib/backup/runner";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { nth } from "../support/checked";

const CLI = path.join(__dirname, "..", "..", "scripts", "backup.js");

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<CliResult> {
  const r = await cli(...args);
  assert.equal(r.code, 0, `backup.js ${args.join(" ")} failed: ${r.stderr}${r.stdout}`);
  return r;
}

const T0 = Date.parse("2026-11-20T08:00:00Z");
/** Points with distinct ms timestamps, fractional values, tags and an integer field. */
const LINES = Array.from(
  { length: 50 },
  (_, i) => `power,device=pr-${i % 3},room=copy watts=${(i * 1.25 + 0.001).toFixed(3)},relay=${i % 2 === 0},count=${i}i ${T0 + i * 1001 + (i % 7)}`,
).join("\n");

async function rows(influx: InfluxdInstance, db: string): Promise<unknown[][]> {
  const r = await influx.query('SELECT * FROM "power" ORDER BY time', db);
  assert.equal(r.results[0]?.error, undefined, JSON.stringify(r));
  return r.results[0]?.series?.[0]?.values ?? [];
}

describe("backup CLI with a real influxd", function () {
  this.timeout(120_000);
  let influx: InfluxdInstance;
  let dir: string;

  before(async function () {
    influx = await startInfluxd();
    dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-backups-"));
  });
  after(async function () {
    await influx?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("backup → DROP DATABASE → restore gives back the exact points; -newdb; retention; refusals", async function () {
    await influx.query("CREATE DATABASE pw");
    await influx.write("pw", LINES);
    const original = await rows(influx, "pw");
    assert.equal(original.length, 50);
    assert.deepEqual(original[1], [T0 + 1001 + 1, 1, "pr-1", false, "copy", 1.251]);

    // Other things in the folder: never listed as complete, never deleted by retention.
    mkdirSync(path.join(dir, "keep-me"));
    writeFileSync(path.join(dir, "NOTES.txt"), "operator notes\n");
    mkdirSync(path.join(dir, "20200101T000000Z")); // named like a backup, no manifest: incomplete (and the oldest)
    const incomplete = JSON.parse((await ok("list", "--dir", dir, "--json")).stdout) as { name: string; problem?: string }[];
    assert.deepEqual(
      incomplete.map((b) => b.name),
      ["20200101T000000Z"],
    );
    assert.match(incomplete[0]?.problem ?? "", /not a complete portable backup \(0 manifest files\)/);
    assert.match((await ok("list", "--dir", dir)).stdout, /^20200101T000000Z {2}2020-01-01T00:00:00\.000Z {2}INCOMPLETE: /m);

    // three backups, keep 2: the first is deleted by retention
    const runs: BackupResult[] = [];
    for (let i = 0; i < 3; i++)
      runs.push(JSON.parse((await ok("backup", "--dir", dir, "--host", influx.rpcAddress, "--db", "pw", "--keep", "2", "--json")).stdout) as BackupResult);
    assert.deepEqual(nth(runs, 0).manifest.databases, ["pw"]);
    assert.ok(nth(runs, 0).manifest.shards >= 1);
    // Only complete backups count towards --keep; the incomplete folder older than the oldest kept one goes at
    // once, foreign files and folders are never touched.
    assert.deepEqual(nth(runs, 0).deleted, ["20200101T000000Z"]);
    assert.deepEqual(nth(runs, 1).deleted, []);
    assert.deepEqual(nth(runs, 2).deleted, [nth(runs, 0).name]);
    assert.deepEqual(readdirSync(dir).sort(), [nth(runs, 1).name, nth(runs, 2).name, "NOTES.txt", "keep-me"].sort());
    const listed = JSON.parse((await ok("list", "--dir", dir, "--json")).stdout) as { name: string; manifest: { databases: string[] } }[];
    assert.deepEqual(
      listed.map((b) => [b.name, b.manifest.databases]),
      [
        [nth(runs, 1).name, ["pw"]],
        [nth(runs, 2).name, ["pw"]],
      ],
    );
    assert.match((await ok("list", "--dir", dir)).stdout, new RegExp(`^${nth(runs, 1).name}  \\S+Z  pw  `, "m"));

    // restoring into the existing name is refused by influxd 1.x: a clear error, exit code 1
    const refused = await cli("restore", "--dir", dir, "--host", influx.rpcAddress, "--db", "pw");
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stderr,
      /INVALID_REQUEST: restore failed: restore: DB metadata not changed\. database may already exist \(restore under a new name \(-newdb\)/,
    );

    // side by side under a new name
    await ok("restore", "--dir", dir, "--host", influx.rpcAddress, "--db", "pw", "--newdb", "pw_restored", "--from", nth(runs, 1).name, "--url", influx.url);
    assert.deepEqual(await rows(influx, "pw_restored"), original);

    // the disaster: the database is gone; restore the latest backup under its own name
    await influx.query("DROP DATABASE pw");
    assert.match((await influx.query('SELECT * FROM "power"', "pw")).results[0]?.error ?? "", /database not found: pw/);
    const restored = await ok("restore", "--dir", dir, "--host", influx.rpcAddress, "--db", "pw", "--url", influx.url);
    assert.match(restored.stdout, new RegExp(`restored pw from ${nth(runs, 2).name} into pw in \\S+ s, answering queries`));
    assert.deepEqual(await rows(influx, "pw"), original);

    // --replace: points written after the backup are gone, the backed-up ones are back
    await influx.write("pw", `power,device=pr-9,room=copy watts=999,relay=true,count=999i ${T0 + 999_999}`);
    assert.equal((await rows(influx, "pw")).length, 51);
    await ok("restore", "--dir", dir, "--host", influx.rpcAddress, "--db", "pw", "--replace", "--url", influx.url);
    assert.deepEqual(await rows(influx, "pw"), original);
  });

  it("covers every retention policy: Plugwatch's tiers and their rollup rows come back; the CQs on the next plan", async function () {
    const db = "tiers";
    const settings = parseRetentionSettings({ rollups: true });
    for (const st of planRetention({ database: db, settings }, { databaseExists: false, retentionPolicies: [], continuousQueries: [] })) {
      const r = await influx.query(st.text);
      assert.equal(r.results[0]?.error, undefined, st.text);
    }
    // Raw points (default RP = plugwatch_raw) over two hours, rolled up into both tiers.
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
    const raw = Array.from(
      { length: 240 },
      (_, i) => `plug,device=ws-${i % 2},room=open power=${10 + (i % 17) * 0.5},energy=${1 + i * 0.01} ${hour + i * 30_000}`,
    );
    await influx.write(db, raw.join("\n"));
    for (const tier of ["1m", "1h"] as const) {
      const r = await influx.query(rollupSelect(db, tier, "plugwatch_raw", { startMs: hour, endMs: hour + 2 * 3_600_000 }));
      assert.equal(r.results[0]?.error, undefined);
    }
    const snapshot = async (): Promise<unknown> => {
      const rps = parseRetentionPolicies(await influx.query(`SHOW RETENTION POLICIES ON "${db}"`));
      const cqs = parseContinuousQueries(await influx.query("SHOW CONTINUOUS QUERIES"), db).map((c) => c.name);
      const rows: Record<string, unknown[][]> = {};
      for (const rp of ["plugwatch_raw", "plugwatch_1m", "plugwatch_1h"])
        rows[rp] = (await influx.query(`SELECT * FROM "${db}"."${rp}"."plug" GROUP BY "device"`)).results[0]?.series?.flatMap((s) => s.values) ?? [];
      return { rps, cqs, rows };
    };
    const before = (await snapshot()) as { rows: Record<string, unknown[][]>; cqs: string[] };
    assert.deepEqual(
      Object.values(before.rows).map((r) => r.length),
      [240, 2 * 2 * 60, 2 * 2],
    );
    assert.equal(before.cqs.length, 2);

    const run = JSON.parse((await ok("backup", "--dir", dir, "--host", influx.rpcAddress, "--db", db, "--keep", "5", "--json")).stdout) as {
      manifest: { databases: string[]; policies: string[] };
    };
    assert.deepEqual(run.manifest.databases, [db]);
    assert.deepEqual(run.manifest.policies, [`${db}.plugwatch_1h`, `${db}.plugwatch_1m`, `${db}.plugwatch_raw`]);

    await influx.query(`DROP DATABASE "${db}"`);
    await ok("restore", "--dir", dir, "--host", influx.rpcAddress, "--db", db, "--url", influx.url);
    // influxd's portable restore brings back the policies (durations, DEFAULT) and every tier's rows, but not the
    // continuous queries: plugwatch-influx's next start plans exactly those two and nothing else (docs/retention.md).
    const restored = (await snapshot()) as typeof before;
    assert.deepEqual(restored, { ...before, cqs: [] });
    const state = {
      ...parseRetentionPolicies(await influx.query(`SHOW RETENTION POLICIES ON "${db}"`)),
      continuousQueries: parseContinuousQueries(await influx.query("SHOW CONTINUOUS QUERIES"), db),
    };
    const plan = planRetention({ database: db, settings }, state);
    assert.deepEqual(
      plan.map((p) => p.why),
      before.cqs.map((n) => `create ${n}`),
    );
    for (const st of plan) assert.equal((await influx.query(st.text)).results[0]?.error, undefined);
    assert.deepEqual(await snapshot(), before);
  });

  it("fails fast with a clear message when influxd is not reachable or the database does not exist", async function () {
    const down = await cli("backup", "--dir", dir, "--host", "127.0.0.1:1", "--db", "pw");
    assert.equal(down.code, 1);
    assert.match(down.stderr, /STORAGE_UNAVAILABLE: influxd RPC not reachable at 127\.0\.0\.1:1/);
    const before = readdirSync(dir).sort();
    const missing = await cli("backup", "--dir", dir, "--host", influx.rpcAddress, "--db", "nope");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /INVALID_REQUEST: backup failed: .*database probably does not exist/);
    assert.deepEqual(readdirSync(dir).sort(), before, "a failed backup leaves no folder");
    const usage = await cli("restore", "--dir", dir);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--db is required/);
  });
});
