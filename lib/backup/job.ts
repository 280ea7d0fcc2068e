// A backup runner on a schedule: one backup at a time, the next due time re-armed after each run (long waits chained).
import type { Clock, TimerHandle } from "../clock";
import type { BackupResult } from "./runner";
import { nextRun, type BackupSchedule } from "./schedule";

/** setTimeout's limit (ms); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface BackupJobOptions {
  run(): Promise<BackupResult>;
  schedule: BackupSchedule;
  clock: Clock;
  /** A scheduled backup is due: its promise (the job has already counted it as running). */
  onScheduled(backup: Promise<BackupResult>): void;
  /** A scheduled backup was skipped because the previous one still runs. */
  onOverlap(): void;
}

export class BackupJob {
  private timer: TimerHandle | undefined;
  private current: Promise<unknown> | undefined;
  private stopped = false;

  constructor(private readonly o: BackupJobOptions) {}

  get running(): boolean {
    return this.current !== undefined;
  }

  /** The next scheduled run (epoch ms), or undefined for a manual schedule. */
  nextDue(): number | undefined {
    return nextRun(this.o.schedule, this.o.clock.now());
  }

  /** One backup now; the caller checks `running` first (one at a time). */
  run(): Promise<BackupResult> {
    const p = this.o.run();
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.current = settled;
    void settled.then(() => {
      if (this.current === settled) this.current = undefined;
    });
    return p;
  }

  /** Arms the timer for the next scheduled run (nothing for a manual schedule). */
  start(): void {
    if (this.stopped) return;
    const due = this.nextDue();
    if (due === undefined) return;
    const wait = (): void => {
      const left = due - this.o.clock.now();
      this.timer = this.o.clock.setTimeout(
        () => {
          this.timer = undefined;
          if (left > MAX_TIMER_MS) return wait();
          if (this.current) {
            this.o.onOverlap();
            return this.start();
          }
          const p = this.run();
          this.o.onScheduled(p);
          void p.then(
            () => this.start(),
            () => this.start(),
          );
        },
        Math.max(0, Math.min(left, MAX_TIMER_MS)),
      );
    };
    wait();
  }

  /** Frees the timer; resolves when a running backup has ended. */
  stop(): Promise<unknown> {
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    return this.current ?? Promise.resolve();
  }
}
