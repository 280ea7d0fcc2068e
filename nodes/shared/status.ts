// A node's status, from a small fixed set, set through i18n keys; repeats are dropped and bursts throttled.
import type { NodeStatus } from "node-red";
import type { Clock, TimerHandle } from "../../lib/clock";

export const status = {
  ok: (text: string): NodeStatus => ({ fill: "green", shape: "dot", text }),
  busy: (text: string): NodeStatus => ({ fill: "yellow", shape: "ring", text }),
  warn: (text: string): NodeStatus => ({ fill: "yellow", shape: "dot", text }),
  error: (text: string): NodeStatus => ({ fill: "red", shape: "ring", text }),
  critical: (text: string): NodeStatus => ({ fill: "red", shape: "dot", text }),
  idle: (text: string): NodeStatus => ({ fill: "grey", shape: "ring", text }),
};
export type StatusKind = keyof typeof status;

export type Translate = (key: string, subs?: Record<string, string | number>) => string;

/**
 * Sets a node's status: `show(kind, key)` translates `key`, `text(kind, text)` is for codes and figures
 * (e.g. "DEVICE_UNREACHABLE", "on 2/2 ok"). The same status twice in a row is not re-sent. With
 * `minIntervalMs` > 0 at most one status per interval is sent; the latest one wins and is sent when the
 * interval ends, so 1000 plugs coming online are one status event, not 1000. A red status is sent at once.
 */
export class StatusReporter {
  private last = "";
  private lastAt = -Infinity;
  private pending: NodeStatus | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly set: (s: NodeStatus) => void,
    private readonly t: Translate,
    private readonly clock: Clock,
    private readonly minIntervalMs = 0,
  ) {}

  show(kind: StatusKind, key: string, subs?: Record<string, string | number>): void {
    this.put(status[kind](this.t(key, subs)));
  }

  text(kind: StatusKind, text: string): void {
    this.put(status[kind](text));
  }

  /** Clears the status now (not throttled: it is a node's last word). */
  clear(): void {
    this.pending = undefined;
    this.emit({});
  }

  /** Drops a pending throttled status and its timer (on close); later calls are ignored. */
  stop(): void {
    this.stopped = true;
    this.pending = undefined;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sets the status now, bypassing the throttle (the final status of a close). */
  force(s: NodeStatus): void {
    this.emit(s);
  }

  private put(s: NodeStatus): void {
    if (this.stopped) return;
    // An error is never held back: it is shown now and replaces a pending status.
    if (this.minIntervalMs <= 0 || s.fill === "red") {
      this.pending = undefined;
      return this.emit(s);
    }
    const wait = this.lastAt + this.minIntervalMs - this.clock.now();
    if (wait <= 0 && this.timer === undefined) return this.emit(s);
    this.pending = s;
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        const p = this.pending;
        this.pending = undefined;
        if (p && !this.stopped) this.emit(p);
      },
      Math.max(0, wait),
    );
  }

  private emit(s: NodeStatus): void {
    const key = JSON.stringify(s);
    if (key === this.last) return;
    this.last = key;
    this.lastAt = this.clock.now();
    this.set(s);
  }
}
