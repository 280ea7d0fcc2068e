// A deterministic clock and timer queue for scheduler unit tests (lib/poller.ts): nothing runs until advance().
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
  get pending(): number {
    return this.timers.size;
  }
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await flush();
      let nextId = -1;
      let next: { at: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && id < nextId))) {
          next = t;
          nextId = id;
        }
      }
      if (!next) break;
      this.timers.delete(nextId);
      this.now = next.at;
      next.fn();
    }
    this.now = end;
    await flush();
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
