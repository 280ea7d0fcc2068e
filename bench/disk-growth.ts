// Disk growth benchmark: bytes on disk per plug per day for raw readings and each rollup tier, on a real influxd with
// Plugwatch's retention tiers, and the total over time once raw data expires (it levels off after the raw retention).
//
//   node dist/bench/disk-growth.js [--plugs 4] [--days 2] [--interval 10] [--raw-days 30]
//
// Small defaults (4 plugs, 2 days at one reading per 10 s: ~70 k points, well under a minute). The full run of the
// issue — a simulated month at 1 s — is `--plugs 25 --days 31 --interval 1` (67 M points, ~1 h and several GB of
// scratch space: run it on a quiet machine, not a shared one). Each run starts its own influxd on free loopback ports.
//
// Method: readings shaped like plugwatch-influx-hook's lines go to the raw RP (the database's DEFAULT); each day is
// rolled up into plugwatch_1m and plugwatch_1h with the very statements the retention manager runs
// (lib/influx/rollup-aggregate.ts); influxd is set to snapshot and fully compact after 1 s without writes, and the
// bytes of each RP's TSM/index files are summed once their size is stable. The growth table multiplies the measured
// per-day rates by the days each tier keeps (raw: --raw-days; 1m: 730; 1h: forever), which is what influxd's
// retention service does when it drops expired shard groups.
import { readdirSync, statSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import * as path from "node:path";
import { parseRetentionSettings, planRetention } from "../lib/influx/retention";
import { rollupSelect, ROLLUP_TIERS } from "../lib/influx/rollup-aggregate";
import { TIER_RP, TIERS, type Tier } from "../lib/influx/rollup-schema";
import { startInfluxd, type InfluxdInstance } from "../scripts/harness/influxd";

interface Args {
  plugs: number;
  days: number;
  /** Seconds between two readings of a plug. */
  interval: number;
  /** Raw retention for the growth table (days). */
  rawDays: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { plugs: 4, days: 2, interval: 10, rawDays: 30 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const n = Number(argv[i + 1]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${k}: expected a positive number`);
    if (k === "--plugs") a.plugs = Math.floor(n);
    else if (k === "--days") a.days = Math.floor(n);
    else if (k === "--interval") a.interval = n;
    else if (k === "--raw-days") a.rawDays = n;
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

const DAY = 86_400_000;
const DB = "bench";

/** Bytes of the regular files under `dir` (0 when it does not exist). */
function du(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    const st = statSync(p);
    total += st.isDirectory() ? du(p) : st.size;
  }
  return total;
}

async function q(influx: InfluxdInstance, text: string): Promise<void> {
  const r = await influx.query(text, DB);
  const err = r.error ?? r.results.find((x) => x.error)?.error;
  if (err) throw new Error(`${text.slice(0, 80)}: ${err}`);
}

/** One day of a plug's readings as line protocol: a slow power walk, mains voltage, a rising energy counter. */
function dayLines(plug: number, dayStart: number, intervalMs: number, energy: { kWh: number }): string[] {
  const series = `plug,building=hq,device=ws-${String(plug).padStart(3, "0")},floor=${1 + (plug % 3)},kind=workplace,room=open-${plug % 5}`;
  const out: string[] = [];
  let power = 20 + plug;
  for (let t = dayStart, i = 0; t < dayStart + DAY; t += intervalMs, i++) {
    power = Math.max(0.5, power + (((i * 7919 + plug * 104729) % 21) - 10) * 0.1);
    const voltage = 229 + ((i + plug) % 7) * 0.3;
    const current = power / voltage;
    energy.kWh += (power * intervalMs) / 3.6e9;
    out.push(`${series} power=${power.toFixed(2)},voltage=${voltage.toFixed(1)},current=${current.toFixed(3)},energy=${energy.kWh.toFixed(4)},relay=T ${t}`);
  }
  return out;
}

async function rows(influx: InfluxdInstance, rp: string): Promise<number> {
  const r = await influx.query(`SELECT count("${rp === TIER_RP.raw ? "power" : "n"}") FROM "${DB}"."${rp}"."plug"`);
  const v = r.results[0]?.series?.[0]?.values[0]?.[1];
  return typeof v === "number" ? v : 0;
}

/** Waits until no WAL is left for the database and the RP directories stop changing (snapshot + full compaction). */
async function settle(influx: InfluxdInstance): Promise<Record<Tier, number>> {
  const sizes = (): Record<Tier, number> =>
    Object.fromEntries(TIERS.map((t) => [t, du(path.join(influx.dir, "data", DB, TIER_RP[t]))])) as Record<Tier, number>;
  let last = JSON.stringify(sizes());
  let stable = 0;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1500));
    const wal = du(path.join(influx.dir, "wal", DB));
    const now = JSON.stringify(sizes());
    stable = now === last && wal < 64 * 1024 ? stable + 1 : 0;
    last = now;
    if (stable >= 2) break;
  }
  return JSON.parse(last) as Record<Tier, number>;
}

const kb = (n: number): string => (n / 1024).toFixed(1);

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const influx = await startInfluxd({ data: { "cache-snapshot-write-cold-duration": "1s", "compact-full-write-cold-duration": "1s" } });
  try {
    // The measured data must fit the raw RP: it keeps at least the simulated days while measuring.
    const settings = parseRetentionSettings({ rollups: true, rawRetention: `${Math.max(a.days + 1, 2)}d` });
    for (const st of planRetention({ database: DB, settings }, { databaseExists: false, retentionPolicies: [], continuousQueries: [] }))
      await q(influx, st.text);
    const today = Math.floor(Date.now() / DAY) * DAY;
    const first = today - a.days * DAY;
    const energy = Array.from({ length: a.plugs }, () => ({ kWh: 100 }));
    let points = 0;
    for (let d = 0; d < a.days; d++) {
      const dayStart = first + d * DAY;
      for (const [p, counter] of energy.entries()) {
        const lines = dayLines(p, dayStart, a.interval * 1000, counter);
        for (let i = 0; i < lines.length; i += 5000) await influx.write(DB, lines.slice(i, i + 5000).join("\n"));
        points += lines.length;
      }
      // Roll the day up as the retention manager does for late windows (6-hour statements).
      for (const tier of ROLLUP_TIERS)
        for (let s = dayStart; s < dayStart + DAY; s += 6 * 3_600_000)
          await q(influx, rollupSelect(DB, tier, TIER_RP.raw, { startMs: s, endMs: s + 6 * 3_600_000 }));
    }
    const bytes = await settle(influx);
    const perPlugDay = Object.fromEntries(TIERS.map((t) => [t, bytes[t] / (a.plugs * a.days)])) as Record<Tier, number>;

    console.log(`# disk growth: ${a.plugs} plugs × ${a.days} days, one reading per ${a.interval} s (${points} raw points)`);
    console.log(`command: node dist/bench/disk-growth.js --plugs ${a.plugs} --days ${a.days} --interval ${a.interval} --raw-days ${a.rawDays}`);
    console.log(
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}; ${new Date().toISOString()}`,
    );
    console.log("");
    console.log("| tier | rows | bytes on disk | bytes / plug / day | bytes / row |");
    console.log("|---|---:|---:|---:|---:|");
    for (const t of TIERS) {
      const n = await rows(influx, TIER_RP[t]);
      console.log(`| ${TIER_RP[t]} | ${n} | ${bytes[t]} | ${Math.round(perPlugDay[t])} | ${n ? (bytes[t] / n).toFixed(2) : "-"} |`);
    }
    console.log("");
    const keep: Record<Tier, number> = { raw: a.rawDays, "1m": 730, "1h": Infinity };
    console.log(`Growth per plug (KiB), raw kept ${a.rawDays} d, 1-minute rollups 730 d, 1-hour rollups forever:`);
    console.log("");
    console.log("| day | raw | 1m | 1h | total |");
    console.log("|---:|---:|---:|---:|---:|");
    for (const day of [1, 7, a.rawDays, a.rawDays + 1, 90, 365, 730, 1095]) {
      const per = TIERS.map((t) => perPlugDay[t] * Math.min(day, keep[t]));
      console.log(`| ${day} | ${kb(per[0] ?? 0)} | ${kb(per[1] ?? 0)} | ${kb(per[2] ?? 0)} | ${kb(per.reduce((s, x) => s + x, 0))} |`);
    }
    console.log("");
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } finally {
    await influx.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
