// Query benchmark over the rollup tiers, via the REST API (a program, not a test): the real stack (Node-RED
// plugwatch-http-api → Mosquitto → plugwatch-influx-query → influxd) with Rollups on in plugwatch-influx; prints figures.
//
// Data, written straight into influxd after the config node created the tiers: for --plugs plugs (building "annex",
// 10 a room) --days of 1-hour rollups, the last --minute-days of them as 1-minute rollups too (the year query reads the
// hourly tier only), and the last --raw-days of raw readings every --raw-interval-s, one power profile and one counter
// for all three; for the API's six devices, 25 h of 1-minute readings and their 1-minute rollup rows.
// Runs, in one process and one stack, each as an evenly paced open-loop load (bench/paced-load.ts) for --duration-s:
//   year             GET /energy?calendar=day&groupBy=room&building=annex over --days (served by plugwatch_1h) at --year-rate;
//                    the first via the API is cold (the query component's day cache is empty), the rest warm, and the
//                    warm answer is checked against the uncached one computed in this process
//   raw window       the same over --raw-days, from raw readings (QueryService with rollups off, in this process: the API
//                    always uses the tiers) at --raw-rate, and via the API (plugwatch_1m); the two answers are compared
//   distinct         24 h 1-minute means of each API device over windows shifted by 0…59 min, via the API (served by
//                    plugwatch_1m) twice: over the core mqtt-broker node (Nagle on), then over the shipped shape's
//                    plugwatch-mqtt connection (TCP_NODELAY), each path with its own query node and range cache; then
//                    direct to InfluxDB with the statement the query component sends, and direct with the raw
//                    statement (what a client without rollups would run), at --distinct-rate
// Usage: node dist/bench/query.js [--plugs 100] [--days 365] [--minute-days 365] [--raw-days 1] [--raw-interval-s 10]
//        [--year-rate 20] [--raw-rate 1] [--distinct-rate 100] [--duration-s 10] [--year-only] [--json]
import { runPacedLocal } from "./paced-local";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { DeviceEntry, EnergyQuery, QueryData, RangeQuery } from "../lib/contracts";
import { DayEnergyCache } from "../lib/influx/day-energy-cache";
import { InfluxHttp } from "../lib/influx/http";
import { buildRange } from "../lib/influx/query-builder";
import { influxRunner, QueryService } from "../lib/influx/query-service";
import { NO_ROLLUPS } from "../lib/influx/resolution";
import { TIER_RP } from "../lib/influx/rollup-schema";
import { DEFAULT_SETTINGS } from "../lib/influx/settings";
import { buildRollupRange } from "../lib/influx/tier-query";
import { buildRegistry } from "../lib/registry";
import { BASE, DB, startApiStack, TOKENS, withConnection } from "../scripts/harness/api-stack";
import { mqttInNode } from "../scripts/harness/flow-nodes";
import type { FlowNode } from "../scripts/harness/nodered";
import { Teardown } from "../scripts/harness/services";
import { pacedLoad, type PacedResult } from "./paced-load";

/** Base path of the API that talks over the core mqtt-broker node (the side-by-side distinct run). */
const CORE_BASE = "/api/core";

/** A second API node (CORE_BASE, root `root`) and query node over the core mqtt-broker node `b`, as flows had them before plugwatch-mqtt. */
function withCorePath(nodes: FlowNode[], root: string): FlowNode[] {
  const api = nodes.find((n) => n.id === "api");
  const q = nodes.find((n) => n.id === "q");
  if (!api || !q) throw new Error("the API stack has no api or q node");
  const z = String(q.z);
  return [
    ...nodes,
    { ...api, id: "api-core", root, basePath: CORE_BASE, broker: "b", connection: "" },
    mqttInNode("qin-core", z, `${root}/api/request/query`, "q-core", 600, { datatype: "auto-detect" }),
    { ...q, id: "q-core", y: 600, wires: [["qout-core"]] },
    { id: "qout-core", type: "mqtt out", z, name: "", topic: "", qos: "", retain: "", broker: "b", x: 500, y: 600, wires: [] },
  ];
}

export const USAGE = `usage: node dist/bench/query.js [options]

  --plugs <n>           synthetic plugs in building "annex", 10 a room (default 100)
  --days <n>            days of 1-hour rollups and of the year query (default 365)
  --minute-days <n>     the last n of them also as 1-minute rollups (default = --days; at least --raw-days)
  --raw-days <n>        days of raw readings, and of the raw-window query (default 1)
  --raw-interval-s <s>  seconds between raw readings (default 10)
  --year-rate <n>       paced req/s of the year run and the raw window via the API (default 20)
  --raw-rate <n>        paced req/s of the raw window from raw readings (default 1: it takes ~1 s per query)
  --distinct-rate <n>   paced req/s of the distinct-query runs (default 100)
  --duration-s <s>      measured window per run (default 10)
  --year-only           only the year run (no raw-window or distinct paced runs: less load on a shared machine)
  --json                one JSON object per run instead of the table
  -h, --help            this text`;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

interface Options {
  plugs: number;
  days: number;
  minuteDays?: number;
  rawDays: number;
  rawIntervalS: number;
  yearRate: number;
  rawRate: number;
  distinctRate: number;
  durationS: number;
  yearOnly: boolean;
  json: boolean;
  help: boolean;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    plugs: 100,
    days: 365,
    rawDays: 1,
    rawIntervalS: 10,
    yearRate: 20,
    rawRate: 1,
    distinctRate: 100,
    durationS: 10,
    yearOnly: false,
    json: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${a} needs a positive number`);
      return n;
    };
    if (a === "--plugs") o.plugs = Math.round(num());
    else if (a === "--days") o.days = Math.round(num());
    else if (a === "--minute-days") o.minuteDays = Math.round(num());
    else if (a === "--raw-days") o.rawDays = Math.round(num());
    else if (a === "--raw-interval-s") o.rawIntervalS = num();
    else if (a === "--year-rate") o.yearRate = num();
    else if (a === "--distinct-rate") o.distinctRate = num();
    else if (a === "--raw-rate") o.rawRate = num();
    else if (a === "--duration-s") o.durationS = num();
    else if (a === "--json") o.json = true;
    else if (a === "--year-only") o.yearOnly = true;
    else if (a === "-h" || a === "--help") o.help = true;
    else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  if (o.rawDays > 30) throw new Error("--raw-days must be at most 30 (the raw tier's retention)");
  if (o.rawDays > o.days) throw new Error("--raw-days must not exceed --days");
  return o;
}

/** Power of plug p at minute t (W): a daily profile, different per plug, deterministic. */
const watts = (p: number, t: number): number => {
  const hour = (t / HOUR) % 24;
  return Math.round((30 + (p % 7) * 15 + (hour >= 7 && hour < 19 ? 120 : 0) + 10 * Math.sin(t / (37 * MIN) + p)) * 10) / 10;
};
const tagsOf = (p: number): string => `plug,building=annex,device=p-${p},floor=1,kind=workplace,room=room-${Math.floor(p / 10)}`;

/** Writes line protocol in batches of 20 000 into `rp` (default: the database's DEFAULT RP, plugwatch_raw). */
class Writer {
  private batch: string[] = [];
  n = 0;
  constructor(
    private readonly url: string,
    private readonly rp?: string,
  ) {}
  async add(line: string): Promise<void> {
    this.batch.push(line);
    if (this.batch.length >= 20_000) await this.flush();
  }
  async flush(): Promise<void> {
    if (!this.batch.length) return;
    const r = await fetch(`${this.url}/write?db=${DB}&precision=ms${this.rp ? `&rp=${this.rp}` : ""}`, { method: "POST", body: this.batch.join("\n") });
    if (r.status !== 204) throw new Error(`write failed: ${r.status} ${await r.text()}`);
    this.n += this.batch.length;
    this.batch = [];
  }
}

/** A rollup row of `minutes` consecutive minutes of one plug (power per minute, counter before and after each). */
function rollupRow(p: number, t: number, w: number[], e0: number, e1: number): string {
  const sum = w.reduce((s, x) => s + x, 0);
  const e = (v: number): string => v.toFixed(6);
  return `${tagsOf(p)} power_mean=${(sum / w.length).toFixed(3)},power_min=${Math.min(...w)},power_max=${Math.max(...w)},energy_first=${e(e0)},energy_last=${e(e1)},energy_min=${e(e0)},energy_max=${e(e1)},n=${w.length}i ${t}`;
}

/** Minute by minute from `start` to `end`: hourly rows always, minute rows from `minuteFrom`, raw readings from `rawFrom`. */
async function writePlug(p: number, start: number, end: number, minuteFrom: number, rawFrom: number, rawEveryMs: number, w: Record<"h" | "m" | "raw", Writer>) {
  let energy = 100 + p;
  for (let h = start; h < end; h += HOUR) {
    const hourW: number[] = [];
    const hourE0 = energy;
    for (let t = h; t < h + HOUR; t += MIN) {
      const pw = watts(p, t);
      const e0 = energy;
      if (t >= rawFrom)
        for (let r = t; r < t + MIN; r += rawEveryMs)
          await w.raw.add(`${tagsOf(p)} power=${pw},energy=${(e0 + ((pw / 1000) * (r - t)) / HOUR).toFixed(6)} ${r}`);
      energy += pw / 1000 / 60;
      hourW.push(pw);
      // Where raw readings exist, the minute's row is exactly what the CQ computes from them (last reading at t + 60 s − step).
      const n = t >= rawFrom ? Math.ceil(MIN / rawEveryMs) : 1;
      const last = t >= rawFrom ? e0 + (pw / 1000) * (((n - 1) * rawEveryMs) / HOUR) : energy;
      if (t >= minuteFrom) await w.m.add(rollupRow(p, t, Array<number>(n).fill(pw), e0, last));
    }
    await w.h.add(rollupRow(p, h, hourW, hourE0, energy));
  }
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node.js ${process.version}`;
}

interface Run {
  name: string;
  resolution: string;
  rate: number;
  achieved: number;
  p50: number;
  p99: number;
  max: number;
  n: number;
  failed: number;
  firstError?: string;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

function fromPaced(name: string, resolution: string, rate: number, r: PacedResult): Run {
  return {
    name,
    resolution,
    rate,
    achieved: round1(r.achievedPerS),
    p50: round1(r.latency.p50),
    p99: round1(r.latency.p99),
    max: round1(r.latency.max),
    n: r.sent,
    failed: r.failures,
    ...(r.firstError ? { firstError: r.firstError } : {}),
  };
}

/** Runs `fn` every 1000/rate ms for durationS in this process (the raw-window query through QueryService); latency from the due time. */
async function pacedLocal(fn: () => Promise<unknown>, rate: number, durationS: number): Promise<PacedResult> {
  const { total, elapsedS: elapsed, lat, failed: errors, firstError, q } = await runPacedLocal(fn, rate, durationS);
  const mean = lat.reduce((s, x) => s + x, 0) / Math.max(1, lat.length);
  return {
    sent: total,
    ok: lat.length,
    failures: errors,
    non2xx: 0,
    errors,
    ...(firstError ? { firstError } : {}),
    achievedPerS: lat.length / elapsed,
    latency: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat[lat.length - 1] ?? NaN, mean },
    sendLag: { p99: 0, max: 0 },
    maxInFlight: 0,
    connections: 0,
  };
}

export async function main(argv: string[]): Promise<void> {
  const o = parseArgs(argv);
  if (o.help) return void process.stdout.write(`${USAGE}\n`);
  const command = `node ${path.relative(process.cwd(), process.argv[1] ?? "dist/bench/query.js")} ${argv.join(" ")}`.trim();
  const minuteDays = Math.max(o.rawDays, Math.min(o.days, o.minuteDays ?? o.days));
  const end = Math.floor(Date.now() / DAY) * DAY; // today 00:00 UTC: whole UTC days (the registry has no building zone)
  const start = end - o.days * DAY;
  const rawFrom = end - o.rawDays * DAY;
  const plugs: DeviceEntry[] = Array.from({ length: o.plugs }, (_, p) => ({
    id: `p-${p}`,
    name: `p-${p}`,
    model: "HS110",
    host: "127.0.0.1",
    port: 30_000 + p,
    kind: "workplace",
    location: { building: "annex", floor: "1", room: `room-${Math.floor(p / 10)}` },
  }));
  const td = new Teardown();
  const https: InfluxHttp[] = [];
  try {
    // Rollups on in the API stack's influx config node; the synthetic plugs join its registry (no simulator behind them).
    // The shipped shape: the API and the query component on a plugwatch-mqtt connection (TCP_NODELAY); next to them, for
    // the side-by-side distinct run, a second API (CORE_BASE) and query node on the core mqtt-broker node (Nagle on).
    const coreRoot = "pwbench-core";
    const patch = (nodes: FlowNode[], stack: { port: number; kind: "mosquitto" | "aedes"; root: string }): FlowNode[] =>
      withConnection(withCorePath(tune(nodes), coreRoot), stack);
    const tune = (nodes: FlowNode[]): FlowNode[] =>
      nodes.map((n) => {
        if (n.id === "ix") return { ...n, rollups: true, timeout: 60_000 };
        // A year of 100 plugs can take seconds on a busy machine: measure it rather than answer 504.
        if (n.id === "q") return { ...n, timeout: 60_000 };
        if (n.type === "plugwatch-http-api") return { ...n, timeoutMs: 60_000 };
        if (n.id === "reg") {
          const doc = JSON.parse(String(n.json)) as { devices: DeviceEntry[] };
          return { ...n, json: JSON.stringify({ devices: [...doc.devices, ...plugs] }) };
        }
        return n;
      });
    const s = await startApiStack(td, "mosquitto", { flow: patch });
    // The config node has made plugwatch_raw the DEFAULT and created the rollup RPs (the CQ service is off in the harness).
    for (let i = 0; ; i++) {
      const r = await s.influxd.query(`SHOW RETENTION POLICIES ON ${DB}`);
      const rows = r.results[0]?.series?.[0]?.values ?? [];
      if (rows.some((v) => v[0] === TIER_RP.raw && v[4] === true) && rows.some((v) => v[0] === TIER_RP["1h"])) break;
      if (i > 200) throw new Error(`retention tiers not created: ${JSON.stringify(rows)}`);
      await new Promise((r2) => setTimeout(r2, 100));
    }
    const t = performance.now();
    const w = { h: new Writer(s.influxd.url, TIER_RP["1h"]), m: new Writer(s.influxd.url, TIER_RP["1m"]), raw: new Writer(s.influxd.url) };
    for (let p = 0; p < o.plugs; p++) await writePlug(p, start, end, end - minuteDays * DAY, rawFrom, o.rawIntervalS * 1000, w);
    // The API's devices: 25 h of 1-minute readings from yesterday 00:00 UTC, and their 1-minute rollup rows.
    const day = end - DAY;
    const apiIds = s.office.registryDevices() as DeviceEntry[];
    for (const [k, d] of apiIds.entries()) {
      const tags = `plug,building=${d.location.building},device=${d.id},floor=${d.location.floor},kind=${d.kind},room=${d.location.room}`;
      for (let i = 0; i < 1500; i++) {
        const ts = day + i * MIN;
        const pw = 20 + k + (i % 60);
        const e = (10 + i / 1000).toFixed(3);
        await w.raw.add(`${tags} power=${pw},energy=${e} ${ts}`);
        await w.m.add(`${tags} power_mean=${pw},power_min=${pw},power_max=${pw},energy_first=${e},energy_last=${e},energy_min=${e},energy_max=${e},n=1i ${ts}`);
      }
    }
    await Promise.all([w.h.flush(), w.m.flush(), w.raw.flush()]);
    const writeS = (performance.now() - t) / 1000;

    const auth = { authorization: `Bearer ${TOKENS.read}` };
    const iso = (ms: number): string => new Date(ms).toISOString();
    const energyPath = (from: number): string => `${BASE}/energy?calendar=day&groupBy=room&building=annex&from=${iso(from)}&to=${iso(end)}`;
    type Energy = Extract<QueryData, { type: "energy" }>;
    const getJson = async <T>(p: string): Promise<{ ms: number; body: T }> => {
      const t1 = performance.now();
      const r = await fetch(`${s.red.url}${p}`, { headers: auth }).catch((err: unknown) => {
        const cause = (err as { cause?: unknown }).cause;
        throw new Error(`GET ${p}: ${String(err)}${cause instanceof Error ? ` (${cause.message})` : ""}\n${s.red.logTail(20)}`);
      });
      const body = (await r.json()) as T;
      if (r.status !== 200) throw new Error(`GET ${p}: HTTP ${r.status} ${JSON.stringify(body).slice(0, 300)}`);
      return { ms: performance.now() - t1, body };
    };
    // The raw answer: the query component's own code with rollups off (the API always uses the tiers).
    const registry = buildRegistry({ devices: [...(s.office.registryDevices() as DeviceEntry[]), ...plugs] });
    const settings = { ...DEFAULT_SETTINGS, url: s.influxd.url, database: DB };
    const http = new InfluxHttp(settings);
    https.push(http);
    const rawService = new QueryService({ run: influxRunner({ settings, http }), registry: () => registry, rollups: NO_ROLLUPS });
    const rawQuery: EnergyQuery = { type: "energy", calendar: "day", groupBy: "room", target: { building: "annex" }, from: rawFrom, to: end };
    const median5 = async (fn: () => Promise<unknown>): Promise<number> => {
      const ms: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t1 = performance.now();
        await fn();
        ms.push(performance.now() - t1);
      }
      return round1(ms.sort((a, b) => a - b)[2] ?? NaN);
    };

    // The first year query in process (the query component's code, rollups on: cold caches, no API timeout).
    const slowSettings = { ...settings, timeoutMs: 120_000 };
    const slowHttp = new InfluxHttp(slowSettings);
    https.push(slowHttp);
    const yearService = new QueryService({
      run: influxRunner({ settings: slowSettings, http: slowHttp }),
      registry: () => registry,
      rollups: { enabled: true, retentionDays: { raw: 30, "1m": 730, "1h": 0 } },
    });
    const t2 = performance.now();
    const yearUncached = (await yearService.execute({ ...rawQuery, from: start })) as Energy;
    const yearFirstMs = round1(performance.now() - t2);
    process.stderr.write(`first year query in process (no day cache): ${yearFirstMs} ms\n`);
    // The first via the API fills the query component's day cache (cold); the next ones read only what it lacks.
    const year = await getJson<Energy>(energyPath(start));
    process.stderr.write(`first year query via API (day cache cold): ${round1(year.ms)} ms\n`);
    const yearWarm = await getJson<Energy>(energyPath(start));
    const rowsText = (rows: Energy["rows"]): string => JSON.stringify(rows.map((r) => [r.group, r.ts, r.kWh]));
    const sameYear = rowsText(year.body.rows) === rowsText(yearUncached.rows) && rowsText(yearWarm.body.rows) === rowsText(yearUncached.rows);
    if (!sameYear) throw new Error("year: the API's answer (day cache) differs from the uncached answer");
    const rawViaApi = await getJson<Energy>(energyPath(rawFrom));
    const raw = (await rawService.execute(rawQuery)) as Energy;
    const rawByKey = new Map(raw.rows.map((r) => [`${r.group}@${r.ts}`, r.kWh]));
    let maxDiff = 0;
    for (const r of rawViaApi.body.rows) maxDiff = Math.max(maxDiff, Math.abs(r.kWh - (rawByKey.get(`${r.group}@${r.ts}`) ?? NaN)));
    if (rawViaApi.body.rows.length !== raw.rows.length || !Number.isFinite(maxDiff))
      throw new Error(`raw window: API ${rawViaApi.body.rows.length} rows vs raw ${raw.rows.length} rows`);

    // Distinct ranges: every API device's 24 h of 1-minute means over windows shifted by 0…59 min (nothing in flight is identical).
    const windows = Array.from({ length: 60 }, (_, k) => day + k * MIN).flatMap((f) => apiIds.map((d) => ({ id: d.id, from: f, to: f + DAY })));
    const distinctPaths = windows.map(
      (x) => `${BASE}/devices/${x.id}/measurements?from=${iso(x.from)}&to=${iso(x.to)}&fields=power&aggregate=mean&interval=1m`,
    );
    const directPath = (text: string, params: Record<string, string>): string =>
      `/query?${new URLSearchParams({ db: DB, epoch: "ms", q: text, params: JSON.stringify(params) })}`;
    const rangeOf = (x: (typeof windows)[number]): RangeQuery => ({
      type: "range",
      target: { device: x.id },
      fields: ["power"],
      from: x.from,
      to: x.to,
      aggregate: "mean",
      interval: "1m",
    });
    const directTier = windows.map((x) => {
      // What plugwatch-influx-query sends for it (lib/influx/range-rollup.ts): yesterday's windows lie wholly in the 1-minute tier.
      const st = buildRollupRange(rangeOf(x), [x.id], "1m", x.from, x.to);
      return directPath(st.text, st.params);
    });
    const directRaw = windows.map((x) => {
      const st = buildRange(rangeOf(x), [x.id]);
      return directPath(st.text, st.params);
    });
    const sample = await getJson<{ resolution?: string; series: { points: unknown[] }[] }>(distinctPaths[0] ?? "");
    if (sample.body.series[0]?.points.length !== 1440) throw new Error(`distinct query check: ${JSON.stringify(sample.body).slice(0, 200)}`);
    const sampleCore = await getJson<unknown>((distinctPaths[0] ?? "").replace(BASE, CORE_BASE));
    if (JSON.stringify(sampleCore.body) !== JSON.stringify(sample.body)) throw new Error("distinct query check: the core-broker API answers differently");

    // The query component's own share of a warm year query: the same code with a day cache, in this process (no MQTT, no API).
    const cachedService = new QueryService({
      run: influxRunner({ settings: slowSettings, http: slowHttp }),
      registry: () => registry,
      rollups: { enabled: true, retentionDays: { raw: 30, "1m": 730, "1h": 0 } },
      dayCache: new DayEnergyCache({ now: Date.now }),
    });
    await cachedService.execute({ ...rawQuery, from: start });
    const single = {
      yearInProcessWarm: await median5(() => cachedService.execute({ ...rawQuery, from: start })),
      yearCold: round1(year.ms),
      year: await median5(() => getJson(energyPath(start))),
      rawLocal: await median5(() => rawService.execute(rawQuery)),
      rawApi: await median5(() => getJson(energyPath(rawFrom))),
    };
    const d = o.durationS;
    const runs: Run[] = [];
    const api = (name: string, resolution: string, rate: number, paths: string[]) =>
      pacedLoad({ url: s.red.url, paths, headers: auth, rate, durationS: d }).then((r) => fromPaced(name, resolution, rate, r));
    const direct = (name: string, resolution: string, rate: number, paths: string[]) =>
      pacedLoad({ url: s.influxd.url, paths, method: "POST", rate, durationS: d }).then((r) => fromPaced(name, resolution, rate, r));
    // A paced run only when one query fits in its slot several times over: else it only measures a queue growing for the whole run.
    const yearFits = single.year * o.yearRate < 2000;
    if (yearFits) runs.push(await api(`year: daily kWh per room, ${o.days} d, via API`, year.body.resolution ?? "?", o.yearRate, [energyPath(start)]));
    else
      process.stderr.write(
        `year run at ${o.yearRate} req/s skipped: one query takes ${single.year} ms (${round1(single.year * o.yearRate)} ms of work per second of schedule)\n`,
      );
    if (!o.yearOnly) {
      runs.push(await api(`raw window: ${o.rawDays} d via API`, rawViaApi.body.resolution ?? "?", o.yearRate, [energyPath(rawFrom)]));
      runs.push(
        fromPaced(`raw window: ${o.rawDays} d from raw (in process)`, "raw", o.rawRate, await pacedLocal(() => rawService.execute(rawQuery), o.rawRate, d)),
      );
      // Side by side: the same distinct queries through the core mqtt-broker node (Nagle on), then the shipped shape.
      const corePaths = distinctPaths.map((x) => x.replace(BASE, CORE_BASE));
      runs.push(await api("distinct via API, core mqtt-broker", sample.body.resolution ?? "?", o.distinctRate, corePaths));
      runs.push(await api("distinct 24 h 1m ranges via API", sample.body.resolution ?? "?", o.distinctRate, distinctPaths));
      runs.push(await direct("same statements direct to InfluxDB", "1m", o.distinctRate, directTier));
      runs.push(await direct("raw statements direct to InfluxDB", "raw", o.distinctRate, directRaw));
    }

    const info = {
      command,
      machine: machine(),
      date: new Date().toISOString(),
      loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    };
    if (o.json) {
      for (const r of runs) process.stdout.write(`${JSON.stringify({ ...info, ...r })}\n`);
      return;
    }
    const out = (l: string) => process.stdout.write(`${l}\n`);
    out(`command: ${info.command}`);
    out(`machine: ${info.machine}`);
    out(`date:    ${info.date}; load average at end ${info.loadAverage.join(", ")}`);
    out(
      `data:    ${o.plugs} plugs: ${w.h.n} 1-hour rows (${o.days} d), ${w.m.n} 1-minute rows (${minuteDays} d; includes the API devices' 6 × 1500), ` +
        `${w.raw.n} raw readings (${o.rawDays} d every ${o.rawIntervalS} s, and the API devices'), written in ${writeS.toFixed(1)} s`,
    );
    out(`first year query (in process, no day cache): ${yearFirstMs} ms; first via API (day cache cold): ${single.yearCold} ms`);
    out(`check:   year via API, cold and warm (day cache), identical to the uncached answer: ${sameYear ? "yes" : "NO"} (${yearUncached.rows.length} rows)`);
    out(
      `check:   ${o.rawDays} d via API (${rawViaApi.body.resolution}) vs raw: ${raw.rows.length} room-days, largest difference ${maxDiff.toExponential(2)} kWh`,
    );
    out(
      `one at a time (median of 5): year via API, warm ${single.year} ms (in process, warm: ${single.yearInProcessWarm} ms) (${year.body.rows.length} rows, ${year.body.resolution}); ` +
        `raw window from raw ${single.rawLocal} ms; via API ${single.rawApi} ms; per day of range: year ${round1(single.year / o.days)} ms, raw ${round1(single.rawLocal / o.rawDays)} ms`,
    );
    out("");
    out("| Run | Resolution | Paced | Achieved | p50 | p99 | max | Failed |");
    out("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of runs)
      out(
        `| ${r.name} | ${r.resolution} | ${r.rate}/s | ${r.achieved}/s | ${r.p50} ms | ${r.p99} ms | ${r.max} ms | ${r.failed}${r.firstError ? ` (${r.firstError})` : ""} |`,
      );
    const y = runs.find((r) => r.name.startsWith("year"));
    out("");
    out(
      y
        ? `year p99 ${y.p99} ms at ${o.yearRate} req/s (target ≤ 100 ms): ${y.p99 <= 100 ? "met" : "not met"}`
        : `year at ${o.yearRate} req/s: not run (one query takes ${single.year} ms; target p99 ≤ 100 ms not met)`,
    );
    const [dCore, dApi, dTier, dRaw] = runs.slice(-4);
    if (!o.yearOnly)
      out(
        `distinct p99 ${dApi?.p99} ms at ${o.distinctRate} req/s (target ≤ 50 ms or ≤ 1.5 × direct): ` +
          `${round1((dApi?.p99 ?? NaN) / Math.max(1, dTier?.p99 ?? NaN))} × the same statements direct, ${round1((dApi?.p99 ?? NaN) / Math.max(1, dRaw?.p99 ?? NaN))} × the raw statements direct; ` +
          `over the core mqtt-broker node p99 ${dCore?.p99} ms`,
      );
  } finally {
    for (const h of https) h.close();
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
