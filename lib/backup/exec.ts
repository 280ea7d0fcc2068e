// Runs one external program (influxd) without a shell: output captured (bounded), a timeout, and cancellation.
import { spawn } from "node:child_process";
import type { ProcessCommand } from "./command";

export interface ProcessResult {
  /** Exit code, or null when the process was killed. */
  code: number | null;
  /** stdout and stderr interleaved as received, at most the last `maxOutput` characters. */
  output: string;
  timedOut: boolean;
  durationMs: number;
}

export interface RunOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  maxOutput?: number;
}

export type ProcessRunner = (cmd: ProcessCommand, opts: RunOptions) => Promise<ProcessResult>;

/** Spawns `cmd`; resolves when it exits (whatever the code), rejects only when it cannot start (e.g. ENOENT). */
export const runProcess: ProcessRunner = (cmd, opts) =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const max = opts.maxOutput ?? 64 * 1024;
    let output = "";
    let timedOut = false;
    const child = spawn(cmd.command, cmd.args, { stdio: ["ignore", "pipe", "pipe"], signal: opts.signal, killSignal: "SIGTERM" });
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-max);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 5000).unref();
    }, opts.timeoutMs);
    child.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === "ENOENT") reject(new Error(`${cmd.command} not found: install InfluxDB 1.x (apt-get install -y influxdb) or set the influxd path`));
      else if (err.name === "AbortError") resolve({ code: null, output, timedOut, durationMs: Date.now() - started });
      else reject(err);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut, durationMs: Date.now() - started });
    });
  });
