// REST API benchmark (a program, not a test): paced open-loop load and autocannon against the real stack (Node-RED plugwatch-http-api → Mosquitto → plugwatch-influx-query/influxd, plugwatch-control/simulated plugs); prints the figures.
//
// Runs, one after the other, each for --duration-s: GET /measurements/latest, a 24 h 1-minute-mean range query
// (1440 points), the same range query sent straight to InfluxDB /query (the statement plugwatch-influx-query builds: the
// limit), and a power command (POST /devices/{id}/power, switch + read-back on a simulated HS110). Each endpoint is
// run at fixed rates (--rate, default 200 and 50 req/s; power: --power-rate) as an evenly paced open-loop load
// (bench/paced-load.ts: one request every 1000/rate ms over a keep-alive pool, latency from the scheduled send
// time), then closed loop with autocannon: one request at a time, and at full speed (--connections). Each run also
// prints the CPU ms per request of Node-RED, influxd and Mosquitto.
// Usage: node dist/bench/api.js [--duration-s 10] [--rate 200] [--power-rate 50] [--connections 16] [--json]
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DeviceEntry } from "../lib/contracts/device";
import { buildRange } from "../lib/influx/query-builder";
import { BASE, DB, startApiStack, TOKENS } from "../scripts/harness/api-stack";
import { Teardown } from "../scripts/harness/services";
import { childPids, median, startOtherBuild } from "./api-compare";
import { pacedLoad, type PacedResult } from "./paced-load";

export const USAGE = `usage: node dist/bench/api.js [options]

  --duration-s <s>      measured window per run (default 10)
  --rate <n,n,…>        paced request rates for the query runs, req/s (default 200,50: the target, and one
                        the machine sustains, to compare API and direct latency below saturation); paced =
                        open loop, one request every 1000/rate ms, latency from the scheduled send time
  --distinct-rate <n,…> paced rates of the distinct-query runs (default 100,50): 24 h 1-minute ranges of every
                        device over windows shifted by 0…59 min, so no two requests in flight are identical
                        (nothing to collapse or coalesce), via the API and direct to InfluxDB
  --power-rate <n>      paced request rate for the power command run, req/s (default 50)
  --max-sockets <n>     keep-alive connections of the paced runs at most (default 64)
  --connections <n>     connections of the full-speed runs (default 16)
  --broker <kind>       mosquitto (default) or aedes
  --profile <dir>       write a V8 CPU profile of the Node-RED process into <dir> (--cpu-prof)
  --only <name,…>       run only these: latest, range, direct, distinct, distinct-direct, power (default all)
  --compare <dir>       also start Node-RED with the (built) package in <dir>, e.g. a worktree of the previous main,
                        on the same broker, InfluxDB and plugs, and run each API run on both builds alternately
                        (ABBA order over --rounds); prints the median p99 of each (closed-loop runs are skipped; the direct
                        runs run once a round)
  --rounds <n>          alternation rounds of --compare (default 2)
  --json                one JSON object per run instead of the table
  -h, --help            this text`;

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
interface AutocannonOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  duration?: number;
  overallRate?: number;
  timeout?: number;
  /** Load generation in worker threads, so it never delays the simulated plugs on this process's event loop. */
  workers?: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- autocannon ships no types: AutocannonOptions/AutocannonResult above type the part used
const autocannon = require("autocannon") as (o: AutocannonOptions) => Promise<AutocannonResult>;

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

interface Options {
  durationS: number;
  rates: number[];
  powerRate: number;
  connections: number;
  maxSockets: number;
  broker: "mosquitto" | "aedes";
  json: boolean;
  help: boolean;
  profile?: string;
  only: string[];
  distinctRates: number[];
  compare?: string;
  rounds: number;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    durationS: 10,
    rates: [200, 50],
    powerRate: 50,
    connections: 16,
    maxSockets: 64,
    broker: "mosquitto",
    json: false,
    help: false,
    only: ["latest", "range", "direct", "distinct", "distinct-direct", "power"],
    distinctRates: [100, 50],
    rounds: 2,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${a} needs a positive number`);
      return n;
    };
    if (a === "--duration-s") o.durationS = num();
    else if (a === "--rate") {
      o.rates = (argv[++i] ?? "").split(",").map(Number);
      if (!o.rates.length || o.rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error("--rate needs positive numbers, e.g. 200,50");
    } else if (a === "--distinct-rate") {
      o.distinctRates = (argv[++i] ?? "").split(",").map(Number);
      if (!o.distinctRates.length || o.distinctRates.some((r) => !Number.isFinite(r) || r <= 0))
        throw new Error("--distinct-rate needs positive numbers, e.g. 100,50");
    } else if (a === "--power-rate") o.powerRate = num();
    else if (a === "--connections") o.connections = Math.round(num());
    else if (a === "--max-sockets") o.maxSockets = Math.round(num());
    else if (a === "--broker") {
      const b = argv[++i];
      if (b !== "mosquitto" && b !== "aedes") throw new Error("--broker must be mosquitto or aedes");
      o.broker = b;
    } else if (a === "--profile") o.profile = path.resolve(argv[++i] ?? ".");
    else if (a === "--only") o.only = (argv[++i] ?? "").split(",");
    else if (a === "--compare") o.compare = argv[++i] ?? ".";
    else if (a === "--rounds") o.rounds = Math.round(num());
    else if (a === "--json") o.json = true;
    else if (a === "-h" || a === "--help") o.help = true;
    else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return o;
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node.js ${process.version}`;
}

/** Minutes of readings written after the day, so every distinct window (start shifted by up to this) spans 24 h of data. */
const SHIFT_MIN = 60;

/**
 * 25 h of 1-minute readings of every device from the start of a past UTC day (the range query reads the day of
 * ws-a; the distinct queries 24 h windows of every device, shifted by 0…59 minutes), and one recent reading per
 * device for /measurements/latest.
 */
function data(day: number) {
  return (devices: DeviceEntry[]): string => {
    const lines: string[] = [];
    const line = (d: DeviceEntry, ts: number, power: number, energy: number) =>
      `plug,device=${d.id},kind=${d.kind},building=${d.location.building},floor=${d.location.floor},room=${d.location.room} power=${power},voltage=230,current=${(power / 230).toFixed(4)},energy=${energy.toFixed(3)},relay=true ${ts}`;
    for (const [k, d] of devices.entries()) for (let i = 0; i < 1440 + SHIFT_MIN; i++) lines.push(line(d, day + i * MIN, 20 + k + (i % 60), 10 + i / 1000));
    const now = Date.now();
    devices.forEach((d, i) => lines.push(line(d, now - (i + 1) * MIN, 10 + i, 50 + i)));
    return lines.join("\n");
  };
}

/**
 * A preload for the Node-RED process that records a V8 CPU profile until exit (--cpu-prof is refused in
 * NODE_OPTIONS). The profile lands in `dir` as node-red.cpuprofile (open it in Chrome DevTools).
 */
function profilerPreload(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "profile-preload.js");
  writeFileSync(
    file,
    `const inspector = require("node:inspector"); const fs = require("node:fs");
const session = new inspector.Session(); session.connect();
session.post("Profiler.enable", () => session.post("Profiler.start"));
process.on("exit", () => session.post("Profiler.stop", (err, r) => { if (!err) fs.writeFileSync(${JSON.stringify(path.join(dir, "node-red.cpuprofile"))}, JSON.stringify(r.profile)); }));
`,
  );
  return file;
}

/** PID of the process whose command line contains `needle` (Linux /proc), or undefined. */
function pidOf(needle: string): number | undefined {
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").join(" ").includes(needle)) return Number(e);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/** PID of a child of this process whose command line contains `needle` (Node-RED rewrites its title to "node-red"). */
const childPid = (needle: string): number | undefined => childPids(needle)[0];

/** CPU time (user + system, ms) a process has used so far. */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
      .replace(/^.*\) /, "")
      .split(" ");
    // After "pid (comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

interface Run {
  name: string;
  mode: string;
  reqPerS: number;
  p50: number;
  p99: number;
  max: number;
  total: number;
  failures: number;
  /** Paced runs: p99 / max of how late the generator sent requests, ms (its own health; included in latency). */
  sendLag?: { p99: number; max: number };
  /** CPU ms per request of each server process during the run (load-independent cost). */
  cpu: Record<string, number>;
}

let processes: Record<string, number | undefined> = {};

/** Runs `load` and adds the CPU ms per request the server processes used meanwhile. */
async function measured(load: () => Promise<Omit<Run, "cpu">>): Promise<Run> {
  const before = Object.fromEntries(Object.entries(processes).map(([k, pid]) => [k, cpuMs(pid)]));
  const r = await load();
  const cpu = Object.fromEntries(
    Object.entries(processes).map(([k, pid]) => [k, Math.round(((cpuMs(pid) - (before[k] ?? 0)) / Math.max(1, r.total)) * 100) / 100]),
  );
  return { ...r, cpu };
}

/** Closed loop (autocannon, in a worker thread): each connection sends its next request when the previous one answered. */
function run(name: string, mode: string, o: AutocannonOptions): Promise<Run> {
  return measured(async () => {
    const r = await autocannon({ timeout: 10, workers: 1, ...o });
    return {
      name,
      mode,
      reqPerS: Math.round(r.requests.average),
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      total: r.requests.total,
      failures: r.non2xx + r.errors + r.timeouts,
    };
  });
}

/** Open loop, evenly paced (bench/paced-load.ts, in a worker thread); latency from each request's scheduled send time. */
function paced(name: string, rate: number, o: AutocannonOptions & { paths?: string[] | undefined; durationS: number; maxSockets: number }): Promise<Run> {
  return measured(async () => {
    const r: PacedResult = await pacedLoad({
      url: o.url,
      paths: o.paths,
      method: o.method,
      headers: o.headers,
      body: o.body,
      rate,
      durationS: o.durationS,
      maxSockets: o.maxSockets,
    });
    if (r.firstError) process.stderr.write(`${name} paced ${rate} req/s: ${r.errors} errors, first: ${r.firstError}\n`);
    return {
      name,
      mode: `paced ${rate}/s`,
      reqPerS: r.achievedPerS,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      total: r.ok + r.non2xx,
      failures: r.failures,
      sendLag: r.sendLag,
    };
  });
}

export async function main(argv: string[]): Promise<void> {
  const o = parseArgs(argv);
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = `node ${path.relative(process.cwd(), process.argv[1] ?? "dist/bench/api.js")} ${argv.join(" ")}`.trim();
  const day = Math.floor(Date.now() / DAY) * DAY - DAY;
  const td = new Teardown();
  try {
    const env = o.profile ? { NODE_OPTIONS: `--require ${profilerPreload(o.profile)}` } : undefined;
    const s = await startApiStack(td, o.broker, { data: data(day), env });
    const auth = { authorization: `Bearer ${TOKENS.both}` };
    processes = {
      "node-red": childPid("node-red"),
      influxd: pidOf(s.influxd.dir),
      mosquitto: o.broker === "mosquitto" ? pidOf((s.broker as { dir?: string }).dir ?? "\0") : undefined,
    };
    const other = o.compare ? await startOtherBuild(td, s, o.broker, o.compare) : undefined;
    if (other) processes["node-red-other"] = other.pid;
    const from = new Date(day).toISOString();
    const to = new Date(day + DAY).toISOString();
    const rangeUrl = `${s.red.url}${BASE}/devices/ws-a/measurements?from=${from}&to=${to}&fields=power&aggregate=mean&interval=1m`;
    const latestUrl = `${s.red.url}${BASE}/measurements/latest`;
    // The statement plugwatch-influx-query sends for that range query, with the same bound parameter.
    const stmt = buildRange({ type: "range", target: { device: "ws-a" }, fields: ["power"], from: day, to: day + DAY, aggregate: "mean", interval: "1m" }, [
      "ws-a",
    ]);
    const directUrl = `${s.influxd.url}/query?${new URLSearchParams({ db: DB, epoch: "ms", q: stmt.text, params: JSON.stringify(stmt.params) })}`;
    // Distinct range queries: 24 h / 1-minute means of every device over windows shifted by 0…59 minutes, in an
    // order where the same query comes back only every (devices × 60) requests — none in flight at the same time
    // is identical, so neither read collapsing in the API nor coalescing in plugwatch-influx-query can share anything.
    const ids = (s.office.registryDevices() as DeviceEntry[]).map((x) => x.id);
    const windows = Array.from({ length: SHIFT_MIN }, (_, k) => day + k * MIN).flatMap((f) => ids.map((id) => ({ id, from: f, to: f + DAY })));
    const distinctPaths = windows.map(
      (w) =>
        `${BASE}/devices/${w.id}/measurements?from=${new Date(w.from).toISOString()}&to=${new Date(w.to).toISOString()}&fields=power&aggregate=mean&interval=1m`,
    );
    const distinctDirect = windows.map((w) => {
      const st = buildRange({ type: "range", target: { device: w.id }, fields: ["power"], from: w.from, to: w.to, aggregate: "mean", interval: "1m" }, [w.id]);
      return `/query?${new URLSearchParams({ db: DB, epoch: "ms", q: st.text, params: JSON.stringify(st.params) })}`;
    });
    const powerUrl = `${s.red.url}${BASE}/devices/pr-2/power`;
    const power = { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ state: "on" }) };

    // Sanity: every URL answers 200 with the expected size before measuring.
    const check = await fetch(rangeUrl, { headers: auth });
    const body = (await check.json()) as { series?: { points: unknown[] }[] };
    if (check.status !== 200 || body.series?.[0]?.points.length !== 1440)
      throw new Error(`range query check failed: HTTP ${check.status} ${JSON.stringify(body).slice(0, 300)}`);
    const direct = (await (await fetch(directUrl, { method: "POST" })).json()) as { results: { series?: { values: unknown[] }[] }[] };
    if (direct.results[0]?.series?.[0]?.values.length !== 1440) throw new Error(`direct query check failed: ${JSON.stringify(direct).slice(0, 300)}`);

    const d = o.durationS;
    const c = o.connections;
    const runs: Run[] = [];
    const info = {
      command,
      machine: machine(),
      date: new Date().toISOString(),
      loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
      broker: o.broker,
    };
    if (!o.json)
      process.stdout.write(
        `command: ${info.command}\nmachine: ${info.machine}\ndate:    ${info.date}\nbroker:  ${o.broker}\nload average at start: ${info.loadAverage.join(", ")}\n` +
          `paced N/s:   open loop, one request every 1000/N ms over a keep-alive pool of <= ${o.maxSockets} connections; latency from the scheduled send time (generator lateness included, "lag" = how late it sent)\n` +
          `1 conn, ${c} conn max: closed loop (autocannon): the next request goes when the previous one answered\n\n`,
      );
    const report = (r: Run) => {
      runs.push(r);
      if (o.json) process.stdout.write(`${JSON.stringify({ ...info, ...r })}\n`);
      else
        process.stdout.write(
          `${r.name.padEnd(34)} ${r.mode.padEnd(14)} ${String(r.reqPerS).padStart(6)} req/s  p50 ${String(r.p50).padStart(6)} ms  p99 ${String(r.p99).padStart(6)} ms  max ${String(r.max).padStart(7)} ms  n=${r.total}  failed=${r.failures}  cpu ms/req ${Object.entries(
            r.cpu,
          )
            .filter(([, v]) => Number.isFinite(v))
            .map(([k, v]) => `${k} ${v}`)
            .join(", ")}${r.sendLag ? `  lag p99 ${r.sendLag.p99} ms max ${r.sendLag.max} ms` : ""}\n`,
        );
    };
    const warm = (url: string, extra: Partial<AutocannonOptions> = {}) => autocannon({ url, connections: 4, duration: 2, ...extra });
    const want = (k: string) => o.only.includes(k);
    // `paths`: paced runs rotate through these (distinct queries); such runs are paced only.
    const plan: { key: string; name: string; url: string; paths?: string[]; extra: Partial<AutocannonOptions>; rates: number[] }[] = [
      { key: "latest", name: "GET /measurements/latest", url: latestUrl, extra: { headers: auth }, rates: o.rates },
      { key: "range", name: "range 24 h 1m mean via API", url: rangeUrl, extra: { headers: auth }, rates: o.rates },
      { key: "direct", name: "same query direct to InfluxDB", url: directUrl, extra: { method: "POST" }, rates: o.rates },
      { key: "distinct", name: "distinct 24 h 1m ranges via API", url: rangeUrl, paths: distinctPaths, extra: { headers: auth }, rates: o.distinctRates },
      {
        key: "distinct-direct",
        name: "distinct ranges direct to InfluxDB",
        url: directUrl,
        paths: distinctDirect,
        extra: { method: "POST" },
        rates: o.distinctRates,
      },
      { key: "power", name: "POST /devices/{id}/power", url: powerUrl, extra: power, rates: [o.powerRate] },
    ].filter((p) => want(p.key));
    for (const p of plan) await warm(p.url, p.extra);
    const fixed: Record<string, Run> = {};
    const verdict: string[] = [];
    if (other) {
      // Side by side: each API run on this build and on the other one, in ABBA order so drift of the shared machine cancels.
      const apiRuns = plan.filter((p) => p.url.startsWith(s.red.url));
      for (const p of apiRuns) await warm(p.url.replace(s.red.url, other.url), p.extra);
      const p99: Record<string, { mine: number[]; theirs: number[] }> = {};
      for (let round = 0; round < o.rounds; round++)
        for (const p of apiRuns)
          for (const rate of p.rates)
            for (const theirs of round % 2 === 0 ? [false, true] : [true, false]) {
              const url = theirs ? p.url.replace(s.red.url, other.url) : p.url;
              const r = await paced(`${p.name} [${theirs ? other.label : "this build"}]`, rate, {
                url,
                paths: p.paths,
                ...p.extra,
                durationS: d,
                maxSockets: o.maxSockets,
              });
              report(r);
              const k = `${p.key}@${rate}`;
              p99[k] ??= { mine: [], theirs: [] };
              p99[k][theirs ? "theirs" : "mine"].push(r.p99);
            }
      // The direct-to-InfluxDB runs once per round too, after the API runs, for the API/direct ratio of the same run.
      for (let round = 0; round < o.rounds; round++)
        for (const p of plan.filter((x) => !x.url.startsWith(s.red.url)))
          for (const rate of p.rates) {
            const r = await paced(p.name, rate, { url: p.url, paths: p.paths, ...p.extra, durationS: d, maxSockets: o.maxSockets });
            report(r);
            (p99[`${p.key}@${rate}`] ??= { mine: [], theirs: [] }).mine.push(r.p99);
          }
      for (const [k, v] of Object.entries(p99))
        verdict.push(
          `${k} req/s: p99 median ${v.theirs.length ? "this build " : ""}${Math.round(median(v.mine) * 10) / 10} ms (${v.mine.join(", ")})` +
            (v.theirs.length ? ` vs ${other.label} ${Math.round(median(v.theirs) * 10) / 10} ms (${v.theirs.join(", ")})` : ""),
        );
    } else {
      for (const rate of [...new Set(plan.flatMap((p) => p.rates))]) {
        for (const p of plan.filter((x) => x.rates.includes(rate))) {
          const r = await paced(p.name, rate, { url: p.url, paths: p.paths, ...p.extra, durationS: d, maxSockets: o.maxSockets });
          fixed[`${p.key}@${rate}`] = r;
          report(r);
        }
      }
      // One request at a time: the latency of the path itself, without queueing behind other requests.
      const closed = plan.filter((p) => !p.paths);
      for (const p of closed) report(await run(p.name, "1 conn", { url: p.url, ...p.extra, connections: 1, duration: d }));
      for (const p of closed) report(await run(p.name, `${c} conn max`, { url: p.url, ...p.extra, connections: c, duration: d }));
    }

    for (const rate of o.rates) {
      const api = fixed[`range@${rate}`];
      const lim = fixed[`direct@${rate}`];
      if (api) verdict.push(`range p99 ${api.p99} ms at paced ${rate} req/s (target < 50 ms at 200 req/s): ${api.p99 < 50 ? "under 50 ms" : "over 50 ms"}`);
      if (api && lim)
        verdict.push(
          `  vs direct p99 ${lim.p99} ms at paced ${rate} req/s: ${(api.p99 / Math.max(1, lim.p99)).toFixed(1)} × (target ≤ 2 ×); achieved ${api.reqPerS} vs ${lim.reqPerS} req/s`,
        );
    }
    for (const rate of o.distinctRates) {
      const api = fixed[`distinct@${rate}`];
      const lim = fixed[`distinct-direct@${rate}`];
      if (api && lim)
        verdict.push(
          `distinct ranges at paced ${rate} req/s: API p99 ${api.p99} ms vs direct ${lim.p99} ms (${(api.p99 / Math.max(1, lim.p99)).toFixed(1)} ×); achieved ${api.reqPerS} vs ${lim.reqPerS} req/s`,
        );
    }
    const pw = fixed[`power@${o.powerRate}`];
    if (pw) verdict.push(`power p99 ${pw.p99} ms at paced ${o.powerRate} req/s (target < 100 ms): ${pw.p99 < 100 ? "met" : "MISSED"}`);
    if (!o.json)
      process.stdout.write(
        `\n${verdict.join("\n")}\nload average at end: ${os
          .loadavg()
          .map((x) => Math.round(x * 100) / 100)
          .join(", ")}\n`,
      );
    const failed = runs.filter((r) => r.failures > 0);
    if (failed.length) process.stdout.write(`\nWARNING: failed requests in ${failed.map((r) => `${r.name} (${r.mode})`).join(", ")}\n`);
  } finally {
    await td.run();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
