// Every query of the Grafana dashboards (grafana/dashboards/plugwatch.json, teleinfo.json), macros substituted, against the
// real influxd with demo data: plug readings of the demo office, and the Eco-Devices example's teleinfo/pulse-counter points
// made by the example flow's own mapping function from the simulated box's answers.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import type { GenericReading, Reading } from "../../lib/contracts";
import { encodePayload, LineEncoder } from "../../lib/influx/points";
import { buildRegistry } from "../../lib/registry";
import { SimulatedEcoDevices } from "../../scripts/sim/ecodevices";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { repoRoot } from "../../scripts/harness/nodered";
import { pipelineDevices } from "../../scripts/harness/pipeline";
import { TIER_RP } from "../../lib/influx/rollup-schema";
import { lastOf, member, nth } from "../support/checked";

const DB = "plugwatch";
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

interface Target {
  refId: string;
  query: string;
  rawQuery?: boolean;
  datasource?: { uid: string };
}
interface Panel {
  id: number;
  title: string;
  targets?: Target[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type?: string; query: string; allValue?: string; datasource?: { uid: string } }[] };
}

/** Grafana's InfluxQL macro substitution for one query (what Grafana sends for a time range, an interval and variable values). */
export function substitute(
  query: string,
  o: { from: number; to: number; intervalMs: number; vars: Record<string, string[] | "all">; text?: Record<string, string> },
): string {
  const interval = `${Math.round(o.intervalMs / 1000)}s`;
  let q = query
    .replace(/\$timeFilter/g, `time >= ${o.from}ms and time <= ${o.to}ms`)
    .replace(/\$\{__from\}|\$__from\b/g, String(o.from))
    .replace(/\$\{__to\}|\$__to\b/g, String(o.to))
    .replace(/\$__interval_ms/g, String(o.intervalMs))
    .replace(/\$__interval/g, interval)
    .replace(/\$interval/g, interval);
  // Textbox variables (a number such as the flat price) are inserted as typed.
  for (const [name, value] of Object.entries(o.text ?? {})) q = q.replace(new RegExp(`\\$${name}\\b|\\$\\{${name}\\}`, "g"), value);
  for (const [name, value] of Object.entries(o.vars)) {
    // Multi-value variables inside a regex: Grafana writes (a|b) with regex-escaped values; All = the allValue.
    const text = value === "all" ? ".*" : `(${value.map((v) => v.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")).join("|")})`;
    q = q.replace(new RegExp(`\\$${name}\\b|\\$\\{${name}\\}`, "g"), text);
  }
  return q;
}

/** Demo data: 2 days of 1-minute readings per device, energy integrated from power, one counter reset. */
function demoReadings(start: number, minutes: number): Reading[] {
  const out: Reading[] = [];
  const devices = pipelineDevices();
  devices.forEach((d, n) => {
    let energy = 10 + n;
    for (let i = 0; i < minutes; i++) {
      const ts = start + i * MIN;
      const base = d.kind === "printer" ? 8 : d.kind === "meeting-room" ? 40 : 90;
      const power = Math.round((base + 20 * n + 15 * Math.sin(i / 30)) * 10) / 10;
      if (d.id === "pr-2-01" && i === Math.floor(minutes / 2)) energy = 0; // the plug's counter restarted
      energy += (power / 1000) * (1 / 60);
      out.push({
        v: 1,
        device: d.id,
        ts,
        power,
        voltage: 230,
        current: Math.round((power / 230) * 1000) / 1000,
        energy: Math.round(energy * 1e6) / 1e6,
        relay: true,
      });
    }
  });
  return out;
}

/**
 * kWh the way the raw kWh panels define it: per device, the positive increases between consecutive readings in [from, to]
 * (a counter reset adds nothing), each counted at the later reading's time; `bucketMs` groups them (epoch-aligned).
 */
function rawIncreases(readings: Reading[], from: number, to: number, key: (r: Reading) => string, bucketMs = Infinity): Map<string, Map<number, number>> {
  const prev = new Map<string, number>();
  const out = new Map<string, Map<number, number>>();
  for (const r of readings) {
    if (r.ts < from || r.ts > to) continue;
    const p = prev.get(r.device);
    prev.set(r.device, r.energy);
    if (p === undefined) continue;
    const bucket = bucketMs === Infinity ? 0 : Math.floor(r.ts / bucketMs) * bucketMs;
    const m = out.get(key(r)) ?? new Map<number, number>();
    m.set(bucket, (m.get(bucket) ?? 0) + Math.max(0, r.energy - p));
    out.set(key(r), m);
  }
  return out;
}

function expectedKWh(readings: Reading[], from: number, to: number): number {
  return [
    ...(rawIncreases(readings, from, to, () => "all")
      .get("all")
      ?.values() ?? []),
  ].reduce((a, b) => a + b, 0);
}

/** 1-hour rollup rows of the demo readings, as the rollup worker writes them to plugwatch_1h (row time = hour start). */
interface RollupRow {
  device: string;
  room: string;
  kind: string;
  ts: number;
  first: number;
  last: number;
  mean: number;
  n: number;
}
function hourlyRollups(readings: Reading[]): RollupRow[] {
  const devices = new Map(pipelineDevices().map((d) => [d.id, d]));
  const rows = new Map<string, Reading[]>();
  for (const r of readings) {
    const k = `${r.device}|${Math.floor(r.ts / HOUR) * HOUR}`;
    rows.set(k, [...(rows.get(k) ?? []), r]);
  }
  return [...rows.entries()].map(([k, g]) => {
    const d = devices.get(nth(g, 0).device)!;
    return {
      device: d.id,
      room: d.location.room,
      kind: d.kind,
      ts: Number(k.split("|")[1]),
      first: nth(g, 0).energy,
      last: lastOf(g).energy,
      mean: g.reduce((a, r) => a + r.power, 0) / g.length,
      n: g.length,
    };
  });
}
const rollupLine = (r: RollupRow): string =>
  `plug,building=hq,device=${r.device},kind=${r.kind},room=${r.room} power_mean=${r.mean},energy_first=${r.first},energy_last=${r.last},n=${r.n}i ${r.ts}`;

/** kWh as the rollup panels define it: per device, increases of energy_last between rows plus the first row's own increase. */
function rollupIncreases(rows: RollupRow[], from: number, to: number, key: (r: RollupRow) => string, bucketMs = Infinity): Map<string, Map<number, number>> {
  const prev = new Map<string, number>();
  const out = new Map<string, Map<number, number>>();
  for (const r of [...rows].sort((a, b) => a.ts - b.ts)) {
    if (r.ts < from || r.ts > to) continue;
    const p = prev.get(r.device);
    prev.set(r.device, r.last);
    const bucket = bucketMs === Infinity ? 0 : Math.floor(r.ts / bucketMs) * bucketMs;
    const m = out.get(key(r)) ?? new Map<number, number>();
    m.set(bucket, (m.get(bucket) ?? 0) + (p === undefined ? r.last - r.first : Math.max(0, r.last - p)));
    out.set(key(r), m);
  }
  return out;
}

interface FlowNode {
  id: string;
  type: string;
  func?: string;
  env?: { name: string; value: string }[];
  measurement?: string;
  acceptUnknown?: boolean;
  wires?: string[][];
}

/**
 * The Eco-Devices example's mapping function (node `ecodev.map` of examples/ecodevices-teleinfo.json) as Node-RED runs
 * it: its own code, its tab's default environment, node context, and a clock the caller sets. It returns the readings
 * (output 1) that the example sends to plugwatch-influx-hook, so the demo points below are shaped exactly as the example stores them.
 */
function exampleMapping(): {
  env: Record<string, string>;
  hook: FlowNode;
  map: (now: number, msg: { statusCode: number; payload: unknown }) => GenericReading[];
} {
  const flow = JSON.parse(readFileSync(path.join(repoRoot(), "examples", "ecodevices-teleinfo.json"), "utf8")) as FlowNode[];
  const byId = (id: string): FlowNode => {
    const n = flow.find((x) => x.id === id);
    if (!n) throw new Error(`examples/ecodevices-teleinfo.json: no node ${id}`);
    return n;
  };
  const tab = byId("ecodev.tab");
  const mapNode = byId("ecodev.map");
  const hook = byId("ecodev.hook");
  assert.equal(hook.type, "plugwatch-influx-hook");
  assert.ok(mapNode.wires?.[0]?.includes(hook.id), "the example's readings output no longer feeds its plugwatch-influx-hook");
  const env = Object.fromEntries((tab.env ?? []).map((v) => [v.name, v.value]));
  const store = new Map<string, unknown>();
  let clock = 0;
  class FakeDate extends Date {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(clock);
      else super(...(args as [number]));
    }
    static override now(): number {
      return clock;
    }
  }
  const warnings: string[] = [];
  const ctx = vm.createContext({
    node: {
      status: () => undefined,
      warn: (w: unknown) => warnings.push(String(w)),
      error: (e: unknown) => {
        throw new Error(`ecodev.map: ${String(e)}`);
      },
      log: () => undefined,
    },
    context: { get: (k: string) => store.get(k), set: (k: string, v: unknown) => void store.set(k, v) },
    env: { get: (k: string) => env[k] },
    Date: FakeDate,
  });
  const fn = vm.runInContext(`(function (msg) {\n${mapNode.func}\n})`, ctx) as (msg: unknown) => unknown;
  return {
    env,
    hook,
    map(now, msg) {
      clock = now;
      const out = fn(msg) as unknown[] | null;
      assert.deepEqual(warnings, []);
      // A JSON copy, as MQTT or the runtime's message cloning would hand it on (and out of the sandbox's realm).
      return (JSON.parse(JSON.stringify(out?.[0] ?? [])) as { payload: GenericReading }[]).map((m) => m.payload);
    },
  };
}

/** Tariff period of the demo meter: off-peak 22:00–06:00 UTC, peak otherwise. */
const demoPtec = (ts: number): string => {
  const h = new Date(ts).getUTCHours();
  return h >= 22 || h < 6 ? "HC.." : "HP..";
};

/**
 * Teleinfo demo data: one poll a minute of the simulated box (scripts/sim/ecodevices.ts, on an injected clock, so its
 * BASE index integrates PAPP like a meter), each answer mapped by the example's own function. PAPP follows the tariff
 * period; at `resetAt` the meter is replaced and its BASE index restarts at 1000 Wh; the pulse counters count up.
 */
async function teleinfoReadings(
  start: number,
  minutes: number,
  resetAt: number,
): Promise<{ readings: GenericReading[]; env: Record<string, string>; hook: FlowNode }> {
  let clock = start;
  const sim = await SimulatedEcoDevices.start({ now: () => clock });
  try {
    const { env, hook, map } = exampleMapping();
    const readings: GenericReading[] = [];
    for (let i = 0; i < minutes; i++) {
      clock = start + i * MIN;
      const ptec = demoPtec(clock);
      const papp = Math.round(ptec === "HC.." ? 900 + 300 * Math.sin(i / 20) : 2400 + 800 * Math.sin(i / 45));
      sim.set({
        T1_PTEC: ptec,
        T1_PAPP: papp,
        INDEX_C1: sim.values.INDEX_C1 + (i % 7 === 0 ? 3 : 0),
        INDEX_C2: Math.round((sim.values.INDEX_C2 + 0.004) * 1000) / 1000,
      });
      if (clock === resetAt) sim.set({ T1_BASE: 1000 });
      readings.push(...map(clock, { statusCode: 200, payload: sim.snapshot() }));
    }
    return { readings, env, hook };
  } finally {
    await sim.stop();
  }
}

/** Per (device, UTC day): the sum of the positive steps between hourly last() values of a field, as the dashboard computes it. */
function dailyIncrease(points: { device: string; ts: number; value: number }[], from: number, to: number): Map<string, Map<number, number>> {
  const hourly = new Map<string, Map<number, number>>();
  for (const p of points) {
    if (p.ts < from || p.ts > to) continue;
    const hours = hourly.get(p.device) ?? new Map<number, number>();
    hours.set(Math.floor(p.ts / HOUR) * HOUR, p.value); // points are in time order: the last one wins
    hourly.set(p.device, hours);
  }
  const out = new Map<string, Map<number, number>>();
  for (const [device, hours] of hourly) {
    const days = new Map<number, number>();
    const sorted = [...hours.entries()].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      const [t, v] = nth(sorted, i);
      const day = Math.floor(t / DAY) * DAY;
      days.set(day, (days.get(day) ?? 0) + Math.max(0, v - nth(sorted, i - 1)[1]));
    }
    out.set(device, days);
  }
  return out;
}

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)) + 1e-9, `${what}: panel says ${actual}, data says ${expected}`);

/** The dashboards provisioned from grafana/dashboards/ (every JSON file there). */
const DASHBOARD_FILES = ["plugwatch.json", "teleinfo.json"];
const loadDashboard = (file: string) => JSON.parse(readFileSync(path.join(repoRoot(), "grafana", "dashboards", file), "utf8")) as Dashboard;
/** The textbox variables of a dashboard at their saved values (what Grafana inserts before the user types another). */
const textVars = (d: Dashboard): Record<string, string> =>
  Object.fromEntries(
    d.templating.list.filter((v) => v.type === "textbox").map((v) => [v.name, (v as { current?: { value?: string } }).current?.value ?? v.query]),
  );
const queryVars = (d: Dashboard) => d.templating.list.filter((v) => v.type !== "textbox");

type Series = { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] };

describe("Grafana dashboard queries against the real influxd (grafana/dashboards/*.json)", function () {
  this.timeout(60000);
  let influxd: InfluxdInstance;
  let dashboard: Dashboard;
  let readings: Reading[];
  let rollups: RollupRow[];
  let teleinfo: { readings: GenericReading[]; env: Record<string, string>; hook: FlowNode };
  // Off midnight UTC, so the range always holds a whole day's index difference besides the day of the meter reset.
  const minute = Math.floor(Date.now() / MIN) * MIN;
  const to = minute % DAY === 0 ? minute - MIN : minute;
  const from = to - 48 * HOUR;
  const meterResetAt = from + 30 * HOUR + 17 * MIN;

  const run = async (q: string): Promise<Series[]> => {
    const r = await influxd.query(q, DB);
    if (r.error) throw new Error(`${r.error}\n${q}`);
    const first = r.results[0];
    if (first?.error) throw new Error(`${first.error}\n${q}`);
    return first?.series ?? [];
  };
  const queries = (d: Dashboard) => d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t })));
  const nonEmptyRows = (series: Series[]) => series.flatMap((s) => s.values.filter((row) => row.slice(1).some((v) => v !== null)));

  before(async function () {
    dashboard = loadDashboard("plugwatch.json");
    influxd = await startInfluxd();
    await influxd.query(`CREATE DATABASE ${DB}`);
    readings = demoReadings(from, 48 * 60);
    const encoder = new LineEncoder(buildRegistry({ version: 1, devices: pipelineDevices() }));
    const { lines, errors } = encodePayload(encoder, readings);
    assert.deepEqual(errors, []);
    for (let i = 0; i < lines.length; i += 5000) await influxd.write(DB, lines.slice(i, i + 5000).join("\n"));
    // The 1-hour rollups of the same readings, in the retention policy the rollup worker keeps them in.
    await influxd.query(`CREATE RETENTION POLICY ${TIER_RP["1h"]} ON ${DB} DURATION INF REPLICATION 1`);
    rollups = hourlyRollups(readings);
    const w = await fetch(`${influxd.url}/write?db=${DB}&rp=${TIER_RP["1h"]}&precision=ms`, { method: "POST", body: rollups.map(rollupLine).join("\n") });
    assert.equal(w.status, 204, await w.text());
    // The example's points, encoded as its plugwatch-influx-hook does (same measurement default, no registry, unknown devices accepted).
    teleinfo = await teleinfoReadings(from, 48 * 60, meterResetAt);
    const hookEncoder = new LineEncoder(undefined, { measurement: teleinfo.hook.measurement, acceptUnknown: teleinfo.hook.acceptUnknown });
    const encoded = encodePayload(hookEncoder, teleinfo.readings);
    assert.deepEqual(encoded.errors, []);
    for (let i = 0; i < encoded.lines.length; i += 5000) await influxd.write(DB, encoded.lines.slice(i, i + 5000).join("\n"));
  });
  after(async function () {
    await influxd?.destroy();
  });

  it("grafana/dashboards/ holds exactly the tested dashboards, with unique uids", function () {
    const files = readdirSync(path.join(repoRoot(), "grafana", "dashboards")).filter((f) => f.endsWith(".json"));
    assert.deepEqual(files.sort(), [...DASHBOARD_FILES].sort());
    const uids = DASHBOARD_FILES.map((f) => (loadDashboard(f) as unknown as { uid: string }).uid);
    assert.equal(new Set(uids).size, uids.length, `uids ${uids.join(", ")}`);
  });

  it("every panel of every dashboard has raw InfluxQL targets on the provisioned datasource", function () {
    const provisioning = readFileSync(path.join(repoRoot(), "grafana", "provisioning", "datasources", "plugwatch-influxdb.yml"), "utf8");
    const uid = /uid:\s*(\S+)/.exec(provisioning)?.[1];
    assert.equal(uid, "plugwatch-influx");
    assert.match(provisioning, /type:\s*influxdb/);
    for (const file of DASHBOARD_FILES) {
      const d = loadDashboard(file);
      assert.ok(d.panels.length >= 6, file);
      assert.equal(new Set(d.panels.map((p) => p.id)).size, d.panels.length, `${file}: panel ids are not unique`);
      for (const p of d.panels) {
        assert.ok((p.targets ?? []).length > 0, `${file}: panel '${p.title}' has no query`);
        for (const t of p.targets ?? []) {
          assert.equal(t.rawQuery, true, `${file}: panel '${p.title}'`);
          assert.equal(t.datasource?.uid, uid, `${file}: panel '${p.title}'`);
        }
      }
      for (const v of queryVars(d)) assert.equal(v.datasource?.uid, uid, `${file}: variable ${v.name}`);
      // A textbox variable is a number typed by the user (the flat price), never a query.
      for (const v of d.templating.list.filter((x) => x.type === "textbox")) assert.match(v.query, /^\d+(\.\d+)?$/, `${file}: variable ${v.name}`);
    }
  });

  describe("plugwatch.json (office plugs)", function () {
    it("the template variables' queries list the demo devices, rooms and kinds", async function () {
      const want: Record<string, string[]> = {
        device: pipelineDevices().map((d) => d.id),
        room: [...new Set(pipelineDevices().map((d) => d.location.room))],
        kind: [...new Set(pipelineDevices().map((d) => d.kind))],
      };
      for (const v of queryVars(dashboard)) {
        const series = await run(v.query);
        const values = (series[0]?.values ?? []).map((row) => String(row[1]));
        assert.deepEqual(values.sort(), (want[v.name] ?? ["?"]).sort(), `variable ${v.name}`);
      }
    });

    for (const [label, vars] of [
      ["All selected", { device: "all", room: "all", kind: "all" }],
      ["one device per variable", { device: ["ws-1-01", "pr-2-01"], room: "all", kind: "all" }],
      ["a room and a kind", { device: "all", room: ["open-space-1"], kind: ["workplace"] }],
    ] as const) {
      it(`every panel query returns rows (${label})`, async function () {
        for (const { panel, target } of queries(dashboard)) {
          const q = substitute(target.query, { from, to, intervalMs: 5 * MIN, vars: vars as Record<string, string[] | "all">, text: textVars(dashboard) });
          assert.doesNotMatch(q.replace(/\$\//g, "/"), /\$[A-Za-z_{]/, `unsubstituted macro in panel '${panel.title}': ${q}`);
          const series = await run(q);
          const rows = series.flatMap((s) => s.values.filter((row) => row.slice(1).some((v) => v !== null)));
          assert.ok(rows.length > 0, `panel '${panel.title}' (${target.refId}) returned no rows:\n${q}`);
          if (Array.isArray(vars.device)) {
            for (const s of series)
              if (s.tags?.device) assert.ok((vars.device as readonly string[]).includes(s.tags.device), `panel '${panel.title}' leaked ${s.tags.device}`);
          }
        }
      });
    }

    it("the energy panel equals the kWh of the demo data, counter reset included", async function () {
      const panel = dashboard.panels.find((p) => /Energy in range/.test(p.title))!;
      const q = substitute(nth(panel.targets!, 0).query, { from, to, intervalMs: 5 * MIN, vars: { device: "all", room: "all", kind: "all" } });
      const series = await run(q);
      const kWh = Number(series[0]?.values[0]?.[1]);
      const expected = expectedKWh(readings, from, to);
      assert.ok(expected > 1, `expected some energy, got ${expected}`);
      assert.ok(Math.abs(kWh - expected) < 1e-6 * Math.max(1, expected) + 1e-3, `panel says ${kWh} kWh, data says ${expected} kWh`);
    });

    it("the cost panels are the kWh panels × the flat price variable (0.25 saved, another typed), nothing more", async function () {
      assert.deepEqual(textVars(dashboard), { price_per_kwh: "0.25" });
      const vars = { device: "all", room: "all", kind: "all" } as const;
      for (const price of [0.25, 0.1734]) {
        const text = { price_per_kwh: String(price) };
        const stat = dashboard.panels.find((p) => p.title === "Energy cost in range (flat price estimate)")!;
        const total = await run(substitute(nth(stat.targets!, 0).query, { from, to, intervalMs: 5 * MIN, vars, text }));
        close(Number(total[0]?.values[0]?.[1]), expectedKWh(readings, from, to) * price, `cost in range at ${price}`);
        const perDay = dashboard.panels.find((p) => p.title === "Energy cost per room per day (flat price estimate)")!;
        const series = await run(substitute(nth(perDay.targets!, 0).query, { from, to, intervalMs: 5 * MIN, vars, text }));
        const got = new Map(series.map((x) => [x.tags?.room ?? "", new Map((x.values as [number, number][]).map(([t, v]) => [t, v]))]));
        const want = rawIncreases(readings, from, to, (r) => pipelineDevices().find((d) => d.id === r.device)!.location.room, DAY);
        assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
        for (const [room, days] of want)
          for (const [t, kWh] of days) close(got.get(room)!.get(t)!, kWh * price, `${room} on ${new Date(t).toISOString()} at ${price}`);
      }
    });

    const all = { device: "all", room: "all", kind: "all" } as const;
    const panelOf = (title: string): Panel => {
      const p = dashboard.panels.find((x) => x.title === title);
      assert.ok(p, `no panel '${title}'`);
      return p;
    };
    const ask = (title: string, range: { from: number; to: number }, intervalMs = 5 * MIN) =>
      run(substitute(nth(panelOf(title).targets!, 0).query, { ...range, intervalMs, vars: { ...all } }));
    const perTag = (series: Series[], tag: string) =>
      new Map(series.map((s) => [s.tags?.[tag] ?? "", new Map((s.values as [number, number][]).map(([t, v]) => [t, v]))]));

    it("the kWh panels show energy from the first minute of data (two readings), not after two hourly buckets", async function () {
      const range = { from, to: from + 2 * MIN };
      const expected = expectedKWh(readings, range.from, range.to);
      assert.ok(expected > 0, `expected some energy, got ${expected}`);
      close(Number((await ask("Energy in range (kWh)", range))[0]?.values[0]?.[1]), expected, "energy in range after two minutes");
      const day = perTag(await ask("kWh per room per day", range), "room");
      const want = rawIncreases(readings, range.from, range.to, (r) => pipelineDevices().find((d) => d.id === r.device)!.location.room, DAY);
      assert.deepEqual([...day.keys()].sort(), [...want.keys()].sort());
      for (const [room, days] of want) for (const [t, kWh] of days) close(day.get(room)!.get(t)!, kWh, `${room} on ${new Date(t).toISOString()}`);
    });

    it("the kWh per day panels keep the first bucket: every day of the range, the first one counted from its first reading", async function () {
      for (const [title, tag, keyOf] of [
        ["kWh per room per day", "room", (id: string) => pipelineDevices().find((d) => d.id === id)!.location.room],
        ["kWh per kind per day", "kind", (id: string) => pipelineDevices().find((d) => d.id === id)!.kind],
      ] as const) {
        const got = perTag(await ask(title, { from, to }), tag);
        const want = rawIncreases(readings, from, to, (r) => keyOf(r.device), DAY);
        assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), title);
        for (const [k, days] of want) {
          assert.deepEqual([...got.get(k)!.keys()].sort(), [...days.keys()].sort(), `${title}: days of ${k}`);
          for (const [t, kWh] of days) close(got.get(k)!.get(t)!, kWh, `${title}: ${k} on ${new Date(t).toISOString()}`);
        }
        // The first day holds the energy from the first reading of the range (the old hourly query dropped its first hour).
        const firstDay = Math.floor(from / DAY) * DAY;
        const sumFirst = [...got.values()].reduce((a, m) => a + (m.get(firstDay) ?? 0), 0);
        close(sumFirst, expectedKWh(readings, from, Math.min(to, firstDay + DAY - 1)), `${title}: first day`);
      }
    });

    it("the long-range panels read the 1-hour rollups: kWh with the first hour kept, per day, and weighted mean power", async function () {
      const total = Number((await ask("Energy in range (kWh, 1-hour rollups)", { from, to }))[0]?.values[0]?.[1]);
      const want = [
        ...rollupIncreases(rollups, from, to, () => "all")
          .get("all")!
          .values(),
      ].reduce((a, b) => a + b, 0);
      close(total, want, "energy in range from rollups");
      // Away from the counter reset the rollups agree with the readings: the energy between the first and the last rollup hour.
      const firstHour = Math.ceil(from / HOUR) * HOUR;
      const lastHour = Math.floor(to / HOUR) * HOUR;
      const clean = rollups.filter((r) => r.device !== "pr-2-01");
      const fromReadings = readings.filter((r) => r.device !== "pr-2-01" && r.ts >= firstHour && r.ts < lastHour + HOUR);
      close(
        [
          ...rollupIncreases(clean, from, to, () => "all")
            .get("all")!
            .values(),
        ].reduce((a, b) => a + b, 0),
        expectedKWh(fromReadings, firstHour, lastHour + HOUR),
        "rollup kWh of the plugs without a reset",
      );
      for (const [title, tag] of [
        ["kWh per room per day (1-hour rollups)", "room"],
        ["kWh per kind per day (1-hour rollups)", "kind"],
      ] as const) {
        const got = perTag(await ask(title, { from, to }), tag);
        const expected = rollupIncreases(rollups, from, to, (r) => r[tag], DAY);
        assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), title);
        for (const [k, days] of expected) for (const [t, kWh] of days) close(got.get(k)!.get(t)!, kWh, `${title}: ${k} on ${new Date(t).toISOString()}`);
      }
      const power = perTag(await ask("Mean power per room (1-hour rollups)", { from, to }, HOUR), "room");
      for (const room of new Set(rollups.map((r) => r.room))) {
        for (const hour of [firstHour, firstHour + 5 * HOUR, lastHour - HOUR]) {
          const means = pipelineDevices()
            .filter((d) => d.location.room === room)
            .map((d) => readings.filter((r) => r.device === d.id && r.ts >= hour && r.ts < hour + HOUR).map((r) => r.power))
            .filter((ps) => ps.length > 0)
            .map((ps) => ps.reduce((a, b) => a + b, 0) / ps.length);
          close(
            power.get(room)!.get(hour)!,
            means.reduce((a, b) => a + b, 0),
            `${room} mean power at ${new Date(hour).toISOString()}`,
          );
        }
      }
    });
  });

  describe("teleinfo.json (the Eco-Devices example's meter and pulse counters)", function () {
    let board: Dashboard;
    const meter = () => member(teleinfo.env, "TELEINFO_T1_DEVICE");
    const counters = () => member(teleinfo.env, "ECODEVICES_COUNTERS_DEVICE");
    const panel = (title: RegExp): Panel => {
      const p = board.panels.find((x) => title.test(x.title));
      assert.ok(p, `no panel ${title}`);
      return p;
    };
    const panelSeries = (title: RegExp, vars: Record<string, string[] | "all"> = { meter: "all", counters: "all" }) =>
      run(substitute(nth(panel(title).targets!, 0).query, { from, to, intervalMs: 5 * MIN, vars }));
    const meterPoints = () => teleinfo.readings.filter((r) => r.measurement === "teleinfo");
    const counterPoints = () => teleinfo.readings.filter((r) => r.measurement === "pulse_counter");
    before(function () {
      board = loadDashboard("teleinfo.json");
    });

    it("the demo points are the example's: measurements, fields and tags as plugwatch-influx-hook stores them", async function () {
      assert.equal(meterPoints().length, 48 * 60);
      assert.equal(counterPoints().length, 48 * 60);
      const keys = await run(`SHOW TAG KEYS FROM "teleinfo"`);
      assert.deepEqual(
        keys[0]?.values.map((r) => r[0]),
        ["building", "device", "floor", "option", "period", "ptec", "room", "source"],
      );
      const fields = await run(`SHOW FIELD KEYS FROM "teleinfo"`);
      assert.deepEqual(fields[0]?.values, [
        ["base", "float"],
        ["papp", "float"],
      ]);
      const c = await run(`SHOW FIELD KEYS FROM "pulse_counter"`);
      assert.deepEqual(c[0]?.values, [
        ["c1", "float"],
        ["c2", "float"],
      ]);
      const [building, floor, room] = member(teleinfo.env, "ECODEVICES_LOCATION").split("/");
      const last = await run(
        `SELECT last("papp") FROM "teleinfo" WHERE "device" = '${meter()}' AND "building" = '${building}' AND "floor" = '${floor}' AND "room" = '${room}' AND "source" = 'eco-devices'`,
      );
      assert.equal(last[0]?.values[0]?.[1], meterPoints().at(-1)!.fields.papp);
    });

    it("the variables list the example's meter and counters device", async function () {
      const want: Record<string, string[]> = { meter: [meter()], counters: [counters()] };
      assert.deepEqual(board.templating.list.map((v) => v.name).sort(), Object.keys(want).sort());
      for (const v of board.templating.list) {
        const series = await run(v.query);
        assert.deepEqual(
          (series[0]?.values ?? []).map((row) => String(row[1])),
          want[v.name],
          `variable ${v.name}`,
        );
      }
    });

    for (const [label, vars] of [
      ["All selected", { meter: "all", counters: "all" }],
      ["the example's devices selected", "example"],
    ] as const) {
      it(`every panel query returns rows (${label})`, async function () {
        const values = vars === "example" ? { meter: [meter()], counters: [counters()] } : vars;
        for (const { panel: p, target } of queries(board)) {
          const q = substitute(target.query, { from, to, intervalMs: 5 * MIN, vars: values });
          assert.doesNotMatch(q.replace(/\$\//g, "/"), /\$[A-Za-z_{]/, `unsubstituted macro in panel '${p.title}': ${q}`);
          assert.ok(nonEmptyRows(await run(q)).length > 0, `panel '${p.title}' (${target.refId}) returned no rows:\n${q}`);
        }
      });
    }

    it("a meter that is not selected is not shown", async function () {
      for (const { panel: p, target } of queries(board)) {
        const q = substitute(target.query, { from, to, intervalMs: 5 * MIN, vars: { meter: ["other-meter"], counters: ["other-counters"] } });
        assert.deepEqual(nonEmptyRows(await run(q)), [], `panel '${p.title}'`);
      }
    });

    it("apparent power: one series per tariff period, each bucket the mean PAPP of that period's polls", async function () {
      const series = await panelSeries(/^Apparent power per tariff/);
      assert.deepEqual(series.map((s) => `${s.tags?.device} ${s.tags?.ptec}`).sort(), [`${meter()} HC..`, `${meter()} HP..`]);
      let buckets = 0;
      for (const s of series) {
        for (const [t, v] of s.values as [number | string, number | null][]) {
          const start = new Date(t).getTime();
          const polls = meterPoints().filter((r) => r.ts >= start && r.ts < start + 5 * MIN && r.tags?.ptec === s.tags?.ptec);
          if (polls.length === 0) {
            assert.equal(v, null, `${s.tags?.ptec} at ${new Date(start).toISOString()}`);
            continue;
          }
          buckets++;
          close(v!, polls.reduce((a, r) => a + (r.fields.papp as number), 0) / polls.length, `${s.tags?.ptec} at ${new Date(start).toISOString()}`);
        }
      }
      assert.ok(buckets >= 48 * 12 - 2, `only ${buckets} buckets with values`);
    });

    it("energy per day equals the BASE index difference per day, the meter reset adding nothing", async function () {
      const base = meterPoints().map((r) => ({ device: r.device, ts: r.ts, value: r.fields.base as number }));
      const expected = dailyIncrease(base, from, to).get(meter())!;
      const series = await panelSeries(/^Energy per day/);
      assert.equal(series.length, 1);
      const got = new Map((nth(series, 0).values as [string, number][]).map(([t, v]) => [new Date(t).getTime(), v]));
      assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort());
      for (const [day, wh] of expected) close(got.get(day)!, wh / 1000, `kWh of ${new Date(day).toISOString().slice(0, 10)}`);
      // A day without the reset whose previous day is in range: exactly the index at its end (or at the range's end)
      // minus the index at the previous day's end.
      const lastBefore = (t: number) => base.filter((p) => p.ts < t).at(-1)!.value;
      const resetDay = Math.floor(meterResetAt / DAY) * DAY;
      const clean = [...expected.keys()].filter((d) => d > from && d !== resetDay);
      assert.ok(clean.length >= 1, "no day without the reset in the demo range");
      for (const day of clean)
        close(
          got.get(day)!,
          (lastBefore(Math.min(day + DAY, to + 1)) - lastBefore(day)) / 1000,
          `index difference of ${new Date(day).toISOString().slice(0, 10)}`,
        );
      // The reset day counts the meter's consumption before and after the replacement, never the negative step.
      const resetKWh = got.get(resetDay)!;
      assert.ok(resetKWh > 0 && resetKWh < 100, `reset day: ${resetKWh} kWh`);
      const stat = await panelSeries(/^Energy in range/);
      close(Number(stat[0]?.values[0]?.[1]), [...expected.values()].reduce((a, b) => a + b, 0) / 1000, "energy in range");
    });

    it("the stats show the latest PAPP and BASE index", async function () {
      const last = meterPoints().at(-1)!;
      assert.equal((await panelSeries(/^Apparent power now/))[0]?.values[0]?.[1], last.fields.papp);
      close(Number((await panelSeries(/^BASE index/))[0]?.values[0]?.[1]), (last.fields.base as number) / 1000, "BASE index");
    });

    it("the pulse counters: their index, and their increase per day", async function () {
      const idx = await panelSeries(/^Pulse counters \(index\)/);
      const last = counterPoints().at(-1)!;
      assert.deepEqual(idx[0]?.columns, ["time", "C1", "C2"]);
      assert.deepEqual(idx[0]?.values.at(-1)?.slice(1), [last.fields.c1, last.fields.c2]);
      const perDay = await panelSeries(/^Pulse counters per day/);
      assert.equal(perDay[0]?.tags?.device, counters());
      for (const [n, field] of [
        [1, "c1"],
        [2, "c2"],
      ] as const) {
        const expected = dailyIncrease(
          counterPoints().map((r) => ({ device: r.device, ts: r.ts, value: r.fields[field] as number })),
          from,
          to,
        ).get(counters())!;
        const got = new Map((nth(perDay, 0).values as [string, number, number][]).map((row) => [new Date(row[0]).getTime(), row[n]]));
        assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort());
        for (const [day, v] of expected)
          assert.ok(Math.abs(got.get(day)! - v) < 1e-6, `${field} on ${new Date(day).toISOString().slice(0, 10)}: ${got.get(day)} vs ${v}`);
      }
    });
  });
});
