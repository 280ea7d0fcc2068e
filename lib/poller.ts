// Polling scheduler: polls many devices on a fixed interval with bounded concurrency, jitter, timeouts and backoff.
//
// Each device has its own slot on a fixed grid (phase + k × interval). The phases are spread over the interval so
// 1000 plugs do not fire in the same millisecond. A device whose previous poll is still queued or in flight when its
// next slot comes counts a missed cycle (polls never pile up). After `offlineAfter` consecutive failures a device is
// retried after 1, 2, 4 … × interval up to `backoffCapMs`, so dead plugs cost little but are recovered when they return.
// A big registry with many dead plugs must not delay the live ones: polls queue by the device's last outcome (answered,
// never polled, failing) and start oldest first, but plugs that have not answered may hold at most `suspectSlots` of
// the concurrency (once any plug fails), so a part of it always stays free for the plugs that answer. A failing plug whose slot comes while it
// still waits in the queue skips that slot (a backoff skip, not a missed cycle).
// Time, timers and randomness are injected so tests run on a fake clock.
import { RateLimitedLog } from "./rate-limited-log";
import { AvailabilityTracker, DEFAULT_OFFLINE_AFTER, type AvailabilityChange, type PollFailure } from "./availability";
import { PlugwatchError } from "./contracts/errors";
import type { PlugSample } from "./plug-client";
import type { TimerHandle } from "./clock";

export const DEFAULT_CONCURRENCY = 64;
/** Share of the concurrency that devices without a recent answer may take by default (the rest is reserved). */
export const SUSPECT_SHARE = 0.75;
export const DEFAULT_TIMEOUT_MS = 3000;
export const DEFAULT_STATS_INTERVAL_MS = 10_000;
/**
 * Latency and lag samples kept per stats window. The percentiles cover the most recent ones; a fixed bound keeps
 * memory flat when nobody reads the stats (statsIntervalMs 0 and no stats() call), e.g. 100 polls/s for months.
 */
export const STATS_SAMPLE_CAP = 8192;

/** Fixed-size buffer of the most recent numbers: push is O(1), memory never exceeds `capacity` entries. */
export class SampleRing {
  private readonly buf: number[] = [];
  private next = 0;
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
  }
  get length(): number {
    return this.buf.length;
  }
  push(v: number): void {
    if (this.buf.length < this.capacity) this.buf.push(v);
    else this.buf[this.next] = v;
    this.next = (this.next + 1) % this.capacity;
  }
  clear(): void {
    this.buf.length = 0;
    this.next = 0;
  }
  /** The kept samples in ascending order (a copy). */
  sorted(): number[] {
    return [...this.buf].sort((a, b) => a - b);
  }
}

/** FIFO of slots with O(1) shift (an array's shift is O(n): thousands of queued dead devices would make it quadratic). */
class SlotQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(v: T): void {
    this.items.push(v);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
  drain(): T[] {
    const all = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return all;
  }
}

/** The poller's timers use the one clock handle type (lib/clock.ts). */
export type { TimerHandle };

/** A throwing handler is reported at most once per this period per handler and message (ms). */
const HANDLER_ERROR_EVERY_MS = 60_000;

export interface PollerHandlers<D, S> {
  /** A successful poll; `ts` is the epoch ms when the answer arrived, `latencyMs` the poll's duration. */
  reading(device: D, sample: S, ts: number, latencyMs: number): void;
  /** A device's first state, or a transition online ↔ offline. */
  availability(change: AvailabilityChange, device: D): void;
  /** Every failed poll (the caller rate-limits what it logs). */
  error(device: D, failure: PollFailure, ts: number): void;
  /** Periodic figures, every `statsIntervalMs`. */
  stats(stats: PollerStats): void;
}

export interface PollerOptions<D extends { id: string }, S> {
  devices: readonly D[];
  /** One poll of one device; rejects on failure (a PlugwatchError carries its code). */
  poll: (device: D) => Promise<S>;
  /** Time between two polls of the same device, ms. */
  intervalMs: number;
  /** A poll that has not settled after this many ms fails with DEVICE_UNREACHABLE (independent of the interval). */
  timeoutMs?: number;
  /** Maximum polls in flight at once. */
  concurrency?: number;
  /** Consecutive failures before a device is reported offline and backed off. */
  offlineAfter?: number;
  /**
   * Most polls in flight at once for devices that have not answered yet or whose last poll failed (default: three
   * quarters of `concurrency`, at least 1): the rest is kept for the devices that answer.
   */
  suspectSlots?: number;
  /** Longest wait between two attempts on an unreachable device, ms (default: 32 × interval, at most 60 s). */
  backoffCapMs?: number;
  /** Period of the `stats` event, ms; 0 disables it. */
  statsIntervalMs?: number;
  clock?: () => number;
  setTimer?: (fn: () => void, ms: number) => TimerHandle;
  clearTimer?: (handle: TimerHandle) => void;
  /** Returns a number in [0, 1): spreads the phases (jitter). */
  random?: () => number;
  /** Where a throwing handler is reported (rate-limited: one line per handler and message a minute); default console.warn. */
  log?: (message: string) => void;
  /** Maps a rejection to a stable code; default keeps a PlugwatchError's code, anything else is DEVICE_UNREACHABLE. */
  classify?: (err: unknown) => PollFailure;
  /**
   * Checks an answer's data (lib/plausibility.ts): a failure (IMPLAUSIBLE_READING, IDENTITY_CHANGED) keeps the device
   * online but flags its availability (`data`), reports an `error`, and emits no `reading` for that poll.
   */
  check?: (device: D, sample: S) => PollFailure | undefined;
  on?: Partial<PollerHandlers<D, S>>;
}

export interface PollerCounters {
  /** Polls that completed (ok + failed). */
  polls: number;
  ok: number;
  failed: number;
  /** Slots that came due for devices not in backoff (each is either polled or missed). */
  cycles: number;
  /** Slots that came while the device's previous poll was still queued or in flight (or the timer ran late). */
  missedCycles: number;
  /** Slots skipped on purpose because the device is backed off. */
  backoffSkips: number;
  /** Answers whose data the check refused (implausible values, another identity). */
  heldBack: number;
}

export interface PollerStats extends PollerCounters {
  ts: number;
  /** Length of the window these counters cover, ms. */
  windowMs: number;
  pollsPerSecond: number;
  /** missedCycles / cycles × 100. */
  missedPercent: number;
  devices: number;
  online: number;
  offline: number;
  unknown: number;
  inFlight: number;
  queued: number;
  /** Poll duration percentiles in the window (its last STATS_SAMPLE_CAP polls), ms (0 when no poll completed). */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** How late polls started after their slot (queueing behind the concurrency bound), 99th percentile, ms. */
  lagP99Ms: number;
  /** Counters since start. */
  totals: PollerCounters;
}

type SlotState = "idle" | "queued" | "polling";

interface Slot<D> {
  device: D;
  /** Epoch ms of the next grid slot. */
  nextDue: number;
  timer: TimerHandle | undefined;
  state: SlotState;
  /** Grid time of the queued/running attempt. */
  attemptDue: number;
  /** Last outcome: "new" before the first poll ended. */
  health: "new" | "ok" | "failing";
  /** Slots before this time are skipped (backoff). */
  skipUntil: number;
  failures: number;
}

const zeroCounters = (): PollerCounters => ({ polls: 0, ok: 0, failed: 0, cycles: 0, missedCycles: 0, backoffSkips: 0, heldBack: 0 });

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? 0;
}

function defaultClassify(err: unknown): PollFailure {
  if (err instanceof PlugwatchError) return { code: err.code, message: err.message };
  return { code: "DEVICE_UNREACHABLE", message: err instanceof Error ? err.message : String(err) };
}

/** Backoff after `failures` consecutive failures: 0 below the threshold, then 1, 2, 4 … × interval, capped. */
export function backoffDelay(failures: number, offlineAfter: number, intervalMs: number, capMs: number): number {
  if (failures < offlineAfter) return 0;
  const exp = Math.min(30, failures - offlineAfter);
  return Math.min(intervalMs * 2 ** exp, Math.max(capMs, intervalMs));
}

export class Poller<D extends { id: string }, S = PlugSample> {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly suspectSlots: number;
  readonly backoffCapMs: number;
  readonly tracker: AvailabilityTracker;

  private readonly slots: Slot<D>[];
  /** Waiting polls by the device's last outcome (each queue in due order). */
  private readonly queues: Record<Slot<D>["health"], SlotQueue<Slot<D>>> = {
    ok: new SlotQueue(),
    new: new SlotQueue(),
    failing: new SlotQueue(),
  };
  /** Polls in flight for devices whose health is not "ok". */
  private suspectInFlight = 0;
  /** Devices whose last poll failed. */
  private failing = 0;
  private readonly pollFn: (device: D) => Promise<S>;
  private readonly clock: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => TimerHandle;
  private readonly clearTimer: (handle: TimerHandle) => void;
  private readonly random: () => number;
  private readonly classify: (err: unknown) => PollFailure;
  private readonly check: ((device: D, sample: S) => PollFailure | undefined) | undefined;
  private readonly on: Partial<PollerHandlers<D, S>>;
  private readonly statsIntervalMs: number;
  private readonly handlerErrors: RateLimitedLog;

  private inFlight = 0;
  private readonly running = new Set<Promise<void>>();
  private started = false;
  private stopped = false;
  private statsTimer: TimerHandle | undefined;
  private window: PollerCounters = zeroCounters();
  private readonly totals: PollerCounters = zeroCounters();
  private windowStart = 0;
  private readonly latencies = new SampleRing(STATS_SAMPLE_CAP);
  private readonly lags = new SampleRing(STATS_SAMPLE_CAP);

  constructor(opts: PollerOptions<D, S>) {
    const positive = (name: string, v: number, min: number) => {
      if (!Number.isFinite(v) || v < min) throw new RangeError(`${name} must be a number >= ${min}, got ${v}`);
      return v;
    };
    this.intervalMs = positive("intervalMs", opts.intervalMs, 1);
    this.timeoutMs = positive("timeoutMs", opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1);
    this.concurrency = Math.floor(positive("concurrency", opts.concurrency ?? DEFAULT_CONCURRENCY, 1));
    this.suspectSlots = Math.min(
      this.concurrency,
      Math.floor(positive("suspectSlots", opts.suspectSlots ?? Math.max(1, Math.floor(this.concurrency * SUSPECT_SHARE)), 1)),
    );
    this.backoffCapMs = positive("backoffCapMs", opts.backoffCapMs ?? Math.max(this.intervalMs, Math.min(60_000, 32 * this.intervalMs)), 1);
    this.statsIntervalMs = opts.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS;
    this.tracker = new AvailabilityTracker(opts.offlineAfter ?? DEFAULT_OFFLINE_AFTER);
    this.pollFn = opts.poll;
    this.clock = opts.clock ?? Date.now;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
    this.random = opts.random ?? Math.random;
    this.classify = opts.classify ?? defaultClassify;
    this.handlerErrors = new RateLimitedLog(opts.log ?? ((m) => console.warn(m)), HANDLER_ERROR_EVERY_MS, () => this.clock());
    this.check = opts.check;
    this.on = opts.on ?? {};
    const seen = new Set<string>();
    this.slots = opts.devices.map((device) => {
      if (seen.has(device.id)) throw new RangeError(`device '${device.id}' listed twice`);
      seen.add(device.id);
      return { device, nextDue: 0, timer: undefined, state: "idle", attemptDue: 0, skipUntil: 0, failures: 0, health: "new" };
    });
  }

  get size(): number {
    return this.slots.length;
  }

  /** Schedules every device: device i first fires at ((i + jitter) / n) × interval after now. */
  start(): void {
    if (this.started) throw new Error("poller already started");
    this.started = true;
    const t0 = this.clock();
    this.windowStart = t0;
    const n = this.slots.length;
    this.slots.forEach((slot, i) => {
      const r = Math.min(Math.max(this.random(), 0), 0.999999);
      this.schedule(slot, t0 + ((i + r) / n) * this.intervalMs);
    });
    if (this.statsIntervalMs > 0) this.scheduleStats();
  }

  /** Polls every idle device now (ignores backoff); resolves when those polls have finished. */
  async pollNow(): Promise<{ started: number; busy: number }> {
    if (this.stopped) return { started: 0, busy: 0 };
    const now = this.clock();
    let started = 0;
    let busy = 0;
    const waits: Promise<void>[] = [];
    for (const slot of this.slots) {
      if (slot.state !== "idle") {
        busy++;
        continue;
      }
      waits.push(this.enqueue(slot, now));
      started++;
    }
    this.pump();
    await Promise.all(waits);
    return { started, busy };
  }

  /** Cancels every timer and queued poll, then waits for the polls in flight (each bounded by timeoutMs). */
  async stop(): Promise<void> {
    if (this.stopped) {
      await Promise.all([...this.running]);
      return;
    }
    this.stopped = true;
    for (const slot of this.slots) {
      if (slot.timer !== undefined) this.clearTimer(slot.timer);
      slot.timer = undefined;
    }
    if (this.statsTimer !== undefined) this.clearTimer(this.statsTimer);
    this.statsTimer = undefined;
    for (const slot of [...this.queues.ok.drain(), ...this.queues.new.drain(), ...this.queues.failing.drain()]) {
      slot.state = "idle";
      this.waiters.get(slot)?.();
      this.waiters.delete(slot);
    }
    await Promise.all([...this.running]);
  }

  /** Counters since start (cheap: no percentiles), e.g. for metrics scraped often. */
  totalCounts(): PollerCounters {
    return { ...this.totals };
  }

  /** Counters of the current window (since start or the last reset) plus totals. */
  stats(reset = false): PollerStats {
    const now = this.clock();
    const w = this.window;
    const windowMs = Math.max(0, now - this.windowStart);
    const lat = this.latencies.sorted();
    const lag = this.lags.sorted();
    const c = this.tracker.counts();
    const s: PollerStats = {
      ...w,
      ts: now,
      windowMs,
      pollsPerSecond: windowMs > 0 ? (w.polls * 1000) / windowMs : 0,
      missedPercent: w.cycles > 0 ? (w.missedCycles * 100) / w.cycles : 0,
      devices: this.slots.length,
      online: c.online,
      offline: c.offline,
      unknown: this.slots.length - c.online - c.offline,
      inFlight: this.inFlight,
      queued: this.queues.ok.length + this.queues.new.length + this.queues.failing.length,
      latencyP50Ms: percentile(lat, 50),
      latencyP99Ms: percentile(lat, 99),
      lagP99Ms: percentile(lag, 99),
      totals: { ...this.totals },
    };
    if (reset) {
      this.window = zeroCounters();
      this.windowStart = now;
      this.latencies.clear();
      this.lags.clear();
    }
    return s;
  }

  // ---- internals ----

  private readonly waiters = new Map<Slot<D>, () => void>();

  private count(key: keyof PollerCounters, n = 1): void {
    this.window[key] += n;
    this.totals[key] += n;
  }

  private schedule(slot: Slot<D>, due: number): void {
    slot.nextDue = due;
    slot.timer = this.setTimer(() => this.onDue(slot), Math.max(0, due - this.clock()));
  }

  private scheduleStats(): void {
    this.statsTimer = this.setTimer(() => {
      if (this.stopped) return;
      this.scheduleStats();
      this.on.stats?.(this.stats(true));
    }, this.statsIntervalMs);
  }

  private onDue(slot: Slot<D>): void {
    slot.timer = undefined;
    if (this.stopped) return;
    const now = this.clock();
    const due = slot.nextDue;
    // A timer that fires more than one interval late (blocked event loop) lost the slots in between.
    const lost = Math.max(0, Math.floor((now - due) / this.intervalMs));
    if (lost > 0) {
      this.count("cycles", lost);
      this.count("missedCycles", lost);
    }
    const slotTime = due + lost * this.intervalMs;
    this.schedule(slot, slotTime + this.intervalMs);
    if (slot.state !== "idle") {
      // A failing device still waiting behind the others is backed off by the queue itself.
      if (slot.health === "failing") return void this.count("backoffSkips");
      this.count("cycles");
      this.count("missedCycles");
      return;
    }
    if (slotTime < slot.skipUntil) {
      this.count("backoffSkips");
      return;
    }
    this.count("cycles");
    void this.enqueue(slot, slotTime);
    this.pump();
  }

  /** Queues a poll; the promise resolves when it has finished (or was cancelled by stop). */
  private enqueue(slot: Slot<D>, due: number): Promise<void> {
    slot.state = "queued";
    slot.attemptDue = due;
    this.queues[slot.health].push(slot);
    return new Promise<void>((resolve) => this.waiters.set(slot, resolve));
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < this.concurrency) {
      // Oldest attempt first among the queues allowed now; devices that have not answered only within their slots.
      // While no device fails, new devices may use the whole concurrency (a healthy fleet starts at full speed).
      const suspectLimit = this.failing > 0 ? this.suspectSlots : this.concurrency;
      let from: SlotQueue<Slot<D>> | undefined;
      for (const q of this.suspectInFlight < suspectLimit ? [this.queues.ok, this.queues.new, this.queues.failing] : [this.queues.ok]) {
        const head = q.peek();
        if (head && (!from || head.attemptDue < (from.peek() as Slot<D>).attemptDue)) from = q;
      }
      if (!from) return;
      this.run(from.shift() as Slot<D>);
    }
  }

  private run(slot: Slot<D>): void {
    slot.state = "polling";
    this.inFlight++;
    const suspect = slot.health !== "ok";
    if (suspect) this.suspectInFlight++;
    const startedAt = this.clock();
    this.lags.push(Math.max(0, startedAt - slot.attemptDue));
    let settle!: () => void;
    const finished = new Promise<void>((resolve) => (settle = resolve));
    this.running.add(finished);
    let done = false;
    const finish = (ok: boolean, value: S | undefined, err: unknown): void => {
      if (done) return;
      done = true;
      this.clearTimer(guard);
      this.inFlight--;
      if (suspect) this.suspectInFlight--;
      slot.state = "idle";
      if (slot.health === "failing") this.failing--;
      slot.health = ok ? "ok" : "failing";
      if (!ok) this.failing++;
      const now = this.clock();
      try {
        if (ok) this.succeeded(slot, value as S, now, now - startedAt);
        else this.failed(slot, err, now);
      } finally {
        this.running.delete(finished);
        this.waiters.get(slot)?.();
        this.waiters.delete(slot);
        settle();
        this.pump();
      }
    };
    const guard = this.setTimer(
      () => finish(false, undefined, new PlugwatchError("DEVICE_UNREACHABLE", `no reply within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    let promise: Promise<S>;
    try {
      promise = this.pollFn(slot.device);
    } catch (err) {
      promise = Promise.reject(err);
    }
    promise.then(
      (v) => finish(true, v, undefined),
      (e: unknown) => finish(false, undefined, e),
    );
  }

  private succeeded(slot: Slot<D>, sample: S, now: number, latencyMs: number): void {
    this.count("polls");
    this.count("ok");
    this.latencies.push(latencyMs);
    slot.failures = 0;
    slot.skipUntil = 0;
    if (this.stopped) return;
    let issue: PollFailure | undefined;
    try {
      issue = this.check?.(slot.device, sample);
    } catch (err) {
      issue = { code: "IMPLAUSIBLE_READING", message: `check failed: ${(err as Error).message}` };
    }
    const change = this.tracker.success(slot.device.id, now, issue);
    if (issue) {
      this.count("heldBack");
      const failure = issue;
      this.emit("error", () => this.on.error?.(slot.device, failure, now));
    } else this.emit("reading", () => this.on.reading?.(slot.device, sample, now, latencyMs));
    if (change) this.emit("availability", () => this.on.availability?.(change, slot.device));
  }

  private failed(slot: Slot<D>, err: unknown, now: number): void {
    this.count("polls");
    this.count("failed");
    slot.failures++;
    const delay = backoffDelay(slot.failures, this.tracker.offlineAfter, this.intervalMs, this.backoffCapMs);
    slot.skipUntil = delay > 0 ? slot.attemptDue + delay : 0;
    if (this.stopped) return;
    let failure: PollFailure;
    try {
      failure = this.classify(err);
    } catch {
      failure = defaultClassify(err);
    }
    const change = this.tracker.failure(slot.device.id, failure, now);
    this.emit("error", () => this.on.error?.(slot.device, failure, now));
    if (change) this.emit("availability", () => this.on.availability?.(change, slot.device));
  }

  /** A throwing handler must not break the scheduler: the scheduler keeps going, the error is logged (rate-limited). */
  private emit(handler: keyof PollerHandlers<D, S>, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.handlerErrors.write(`${handler}:${message}`, `poller: the ${handler} handler threw: ${message}`);
    }
  }
}
