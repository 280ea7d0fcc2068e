// Keeps the retention tiers in step for one plugwatch-influx config node: applies the plan at start (retrying while
// InfluxDB is unreachable), then re-aggregates the rollup windows that late writes touched. I/O through `send` only.
import type { StorageChange } from "./storage-change";
import { escape } from "@influxdata/influxdb-client";
import type { Clock, TimerHandle } from "../clock";
import { PlugwatchError, type ErrorCode } from "../contracts/errors";
import type { HttpResponse } from "./http";
import { LateWindows, type WindowRange } from "./late-windows";
import type { LateWindowStore } from "./late-windows-file";
import {
  durationText,
  parseContinuousQueries,
  parseRetentionPolicies,
  planRetention,
  rawSourceRp,
  type RetentionSettings,
  type TierPlanInput,
} from "./retention";
import {
  orgRequest,
  parseBuckets,
  parseDbrps,
  parseOrgID,
  parseTasks,
  planRetentionV2,
  reaggregateRequestV2,
  stateRequests,
  type V2Request,
  type V2State,
} from "./retention-v2";
import { rollupSelect } from "./rollup-aggregate";
import { TIERS, type Tier } from "./rollup-schema";
import { queryRequest, type HttpRequestSpec, type InfluxSettings } from "./settings";
import type { WriteSink } from "./writer";

export type RetentionPhase = "off" | "pending" | "applied" | "failed" | "unsupported";

/** What /health shows (via the hook's component status) and the config node logs. */
export interface RetentionStatus {
  state: RetentionPhase;
  /** Retention of each tier (30d, 730d, inf). */
  tiers: Record<Tier, string>;
  /** Changes made by the last apply (statements or requests). */
  changes: number;
  appliedAt?: number;
  error?: { code: ErrorCode; message: string };
  /** Points written late for a rollup since the start, ranges re-aggregated, ranges still waiting. */
  latePoints: number;
  reaggregated: number;
  pendingRanges: number;
}

export interface RetentionManagerOptions {
  influx: InfluxSettings;
  retention: RetentionSettings;
  send: (spec: HttpRequestSpec, body?: string) => Promise<HttpResponse>;
  clock: Clock;
  /** Once per apply (what was done), and the 3.x limitation. */
  log: (msg: string) => void;
  /** Failures; `key` folds repeats in a rate-limited log. */
  warn: (msg: string, key: string) => void;
  /** Wait before retrying a failed apply or re-aggregation, ms (default 30 s). */
  retryMs?: number;
  /** Wait after a late write before re-aggregating, so one replay gives few statements, ms (default 5 s). */
  flushMs?: number;
  /**
   * Keeps the windows waiting for re-aggregation across a crash or restart (lib/influx/late-windows-file.ts): loaded at
   * construction, saved whenever they change, before the write that noted them is acknowledged. Absent: memory only.
   */
  store?: LateWindowStore;
}

const q = (id: string): string => escape.quoted(id);

/**
 * Stored data that changed after the fact, for whoever keeps answers derived from it (lib/influx/day-energy-cache.ts):
 * late readings landed in `ranges` (told when noted and again when their rollups were re-aggregated), or an apply
 * changed the tiers or their continuous queries.
 */
export type { StorageChange } from "./storage-change";

/** Statement errors of /query come back as 200 with `results[i].error`. */
function checkResults(res: HttpResponse, what: string): unknown {
  let json: { error?: string; results?: { error?: string }[] };
  try {
    json = JSON.parse(res.body || "{}") as typeof json;
  } catch {
    throw new PlugwatchError("ROLLUP_FAILED", `${what}: unreadable answer`);
  }
  const err = json.error ?? json.results?.find((r) => r.error)?.error;
  if (err) throw new PlugwatchError("ROLLUP_FAILED", `${what}: ${err.slice(0, 300)}`);
  return json;
}

function codeOf(err: unknown): { code: ErrorCode; message: string; retry: boolean } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof PlugwatchError) return { code: err.code, message, retry: false };
  const status = (err as { status?: number }).status;
  // No answer, timeouts and 5xx: InfluxDB may come up later. A 4xx (no rights, bad request) will not fix itself.
  if (status === undefined || status >= 500) return { code: "STORAGE_UNAVAILABLE", message, retry: true };
  return { code: "ROLLUP_FAILED", message, retry: false };
}

export class RetentionManager {
  private readonly late = new LateWindows();
  private phase: RetentionPhase;
  private changes = 0;
  private appliedAt?: number;
  private error?: { code: ErrorCode; message: string };
  private reaggregated = 0;
  private timer: TimerHandle | undefined;
  private closed = false;
  private flushing: Promise<number> | undefined;
  private first: Promise<void> | undefined;
  private readonly retryMs: number;
  private readonly flushMs: number;
  /** Ranges taken by the running flush and not yet done: still saved, so a crash mid-flush keeps them. */
  private inFlight: WindowRange[] = [];
  /** What the store holds (JSON), so an unchanged list is not written again. */
  private saved = "[]";
  private readonly watchers = new Set<(change: StorageChange) => void>();

  constructor(private readonly o: RetentionManagerOptions) {
    this.retryMs = o.retryMs ?? 30_000;
    this.flushMs = o.flushMs ?? 5000;
    this.phase = !o.retention.enabled ? "off" : o.influx.flavour === "3.x" ? "unsupported" : "pending";
    if (this.phase === "pending" && o.store) {
      const ranges = o.store.load();
      this.late.restore(ranges);
      this.saved = JSON.stringify(this.late.snapshot());
      if (ranges.length) o.log(`retention: ${ranges.length} late range(s) from before the restart wait for re-aggregation`);
    }
  }

  /** Calls `fn` on every StorageChange until the returned function is called. */
  onChange(fn: (change: StorageChange) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  private emit(change: StorageChange): void {
    for (const fn of this.watchers) {
      try {
        fn(change);
      } catch (err) {
        this.o.warn(`retention: a change watcher failed: ${err instanceof Error ? err.message : String(err)}`, "retention-watcher");
      }
    }
  }

  /** Saves the waiting and in-flight ranges when they changed. */
  private persist(): void {
    if (!this.o.store) return;
    const ranges = [...this.late.snapshot(), ...this.inFlight];
    const text = JSON.stringify(ranges);
    if (text === this.saved) return;
    this.o.store.save(ranges);
    this.saved = text;
  }

  /** Applies the plan (resolves when applied or failed for good; retries in the background while unreachable). */
  start(): Promise<void> {
    if (this.phase === "unsupported")
      this.o.log(
        "retention: InfluxDB 3.x has no retention policies or continuous queries; set the database's retention period and downsampling on the server (docs/retention.md)",
      );
    if (this.phase === "pending") this.first ??= this.apply();
    return this.firstApply();
  }

  /** Resolves when the first apply attempt ended (applied, failed, or unreachable and retrying); at once when not managed. */
  firstApply(): Promise<void> {
    return this.first ?? Promise.resolve();
  }

  private async apply(): Promise<void> {
    if (this.closed) return;
    try {
      const done = this.o.influx.flavour === "2.x" ? await this.applyV2() : await this.applyV1();
      this.changes = done.length;
      if (done.length) this.emit({ kind: "tiers" });
      this.phase = "applied";
      this.appliedAt = this.o.clock.now();
      delete this.error;
      const tiers = TIERS.map((t) => `${t} ${durationText(this.o.retention.durationMs[t])}`).join(", ");
      this.o.log(done.length ? `retention: ${done.join("; ")} (${tiers})` : `retention: in step (${tiers})`);
      this.arm(this.flushMs);
    } catch (err) {
      const { code, message, retry } = codeOf(err);
      this.error = { code, message };
      this.phase = retry ? "pending" : "failed";
      this.o.warn(`retention: ${message}${retry ? ` (retrying every ${Math.round(this.retryMs / 1000)} s)` : ""}`, `retention-${code}`);
      if (retry && !this.closed) {
        this.o.clock.clearTimeout(this.timer);
        this.timer = this.o.clock.setTimeout(() => {
          this.timer = undefined;
          void this.apply();
        }, this.retryMs);
      }
    }
  }

  private async query(text: string): Promise<unknown> {
    return checkResults(await this.o.send(queryRequest(this.o.influx, text)), text.split(" ").slice(0, 3).join(" "));
  }

  private planInput(): TierPlanInput {
    const s = this.o.influx;
    return { database: s.database, settings: this.o.retention, ...(s.retentionPolicy ? { customRawRp: s.retentionPolicy } : {}) };
  }

  private async applyV1(): Promise<string[]> {
    const input = this.planInput();
    const done: string[] = [];
    // Two rounds at most: the second must find nothing to do (it proves the plan is idempotent on this server).
    for (let round = 0; round < 2; round++) {
      const rps = parseRetentionPolicies(JSON.parse((await this.o.send(queryRequest(this.o.influx, `SHOW RETENTION POLICIES ON ${q(input.database)}`))).body));
      const cqs = rps.databaseExists ? parseContinuousQueries(await this.query("SHOW CONTINUOUS QUERIES"), input.database) : [];
      const plan = planRetention(input, { ...rps, continuousQueries: cqs });
      if (!plan.length) return done;
      for (const st of plan) {
        await this.query(st.text);
        done.push(st.why);
      }
    }
    return done;
  }

  private async json(spec: HttpRequestSpec): Promise<unknown> {
    return JSON.parse((await this.o.send(spec)).body || "{}") as unknown;
  }

  private async readV2(): Promise<V2State> {
    const s = this.o.influx;
    const orgID = parseOrgID(await this.json(orgRequest(s)), s.org ?? "");
    if (!orgID) throw new PlugwatchError("ROLLUP_FAILED", `InfluxDB 2.x: organisation '${s.org ?? ""}' not found`);
    const r = stateRequests(s, orgID);
    // One at a time: a handful of small reads, once per start, in an order the recorded-request tests can script.
    const buckets: V2State["buckets"] = [];
    for (const b of r.buckets) buckets.push(...parseBuckets(await this.json(b)));
    const tasks: V2State["tasks"] = [];
    for (const t of r.tasks) tasks.push(...parseTasks(await this.json(t)));
    const dbrps = parseDbrps(await this.json(r.dbrps));
    return { orgID, buckets, tasks, dbrps };
  }

  private async applyV2(): Promise<string[]> {
    const done: string[] = [];
    // Buckets first; their ids are needed for the mappings and tasks of the next round.
    for (let round = 0; round < 3; round++) {
      const plan: V2Request[] = planRetentionV2(this.o.influx, this.o.retention, await this.readV2());
      if (!plan.length) return done;
      for (const r of plan) {
        await this.o.send(r.spec, r.body);
        done.push(r.why);
      }
    }
    return done;
  }

  /** Notes a batch InfluxDB accepted; windows it touched late are re-aggregated after `flushMs`. */
  noteWritten(body: Buffer | string): void {
    if (this.phase === "off" || this.phase === "unsupported" || this.phase === "failed") return;
    const late = this.late.noteLines(typeof body === "string" ? body : body.toString("utf8"), this.o.clock.now());
    if (late > 0) {
      this.persist();
      if (this.watchers.size) this.emit({ kind: "late", ranges: this.late.snapshot() });
    }
    if (late > 0 && this.phase === "applied") this.arm(this.flushMs);
  }

  private arm(ms: number): void {
    if (this.closed || this.timer !== undefined || this.late.size === 0) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush().then(() => this.arm(this.late.size ? this.retryMs : this.flushMs));
    }, ms);
  }

  /** Re-aggregates every waiting range now; resolves with the number done. Failed ranges wait for the next flush. */
  flush(): Promise<number> {
    this.flushing ??= this.runFlush().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async runFlush(): Promise<number> {
    if (this.phase !== "applied") return 0;
    const ranges = this.late.drain();
    this.inFlight = ranges;
    let n = 0;
    for (const [i, r] of ranges.entries()) {
      try {
        await this.reaggregate(r);
        this.emit({ kind: "late", ranges: [r] });
        n++;
        this.reaggregated++;
        this.inFlight = ranges.slice(i + 1);
        this.persist();
      } catch (err) {
        this.inFlight = [];
        this.late.restore(ranges.slice(i));
        this.o.warn(`retention: re-aggregating late data failed, retrying: ${codeOf(err).message}`, "retention-reaggregate");
        break;
      }
    }
    this.inFlight = [];
    this.persist();
    return n;
  }

  private async reaggregate(r: WindowRange): Promise<void> {
    const s = this.o.influx;
    if (s.flavour === "2.x") {
      const req = reaggregateRequestV2(s, r.tier, r.startMs, r.endMs);
      await this.o.send(req.spec, req.body);
      return;
    }
    await this.query(rollupSelect(s.database, r.tier, rawSourceRp(this.planInput()), r));
  }

  status(): RetentionStatus {
    const st: RetentionStatus = {
      state: this.phase,
      tiers: Object.fromEntries(TIERS.map((t) => [t, durationText(this.o.retention.durationMs[t])])) as Record<Tier, string>,
      changes: this.changes,
      latePoints: this.late.latePoints,
      reaggregated: this.reaggregated,
      // Ranges a running flush has taken but not finished still wait (they stay in the store until done too).
      pendingRanges: this.late.size + this.inFlight.length,
    };
    if (this.appliedAt !== undefined) st.appliedAt = this.appliedAt;
    if (this.error) st.error = { ...this.error };
    return st;
  }

  /** Stops timers; a flush in progress finishes (its statements are idempotent). */
  async close(): Promise<void> {
    this.closed = true;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
  }
}

/**
 * The hook's sink, telling `manager` about every batch InfluxDB took (late windows are found from its timestamps).
 * A 400 partial write also stored part of the batch, so it is noted too (re-aggregating a window is idempotent).
 */
export function rollupNotifyingSink(sink: WriteSink, manager: Pick<RetentionManager, "noteWritten"> | undefined): WriteSink {
  if (!manager) return sink;
  const wrapped: WriteSink = {
    send: async (body) => {
      try {
        await sink.send(body);
      } catch (err) {
        if ((err as { status?: number }).status === 400) manager.noteWritten(body);
        throw err;
      }
      manager.noteWritten(body);
    },
  };
  if (sink.createDatabase) wrapped.createDatabase = sink.createDatabase;
  return wrapped;
}
