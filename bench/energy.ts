// Year-range energy benchmark (a program, not a test): daily kWh per room over a long range from the rollup tiers, next to the
// same query over raw readings for a shorter window, against a real influxd; prints the figures and the command.
//
// Writes synthetic data directly: --days of 1-minute rollups (plugwatch_1m) and their 1-hour rollups (plugwatch_1h) for
// --plugs plugs, 10 plugs a room, and --raw-days of raw readings every --raw-interval-s. Then runs, each for --duration-s
// as an evenly paced open-loop load at --rate req/s (latency from the scheduled start), the query component's own code
// (QueryService + influxRunner, what plugwatch-influx-query runs for GET /energy?calendar=day&groupBy=room):
//   year      daily kWh per room over --days, rollups on (the picker chooses the 1-hour tier)
//   raw       daily kWh per room over --raw-days, rollups off (every raw reading's day buckets)
//   rollup-w  the same --raw-days window, rollups on (its answer must equal raw's: checked and printed)
// Usage: node dist/bench/energy.js [--plugs 100] [--days 365] [--raw-days 7] [--raw-interval-s 10] [--rate 20] [--duration-s 10] [--json]
import { runPacedLocal } from "./paced-local";
import * as os from "node:os";
import type { DeviceEntry, EnergyQuery, QueryData } from "../lib/contracts";
import { itemAt } from "../lib/arrays";
import { InfluxHttp } from "../lib/influx/http";
import { influxRunner, QueryService } from "../lib/influx/query-service";
import { NO_ROLLUPS, type RollupSettings } from "../lib/influx/resolution";
import { TIER_RP } from "../lib/influx/rollup-schema";
import { DEFAULT_SETTINGS } from "../lib/influx/settings";
import { buildRegistry } from "../lib/registry";
import { startInfluxd } from "../scripts/harness/influxd";

export const USAGE = `usage: node dist/bench/energy.js [options]

  --plugs <n>           plugs (10 a room; default 100)
  --days <n>            days of 1-minute rollups, and of the long query (default 365)
  --raw-days <n>        days of raw readings, and of the raw query (default 7)
  --raw-interval-s <s>  seconds between raw readings (default 10)
  --rate <n>            paced queries per second (default 20)
  --duration-s <s>      measured window per run (default 10)
  --json                one JSON object per run instead of the table
  -h, --help            this text`;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const DB = "bench";

interface Options {
  plugs: number;
  days: number;
  rawDays: number;
  rawIntervalS: number;
  rate: number;
  durationS: number;
  json: boolean;
  help: boolean;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = { plugs: 100, days: 365, rawDays: 7, rawIntervalS: 10, rate: 20, durationS: 10, json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number\n${USAGE}`);
      return v;
    };
    if (a === "--plugs") o.plugs = Math.round(num());
    else if (a === "--days") o.days = Math.round(num());
    else if (a === "--raw-days") o.rawDays = num();
    else if (a === "--raw-interval-s") o.rawIntervalS = num();
    else if (a === "--rate") o.rate = num();
    else if (a === "--duration-s") o.durationS = num();
    else if (a === "--json") o.json = true;
    else if (a === "-h" || a === "--help") o.help = true;
    else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return o;
}

/** Power of plug p at minute m (W): a daily profile, different per plug, deterministic. */
const watts = (p: number, t: number): number => {
  const hour = (t / HOUR) % 24;
  return Math.round((30 + (p % 7) * 15 + (hour >= 7 && hour < 19 ? 120 : 0) + 10 * Math.sin(t / (37 * MIN) + p)) * 10) / 10;
};

const tagsOf = (p: number): string => `plug,building=hq,device=p-${p},floor=1,kind=workplace,room=room-${Math.floor(p / 10)}`;

/** Writes lines in batches of 20 000. */
async function writeAll(url: string, lines: Iterable<string>, rp?: string): Promise<number> {
  let batch: string[] = [];
  let n = 0;
  const flush = async (): Promise<void> => {
    if (!batch.length) return;
    const r = await fetch(`${url}/write?db=${DB}&precision=ms${rp ? `&rp=${rp}` : ""}`, { method: "POST", body: batch.join("\n") });
    if (r.status !== 204) throw new Error(`write failed: ${r.status} ${await r.text()}`);
    n += batch.length;
    batch = [];
  };
  for (const l of lines) {
    batch.push(l);
    if (batch.length >= 20_000) await flush();
  }
  await flush();
  return n;
}

/** 1-minute rollup rows (or 1-hour rows when stepMin = 60) of plug p in [from, to), energy counting up from `counter0`. */
function* rollupRows(p: number, from: number, to: number, stepMin: number): Generator<string> {
  let energy = 100 + p;
  for (let t = from; t < to; t += stepMin * MIN) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    const first = energy;
    for (let m = 0; m < stepMin; m++) {
      const w = watts(p, t + m * MIN);
      sum += w;
      min = Math.min(min, w);
      max = Math.max(max, w);
      energy += w / 1000 / 60;
    }
    const e = (v: number): string => v.toFixed(6);
    yield `${tagsOf(p)} power_mean=${(sum / stepMin).toFixed(3)},power_min=${min},power_max=${max},energy_first=${e(first)},energy_last=${e(energy)},energy_min=${e(first)},energy_max=${e(energy)},n=${stepMin}i ${t}`;
  }
}

/** Raw readings of plug p every `everyMs` in [from, to), the counter consistent with rollupRows (same power profile). */
function* rawRows(p: number, start: number, from: number, to: number, everyMs: number): Generator<string> {
  let energy = 100 + p;
  for (let t = start; t < from; t += MIN) energy += watts(p, t) / 1000 / 60;
  for (let t = from; t < to; t += everyMs) {
    const w = watts(p, Math.floor(t / MIN) * MIN); // constant within a minute, like the rollups' profile
    yield `${tagsOf(p)} power=${w},energy=${energy.toFixed(6)} ${t}`;
    energy += (w / 1000) * (everyMs / HOUR);
  }
}

/** Runs `fn` every 1000/rate ms for durationS; latency from each call's scheduled start. */
async function paced(
  fn: () => Promise<unknown>,
  rate: number,
  durationS: number,
): Promise<{ n: number; failed: number; achieved: number; p50: number; p99: number; max: number; firstError?: string }> {
  const { total, elapsedS: elapsed, lat, failed, firstError, q } = await runPacedLocal(fn, rate, durationS);
  return {
    n: total,
    failed,
    achieved: lat.length / elapsed,
    p50: q(0.5),
    p99: q(0.99),
    max: lat[lat.length - 1] ?? NaN,
    ...(firstError ? { firstError } : {}),
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) return void console.log(USAGE);
  const command = `node dist/bench/energy.js ${process.argv.slice(2).join(" ")}`.trim();
  const influxd = await startInfluxd();
  const https: InfluxHttp[] = [];
  try {
    await influxd.query(`CREATE DATABASE ${DB}`);
    await influxd.query(`CREATE RETENTION POLICY ${TIER_RP["1m"]} ON ${DB} DURATION INF REPLICATION 1`);
    await influxd.query(`CREATE RETENTION POLICY ${TIER_RP["1h"]} ON ${DB} DURATION INF REPLICATION 1`);
    // Data ends at the last whole hour before now; `now` of the queries is an hour later, so the raw tail is empty.
    const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    const start = end - o.days * DAY;
    const rawFrom = end - o.rawDays * DAY;
    const plugs = Array.from({ length: o.plugs }, (_, p) => p);
    const t = performance.now();
    let rows1m = 0;
    let rows1h = 0;
    let rawN = 0;
    for (const p of plugs) {
      rows1m += await writeAll(influxd.url, rollupRows(p, start, end, 1), TIER_RP["1m"]);
      rows1h += await writeAll(influxd.url, rollupRows(p, start, end, 60), TIER_RP["1h"]);
      rawN += await writeAll(influxd.url, rawRows(p, start, rawFrom, end, o.rawIntervalS * 1000));
    }
    const writeS = (performance.now() - t) / 1000;
    const entries: DeviceEntry[] = plugs.map((p) => ({
      id: `p-${p}`,
      name: `p-${p}`,
      model: "HS110",
      host: "127.0.0.1",
      port: 20000 + p,
      kind: "workplace",
      location: { building: "hq", floor: "1", room: `room-${Math.floor(p / 10)}` },
    }));
    const registry = buildRegistry({ version: 1, buildings: { hq: { timezone: "Europe/Paris" } }, devices: entries });
    const settings = { ...DEFAULT_SETTINGS, url: influxd.url, database: DB };
    const service = (rollups: RollupSettings): QueryService => {
      const http = new InfluxHttp(settings);
      https.push(http);
      return new QueryService({ run: influxRunner({ settings, http }), registry: () => registry, now: () => end + HOUR, rollups });
    };
    const on = service({ enabled: true, retentionDays: { raw: o.rawDays, "1m": o.days + 1, "1h": 0 } });
    const off = service(NO_ROLLUPS);
    const q = (from: number): EnergyQuery => ({ type: "energy", groupBy: "room", calendar: "day", from, to: end });
    type Energy = Extract<QueryData, { type: "energy" }>;
    const once = async (s: QueryService, from: number): Promise<{ data: Energy; ms: number }> => {
      const t1 = performance.now();
      const data = (await s.execute(q(from))) as Energy;
      return { data, ms: performance.now() - t1 };
    };
    // Correctness first: the rollups' answer for the raw window equals raw's (whole local days only: the window's first
    // day starts before the raw data).
    const rawAnswer = await once(off, rawFrom);
    const rollAnswer = await once(on, rawFrom);
    const key = (r: { group: string; ts: number }): string => `${r.group}@${r.ts}`;
    const firstDay = Math.min(...rawAnswer.data.rows.map((r) => r.ts));
    const rawRowsByKey = new Map(rawAnswer.data.rows.filter((r) => r.ts > firstDay).map((r) => [key(r), r.kWh]));
    let maxDiff = 0;
    for (const r of rollAnswer.data.rows) if (rawRowsByKey.has(key(r))) maxDiff = Math.max(maxDiff, Math.abs(r.kWh - rawRowsByKey.get(key(r))!));
    const year = await once(on, start);
    const runs = [
      {
        name: "year",
        what: `daily kWh per room, ${o.days} d, rollups`,
        fn: () => on.execute(q(start)),
        resolution: year.data.resolution,
        rows: year.data.rows.length,
      },
      {
        name: "raw",
        what: `daily kWh per room, ${o.rawDays} d, raw`,
        fn: () => off.execute(q(rawFrom)),
        resolution: rawAnswer.data.resolution,
        rows: rawAnswer.data.rows.length,
      },
      {
        name: "rollup-w",
        what: `daily kWh per room, ${o.rawDays} d, rollups`,
        fn: () => on.execute(q(rawFrom)),
        resolution: rollAnswer.data.resolution,
        rows: rollAnswer.data.rows.length,
      },
    ];
    const results = [];
    for (const r of runs) {
      // One at a time first (the cost of one query without queueing): median of 5.
      const single: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t1 = performance.now();
        await r.fn();
        single.push(performance.now() - t1);
      }
      single.sort((a, b) => a - b);
      const m = await paced(r.fn, o.rate, o.durationS);
      results.push({ ...r, fn: undefined, single: itemAt(single, 2), ...m });
    }
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
    if (o.json) {
      for (const r of results) console.log(JSON.stringify({ command, machine, date: new Date().toISOString(), ...r }));
      return;
    }
    console.log(`command: ${command}`);
    console.log(
      `machine: ${machine}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    console.log(`date: ${new Date().toISOString()}`);
    console.log(
      `data: ${o.plugs} plugs, ${rows1m} 1-minute rows, ${rows1h} 1-hour rows, ${rawN} raw readings (every ${o.rawIntervalS} s) written in ${writeS.toFixed(1)} s`,
    );
    console.log(`check: ${o.rawDays} d from rollups vs raw, largest difference per room-day ${maxDiff.toExponential(2)} kWh`);
    console.log("| Query | Resolution | Rows | One at a time | Paced | Achieved | p50 | p99 | max | Failed |");
    console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of results) {
      console.log(
        `| ${r.what} | ${r.resolution} | ${r.rows} | ${r.single.toFixed(1)} ms | ${o.rate}/s | ${r.achieved.toFixed(1)}/s | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.max.toFixed(1)} ms | ${r.failed}${r.firstError ? ` (${r.firstError})` : ""} |`,
      );
    }
  } finally {
    for (const h of https) h.close();
    await influxd.destroy();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
