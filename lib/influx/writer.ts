// Durable batched InfluxDB writer: spools lines first, then sends them in order with backoff, Retry-After and partial-write handling.
import { escape } from "@influxdata/influxdb-client";
import { PlugwatchError, type ErrorCode } from "../contracts/errors";
import { realTimers, type Spool, type SpoolBatch, type SpoolStats, type Timers } from "../spool";
import { queryRequest, writeRequest, type HttpRequestSpec, type InfluxSettings } from "./settings";

/** What a failed send looks like (InfluxHttpError satisfies it). */
export interface SendError extends Error {
  status?: number;
  retryAfterMs?: number;
}

/** Where batches go. `send` rejects with a SendError; `createDatabase` exists only where it makes sense (1.x). */
export interface WriteSink {
  send(body: Buffer): Promise<void>;
  createDatabase?: () => Promise<void>;
}

/** Anything that sends an HttpRequestSpec (InfluxHttp does). */
export interface SpecSender {
  send(spec: HttpRequestSpec, body?: string | Buffer): Promise<unknown>;
}

/** InfluxQL that creates `database` (escape.quoted adds the surrounding double quotes itself). */
export function createDatabaseStatement(database: string): string {
  return `CREATE DATABASE ${escape.quoted(database)}`;
}

/** The sink for real InfluxDB: the flavour's write request, and CREATE DATABASE on 1.x. */
export function influxSink(http: SpecSender, settings: InfluxSettings, opts: { createDatabase?: boolean } = {}): WriteSink {
  const spec = writeRequest(settings);
  const sink: WriteSink = { send: async (body) => void (await http.send(spec, body)) };
  if (settings.flavour === "1.x" && (opts.createDatabase ?? true)) {
    const statement = createDatabaseStatement(settings.database);
    sink.createDatabase = async () => void (await http.send(queryRequest(settings, statement)));
  }
  return sink;
}

export interface WriterOptions {
  spool: Spool;
  sink: WriteSink;
  /** Lines per write request (default 5000). */
  batchSize?: number;
  /** A spooled line waits at most this long (ms) before it is sent (default 1000). */
  flushIntervalMs?: number;
  /** Concurrent write requests (default 1: strictly ordered). */
  maxInFlight?: number;
  /** Exponential backoff with full jitter: delay = random() * min(capMs, baseMs * 2^attempt). */
  backoff?: { baseMs: number; capMs: number };
  now?: () => number;
  random?: () => number;
  timers?: Timers;
  /**
   * Log sink. `key` names the kind of message independently of its changing details (counts, server text), so a
   * rate-limited log can fold repeats: `db-created`, `db-create-failed`, `refused-<HTTP status>`.
   */
  log?: (msg: string, key: string) => void;
}

export interface WriterError {
  code: ErrorCode;
  message: string;
  status?: number;
  at: number;
}

export interface WriterStats {
  acceptedLines: number;
  writtenLines: number;
  /** Lines the database refused as bad data (400 partial write); acknowledged so the spool never wedges. */
  rejectedLines: number;
  acceptedPerSec: number;
  writtenPerSec: number;
  backlogLines: number;
  backlogBytes: number;
  retries: number;
  /** True while a batch is waiting for its next attempt. */
  retrying: boolean;
  inFlight: number;
  lastError?: WriterError;
  spool: SpoolStats;
}

interface InFlight {
  batch: SpoolBatch;
  done: boolean;
}

const stopped = Symbol("stopped");

export class InfluxWriter {
  private readonly spool: Spool;
  private readonly sink: WriteSink;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxInFlight: number;
  private readonly backoff: { baseMs: number; capMs: number };
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly timers: Timers;
  private readonly log: (msg: string, key: string) => void;

  /** Sequence number of the next line to send. */
  private cursor = 0;
  private readonly inflight: InFlight[] = [];
  private peeking = false;
  private flushTimer: unknown;
  /** When the oldest unsent line became sendable (for flushIntervalMs). */
  private waitingSince?: number | undefined;
  private draining = false;
  private stopping = false;
  private readonly retryWaits = new Set<{ handle: unknown; resolve: (v: typeof stopped | undefined) => void }>();
  private readonly counters = { acceptedLines: 0, writtenLines: 0, rejectedLines: 0, retries: 0 };
  private retryingCount = 0;
  private lastError?: WriterError;
  private rate = { at: 0, accepted: 0, written: 0, acceptedPerSec: 0, writtenPerSec: 0 };
  /** Called when the writer's state changes in a way a status display cares about (retrying, recovered, error). */
  onChange?: () => void;

  constructor(opts: WriterOptions) {
    this.spool = opts.spool;
    this.sink = opts.sink;
    this.batchSize = Math.max(1, opts.batchSize ?? 5000);
    this.flushIntervalMs = Math.max(0, opts.flushIntervalMs ?? 1000);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
    this.backoff = opts.backoff ?? { baseMs: 500, capMs: 60_000 };
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.timers = opts.timers ?? realTimers;
    this.log = opts.log ?? (() => undefined);
    this.cursor = this.spool.headSeq;
    this.rate.at = this.now();
    this.spool.onAppend = () => this.pump();
    // A spool recovered with a backlog starts sending at once.
    this.pump();
  }

  /** Spools lines; `cb()` once they are durable ("accepted"), `cb(err)` when refused (SPOOL_FULL). */
  accept(lines: readonly string[], cb: (err?: Error) => void, key?: string): void {
    if (this.stopping) return cb(new PlugwatchError("INTERNAL", "writer is closing"));
    this.spool.append(
      lines,
      (err) => {
        if (!err) this.counters.acceptedLines += lines.length;
        cb(err);
      },
      key,
    );
  }

  acceptAsync(lines: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => this.accept(lines, (err) => (err ? reject(err) : resolve())));
  }

  stats(): WriterStats {
    const t = this.now();
    const dt = t - this.rate.at;
    if (dt >= 1000) {
      this.rate.acceptedPerSec = Math.round(((this.counters.acceptedLines - this.rate.accepted) * 1000) / dt);
      this.rate.writtenPerSec = Math.round(((this.counters.writtenLines - this.rate.written) * 1000) / dt);
      this.rate.at = t;
      this.rate.accepted = this.counters.acceptedLines;
      this.rate.written = this.counters.writtenLines;
    }
    const spool = this.spool.stats();
    const s: WriterStats = {
      ...this.counters,
      acceptedPerSec: this.rate.acceptedPerSec,
      writtenPerSec: this.rate.writtenPerSec,
      backlogLines: spool.backlogLines,
      backlogBytes: spool.backlogBytes,
      retrying: this.retryingCount > 0,
      inFlight: this.inflight.length,
      spool,
    };
    if (this.lastError) s.lastError = this.lastError;
    return s;
  }

  /** Decides whether to send now, later (timer) or not at all; called on every append and completion. */
  private pump(): void {
    if (this.stopping && !this.draining) return;
    this.cursor = Math.max(this.cursor, this.spool.headSeq);
    const available = this.spool.tailSeq - this.cursor;
    if (available <= 0) {
      this.waitingSince = undefined;
      return;
    }
    if (this.inflight.length >= this.maxInFlight || this.peeking) return;
    const t = this.now();
    this.waitingSince ??= t;
    if (available >= this.batchSize || this.draining || t - this.waitingSince >= this.flushIntervalMs) {
      this.clearFlushTimer();
      void this.sendNext();
      return;
    }
    if (this.flushTimer === undefined) {
      this.flushTimer = this.timers.setTimeout(
        () => {
          this.flushTimer = undefined;
          this.pump();
        },
        this.flushIntervalMs - (t - this.waitingSince),
      );
    }
  }

  private clearFlushTimer(): void {
    if (this.flushTimer !== undefined) this.timers.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  private async sendNext(): Promise<void> {
    this.peeking = true;
    let batch: SpoolBatch | undefined;
    try {
      batch = await this.spool.peek(this.cursor, this.batchSize);
    } catch (err) {
      this.setError("INTERNAL", `spool read failed: ${(err as Error).message}`);
    } finally {
      this.peeking = false;
    }
    if (!batch) {
      this.pump();
      return;
    }
    this.cursor = batch.fromSeq + batch.count;
    this.waitingSince = this.spool.tailSeq > this.cursor ? this.now() : undefined;
    const entry: InFlight = { batch, done: false };
    this.inflight.push(entry);
    this.pump(); // maxInFlight > 1: start the next one
    const ok = await this.deliver(batch);
    if (ok) {
      entry.done = true;
      // Acknowledge in order: only the completed prefix of the in-flight list.
      for (let head = this.inflight[0]; head?.done; head = this.inflight[0]) {
        this.inflight.shift();
        this.spool.ack(head.batch.fromSeq + head.batch.count);
      }
    } else {
      // Stopped while retrying: forget the in-flight batch; it stays spooled for the next start.
      const i = this.inflight.indexOf(entry);
      if (i >= 0) this.inflight.splice(i, 1);
    }
    this.onChange?.();
    this.pump();
  }

  /** Sends one batch until it is written or refused as bad data; false only when the writer stops first. */
  private async deliver(batch: SpoolBatch): Promise<boolean> {
    let createdDb = false;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.sink.send(batch.body);
        this.counters.writtenLines += batch.count;
        if (this.lastError && this.retryingCount === 0) this.onChange?.();
        return true;
      } catch (e) {
        const err = e as SendError;
        const status = err.status;
        if (status === 404 && this.sink.createDatabase && /database not found/i.test(err.message)) {
          if (!createdDb) {
            // Once per retry round: a database that still is not found after CREATE waits for the backoff.
            createdDb = true;
            try {
              await this.sink.createDatabase();
              this.log(`created the missing database`, "db-created");
              attempt--;
              continue;
            } catch (ce) {
              // Keep the CREATE failure as the visible error: it is the cause, the 404 only its symptom.
              this.setError("STORAGE_UNAVAILABLE", `database not found and cannot create it: ${(ce as Error).message}`, (ce as SendError).status);
              this.log(`database not found and cannot create it: ${(ce as Error).message}`, "db-create-failed");
            }
          } else {
            this.setError("STORAGE_UNAVAILABLE", err.message, status);
            createdDb = false;
          }
        } else if (status === 400 || status === 422) {
          // Bad data (partial write / out of retention): the good lines of the batch are stored by the server;
          // retrying would wedge the spool forever, so acknowledge and count.
          const dropped = /dropped=(\d+)/.exec(err.message);
          const n = dropped ? Math.min(batch.count, Number(dropped[1])) : batch.count;
          this.counters.rejectedLines += n;
          this.counters.writtenLines += batch.count - n;
          this.setError("INVALID_READING", `InfluxDB refused ${n} of ${batch.count} line(s): ${err.message}`, status);
          this.log(`InfluxDB refused ${n} of ${batch.count} line(s): ${err.message}`, `refused-${status}`);
          return true;
        } else {
          this.setError("STORAGE_UNAVAILABLE", err.message, status);
        }
        if (this.stopping && !this.draining) return false;
        this.counters.retries++;
        const delay =
          err.retryAfterMs !== undefined ? err.retryAfterMs : this.random() * Math.min(this.backoff.capMs, this.backoff.baseMs * 2 ** Math.min(attempt, 30));
        this.retryingCount++;
        this.onChange?.();
        const r = await this.wait(delay);
        this.retryingCount--;
        if (r === stopped) return false;
      }
    }
  }

  private wait(ms: number): Promise<typeof stopped | undefined> {
    return new Promise((resolve) => {
      const w = {
        handle: undefined as unknown,
        resolve: (v: typeof stopped | undefined) => {
          this.retryWaits.delete(w);
          resolve(v);
        },
      };
      w.handle = this.timers.setTimeout(() => w.resolve(undefined), ms);
      this.retryWaits.add(w);
    });
  }

  private setError(code: ErrorCode, message: string, status?: number): void {
    this.lastError = status === undefined ? { code, message, at: this.now() } : { code, message, status, at: this.now() };
  }

  /** True while nothing is waiting to be sent or in flight. */
  get idle(): boolean {
    return this.spool.backlogLines === 0 && this.inflight.length === 0;
  }

  /**
   * Stops: flushes the spool, then keeps sending (no waiting for the interval) until the backlog is empty or
   * `graceMs` passed; cancels retries, and closes the spool. What is not written stays spooled for the next start.
   * `abort` is called at the deadline to cut in-flight requests (e.g. destroy the HTTP agent).
   */
  async close(graceMs = 5000, abort?: () => void): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.draining = true;
    this.clearFlushTimer();
    await this.spool.flush();
    // Real time on purpose: the drain must end even if an injected clock is frozen.
    const deadline = Date.now() + graceMs;
    this.pump();
    while (!this.idle && Date.now() < deadline) {
      if (this.retryingCount > 0) break; // the database is down: do not wait for it, keep the rest spooled
      await new Promise((r) => setTimeout(r, 10));
    }
    this.draining = false;
    for (const w of [...this.retryWaits]) {
      this.timers.clearTimeout(w.handle);
      w.resolve(stopped);
    }
    if (this.inflight.length) {
      abort?.();
      const until = Date.now() + 2000;
      while (this.inflight.length && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    }
    this.spool.onAppend = undefined;
    await this.spool.close();
  }
}
