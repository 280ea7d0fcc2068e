// Fleet benchmark (a program, not a test): the shipped flow in a real Node-RED runtime with a big registry, most of it dead.
//
// 10 000 registered devices by default: 10 % simulated HS110s (scripts/simulate-office.js in a child process, TCP on
// loopback), 45 % refusing (127.3.x.y:9999, nothing listens: the kernel answers RST at once) and 45 % silent
// (10.232.x.y, routed into a network namespace behind a veth pair whose far end has no such address and no forwarding:
// every SYN is dropped, the poll times out). Real Mosquitto and influxd; the shipped flow (flows/plugwatch.json) is
// deployed as is, only its ${ENV} values are set. Measured: the runtime's event-loop delay (monitorEventLoopDelay,
// loaded with --require bench/fleet-probe.js), its CPU and RSS, the MQTT connection (disconnects in the Node-RED and
// Mosquitto logs), the readings of the reachable devices per cycle (a subscriber on the broker), and /health latency.
// Needs root for `ip netns` (or --silent listener: a TCP listener that accepts and never answers).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import mqtt from "mqtt";
import { itemAt } from "../lib/arrays";
import type { DeviceEntry, DeviceKind } from "../lib/contracts/device";
import { flowEnv } from "../scripts/services/flow-env";
import { startInfluxd } from "../scripts/harness/influxd";
import { startMosquitto } from "../scripts/harness/mosquitto";
import { startNodeRed } from "../scripts/harness/nodered";
import { shippedFlow, PIPELINE_TOKEN } from "../scripts/harness/pipeline";
import { freePort } from "../scripts/harness/ports";
import { Teardown } from "../scripts/harness/services";

export const USAGE = `usage: node dist/bench/fleet.js [options]   (root for the network namespace)

  --devices <n>          registered devices (default 10000, the registry's maximum)
  --reachable <pct>      share answered by simulated plugs, % (default 10)
  --silent <pct>         share of the unreachable ones that are silent hosts (timeouts); the rest refuse (default 50)
  --silent-mode <m>      netns (default: dropped SYNs behind a veth) or listener (accepts, never answers)
  --interval-s <s>       PLUGWATCH_POLL_INTERVAL (default 10)
  --duration-s <s>       measured time (default 1800)
  --warmup-s <s>         unmeasured start (default 60)
  --report-s <s>         one table row per this many seconds (default 60)
  --json                 JSON lines instead of the table
  -h, --help             this text`;

export interface FleetOptions {
  devices: number;
  reachablePct: number;
  silentPct: number;
  silentMode: "netns" | "listener";
  intervalS: number;
  durationS: number;
  warmupS: number;
  reportS: number;
  json: boolean;
  help: boolean;
}

function num(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min || n > max) throw new Error(`${name} needs a number from ${min} to ${max}, got '${v ?? ""}'`);
  return n;
}

export function parseArgs(argv: readonly string[]): FleetOptions {
  const o: FleetOptions = {
    devices: 10_000,
    reachablePct: 10,
    silentPct: 50,
    silentMode: "netns",
    intervalS: 10,
    durationS: 1800,
    warmupS: 60,
    reportS: 60,
    json: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = itemAt(argv, i);
    const v = argv[i + 1];
    const take = (min: number, max: number) => (i++, num(a, v, min, max));
    if (a === "--devices") o.devices = Math.round(take(1, 10_000));
    else if (a === "--reachable") o.reachablePct = take(0, 100);
    else if (a === "--silent") o.silentPct = take(0, 100);
    else if (a === "--silent-mode") {
      if (v !== "netns" && v !== "listener") throw new Error(`--silent-mode needs netns or listener, got '${v ?? ""}'`);
      o.silentMode = v;
      i++;
    } else if (a === "--interval-s") o.intervalS = take(0.2, 3600);
    else if (a === "--duration-s") o.durationS = take(1, 24 * 3600);
    else if (a === "--warmup-s") o.warmupS = take(0, 3600);
    else if (a === "--report-s") o.reportS = take(1, 3600);
    else if (a === "--json") o.json = true;
    else if (a === "-h" || a === "--help") o.help = true;
    else throw new Error(`unknown option '${a}'`);
  }
  return o;
}

const NS = "pwfleet";
const SILENT_NET = "10.232"; // /16 routed into the namespace
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function ip(args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/** A namespace at the end of a veth pair; 10.232.0.0/16 is routed there and dropped (no address, no forwarding). */
function silentNetwork(td: Teardown): void {
  spawnSync("ip", ["netns", "del", NS]);
  spawnSync("ip", ["link", "del", "pwfleet0"]);
  ip(["netns", "add", NS]);
  td.add(NS, () => void spawnSync("ip", ["netns", "del", NS]));
  ip(["link", "add", "pwfleet0", "type", "veth", "peer", "name", "pwfleet1"]);
  td.add("pwfleet0", () => void spawnSync("ip", ["link", "del", "pwfleet0"]));
  ip(["link", "set", "pwfleet1", "netns", NS]);
  ip(["addr", "add", "10.231.0.1/30", "dev", "pwfleet0"]);
  ip(["link", "set", "pwfleet0", "up"]);
  ip(["-n", NS, "addr", "add", "10.231.0.2/30", "dev", "pwfleet1"]);
  ip(["-n", NS, "link", "set", "pwfleet1", "up"]);
  ip(["route", "add", `${SILENT_NET}.0.0/16`, "via", "10.231.0.2"]);
}

/** A listener that accepts every connection and never answers (the other kind of silent plug). */
async function mutedListener(td: Teardown): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    s.resume();
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "0.0.0.0", r));
  td.add(server, (srv) => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => srv.close(() => r()));
  });
  return port;
}

async function startOffice(n: number): Promise<{ child: ChildProcess; devices: { id: string; host: string; port: number; kind: DeviceKind }[] }> {
  const script = path.join(__dirname, "..", "scripts", "simulate-office.js");
  const child = spawn(process.execPath, [script, "--generate", String(n), "--tick", "1000"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  const devices: { id: string; host: string; port: number; kind: DeviceKind }[] = [];
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`simulated office exited with ${code}: ${stderr}`)));
    lines.on("line", (line) => {
      const [, id, host, port, kind] = /^(\S+) ([\d.]+):(\d+) (\S+)$/.exec(line) ?? [];
      if (id === undefined || host === undefined || port === undefined || kind === undefined) return;
      devices.push({ id, host, port: Number(port), kind: kind as DeviceKind });
      if (devices.length === n) resolve();
    });
  });
  child.removeAllListeners("exit");
  return { child, devices };
}

/** utime + stime of a process in ms (Linux /proc). */
function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

interface ProbeLine {
  ts: number;
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  cpuMs: number;
  rssBytes: number;
}

export interface FleetRow {
  /** Seconds since the measured window began (end of this row's period). */
  t: number;
  loopP99Ms: number;
  loopMaxMs: number;
  cpuPercent: number;
  rssMiB: number;
  /** Readings received from reachable devices / expected (one per device per interval), and the missed share. */
  readings: number;
  expected: number;
  missedPercent: number;
  /** Reachable devices with no reading in the period at all. */
  silentReachable: number;
  mqttDrops: number;
  healthP50Ms: number;
  healthMaxMs: number;
  healthStatus: string;
  simCpuPercent: number;
}

const pct = (sorted: number[], p: number) =>
  sorted.length ? itemAt(sorted, Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))) : 0;
const r1 = (v: number) => Math.round(v * 10) / 10;

export async function run(o: FleetOptions, out: (line: string) => void): Promise<FleetRow[]> {
  const td = new Teardown();
  const rows: FleetRow[] = [];
  try {
    const tmp = td.add(mkdtempSync(path.join(os.tmpdir(), "plugwatch-fleet-")), (d) => rmSync(d, { recursive: true, force: true }));
    const nReach = Math.round((o.devices * o.reachablePct) / 100);
    const nDead = o.devices - nReach;
    const nSilent = Math.round((nDead * o.silentPct) / 100);
    const office = await startOffice(nReach);
    td.add(office.child, (c) => void c.kill("SIGTERM"));
    let silentPort = 9999;
    if (nSilent > 0) {
      if (o.silentMode === "netns") silentNetwork(td);
      else silentPort = await mutedListener(td);
    }
    // Interleaved so every stretch of the registry (and of the poll phases) has each kind: r r … then d d … per 100.
    const entries: DeviceEntry[] = [];
    let r = 0;
    let s = 0;
    let f = 0;
    const loc = (i: number) => ({ building: "fleet", floor: String(Math.floor(i / 1000)), room: `room-${Math.floor(i / 50)}` });
    for (let i = 0; i < o.devices; i++) {
      const wantReach = r < nReach && (i * nReach) / o.devices >= r;
      const base = { name: `fleet ${i}`, model: "HS110" as const, location: loc(i) };
      if (wantReach) {
        const d = office.devices[r++];
        if (!d) throw new Error(`the simulated office has ${office.devices.length} plugs, fewer than the reachable entries`);
        entries.push({ ...base, id: `fr-${i}`, host: d.host, port: d.port, kind: d.kind });
      } else if (Math.floor(((s + f + 1) * nSilent) / nDead) > Math.floor(((s + f) * nSilent) / nDead)) {
        const host = o.silentMode === "netns" ? `${SILENT_NET}.${Math.floor(s / 250)}.${(s % 250) + 1}` : `127.4.${Math.floor(s / 250)}.${(s % 250) + 1}`;
        s++;
        entries.push({ ...base, id: `fs-${i}`, host, port: silentPort, kind: "workplace" });
      } else {
        entries.push({ ...base, id: `fx-${i}`, host: `127.3.${Math.floor(f / 250)}.${(f % 250) + 1}`, port: 9999, kind: "workplace" });
        f++;
      }
    }
    const reachIds = new Set(entries.filter((e) => e.id.startsWith("fr-")).map((e) => e.id));
    const registryFile = path.join(tmp, "registry.json");
    writeFileSync(registryFile, JSON.stringify({ version: 1, measurements: ["teleinfo"], devices: entries }));

    const mosq = td.add(await startMosquitto(), (m) => m.stop());
    const influxd = td.add(await startInfluxd(), (i) => i.destroy());
    const probeFile = path.join(tmp, "probe.jsonl");
    writeFileSync(probeFile, "");
    const env = {
      ...flowEnv({
        PLUGWATCH_REGISTRY: registryFile,
        PLUGWATCH_MQTT_HOST: "127.0.0.1",
        PLUGWATCH_MQTT_PORT: String(mosq.port),
        PLUGWATCH_BROKER_PORT: String(await freePort()),
        PLUGWATCH_POLL_INTERVAL: String(o.intervalS),
        PLUGWATCH_INFLUX_URL: influxd.url,
        PLUGWATCH_INFLUX_RPC: influxd.rpcAddress,
        PLUGWATCH_API_TOKENS: `${PIPELINE_TOKEN} read,control`,
      }),
      // PLUGWATCH_FLEET_NODE_OPTIONS adds options for the runtime, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
      NODE_OPTIONS: `--require ${path.join(__dirname, "fleet-probe.js")} ${process.env.PLUGWATCH_FLEET_NODE_OPTIONS ?? ""}`.trim(),
      PLUGWATCH_FLEET_PROBE: probeFile,
      PLUGWATCH_FLEET_PROBE_MS: "10000",
      ...(process.env.PLUGWATCH_FLEET_PROFILE ? { PLUGWATCH_FLEET_PROFILE: process.env.PLUGWATCH_FLEET_PROFILE } : {}),
      ...(process.env.PLUGWATCH_FLEET_PROFILE_AT_MS ? { PLUGWATCH_FLEET_PROFILE_AT_MS: process.env.PLUGWATCH_FLEET_PROFILE_AT_MS } : {}),
    };
    const red = td.add(await startNodeRed({ env, timeoutMs: 240_000 }), (x) => x.stop());

    // The subscriber: arrival times of readings per reachable device.
    const counts = new Map<string, number>();
    const sub = td.add(await mqtt.connectAsync(`mqtt://127.0.0.1:${mosq.port}`, { protocolVersion: 4 }), (c) => c.endAsync(true));
    await sub.subscribeAsync("plugwatch/+/+/+/+/reading", { qos: 0 });
    sub.on("message", (topic) => {
      const id = topic.split("/")[4];
      if (id !== undefined && reachIds.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
    });

    await red.deploy(shippedFlow());
    const t0Deploy = Date.now();
    out(`deployed: ${o.devices} devices (${nReach} simulated, ${nDead - nSilent} refusing, ${nSilent} silent: ${o.silentMode}), interval ${o.intervalS} s`);

    // /health every 10 s in the background.
    const health: { ms: number; status: string }[] = [];
    let stopHealth = false;
    const healthLoop = (async () => {
      while (!stopHealth) {
        const t = performance.now();
        let status = "error";
        try {
          const res = await fetch(`${red.url}/api/v1/health`, { signal: AbortSignal.timeout(60_000) });
          status = ((await res.json()) as { status?: string }).status ?? String(res.status);
        } catch (err) {
          status = (err as Error).name;
        }
        health.push({ ms: performance.now() - t, status });
        await sleep(10_000);
      }
    })();

    const drops = () => (red.log().match(/Disconnected from broker/gi) ?? []).length + (mosq.logTail(100_000).match(/exceeded timeout/gi) ?? []).length;
    const lastProbe = (): ProbeLine | undefined => {
      const lines = readFileSync(probeFile, "utf8").trim().split("\n").filter(Boolean);
      const last = lines.at(-1);
      return last === undefined ? undefined : (JSON.parse(last) as ProbeLine);
    };
    const probesSince = (ts: number): ProbeLine[] =>
      readFileSync(probeFile, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ProbeLine)
        .filter((p) => p.ts > ts);

    const take = () => {
      const m = new Map(counts);
      counts.clear();
      return m;
    };
    // Warm-up, then the measured rows; a first row covers start-up (from deploy) so its cost is visible too.
    await sleep(o.warmupS * 1000);
    const warm = take();
    const warmProbes = probesSince(t0Deploy);
    out(
      `start-up (${o.warmupS} s after deploy): ${[...warm.values()].reduce((a, b) => a + b, 0)} readings from ${warm.size}/${nReach} reachable; loop p99 max ${Math.max(0, ...warmProbes.map((p) => p.loopP99Ms))} ms, loop max ${Math.max(0, ...warmProbes.map((p) => p.loopMaxMs))} ms; MQTT drops ${drops()}`,
    );
    health.length = 0;
    const start = Date.now();
    let periodStart = start;
    let cpu0 = lastProbe()?.cpuMs ?? 0;
    let sim0 = procCpuMs(office.child.pid);
    if (!o.json) {
      out(
        "| t (s) | loop p99 (max) | Node-RED CPU | RSS | readings / expected | missed | reachable silent | MQTT drops | /health p50 / max (status) | simulator CPU |",
      );
      out("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    }
    while (Date.now() - start < o.durationS * 1000) {
      await sleep(Math.min(o.reportS * 1000, start + o.durationS * 1000 - Date.now()));
      const now = Date.now();
      const got = take();
      const expected = Math.floor(((now - periodStart) / 1000 / o.intervalS) * nReach);
      let readings = 0;
      let missed = 0;
      const perDevice = (now - periodStart) / 1000 / o.intervalS;
      for (const id of reachIds) {
        const n = got.get(id) ?? 0;
        readings += n;
        missed += Math.max(0, Math.floor(perDevice) - n);
      }
      const probes = probesSince(periodStart);
      const cpuNow = probes.at(-1)?.cpuMs ?? cpu0;
      const simNow = procCpuMs(office.child.pid);
      const hs = health.splice(0);
      const hms = hs.map((h) => h.ms).sort((a, b) => a - b);
      const statuses = [...new Set(hs.map((h) => h.status))].join(",");
      const row: FleetRow = {
        t: Math.round((now - start) / 1000),
        loopP99Ms: Math.max(0, ...probes.map((p) => p.loopP99Ms)),
        loopMaxMs: Math.max(0, ...probes.map((p) => p.loopMaxMs)),
        cpuPercent: r1(((cpuNow - cpu0) / (now - periodStart)) * 100),
        rssMiB: r1((probes.at(-1)?.rssBytes ?? 0) / 2 ** 20),
        readings,
        expected,
        missedPercent: r1(expected > 0 ? (missed * 100) / (Math.floor(perDevice) * nReach) : 0),
        silentReachable: [...reachIds].filter((id) => !got.has(id)).length,
        mqttDrops: drops(),
        healthP50Ms: Math.round(pct(hms, 50)),
        healthMaxMs: Math.round(hms.at(-1) ?? 0),
        healthStatus: statuses,
        simCpuPercent: r1(((simNow - sim0) / (now - periodStart)) * 100),
      };
      rows.push(row);
      out(
        o.json
          ? JSON.stringify(row)
          : `| ${row.t} | ${row.loopP99Ms} (${row.loopMaxMs}) ms | ${row.cpuPercent} % | ${row.rssMiB} MiB | ${row.readings} / ${row.expected} | ${row.missedPercent} % | ${row.silentReachable} | ${row.mqttDrops} | ${row.healthP50Ms} / ${row.healthMaxMs} ms (${row.healthStatus}) | ${row.simCpuPercent} % |`,
      );
      periodStart = now;
      cpu0 = cpuNow;
      sim0 = simNow;
    }
    stopHealth = true;
    await healthLoop;
    const warnLines = red
      .log()
      .split("\n")
      .filter((l) => /\[warn\]|\[error\]/.test(l));
    out(`Node-RED warn/error log lines: ${warnLines.length}; last: ${warnLines.at(-1)?.slice(0, 240) ?? "none"}`);
    if (existsSync(probeFile)) {
      const all = probesSince(start);
      const p99s = all.map((p) => p.loopP99Ms).sort((a, b) => a - b);
      out(
        `whole window: loop p99 per 10 s — median ${pct(p99s, 50)} ms, worst ${p99s.at(-1) ?? 0} ms; loop max ${Math.max(0, ...all.map((p) => p.loopMaxMs))} ms; final RSS ${r1((all.at(-1)?.rssBytes ?? 0) / 2 ** 20)} MiB`,
      );
    }
    return rows;
  } finally {
    await td.run();
  }
}

export function machine(): string {
  const c = os.cpus();
  return `${c.length} × ${c[0]?.model ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node.js ${process.version}`;
}

async function main(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv);
  if (o.help) return void process.stdout.write(`${USAGE}\n`);
  const out = (l: string) => process.stdout.write(`${l}\n`);
  const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);
  out(`command: node ${path.relative(process.cwd(), process.argv[1] ?? "dist/bench/fleet.js")} ${argv.join(" ")}`.trim());
  out(`machine: ${machine()}\ndate:    ${new Date().toISOString()}\nload average at start: ${load().join(", ")}`);
  await run(o, out);
  out(`load average at end: ${load().join(", ")}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench/fleet: ${(err as Error).stack ?? String(err)}\n\n${USAGE}\n`);
      process.exit(1);
    },
  );
}
