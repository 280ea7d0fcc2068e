// Unit tests for lib/influx/hook-runtime.ts: a real spool in a temp dir, a recording sink, the fake clock; what done(), status, alerts and stats say.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AlertEvent } from "../../lib/contracts/alert";
import { PlugwatchError } from "../../lib/contracts/errors";
import { HookRuntime, type HookRuntimeOptions } from "../../lib/influx/hook-runtime";
import { observeSink } from "../../lib/metrics/observed-sink";
import { FakeTime } from "../support/fake-time";

const LINE = (n: number) => `plug,device=desk-${n} power_w=${n}.5 1700000000${String(n).padStart(3, "0")}`;

describe("HookRuntime (influx-hook without Node-RED)", () => {
  let dir: string;
  let time: FakeTime;
  let bodies: string[];
  let alerts: AlertEvent[];
  let changes: number;
  let warnings: string[];
  let closing: boolean;

  const make = (o: Partial<HookRuntimeOptions> = {}) =>
    new HookRuntime(
      { spoolDir: dir, maxBytes: 1024 * 1024, policy: "reject", batchSize: 100, flushIntervalMs: 0, maxInFlight: 1, ...o },
      {
        clock: time.asClock,
        sink: observeSink({ send: (body) => Promise.resolve(void bodies.push(body.toString())) }, time.clock),
        closing: () => closing,
        warn: (m) => warnings.push(m),
        warnLimited: (key, m) => warnings.push(`${key}: ${m}`),
        changed: () => changes++,
        alert: (e) => alerts.push(e),
      },
    );
  const store = (h: HookRuntime, lines: string[], errors: PlugwatchError[] = []) =>
    new Promise<Error | undefined>((resolve) => h.store(lines, errors, "plug,device=desk", resolve));

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "hook-runtime-"));
    time = new FakeTime();
    bodies = [];
    alerts = [];
    changes = 0;
    warnings = [];
    closing = false;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("stores valid lines, writes them on close and leaves nothing behind when removed", async () => {
    const h = make();
    assert.equal(h.health(100), undefined, "no health before start");
    assert.equal(await h.start(() => assert.fail("nothing to recover")), true);
    assert.equal(await store(h, [LINE(1), LINE(2)]), undefined);
    const stats = await h.stats({ node: "n1", name: "hook" });
    assert.equal(stats?.component, "influx-hook");
    assert.equal(stats?.node, "n1");
    assert.equal(stats?.invalidInputs, 0);
    assert.equal(h.health(100)?.kind, "ok");
    assert.equal(await h.close(true), 0);
    assert.deepEqual(bodies.join("").trim().split("\n"), [LINE(1), LINE(2)]);
    assert.equal(existsSync(dir), false, "spool files (and the emptied dir) removed");
  });

  it("answers an input without valid lines with the combined error, counted and shown as a warning", async () => {
    const h = make();
    await h.start(() => undefined);
    const bad = [new PlugwatchError("INVALID_READING", "power_w: must be a number"), new PlugwatchError("INVALID_READING", "ts: missing")];
    const err = await store(h, [], bad);
    assert.ok(err instanceof PlugwatchError);
    assert.equal(err.code, "INVALID_READING");
    assert.match(err.message, /and 1 more invalid element/);
    assert.equal(h.counters.invalidInputs, 1);
    assert.equal(h.counters.invalidElements, 2);
    assert.equal(changes, 1);
    assert.deepEqual(h.health(100), { kind: "warn", text: "0/s, backlog 0, INVALID_READING" });
    time.now += 10_001;
    assert.equal(h.health(100)?.kind, "ok", "the warning is held 10 s");
    await h.close(false);
  });

  it("stores the valid part of a mixed input and still reports the invalid elements to done()", async () => {
    const h = make();
    await h.start(() => undefined);
    const err = await store(h, [LINE(3)], [new PlugwatchError("UNKNOWN_DEVICE", "device 'x' is not in the registry")]);
    assert.equal((err as PlugwatchError).code, "UNKNOWN_DEVICE");
    assert.equal(h.counters.invalidElements, 1);
    assert.equal(await h.close(false), 0);
    assert.equal(bodies.join("").trim(), LINE(3));
  });

  it("raises SPOOL_FULL once when the spool refuses, and clears it when there is room again", async () => {
    const h = make({ maxBytes: 200 });
    await h.start(() => undefined);
    // Ten lines are more than the 200-byte spool holds: refused whole (policy reject).
    const big = Array.from({ length: 10 }, (_, i) => LINE(i));
    const first = await store(h, big);
    const second = await store(h, big);
    assert.equal((first as PlugwatchError).code, "SPOOL_FULL");
    assert.equal((second as PlugwatchError).code, "SPOOL_FULL");
    assert.equal(h.counters.spoolFullRefusals, 2);
    assert.deepEqual(
      alerts.map((a) => [a.rule, a.state]),
      [["spool-full", "raised"]],
    );
    assert.equal(h.health(100)?.kind, "error");
    assert.equal(warnings.filter((w) => w.startsWith("spool-full:")).length, 2, "each refusal goes to the rate-limited log");
    time.now += 30_001;
    h.tick();
    assert.deepEqual(
      alerts.map((a) => a.state),
      ["raised", "cleared"],
    );
    await h.close(false);
  });

  it("does not start a writer when closed while the spool opens", async () => {
    closing = true;
    const h = make();
    assert.equal(await h.start(() => undefined), false);
    assert.equal(h.writer, undefined);
    assert.equal(await h.stats({ node: "n1" }), undefined);
    const err = await store(h, [LINE(1)]);
    assert.equal((err as PlugwatchError).code, "INTERNAL");
  });

  it("reports the lines recovered from a previous run", async () => {
    // A sink that fails keeps the line in the spool across close.
    const first = new HookRuntime(
      { spoolDir: dir, maxBytes: 1024 * 1024, policy: "reject", batchSize: 100, flushIntervalMs: 60_000, maxInFlight: 1 },
      {
        clock: time.asClock,
        sink: observeSink({ send: () => Promise.reject(new PlugwatchError("STORAGE_UNAVAILABLE", "down")) }, time.clock),
        closing: () => false,
        warn: () => undefined,
        warnLimited: () => undefined,
        changed: () => undefined,
        alert: () => undefined,
      },
    );
    await first.start(() => undefined);
    assert.equal(await store(first, [LINE(7)]), undefined);
    assert.equal(await first.close(true), 1, "one line left, files kept");
    let recovered = 0;
    const again = make();
    await again.start((n) => (recovered = n));
    assert.equal(recovered, 1);
    await again.close(false);
    assert.equal(bodies.join("").trim(), LINE(7));
  });
});
