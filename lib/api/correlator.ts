// Request/reply correlation over MQTT: one pending entry per request id, settled by its reply or by a timeout; never leaks.
import { systemClock, type TimerHandle, type Timers } from "../clock";
import { randomUUID } from "node:crypto";
import { ApiError } from "./problem";

/** Timers, injected so tests drive time without sleeping (lib/clock.ts). */
export type { Timers } from "../clock";
export const systemTimers: Timers = systemClock;

export interface CorrelatorStats {
  /** Replies matched to a pending request. */
  delivered: number;
  /** Requests that got no reply in time. */
  timedOut: number;
  /** Replies with an unknown id (late after a timeout, duplicated, or not ours): dropped. */
  dropped: number;
}

interface Pending {
  resolve(reply: unknown): void;
  reject(err: Error): void;
  timer: TimerHandle;
  kind: string;
}

export interface CorrelatorOptions {
  /** Default reply timeout in ms. */
  timeoutMs: number;
  timers?: Timers;
  newId?: () => string;
}

export class Correlator {
  private readonly pending = new Map<string, Pending>();
  private readonly timers: Timers;
  private readonly newId: () => string;
  private closed = false;
  readonly stats: CorrelatorStats = { delivered: 0, timedOut: 0, dropped: 0 };

  constructor(private readonly opts: CorrelatorOptions) {
    this.timers = opts.timers ?? systemTimers;
    this.newId = opts.newId ?? randomUUID;
  }

  /** Requests waiting for a reply. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Opens a pending request. `reply` resolves with the raw reply payload (validated by the caller against its
   * contract), or rejects with TIMEOUT after `timeoutMs`, or with the error given to fail()/close().
   */
  open(kind: string, timeoutMs = this.opts.timeoutMs): { id: string; reply: Promise<unknown> } {
    if (this.closed) {
      const reply = Promise.reject(new ApiError("BROKER_UNAVAILABLE", "the API is shutting down"));
      reply.catch(() => undefined);
      return { id: "", reply };
    }
    let id = this.newId();
    while (this.pending.has(id)) id = this.newId();
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        if (this.pending.delete(id)) {
          this.stats.timedOut++;
          reject(new ApiError("TIMEOUT", `no reply from the ${kind} within ${timeoutMs} ms`, { extra: { requestId: id } }));
        }
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, kind });
    });
    return { id, reply };
  }

  /** Hands a reply to its request. Returns false (and counts a drop) when no request with this id is pending. */
  deliver(id: string, reply: unknown): boolean {
    const p = this.pending.get(id);
    if (!p) {
      this.stats.dropped++;
      return false;
    }
    this.pending.delete(id);
    this.timers.clearTimeout(p.timer);
    this.stats.delivered++;
    p.resolve(reply);
    return true;
  }

  /** Kind given to open() of a pending request, if any (to pick the reply schema). */
  kindOf(id: string): string | undefined {
    return this.pending.get(id)?.kind;
  }

  /** Fails one pending request (e.g. the publish failed). */
  fail(id: string, err: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.timers.clearTimeout(p.timer);
    p.reject(err);
  }

  /** Rejects every pending request and refuses new ones (node close). */
  close(err: Error = new ApiError("BROKER_UNAVAILABLE", "the API is shutting down")): void {
    this.closed = true;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      this.timers.clearTimeout(p.timer);
      p.reject(err);
    }
  }
}
