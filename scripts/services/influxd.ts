// influxd (InfluxDB 1.x) configuration and process launching, shared by the demo launcher and the test harness.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export function findInfluxd(): string | undefined {
  for (const p of ["/usr/bin/influxd", "/usr/local/bin/influxd", "/usr/sbin/influxd"]) if (existsSync(p)) return p;
  return undefined;
}

/** The continuous-query service (off unless asked for): how often it checks which CQs are due, e.g. "1s". */
export interface ContinuousQueryService {
  runInterval: string;
}

/**
 * influxdb.conf for a private instance: HTTP and RPC on loopback, all data under `dir`, no telemetry. `data`: extra
 * string settings of the [data] section; `cq`: run the continuous-query service (off by default: CQs are only stored).
 */
export function influxdConfig(dir: string, httpPort: number, rpcPort: number, data: Record<string, string> = {}, cq?: ContinuousQueryService): string {
  const extra = Object.entries(data)
    .map(([k, v]) => `\n  ${k} = ${JSON.stringify(v)}`)
    .join("");
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
  logging-enabled = false
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false${extra}
[coordinator]
  log-queries-after = "0s"
[retention]
  enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = ${
    cq
      ? `true
  log-enabled = true
  query-stats-enabled = false
  run-interval = ${JSON.stringify(cq.runInterval)}`
      : "false"
  }
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  write-tracing = false
  max-body-size = 0
`;
}

export function tailFile(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** True when `url`/ping answers 204 within `timeoutMs`. */
export async function pingInflux(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const r = await fetch(`${url.replace(/\/$/, "")}/ping`, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    return r.status === 204;
  } catch {
    return false;
  }
}

/** Spawns influxd with a config written into `dir` and waits for /ping. The caller stops the returned process. */
export async function launchInfluxd(opts: {
  bin: string;
  dir: string;
  httpPort: number;
  rpcPort: number;
  timeoutMs?: number;
}): Promise<{ proc: ChildProcess; url: string; log: string }> {
  mkdirSync(opts.dir, { recursive: true });
  const conf = path.join(opts.dir, "influxdb.conf");
  const log = path.join(opts.dir, "influxd.log");
  writeFileSync(conf, influxdConfig(opts.dir, opts.httpPort, opts.rpcPort));
  const fd = openSync(log, "a");
  const proc = spawn(opts.bin, ["-config", conf], { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const url = `http://127.0.0.1:${opts.httpPort}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 20000);
  while (!(await pingInflux(url, 500))) {
    if (proc.exitCode !== null) throw new Error(`influxd exited with ${proc.exitCode}:\n${tailFile(log)}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`influxd did not answer /ping within ${opts.timeoutMs ?? 20000} ms:\n${tailFile(log)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, url, log };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export function stopProcess(proc: ChildProcess | undefined, graceMs = 10000): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    proc.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill("SIGTERM");
  });
}
