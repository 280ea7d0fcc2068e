// The one "wait until" of the tests: polls a check until it holds, naming what it waited for (and the last value) on timeout.
import { showValue } from "../../lib/show-value";

export interface WaitOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number;
  /** Poll period (ms). */
  everyMs?: number;
  /** Extra text for the timeout error (e.g. a runtime's log tail). */
  context?: () => string;
}

/**
 * Polls `fn` until `ok(value)` holds and resolves with that value. A throw from `fn` counts as "not yet" (the last
 * one is in the timeout error, with the last value).
 */
export async function eventually<T>(what: string, fn: () => T | Promise<T>, ok: (v: T) => boolean, opts: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 8000, everyMs = 10 } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const value = `; last value: ${JSON.stringify(last)?.slice(0, 500)}${lastErr ? `; last error: ${showValue(lastErr)}` : ""}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${value}${opts.context ? `\n${opts.context()}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves with fn()'s first truthy value (sync or async), polling every 10 ms; rejects after timeoutMs naming `what`. */
export async function waitFor<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 8000): Promise<T> {
  return (await eventually(what, fn, Boolean, { timeoutMs })) as T;
}

/** waitFor with another default budget, for files whose waits are all of one kind (e.g. `waitWithin(20_000)`). */
export function waitWithin(
  defaultTimeoutMs: number,
): <T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs?: number) => Promise<T> {
  return (what, fn, timeoutMs = defaultTimeoutMs) => waitFor(what, fn, timeoutMs);
}
