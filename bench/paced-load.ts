// Open-loop, evenly paced HTTP load for the benchmarks: one request every 1000/rate ms, latency from the scheduled send time.
//
// Why not autocannon's overallRate: autocannon rate-limits per connection and per second — each connection sends
// its quota for the second back to back, then pauses until the next second — so "200 req/s" is a burst of 200
// requests at the start of every second, and its latencies measure queueing behind that burst.
//
// Here request i is due at start + i × 1000/rate ms, whether or not earlier requests have answered (open loop).
// It goes out over a keep-alive pool (node:http Agent, up to `maxSockets` connections), so it waits for a socket
// only when that many requests are already in flight, i.e. when the server is slow. Latency is measured from the
// due time, not from the actual send: if the generator or the pool falls behind, that lateness is counted
// (no coordinated omission). The generator runs in a worker thread so it never shares an event loop with the
// caller (the bench's simulated plugs).
import * as http from "node:http";
import { performance } from "node:perf_hooks";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { itemAt } from "../lib/arrays";

export interface PacedOptions {
  url: string;
  /** Paths (with query string) on the url's host to rotate through: request i asks for paths[i % length]. Default: the url's. */
  paths?: string[] | undefined;
  method?: string | undefined;
  headers?: Record<string, string> | undefined;
  body?: string | undefined;
  /** Requests per second, evenly spaced. */
  rate: number;
  /** Length of the schedule, s (requests due in [0, durationS)). */
  durationS: number;
  /** Keep-alive connections at most (default 64). */
  maxSockets?: number;
  /** Per-request timeout, ms (default 10 000); a timed-out request counts as failed. */
  timeoutMs?: number;
}

export interface PacedResult {
  /** Requests scheduled (= rate × duration). */
  sent: number;
  /** Answers with a 2xx status. */
  ok: number;
  /** Non-2xx answers, errors and timeouts. */
  failures: number;
  non2xx: number;
  errors: number;
  /** First error message, if any. */
  firstError?: string | undefined;
  /** Answers (any status) per second, from the first due time to the last answer (or the schedule's end). */
  achievedPerS: number;
  /** Latency from the due time to the end of the answer, ms, over all answered requests. */
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** How late the generator put requests on the wire (actual send − due time), ms: its own health. */
  sendLag: { p99: number; max: number };
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** Connections the pool opened. */
  connections: number;
}

const PACED_WORKER = "plugwatch-paced-load";

/** Runs the paced load in a worker thread and resolves with its figures. */
export function pacedLoad(o: PacedOptions): Promise<PacedResult> {
  if (!(o.rate > 0) || !(o.durationS > 0)) return Promise.reject(new Error("pacedLoad needs a positive rate and duration"));
  return new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { kind: PACED_WORKER, options: o } });
    let done = false;
    w.once("message", (r: PacedResult) => {
      done = true;
      resolve(r);
    });
    w.once("error", (err) => {
      done = true;
      reject(err);
    });
    w.once("exit", (code) => {
      if (!done) reject(new Error(`paced load worker exited with code ${code} before reporting`));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

/** The generator itself (in the worker). */
export async function generate(o: PacedOptions): Promise<PacedResult> {
  const maxSockets = o.maxSockets ?? 64;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  let connections = 0;
  const url = new URL(o.url);
  const paths = o.paths?.length ? o.paths : [url.pathname + url.search];
  const body = o.body === undefined ? undefined : Buffer.from(o.body);
  const headers: Record<string, string> = { ...o.headers };
  if (body) headers["content-length"] = String(body.length);
  const intervalMs = 1000 / o.rate;
  const total = Math.max(1, Math.round(o.rate * o.durationS));
  const latencies: number[] = [];
  const lags: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let firstError: string | undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  let lastAnswer = 0;
  // Start a little ahead so the first due times are not already late.
  const start = performance.now() + 20;

  const fire = (due: number, path: string): Promise<void> =>
    new Promise((settle) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let finished = false;
      const finish = (status: number | undefined, err?: Error) => {
        if (finished) return;
        finished = true;
        inFlight--;
        const end = performance.now();
        lastAnswer = Math.max(lastAnswer, end);
        if (err) {
          errors++;
          firstError ??= err.message;
        } else {
          latencies.push(end - due);
          if (status !== undefined && status >= 200 && status < 300) ok++;
          else non2xx++;
        }
        settle();
      };
      const req = http.request({ host: url.hostname, port: url.port, path, method: o.method ?? "GET", headers, agent, timeout: timeoutMs }, (res) => {
        res.on("data", () => undefined);
        res.on("end", () => finish(res.statusCode));
        res.on("error", (err) => finish(undefined, err));
      });
      req.on("socket", (s) => {
        // A fresh socket (not yet connected) is a new pool connection; a reused one is already connected.
        if (s.connecting) connections++;
      });
      req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on("error", (err) => finish(undefined, err));
      lags.push(performance.now() - due);
      req.end(body);
    });

  const pending: Promise<void>[] = [];
  await new Promise<void>((scheduled) => {
    let next = 0;
    const tick = () => {
      const now = performance.now();
      // Every request already due goes out now (late ones keep their due time: their lateness is measured).
      while (next < total && start + next * intervalMs <= now) {
        pending.push(fire(start + next * intervalMs, itemAt(paths, next % paths.length)));
        next++;
      }
      if (next >= total) scheduled();
      else setTimeout(tick, Math.max(0, start + next * intervalMs - performance.now()));
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  await Promise.all(pending);
  agent.destroy();

  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  const answered = ok + non2xx;
  const spanMs = Math.max(lastAnswer, start + total * intervalMs) - start;
  return {
    sent: total,
    ok,
    failures: non2xx + errors,
    non2xx,
    errors,
    firstError,
    achievedPerS: r1((answered * 1000) / spanMs),
    latency: {
      p50: r1(percentile(latencies, 50)),
      p90: r1(percentile(latencies, 90)),
      p99: r1(percentile(latencies, 99)),
      max: r1(latencies[latencies.length - 1] ?? NaN),
      mean: r1(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
    },
    sendLag: { p99: r1(percentile(lags, 99)), max: r1(lags[lags.length - 1] ?? NaN) },
    maxInFlight,
    connections,
  };
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === PACED_WORKER) {
  generate((workerData as { options: PacedOptions }).options).then(
    (r) => parentPort?.postMessage(r),
    (err: unknown) => {
      throw err;
    },
  );
}
