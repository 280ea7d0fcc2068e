// The one time source of Plugwatch: wall-clock ms and one-shot/repeating timers, injected so tests never sleep.

/** An opaque timer handle (a Node Timeout for the system clock, a number for test/support's FakeTime). */
export type TimerHandle = object | number;

export interface Clock {
  /** Wall-clock time, ms since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Frees a timer; undefined (never armed) is a no-op. */
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

/** The part of a clock most users need: the time and one-shot timers. */
export type TimeSource = Pick<Clock, "now" | "setTimeout" | "clearTimeout">;
/** One-shot timers only. */
export type Timers = Pick<Clock, "setTimeout" | "clearTimeout">;

type NodeTimer = ReturnType<typeof setTimeout>;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeTimer),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeTimer),
};

/** A promise that resolves after `ms` on `clock`; the returned cancel() frees the timer early. */
export function delay(clock: Clock, ms: number): { promise: Promise<void>; cancel(): void } {
  let handle: TimerHandle;
  let settle: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    settle = resolve;
    handle = clock.setTimeout(resolve, ms);
  });
  return {
    promise,
    cancel: () => {
      clock.clearTimeout(handle);
      settle();
    },
  };
}
