// Per-key token buckets for the REST API: each token gets `ratePerSec` requests a second with bursts up to `burst`;
// unknown tokens share one bucket, so guessing tokens is slowed. Injected clock; bounded number of keys.
export interface RateLimitOptions {
  ratePerSec: number;
  burst: number;
  /** Most keys remembered; the least recently used is forgotten beyond (default 10 000). */
  maxKeys?: number;
  now?: () => number;
}

/** High enough for the API bench (200 req/s on one token); ApiServiceOptions.rateLimit sets another. */
export const DEFAULT_RATE_LIMIT = { ratePerSec: 500, burst: 1000 } as const;
/** Failed token checks allowed per second (all callers together) before 429s slow a brute force down. */
export const DEFAULT_FAILURE_LIMIT = { ratePerSec: 2, burst: 20 } as const;

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly o: RateLimitOptions) {
    this.now = o.now ?? Date.now;
    this.maxKeys = o.maxKeys ?? 10_000;
  }

  /** Takes one request for `key`: ok, or how many whole seconds to wait (for Retry-After). */
  take(key: string): { ok: true } | { ok: false; retryAfterS: number } {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b) this.buckets.delete(key);
    else {
      b = { tokens: this.o.burst, at: t };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    b.tokens = Math.min(this.o.burst, b.tokens + ((t - b.at) / 1000) * this.o.ratePerSec);
    b.at = t;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / this.o.ratePerSec)) };
  }
}
