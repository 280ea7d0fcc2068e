// Bounded "report once per key" memory for rejected inputs: a fixed number of remembered keys and of new reports per minute; the rest is counted.

export interface ReportLimits {
  /** Most keys remembered as already reported; the oldest is forgotten when full (it may be reported again). */
  maxKeys: number;
  /** Most new reports per minute of the engine clock; further new keys are counted, not reported (and not remembered). */
  perMinute: number;
}

export const DEFAULT_REPORT_LIMITS: Readonly<ReportLimits> = Object.freeze({ maxKeys: 10_000, perMinute: 30 });

/** Keys are cut to this length (an invalid payload's `device` can be any string). */
export const MAX_KEY_LENGTH = 200;

const MINUTE_MS = 60_000;

export interface ReportCounts {
  /** Keys currently remembered as reported (≤ maxKeys). */
  remembered: number;
  /** New keys not reported because the per-minute budget was spent, since the engine started. */
  suppressed: number;
  /** Remembered keys forgotten because maxKeys was reached, since the engine started. */
  evicted: number;
}

export class ReportLimiter {
  /** Insertion-ordered, so the first key is the oldest. */
  private readonly keys = new Set<string>();
  private windowStart = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  /** Suppressed since the last report made (told with the next one). */
  private pending = 0;
  private suppressed = 0;
  private evicted = 0;
  readonly limits: ReportLimits;

  constructor(
    private readonly clock: () => number,
    limits: Partial<ReportLimits> = {},
  ) {
    this.limits = { ...DEFAULT_REPORT_LIMITS, ...limits };
    if (!Number.isInteger(this.limits.maxKeys) || this.limits.maxKeys < 1) throw new RangeError("maxKeys must be an integer ≥ 1");
    if (!(this.limits.perMinute >= 1)) throw new RangeError("perMinute must be ≥ 1");
  }

  static key(raw: string): string {
    return raw.length > MAX_KEY_LENGTH ? `${raw.slice(0, MAX_KEY_LENGTH)}…` : raw;
  }

  /**
   * Whether `key` is to be reported now. Undefined: already reported, or over the per-minute budget (counted).
   * Otherwise the key is remembered and the result tells how many reports were suppressed since the last one.
   */
  admit(key: string): { suppressedBefore: number } | undefined {
    if (this.keys.has(key)) return undefined;
    const now = this.clock();
    if (now - this.windowStart >= MINUTE_MS || now < this.windowStart) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.limits.perMinute) {
      this.suppressed++;
      this.pending++;
      return undefined;
    }
    this.inWindow++;
    if (this.keys.size >= this.limits.maxKeys) {
      const oldest = this.keys.values().next();
      if (!oldest.done) this.keys.delete(oldest.value);
      this.evicted++;
    }
    this.keys.add(key);
    const suppressedBefore = this.pending;
    this.pending = 0;
    return { suppressedBefore };
  }

  /** The key's input is valid again: a later rejection is reported anew. */
  forget(key: string): void {
    this.keys.delete(key);
  }

  counts(): ReportCounts {
    return { remembered: this.keys.size, suppressed: this.suppressed, evicted: this.evicted };
  }
}
