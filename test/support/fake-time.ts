// The one fake clock of the tests: a deterministic clock and timer queue; nothing runs until advance().
import type { Clock } from "../../lib/clock";
export const T0 = 1_700_000_000_000;

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Deterministic timers: nothing runs until advance(); promise callbacks are flushed between timers. */
export class FakeTime {
  now = T0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  clock = (): number => this.now;
  setTimer = (fn: () => void, ms: number): number => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.now + Math.max(0, ms), fn });
    return id;
  };
  clearTimer = (h: unknown): void => {
    this.timers.delete(h as number);
  };
  /** Repeats every `ms` until cleared (clearTimer/clearInterval with the returned handle). */
  setRepeat = (fn: () => void, ms: number): number => {
    const id = ++this.seq;
    const step = Math.max(1, ms);
    const arm = (at: number) => this.timers.set(id, { at, fn: () => (arm(at + step), fn()) });
    arm(this.now + step);
    return id;
  };
  /** This fake as a lib/clock Clock (for code that takes one). */
  readonly asClock: Clock = {
    now: () => this.now,
    setTimeout: (fn, ms) => this.setTimer(fn, ms),
    clearTimeout: (h) => this.clearTimer(h),
    setInterval: (fn, ms) => this.setRepeat(fn, ms),
    clearInterval: (h) => this.clearTimer(h),
  };
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time on by `ms` and runs the due timers in order, flushing promise callbacks before each one. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    do {
      await flush();
    } while (this.runNext(end));
    this.now = end;
    await flush();
  }
  /** Moves time on by `ms` and runs the due timers in order, synchronously (no promise flushing between them). */
  tick(ms: number): void {
    const end = this.now + ms;
    while (this.runNext(end)) {
      // each pass runs one timer
    }
    this.now = end;
  }
  /** Runs the earliest timer due by `end` (on a tie, the one armed first) at its own time; false when none is due. */
  private runNext(end: number): boolean {
    let nextId = -1;
    let next: { at: number; fn: () => void } | undefined;
    for (const [id, t] of this.timers) {
      if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && id < nextId))) {
        next = t;
        nextId = id;
      }
    }
    if (!next) return false;
    this.timers.delete(nextId);
    this.now = next.at;
    next.fn();
    return true;
  }
  /** A promise settled by a fake timer after `ms`. */
  after<T>(ms: number, fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.setTimer(() => {
        try {
          resolve(fn());
        } catch (err) {
          reject(err);
        }
      }, ms),
    );
  }
}
