// Every query of the Grafana dashboard (grafana/dashboards/plugwatch.json), macros substituted, against the real influxd with demo data.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { Reading } from "../../lib/contracts";
import { encodePayload, LineEncoder } from "../../lib/influx/points";
import { buildRegistry } from "../../lib/registry";
import { startInfluxd, type InfluxdInstance } from "../support/influxd";
import { repoRoot } from "../support/nodered";
import { pipelineDevices } from "../support/pipeline";

const DB = "plugwatch";
const MIN = 60_000;
const HOUR = 60 * MIN;

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
  templating: { list: { name: string; query: string; allValue?: string; datasource?: { uid: string } }[] };
}

/** Grafana's InfluxQL macro substitution for one query (what Grafana sends for a time range, an interval and variable values). */
export function substitute(query: string, o: { from: number; to: number; intervalMs: number; vars: Record<string, string[] | "all"> }): string {
  const interval = `${Math.round(o.intervalMs / 1000)}s`;
  let q = query
    .replace(/\$timeFilter/g, `time >= ${o.from}ms and time <= ${o.to}ms`)
    .replace(/\$__interval_ms/g, String(o.intervalMs))
    .replace(/\$__interval/g, interval)
    .replace(/\$interval/g, interval);
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
      out.push({ v: 1, device: d.id, ts, power, voltage: 230, current: Math.round((power / 230) * 1000) / 1000, energy: Math.round(energy * 1e6) / 1e6, relay: true });
    }
  });
  return out;
}

/** kWh the way the dashboard defines it: sum of positive increases between hourly last() values, per device. */
function expectedKWh(readings: Reading[], from: number, to: number): number {
  const lastPerHour = new Map<string, Map<number, number>>();
  for (const r of readings) {
    if (r.ts < from || r.ts > to) continue;
    const hours = lastPerHour.get(r.device) ?? new Map<number, number>();
    hours.set(Math.floor(r.ts / HOUR), r.energy); // readings are in time order: the last one wins
    lastPerHour.set(r.device, hours);
  }
  let total = 0;
  for (const hours of lastPerHour.values()) {
    const values = [...hours.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
    for (let i = 1; i < values.length; i++) total += Math.max(0, values[i]! - values[i - 1]!);
  }
  return total;
}

type Series = { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] };

describe("Grafana dashboard queries against the real influxd (grafana/dashboards/plugwatch.json)", function () {
  this.timeout(60000);
  let influxd: InfluxdInstance;
  let dashboard: Dashboard;
  let readings: Reading[];
  const to = Math.floor(Date.now() / MIN) * MIN;
  const from = to - 48 * HOUR;

  const run = async (q: string): Promise<Series[]> => {
    const r = await influxd.query(q, DB);
    if (r.error) throw new Error(`${r.error}\n${q}`);
    const first = r.results[0];
    if (first?.error) throw new Error(`${first.error}\n${q}`);
    return first?.series ?? [];
  };
  const queries = () => dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t })));

  before(async function () {
    dashboard = JSON.parse(readFileSync(path.join(repoRoot(), "grafana", "dashboards", "plugwatch.json"), "utf8")) as Dashboard;
    influxd = await startInfluxd();
    await influxd.query(`CREATE DATABASE ${DB}`);
    readings = demoReadings(from, 48 * 60);
    const encoder = new LineEncoder(buildRegistry({ version: 1, devices: pipelineDevices() }));
    const { lines, errors } = encodePayload(encoder, readings);
    assert.deepEqual(errors, []);
    for (let i = 0; i < lines.length; i += 5000) await influxd.write(DB, lines.slice(i, i + 5000).join("\n"));
  });
  after(async function () {
    await influxd?.destroy();
  });

  it("every panel has raw InfluxQL targets on the provisioned datasource", function () {
    const provisioning = readFileSync(path.join(repoRoot(), "grafana", "provisioning", "datasources", "plugwatch-influxdb.yml"), "utf8");
    const uid = /uid:\s*(\S+)/.exec(provisioning)?.[1];
    assert.equal(uid, "plugwatch-influx");
    assert.match(provisioning, /type:\s*influxdb/);
    assert.ok(dashboard.panels.length >= 6);
    for (const p of dashboard.panels) {
      assert.ok((p.targets ?? []).length > 0, `panel '${p.title}' has no query`);
      for (const t of p.targets ?? []) {
        assert.equal(t.rawQuery, true, `panel '${p.title}'`);
        assert.equal(t.datasource?.uid, uid, `panel '${p.title}'`);
      }
    }
  });

  it("the template variables' queries list the demo devices, rooms and kinds", async function () {
    const want: Record<string, string[]> = {
      device: pipelineDevices().map((d) => d.id),
      room: [...new Set(pipelineDevices().map((d) => d.location.room))],
      kind: [...new Set(pipelineDevices().map((d) => d.kind))],
    };
    for (const v of dashboard.templating.list) {
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
      for (const { panel, target } of queries()) {
        const q = substitute(target.query, { from, to, intervalMs: 5 * MIN, vars: vars as Record<string, string[] | "all"> });
        assert.doesNotMatch(q.replace(/\$\//g, "/"), /\$[A-Za-z_{]/, `unsubstituted macro in panel '${panel.title}': ${q}`);
        const series = await run(q);
        const rows = series.flatMap((s) => s.values.filter((row) => row.slice(1).some((v) => v !== null)));
        assert.ok(rows.length > 0, `panel '${panel.title}' (${target.refId}) returned no rows:\n${q}`);
        if (Array.isArray(vars.device)) {
          for (const s of series) if (s.tags?.device) assert.ok((vars.device as readonly string[]).includes(s.tags.device), `panel '${panel.title}' leaked ${s.tags.device}`);
        }
      }
    });
  }

  it("the energy panel equals the kWh of the demo data, counter reset included", async function () {
    const panel = dashboard.panels.find((p) => /Energy in range/.test(p.title))!;
    const q = substitute(panel.targets![0]!.query, { from, to, intervalMs: 5 * MIN, vars: { device: "all", room: "all", kind: "all" } });
    const series = await run(q);
    const kWh = Number(series[0]?.values[0]?.[1]);
    const expected = expectedKWh(readings, from, to);
    assert.ok(expected > 1, `expected some energy, got ${expected}`);
    assert.ok(Math.abs(kWh - expected) < 1e-6 * Math.max(1, expected) + 1e-3, `panel says ${kWh} kWh, data says ${expected} kWh`);
  });
});
