// Repeated identical log lines, rate-limited: the same key at most once per interval, with a count of the suppressed repeats.

/** Logs the same message at most once per `intervalMs` (counts the suppressed repeats). */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly log: (msg: string) => void,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}
  write(key: string, msg: string): void {
    const t = this.now();
    const prev = this.last.get(key);
    if (prev && t - prev.at < this.intervalMs) {
      prev.suppressed++;
      return;
    }
    const extra = prev && prev.suppressed ? ` (${prev.suppressed} similar suppressed)` : "";
    this.last.set(key, { at: t, suppressed: 0 });
    this.log(msg + extra);
  }
}
