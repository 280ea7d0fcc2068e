// Unit tests for lib/influx/writer.ts with an injected clock/timers and a scripted sink: batching, backoff, Retry-After, 400/404, ordering.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Spool, type Timers } from "../../lib/spool";
import { InfluxWriter, createDatabaseStatement, type SendError, type WriteSink } from "../../lib/influx/writer";
import { nth } from "../support/checked";

class FakeClock implements Timers {
  t = 1_000_000;
  private seq = 0;
  private pending = new Map<number, { at: number; fn: () => void }>();
  now = (): number => this.t;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  /** Moves time forward, firing due timers in order and letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.pending.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
    await settle();
  }
  get timerCount(): number {
    return this.pending.size;
  }
}

/** Lets pending promise chains and fs callbacks run (no wall-clock sleep). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

function httpError(status: number | undefined, message: string, retryAfterMs?: number): SendError {
  const e = new Error(message) as SendError;
  if (status !== undefined) e.status = status;
  if (retryAfterMs !== undefined) e.retryAfterMs = retryAfterMs;
  return e;
}

/** A sink whose answers are scripted: each send takes the next behaviour (default: success). */
class ScriptedSink implements WriteSink {
  sent: { body: string; at: number }[] = [];
  script: (SendError | "ok" | "hold")[] = [];
  held: { resolve: () => void; reject: (e: Error) => void; body: string }[] = [];
  createDatabaseCalls = 0;
  constructor(private readonly clock: FakeClock) {}
  send = (body: Buffer): Promise<void> => {
    const b = body.toString("utf8");
    this.sent.push({ body: b, at: this.clock.t });
    const next = this.script.shift() ?? "ok";
    if (next === "ok") return Promise.resolve();
    if (next === "hold") return new Promise((resolve, reject) => this.held.push({ resolve, reject, body: b }));
    return Promise.reject(next);
  };
  createDatabase = (): Promise<void> => {
    this.createDatabaseCalls++;
    return Promise.resolve();
  };
}

const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `m v=${from + i} ${1700000000000 + from + i}`);
const bodyLines = (b: string) => b.split("\n").filter(Boolean);

describe("influx writer", () => {
  let dir: string;
  let clock: FakeClock;
  let sink: ScriptedSink;
  let spool: Spool;
  let writer: InfluxWriter | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-writer-test-"));
    clock = new FakeClock();
    sink = new ScriptedSink(clock);
    spool = await Spool.open({ dir, maxBytes: 1e7, flushMs: 0 });
  });
  afterEach(async () => {
    await writer?.close(0);
    writer = undefined;
    await spool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (opts: Partial<ConstructorParameters<typeof InfluxWriter>[0]> = {}) =>
    (writer = new InfluxWriter({ spool, sink, batchSize: 10, flushIntervalMs: 1000, now: clock.now, timers: clock, random: () => 1, ...opts }));

  it("sends full batches at once and the remainder after flushInterval, in order", async () => {
    const w = make();
    await w.acceptAsync(lines(0, 25));
    await clock.advance(0);
    assert.deepEqual(
      sink.sent.map((s) => bodyLines(s.body).length),
      [10, 10],
    );
    await clock.advance(999);
    assert.equal(sink.sent.length, 2, "the 5 leftover lines wait for the interval");
    await clock.advance(1);
    assert.deepEqual(
      sink.sent.map((s) => bodyLines(s.body).length),
      [10, 10, 5],
    );
    assert.deepEqual(
      sink.sent.flatMap((s) => bodyLines(s.body)),
      lines(0, 25),
    );
    const st = w.stats();
    assert.deepEqual([st.acceptedLines, st.writtenLines, st.backlogLines, st.retries], [25, 25, 0, 0]);
  });

  it("a lone line is sent exactly flushInterval after it was spooled", async () => {
    make();
    await writer!.acceptAsync(lines(0, 1));
    await clock.advance(500);
    await writer!.acceptAsync(lines(1, 1));
    await clock.advance(499);
    assert.equal(sink.sent.length, 0);
    await clock.advance(1);
    assert.equal(sink.sent.length, 1);
    assert.deepEqual(bodyLines(nth(sink.sent, 0).body), lines(0, 2));
  });

  it("retries with exponential backoff + full jitter, then continues in order", async () => {
    make({ random: () => 0.5 });
    sink.script = [httpError(503, "unavailable"), httpError(undefined, "ECONNREFUSED"), httpError(500, "oops"), "ok"];
    await writer!.acceptAsync(lines(0, 10));
    await writer!.acceptAsync(lines(10, 10));
    await clock.advance(0);
    assert.equal(sink.sent.length, 1);
    assert.equal(writer!.stats().retrying, true);
    assert.equal(writer!.stats().lastError?.code, "STORAGE_UNAVAILABLE");
    await clock.advance(249); // 0.5 * 500
    assert.equal(sink.sent.length, 1);
    await clock.advance(1);
    assert.equal(sink.sent.length, 2);
    await clock.advance(500); // 0.5 * 1000
    assert.equal(sink.sent.length, 3);
    await clock.advance(999); // 0.5 * 2000
    assert.equal(sink.sent.length, 3);
    await clock.advance(1);
    assert.equal(sink.sent.length, 5, "retry succeeded, then the second batch");
    assert.deepEqual(bodyLines(nth(sink.sent, 3).body), lines(0, 10));
    assert.deepEqual(bodyLines(nth(sink.sent, 4).body), lines(10, 10));
    const st = writer!.stats();
    assert.deepEqual([st.retries, st.writtenLines, st.backlogLines, st.retrying], [3, 20, 0, false]);
  });

  it("caps the backoff at capMs", async () => {
    make({ backoff: { baseMs: 500, capMs: 60_000 } });
    sink.script = Array.from({ length: 12 }, () => httpError(503, "down"));
    await writer!.acceptAsync(lines(0, 10));
    await clock.advance(0);
    const starts: number[] = [];
    for (let i = 0; i < 12; i++) {
      await clock.advance(60_000);
      starts.push(sink.sent.length);
    }
    const gaps = sink.sent.slice(1).map((s, i) => s.at - nth(sink.sent, i).at);
    assert.deepEqual(gaps.slice(0, 8), [500, 1000, 2000, 4000, 8000, 16000, 32000, 60000]);
    assert.ok(gaps.every((g) => g <= 60_000));
  });

  it("honours Retry-After exactly", async () => {
    make({ random: () => 0.01 });
    sink.script = [httpError(429, "slow down", 3000)];
    await writer!.acceptAsync(lines(0, 10));
    await clock.advance(2999);
    assert.equal(sink.sent.length, 1);
    await clock.advance(1);
    assert.equal(sink.sent.length, 2);
    assert.equal(nth(sink.sent, 1).at - nth(sink.sent, 0).at, 3000);
  });

  it("400 partial write: counts the dropped lines, acknowledges and moves on", async () => {
    make();
    sink.script = [httpError(400, 'InfluxDB answered 400: {"error":"partial write: field type conflict: dropped=3"}')];
    await writer!.acceptAsync(lines(0, 10));
    await writer!.acceptAsync(lines(10, 10));
    await clock.advance(0);
    assert.equal(sink.sent.length, 2);
    const st = writer!.stats();
    assert.deepEqual([st.rejectedLines, st.writtenLines, st.backlogLines, st.retries], [3, 17, 0, 0]);
    assert.equal(st.lastError?.code, "INVALID_READING");
  });

  it("404 database not found: creates the database and retries at once", async () => {
    make();
    sink.script = [httpError(404, 'InfluxDB answered 404: {"error":"database not found: \\"x\\""}')];
    await writer!.acceptAsync(lines(0, 10));
    await clock.advance(0);
    assert.equal(sink.createDatabaseCalls, 1);
    assert.equal(sink.sent.length, 2);
    assert.equal(writer!.stats().writtenLines, 10);
  });

  it("CREATE DATABASE statement quotes the name exactly once (a doubled quote made InfluxDB answer 400)", () => {
    assert.equal(createDatabaseStatement("plugwatch"), 'CREATE DATABASE "plugwatch"');
    assert.equal(createDatabaseStatement('we"ird\\db'), 'CREATE DATABASE "we\\"ird\\\\db"');
  });

  it("404 database not found and CREATE fails: the CREATE error stays visible, retried with backoff", async () => {
    make();
    sink.script = [httpError(404, 'InfluxDB answered 404: {"error":"database not found: \\"x\\""}')];
    sink.createDatabase = (): Promise<void> => {
      sink.createDatabaseCalls++;
      return Promise.reject(httpError(403, "InfluxDB answered 403: create database requires admin privilege"));
    };
    await writer!.acceptAsync(lines(0, 10));
    await clock.advance(0);
    assert.equal(sink.createDatabaseCalls, 1);
    assert.match(writer!.stats().lastError?.message ?? "", /cannot create it: .*admin privilege/);
    assert.equal(writer!.stats().retrying, true);
  });

  it("maxInFlight 2: two requests at once, acknowledged in order", async () => {
    make({ maxInFlight: 2 });
    sink.script = ["hold", "hold"];
    await writer!.acceptAsync(lines(0, 20));
    await clock.advance(0);
    assert.equal(sink.held.length, 2);
    nth(sink.held, 1).resolve();
    await clock.advance(0);
    assert.equal(spool.headSeq, 0, "the second batch completed first: nothing acknowledged yet");
    nth(sink.held, 0).resolve();
    await clock.advance(0);
    assert.equal(spool.headSeq, 20);
  });

  it("maxInFlight 1: never more than one request at a time", async () => {
    make();
    sink.script = ["hold"];
    await writer!.acceptAsync(lines(0, 30));
    await clock.advance(5000);
    assert.equal(sink.sent.length, 1);
    nth(sink.held, 0).resolve();
    await clock.advance(0);
    assert.equal(sink.sent.length, 3);
  });

  it("close() drains without waiting for the interval; while the database is down it leaves the backlog spooled", async () => {
    make();
    await writer!.acceptAsync(lines(0, 3));
    await writer!.close(2000);
    assert.equal(sink.sent.length, 1);
    assert.deepEqual(bodyLines(nth(sink.sent, 0).body), lines(0, 3));

    const dir2 = mkdtempSync(path.join(os.tmpdir(), "plugwatch-writer-test-"));
    try {
      const spool2 = await Spool.open({ dir: dir2, maxBytes: 1e7, flushMs: 0 });
      const sink2 = new ScriptedSink(clock);
      sink2.script = Array.from({ length: 100 }, () => httpError(undefined, "ECONNREFUSED"));
      const w2 = new InfluxWriter({ spool: spool2, sink: sink2, batchSize: 10, now: clock.now, timers: clock });
      await w2.acceptAsync(lines(0, 15));
      const t0 = Date.now();
      await w2.close(5000);
      assert.ok(Date.now() - t0 < 1000, "close does not wait for a dead database");
      assert.equal(clock.timerCount, 0, "no timer left behind");
      const reopened = await Spool.open({ dir: dir2, maxBytes: 1e7 });
      assert.deepEqual(bodyLines((await reopened.peek(0, 100))!.body.toString()), lines(0, 15));
      await reopened.close();
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
