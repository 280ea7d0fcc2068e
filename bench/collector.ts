// Collector benchmark (a program, not a test): N simulated HS110s polled by the real Poller + PlugClient; prints the figures.
//
// The simulated plugs run in a child process (scripts/simulate-office.js --generate N), so the CPU and RSS printed
// for the collector are the collector's own. Each reading goes through toReading + the Reading schema check, as in
// the plugwatch-collector node. Usage: node dist/bench/collector.js [--plugs 100,500,1000] [--interval-ms 1000]
// [--duration-s 20] [--warmup-s 3] [--concurrency 64] [--timeout-ms 3000] [--no-keep-alive] [--protocol legacy,klap,tapo]
// [--rounds 1] [--json]. Several protocols run interleaved (legacy, klap, tapo, legacy, …) so foreign load on a shared
// machine hits them alike; the summary compares the collector's CPU per successful poll with legacy's.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import type { Device, DeviceKind } from "../lib/contracts/device";
import { itemAt } from "../lib/arrays";
import { Reading } from "../lib/contracts/reading";
import { validate } from "../lib/contracts/validate";
import { toReading } from "../lib/plug-client";
import { PlugTransports } from "../lib/transports/plug-transports";
import { Poller, type PollerStats } from "../lib/poller";

export const USAGE = `usage: node dist/bench/collector.js [options]

  --plugs <n,n,…>       plug counts to run, one after the other (default 100,500,1000)
  --interval-ms <ms>    poll interval per plug (default 1000)
  --duration-s <s>      measured window per run (default 20)
  --warmup-s <s>        unmeasured start-up before the window (default 3)
  --concurrency <n>     polls in flight at most (default 64, the node's default)
  --timeout-ms <ms>     per-request socket timeout (default 3000, the node's default)
  --no-keep-alive       one TCP connection per poll (tplink-smarthome-api) instead of the node's keep-alive sockets
  --protocol <p,p,…>    legacy (HS110, TCP 9999 protocol), klap (HS110 hw 4 over KLAP) or tapo (P110 over KLAP); default
                        legacy; several run interleaved, each with its own simulated office and its own client
  --rounds <n>          repeat the protocol sequence n times (default 1), e.g. legacy klap tapo legacy klap tapo
  --json                one JSON object per run instead of the table
  -h, --help            this text`;

type Protocol = "legacy" | "klap" | "tapo";

export interface BenchOptions {
  plugs: number[];
  intervalMs: number;
  durationS: number;
  warmupS: number;
  concurrency: number;
  timeoutMs: number;
  keepAlive: boolean;
  protocol: Protocol;
  protocols: Protocol[];
  rounds: number;
  json: boolean;
  help: boolean;
}

function intArg(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min || n > max) throw new Error(`${name} needs an integer from ${min} to ${max}, got '${v ?? ""}'`);
  return n;
}

/** The integer options: flag → option field, smallest and largest value. */
const INT_OPTIONS = new Map<string, readonly [IntOption, number, number]>([
  ["--interval-ms", ["intervalMs", 50, 3_600_000]],
  ["--duration-s", ["durationS", 1, 3600]],
  ["--warmup-s", ["warmupS", 0, 600]],
  ["--concurrency", ["concurrency", 1, 10_000]],
  ["--timeout-ms", ["timeoutMs", 10, 60_000]],
  ["--rounds", ["rounds", 1, 100]],
]);
type IntOption = "intervalMs" | "durationS" | "warmupS" | "concurrency" | "timeoutMs" | "rounds";

export function parseArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    plugs: [100, 500, 1000],
    intervalMs: 1000,
    durationS: 20,
    warmupS: 3,
    concurrency: 64,
    timeoutMs: 3000,
    keepAlive: true,
    protocol: "legacy",
    protocols: ["legacy"],
    rounds: 1,
    json: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = itemAt(argv, i);
    const v = argv[i + 1];
    const int = INT_OPTIONS.get(a);
    if (int) {
      const [field, min, max] = int;
      o[field] = intArg(a, v, min, max);
      i++;
      continue;
    }
    switch (a) {
      case "--plugs":
        o.plugs = (v ?? "").split(",").map((x) => intArg(a, x.trim(), 1, 10_000));
        i++;
        break;
      case "--no-keep-alive":
        o.keepAlive = false;
        break;
      case "--protocol": {
        const list = (v ?? "").split(",").map((x) => x.trim());
        for (const p of list) if (p !== "legacy" && p !== "klap" && p !== "tapo") throw new Error(`--protocol needs legacy, klap or tapo, got '${p}'`);
        o.protocols = list as Protocol[];
        o.protocol = itemAt(o.protocols, 0); // split() gives at least one (checked) item
        i++;
        break;
      }
      case "--json":
        o.json = true;
        break;
      case "-h":
      case "--help":
        o.help = true;
        break;
      default:
        throw new Error(`unknown option '${a}'`);
    }
  }
  return o;
}

export interface RunResult {
  plugs: number;
  intervalMs: number;
  concurrency: number;
  keepAlive: boolean;
  protocol: string;
  /** KLAP only: mean wall time of one handshake (handshake1 + handshake2) and the collector CPU it costs, ms. */
  handshakeMs?: number;
  handshakeCpuMs?: number;
  /** KLAP only: mean wall time of a poll that has to renew its session first (handshake + request), ms. */
  renewalPollMs?: number;
  windowS: number;
  /** Plugs polled per second (successful polls). */
  okPerSecond: number;
  /** What N plugs at the interval should give. */
  targetPerSecond: number;
  missedPercent: number;
  failedPercent: number;
  failures: Record<string, number>;
  invalidReadings: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Longest poll in the window, ms. */
  latencyMaxMs: number;
  /** Fewest readings completed in any whole second of the window (stalls show here). */
  worstSecond: number;
  lagP99Ms: number;
  eventLoopP99Ms: number;
  /** Collector process CPU, % of one core. */
  cpuPercent: number;
  /** Collector CPU per successful poll, µs (fair across runs that completed different numbers of polls). */
  cpuUsPerPoll: number;
  /** Simulator child CPU, % of one core (tells whether the simulated office was the bottleneck). */
  simCpuPercent: number;
  rssMiB: number;
  peakRssMiB: number;
}

/** utime + stime of a process in ms (Linux /proc; 0 elsewhere). */
function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts `n` simulated plugs in a child process; resolves with the child and the devices it listens for. */
async function startOffice(n: number, protocol: BenchOptions["protocol"] = "legacy"): Promise<{ child: ChildProcess; devices: Device[] }> {
  const script = path.join(__dirname, "..", "scripts", "simulate-office.js");
  const child = spawn(process.execPath, [script, "--generate", String(n), "--generate-protocol", protocol, "--tick", "1000"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  const devices: Device[] = [];
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => reject(new Error(`simulated office: ${why}\n${stderr}`));
    child.once("exit", (code) => fail(`exited with ${code} after ${devices.length} of ${n} plugs`));
    lines.on("line", (line) => {
      const m = /^(\S+) ([\d.]+):(\d+) (\S+)$/.exec(line);
      if (!m) return;
      const [, id, host, port, kind] = m as unknown as [string, string, string, string, DeviceKind];
      const d: Device = {
        id,
        name: id,
        model: protocol === "tapo" ? "P110" : "HS110",
        host,
        port: Number(port),
        kind,
        location: { building: "sim", floor: "1", room: "bench" },
      };
      if (protocol !== "legacy") d.protocol = protocol;
      devices.push(d);
      if (devices.length === n) resolve();
    });
  });
  child.removeAllListeners("exit");
  return { child, devices };
}

async function stopOffice(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(killer);
}

export async function runOnce(n: number, o: BenchOptions): Promise<RunResult> {
  const { child, devices } = await startOffice(n, o.protocol);
  try {
    // The collector's transport layer (blank credentials: the generated KLAP plugs are never bound to an account).
    const client = new PlugTransports({ timeoutMs: o.timeoutMs, keepAlive: o.keepAlive });
    const klapCost = o.protocol === "legacy" ? undefined : await measureKlap(client, itemAt(devices, 0));
    const failures: Record<string, number> = {};
    let invalid = 0;
    let windowStart = Number.POSITIVE_INFINITY;
    let maxLatency = 0;
    const perSecond: number[] = [];
    const poller = new Poller<Device>({
      devices,
      poll: (d) => client.poll(d, o.timeoutMs),
      intervalMs: o.intervalMs,
      timeoutMs: o.timeoutMs + 500,
      concurrency: o.concurrency,
      statsIntervalMs: 0,
      on: {
        reading: (d, sample, ts, latencyMs) => {
          if (ts >= windowStart) {
            const k = Math.floor((ts - windowStart) / 1000);
            perSecond[k] = (perSecond[k] ?? 0) + 1;
            if (latencyMs > maxLatency) maxLatency = latencyMs;
          }
          if (!validate(Reading, toReading(d, sample, Math.round(ts))).ok) invalid++;
        },
        error: (_d, f) => {
          failures[f.code] = (failures[f.code] ?? 0) + 1;
        },
      },
    });
    poller.start();
    await sleep(o.warmupS * 1000);
    for (const k of Object.keys(failures)) delete failures[k];
    invalid = 0;
    poller.stats(true);
    const eld = monitorEventLoopDelay({ resolution: 10 });
    eld.enable();
    const cpu0 = process.cpuUsage();
    const sim0 = procCpuMs(child.pid);
    const t0 = performance.now();
    windowStart = Date.now();
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
    await sleep(o.durationS * 1000);
    const s: PollerStats = poller.stats(true);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const simMs = procCpuMs(child.pid) - sim0;
    clearInterval(sampler);
    eld.disable();
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    await poller.stop();
    client.close();
    const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
    return {
      plugs: n,
      intervalMs: o.intervalMs,
      concurrency: o.concurrency,
      keepAlive: o.keepAlive,
      protocol: o.protocol,
      ...(klapCost ?? {}),
      windowS: round(wallMs / 1000, 2),
      okPerSecond: round((s.ok * 1000) / wallMs),
      targetPerSecond: round((n * 1000) / o.intervalMs),
      missedPercent: round(s.missedPercent, 2),
      failedPercent: round(s.polls > 0 ? (s.failed * 100) / s.polls : 0, 2),
      failures,
      invalidReadings: invalid,
      latencyP50Ms: round(s.latencyP50Ms),
      latencyP99Ms: round(s.latencyP99Ms),
      latencyMaxMs: round(maxLatency),
      worstSecond: Math.min(...Array.from({ length: Math.floor(wallMs / 1000) }, (_, i) => perSecond[i] ?? 0)),
      lagP99Ms: round(s.lagP99Ms),
      eventLoopP99Ms: round(eld.percentile(99) / 1e6),
      cpuPercent: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
      cpuUsPerPoll: round(s.ok > 0 ? (cpu.user + cpu.system) / s.ok : 0),
      simCpuPercent: round((simMs / wallMs) * 100),
      rssMiB: round(rss / 2 ** 20),
      peakRssMiB: round(peakRss / 2 ** 20),
    };
  } finally {
    await stopOffice(child);
  }
}

/** Mean cost of a KLAP handshake and of a poll that renews its session, on one plug, before the run (50 of each). */
async function measureKlap(client: PlugTransports, d: Device): Promise<{ handshakeMs: number; handshakeCpuMs: number; renewalPollMs: number }> {
  await client.poll(d);
  const t = client.klapTransport(d);
  if (!t) throw new Error("no KLAP transport after the first poll");
  const N = 50;
  const cpu0 = process.cpuUsage();
  let w0 = performance.now();
  for (let i = 0; i < N; i++) {
    t.reset();
    await t.handshakeNow();
  }
  const hsWall = (performance.now() - w0) / N;
  const cpu = process.cpuUsage(cpu0);
  w0 = performance.now();
  for (let i = 0; i < N; i++) {
    t.reset();
    await client.poll(d);
  }
  const renewal = (performance.now() - w0) / N;
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return { handshakeMs: r2(hsWall), handshakeCpuMs: r2((cpu.user + cpu.system) / 1000 / N), renewalPollMs: r2(renewal) };
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node.js ${process.version}`;
}

const HEADER =
  "| protocol | plugs | interval | polled/s (target) | missed cycles | failed polls | p50 / p99 / max latency | worst second | p99 start lag | p99 loop delay | collector CPU | CPU per poll | simulator CPU | RSS (peak) |";
const RULE = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

export function row(r: RunResult): string {
  return `| ${r.protocol} | ${r.plugs} | ${r.intervalMs} ms | ${r.okPerSecond} (${r.targetPerSecond}) | ${r.missedPercent} % | ${r.failedPercent} % | ${r.latencyP50Ms} / ${r.latencyP99Ms} / ${r.latencyMaxMs} ms | ${r.worstSecond} | ${r.lagP99Ms} ms | ${r.eventLoopP99Ms} ms | ${r.cpuPercent} % | ${r.cpuUsPerPoll} µs | ${r.simCpuPercent} % | ${r.rssMiB} MiB (${r.peakRssMiB}) |`;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  const hi = s[m] ?? NaN; // NaN for no value, as before
  return s.length % 2 ? hi : ((s[m - 1] ?? NaN) + hi) / 2;
};

/** Per plug count and protocol: median collector CPU per poll and its ratio to legacy's (the issue's "≤ 2× legacy"). */
export function summary(results: RunResult[]): string[] {
  const lines: string[] = [];
  for (const n of [...new Set(results.map((r) => r.plugs))]) {
    const at = results.filter((r) => r.plugs === n);
    const legacy = at.filter((r) => r.protocol === "legacy").map((r) => r.cpuUsPerPoll);
    for (const p of [...new Set(at.map((r) => r.protocol))]) {
      const runs = at.filter((r) => r.protocol === p);
      const us = median(runs.map((r) => r.cpuUsPerPoll));
      const pct = Math.round(median(runs.map((r) => r.cpuPercent)) * 10) / 10;
      const ratio = legacy.length && p !== "legacy" ? `, ${Math.round((us / median(legacy)) * 100) / 100}× legacy per poll` : "";
      lines.push(
        `${p} ×${n}: median of ${runs.length} run(s) ${Math.round(us * 10) / 10} µs CPU per poll, ${pct} % of one core, missed ${runs.map((r) => `${r.missedPercent} %`).join(" / ")}${ratio}`,
      );
    }
  }
  return lines;
}

async function main(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv);
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = `node ${path.relative(process.cwd(), process.argv[1] ?? "dist/bench/collector.js")} ${argv.join(" ")}`.trim();
  const info = { command, machine: machine(), date: new Date().toISOString(), loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100) };
  if (!o.json) {
    process.stdout.write(
      `protocols: ${o.protocols.join(", ")} × ${o.rounds} round(s), interleaved; connections: ${o.keepAlive ? "keep-alive, one per plug" : "one per poll (tplink-smarthome-api)"}; concurrency ${o.concurrency}; timeout ${o.timeoutMs} ms\n`,
    );
    process.stdout.write(
      `command: ${info.command}\nmachine: ${info.machine}\ndate:    ${info.date}\nload average at start: ${info.loadAverage.join(", ")}\n\n${HEADER}\n${RULE}\n`,
    );
  }
  const results: RunResult[] = [];
  const sequence = Array.from({ length: o.rounds }, () => o.plugs.flatMap((n) => o.protocols.map((protocol) => ({ n, protocol })))).flat();
  for (const { n, protocol } of sequence) {
    const r = await runOnce(n, { ...o, protocol });
    results.push(r);
    if (o.json) process.stdout.write(`${JSON.stringify({ ...info, ...r })}\n`);
    else {
      process.stdout.write(`${row(r)}\n`);
      const f = Object.entries(r.failures).map(([k, v]) => `${k} ${v}`);
      if (f.length || r.invalidReadings) process.stdout.write(`|  | failures: ${f.join(", ") || "none"}; invalid readings: ${r.invalidReadings} |\n`);
      if (r.handshakeMs !== undefined)
        process.stdout.write(
          `|  | KLAP handshake ${r.handshakeMs} ms (collector CPU ${r.handshakeCpuMs} ms); poll with session renewal ${r.renewalPollMs} ms |\n`,
        );
    }
  }
  if (!o.json && o.protocols.length > 1) process.stdout.write(`\n${summary(results).join("\n")}\n`);
  if (!o.json)
    process.stdout.write(
      `\nload average at end: ${os
        .loadavg()
        .map((x) => Math.round(x * 100) / 100)
        .join(", ")}\n`,
    );
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench/collector: ${(err as Error).message}\n\n${USAGE}\n`);
      process.exit(1);
    },
  );
}
