// The influx-hook's running part without Node-RED: spool → writer → sink, input counters, the SPOOL_FULL alarm, health and stats.
import { delay, type Clock } from "../clock";
import type { AlertEvent } from "../contracts/alert";
import { PlugwatchError } from "../contracts/errors";
import type { ComponentStatus } from "../contracts/status";
import type { HookSource } from "../metrics/hub";
import type { ObservedSink } from "../metrics/observed-sink";
import { hookSource } from "../metrics/sources";
import { Spool, type SpoolPolicy } from "../spool";
import { combineErrors, countRejected, hookHealth, oldestUnsentTs, type HookEvents, type HookHealth } from "./hook-health";
import { HOOK_COMPONENT, hookStatus } from "./hook-status";
import { rollupNotifyingSink, type RetentionManager } from "./retention-manager";
import { SpoolFullAlarm } from "./spool-alarm";
import { InfluxWriter } from "./writer";

/** The first retention apply makes plugwatch_raw the DEFAULT RP: start waits this long (ms) for it so no batch lands in autogen. */
export const FIRST_APPLY_WAIT_MS = 5000;
/** close() gives in-flight writes this long (ms). */
export const WRITER_CLOSE_MS = 5000;

export interface HookRuntimeOptions {
  spoolDir: string;
  maxBytes: number;
  policy: SpoolPolicy;
  batchSize: number;
  flushIntervalMs: number;
  maxInFlight: number;
}

export interface HookRuntimeDeps {
  clock: Clock;
  /** The InfluxDB write target, observed (reachability, write times). */
  sink: ObservedSink;
  /** Late writes are re-aggregated into the rollups by the retention manager (docs/retention.md). */
  retention?: Pick<RetentionManager, "firstApply" | "noteWritten" | "status"> | undefined;
  /** True once the owner closes: start() stops early. */
  closing: () => boolean;
  /** Spool recovery messages. */
  warn: (m: string) => void;
  /** Rate-limited warnings, keyed by the kind of message (e.g. refused-400), not its text. */
  warnLimited: (key: string, m: string) => void;
  /** The writer's state or the counters changed (update the status). */
  changed: () => void;
  /** A SPOOL_FULL alert event to publish. */
  alert: (e: AlertEvent) => void;
}

/** Counters, alarm and writer of one hook; the owner maps its events to status and messages. */
export class HookRuntime {
  readonly counters = { invalidInputs: 0, invalidElements: 0, spoolFullRefusals: 0, rejectedReadings: {} as Record<string, number> };
  readonly alarm = new SpoolFullAlarm({ component: HOOK_COMPONENT });
  private readonly events: HookEvents = { lastFullAt: 0, lastInvalid: { at: 0, code: "" } };
  private spool: Spool | undefined;
  writer: InfluxWriter | undefined;

  constructor(
    private readonly o: HookRuntimeOptions,
    private readonly d: HookRuntimeDeps,
  ) {}

  /** Opens the spool (reporting recovered lines), waits for the first retention apply, starts the writer; false when closed meanwhile. */
  async start(recovered: (lines: number) => void): Promise<boolean> {
    const spool = await Spool.open({ dir: this.o.spoolDir, maxBytes: this.o.maxBytes, policy: this.o.policy, log: this.d.warn });
    if (this.d.closing()) return spool.close().then(() => false);
    if (spool.backlogLines > 0) recovered(spool.backlogLines);
    const wait = delay(this.d.clock, FIRST_APPLY_WAIT_MS);
    await Promise.race([this.d.retention?.firstApply(), wait.promise]);
    wait.cancel();
    if (this.d.closing()) return spool.close().then(() => false);
    this.spool = spool;
    const w = new InfluxWriter({
      spool,
      sink: rollupNotifyingSink(this.d.sink, this.d.retention),
      batchSize: this.o.batchSize,
      flushIntervalMs: this.o.flushIntervalMs,
      maxInFlight: this.o.maxInFlight,
      log: (m, key) => this.d.warnLimited(key, m),
    });
    this.writer = w;
    w.onChange = this.d.changed;
    return true;
  }

  /** The status to show; undefined before the writer runs. */
  health(batchSize: number): HookHealth | undefined {
    return this.writer && hookHealth(this.writer.stats(), this.events, batchSize, this.d.clock.now());
  }

  /** The hub source of the running writer (metrics and self-alerts). */
  source(): HookSource | undefined {
    const { writer, spool } = this;
    if (!writer || !spool) return undefined;
    return hookSource(
      writer,
      this.d.sink,
      () => this.counters.spoolFullRefusals,
      () => oldestUnsentTs(spool),
    );
  }

  /** Periodic check: clears the SPOOL_FULL alarm (alert event) once the spool has room again. */
  tick(): void {
    if (!this.writer) return;
    const st = this.writer.stats();
    const e = this.alarm.check(this.d.clock.now(), st.backlogBytes / st.spool.maxBytes);
    if (e) this.d.alert(e);
  }

  /** Stores encoded lines; `done` gets the input's error (refusal, or invalid elements), undefined when all were stored. */
  store(lines: readonly string[], errors: readonly PlugwatchError[], key: string | undefined, done: (err?: Error) => void): void {
    const w = this.writer;
    if (!w) return done(new PlugwatchError("INTERNAL", "writer is not running"));
    if (lines.length === 0) return done(this.invalid(errors));
    w.accept(
      lines,
      (err) => {
        if (err instanceof PlugwatchError && err.code === "SPOOL_FULL") {
          this.counters.spoolFullRefusals++;
          this.events.lastFullAt = this.d.clock.now();
          // Loud: a warning in the log (one per minute, with the count of suppressed ones) and an alert raised once.
          this.d.warnLimited("spool-full", err.message);
          const e = this.alarm.refused(this.events.lastFullAt, err.message);
          if (e) this.d.alert(e);
        }
        if (!err) return done(errors.length ? this.invalid(errors) : undefined);
        this.d.changed();
        done(err);
      },
      key,
    );
  }

  /** The component status message (lib/contracts/status.ts); undefined before the writer runs. */
  async stats(who: { node: string; name?: string | undefined }): Promise<ComponentStatus | undefined> {
    const { writer, spool } = this;
    if (!writer || !spool) return undefined;
    const oldestTs = await oldestUnsentTs(spool);
    return hookStatus(writer.stats(), this.counters, who, this.d.clock.now(), {
      spoolFull: this.alarm.active,
      oldestTs,
      retention: this.d.retention?.status(),
    });
  }

  /** Flushes and closes; returns the lines left in the spool. Removes the spool's own files when `removed` and empty. */
  async close(removed: boolean): Promise<number> {
    if (!this.writer) return 0;
    await this.writer.close(WRITER_CLOSE_MS);
    const left = this.writer.stats().backlogLines;
    // Only the spool's own files: the directory may be shared with other files (a user-set Spool dir).
    if (left === 0 && removed) await this.spool?.removeFiles();
    return left;
  }

  private invalid(errors: readonly PlugwatchError[]): PlugwatchError {
    this.counters.invalidInputs++;
    this.counters.invalidElements += errors.length;
    countRejected(this.counters.rejectedReadings, errors);
    const err = combineErrors(errors);
    this.events.lastInvalid = { at: this.d.clock.now(), code: err.code };
    this.d.changed();
    return err;
  }
}
