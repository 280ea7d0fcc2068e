// Open-loop pacing of an in-process async call, shared by bench/energy.ts and bench/query.ts.

/** Raw outcome of {@link runPacedLocal}: latencies (ms from each call's due time, sorted ascending) and failures. */
export interface PacedLocalRun {
  total: number;
  elapsedS: number;
  lat: number[];
  failed: number;
  firstError?: string;
  /** Latency quantile `f` (0..1) of the successful calls; NaN when none succeeded. */
  q: (f: number) => number;
}

/** Calls `fn` every 1000/rate ms for durationS without waiting for earlier calls; latency is measured from the due time. */
export async function runPacedLocal(fn: () => Promise<unknown>, rate: number, durationS: number): Promise<PacedLocalRun> {
  const every = 1000 / rate;
  const total = Math.round(rate * durationS);
  const t0 = performance.now();
  const lat: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const runs: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const at = t0 + i * every;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    runs.push(
      fn().then(
        () => void lat.push(performance.now() - at),
        (err: unknown) => {
          failed++;
          firstError ??= err instanceof Error ? err.message : String(err);
        },
      ),
    );
  }
  await Promise.all(runs);
  const elapsedS = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (f: number): number => lat[Math.min(lat.length - 1, Math.floor(f * lat.length))] ?? NaN;
  return { total, elapsedS, lat, failed, q, ...(firstError ? { firstError } : {}) };
}
