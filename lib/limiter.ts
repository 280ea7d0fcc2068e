// The one concurrency limiter: at most `concurrency` tasks run, the rest wait in arrival order (bounded, optionally timed).
import type { TimeSource, TimerHandle } from "./clock";
import { systemClock } from "./clock";
import { PlugwatchError } from "./contracts/errors";

export interface LimiterOptions {
  concurrency: number;
  /** Most tasks waiting for a slot; one more is refused at once with LIMIT_EXCEEDED (default: unbounded). */
  maxWaiting?: number;
  clock?: TimeSource;
}

export interface RunOptions {
  /** Leave the queue after this long (ms) without a slot; the task never runs. */
  maxWaitMs?: number;
  /** The rejection for a task that waited too long (default TIMEOUT). */
  timeoutError?: (waitedMs: number) => Error;
}

interface Waiter {
  start(): void;
  fail(err: Error): void;
  timer: TimerHandle | undefined;
}

export class Limiter {
  private active = 0;
  private readonly queue: Waiter[] = [];
  private readonly clock: TimeSource;

  constructor(private readonly o: LimiterOptions) {
    this.clock = o.clock ?? systemClock;
  }

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }
  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }
  /** Free slots right now (tasks that would start without waiting). */
  get free(): number {
    return Math.max(0, this.o.concurrency - this.active);
  }
  /** True when one more task would be refused. */
  get full(): boolean {
    return this.active >= this.o.concurrency && this.o.maxWaiting !== undefined && this.queue.length >= this.o.maxWaiting;
  }

  /** Runs `fn` once a slot is free; rejects without running it when the queue is full, the wait times out or it is cancelled. */
  async run<T>(fn: () => Promise<T>, opts: RunOptions = {}): Promise<T> {
    if (this.active >= this.o.concurrency) {
      if (this.full) throw new PlugwatchError("LIMIT_EXCEEDED", `too many tasks waiting (${this.o.maxWaiting ?? 0}): try again later`);
      await new Promise<void>((resolve, reject) => {
        const w: Waiter = { start: resolve, fail: reject, timer: undefined };
        if (opts.maxWaitMs !== undefined) {
          const ms = opts.maxWaitMs;
          w.timer = this.clock.setTimeout(
            () => {
              this.remove(w);
              reject(opts.timeoutError?.(ms) ?? new PlugwatchError("TIMEOUT", `no free slot after ${Math.round(ms)} ms`));
            },
            Math.max(0, ms),
          );
        }
        this.queue.push(w);
      });
    } else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      // Hand the slot straight to the next waiter (active stays the same) or release it.
      if (next) {
        if (next.timer !== undefined) this.clock.clearTimeout(next.timer);
        next.start();
      } else this.active--;
    }
  }

  /** Rejects every waiting task with `err` (they never run); returns how many there were. */
  cancelWaiting(err: Error): number {
    const dropped = this.queue.splice(0);
    for (const w of dropped) {
      if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
      w.fail(err);
    }
    return dropped.length;
  }

  private remove(w: Waiter): void {
    const i = this.queue.indexOf(w);
    if (i >= 0) this.queue.splice(i, 1);
  }
}
