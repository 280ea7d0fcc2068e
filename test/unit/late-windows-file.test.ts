// Late rollup windows kept across restarts: the file store (atomic saves, damaged file reported and reset) and the
// retention manager saving its waiting windows when a late write is noted and re-aggregating a saved list after a restart.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { HttpResponse } from "../../lib/influx/http";
import { lateWindowsFile, lateWindowsFileOf, parseLateWindows } from "../../lib/influx/late-windows-file";
import { RetentionManager } from "../../lib/influx/retention-manager";
import { rollupSelect } from "../../lib/influx/rollup-aggregate";
import type { HttpRequestSpec } from "../../lib/influx/settings";
import { FakeTime } from "../support/fake-time";
import { STATEMENT_OK, testRetentionManager } from "../support/retention-manager";
import { nth } from "../support/checked";

const MIN = 60_000;
const H = 3_600_000;

/** A fake clock at xx:40: a window 20 minutes back is late for the 1-minute tier only (its hour is still in the CQ's reach). */
function at40(): FakeTime {
  const time = new FakeTime();
  time.now = time.now - (time.now % H) + 40 * MIN;
  return time;
}

describe("late windows file", function () {
  let dir: string;
  let file: string;
  let warnings: string[];
  beforeEach(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-late-"));
    file = lateWindowsFileOf(dir, "influx:1/a");
    warnings = [];
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("names one file per config node under userDir", function () {
    assert.equal(file, path.join(dir, "plugwatch-late-windows-influx_1_a.json"));
  });

  it("a missing file is no windows, silently; a saved list loads back exactly, with no temp file left", function () {
    const store = lateWindowsFile(file, (m) => warnings.push(m));
    assert.deepEqual(store.load(), []);
    const ranges = [
      { tier: "1m" as const, startMs: 100 * MIN, endMs: 130 * MIN },
      { tier: "1h" as const, startMs: 10 * H, endMs: 12 * H },
    ];
    store.save(ranges);
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { v: 1, ranges });
    assert.equal(existsSync(`${file}.tmp`), false);
    assert.deepEqual(lateWindowsFile(file, (m) => warnings.push(m)).load(), ranges);
    assert.deepEqual(warnings, []);
  });

  for (const [what, text, why] of [
    ["unreadable JSON (a torn write by another tool)", '{"v":1,"ranges":[{"tier":"1m"', /damaged \(.*JSON/],
    ["an unknown tier", '{"v":1,"ranges":[{"tier":"5m","startMs":0,"endMs":300000}]}', /ranges\[0\]: unknown tier "5m"/],
    ["a range not on window boundaries", '{"v":1,"ranges":[{"tier":"1m","startMs":1000,"endMs":60000}]}', /ranges\[0\]: not a range of whole 1m windows/],
    ["an empty range", '{"v":1,"ranges":[{"tier":"1h","startMs":3600000,"endMs":3600000}]}', /not a range/],
    ["another version", '{"v":2,"ranges":[]}', /unknown version 2/],
  ] as const) {
    it(`a damaged file (${what}) is reported once and reset to an empty list`, function () {
      writeFileSync(file, text);
      assert.deepEqual(lateWindowsFile(file, (m) => warnings.push(m)).load(), []);
      assert.equal(warnings.length, 1);
      assert.match(nth(warnings, 0), why);
      assert.match(nth(warnings, 0), /reset/);
      assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { v: 1, ranges: [] });
      assert.deepEqual(lateWindowsFile(file, (m) => warnings.push(m)).load(), []);
      assert.equal(warnings.length, 1, "the reset file loads without a warning");
    });
  }

  it("parseLateWindows refuses what is not an object", function () {
    assert.throws(() => parseLateWindows([]), /not an object/);
    assert.throws(() => parseLateWindows({ v: 1 }), /'ranges' is not a list/);
  });
});

describe("retention manager: late windows survive a restart", function () {
  let dir: string;
  let file: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-late-"));
    file = lateWindowsFileOf(dir, "influx");
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A manager whose InfluxDB accepts every statement (recorded in `sent`) unless `fail()` says otherwise. */
  function manager(time: FakeTime, sent: string[], fail: (q: string) => boolean = () => false): RetentionManager {
    const send = (spec: HttpRequestSpec): Promise<HttpResponse> => {
      const q = spec.query.q ?? "";
      if (fail(q)) return Promise.reject(Object.assign(new Error("down"), { status: 503 }));
      sent.push(q);
      return Promise.resolve(STATEMENT_OK);
    };
    return testRetentionManager(time, send, { store: lateWindowsFile(file, () => undefined) });
  }
  const saved = (): unknown => (JSON.parse(readFileSync(file, "utf8")) as { ranges: unknown }).ranges;
  const selects = (sent: string[]): string[] => sent.filter((q) => q.startsWith("SELECT"));

  it("saves the windows of a late write at once, and an emptied list after re-aggregating them", async function () {
    const time = at40();
    const sent: string[] = [];
    const m = manager(time, sent);
    await m.start();
    const t = Math.floor((time.now - 20 * MIN) / MIN) * MIN;
    m.noteWritten(`plug,device=a power=1,energy=2 ${t + 5000}\nplug,device=a power=1,energy=2 ${t + MIN + 5000}\n`);
    // Saved before the write returns (the spool acknowledges the batch after the sink's send resolves).
    assert.deepEqual(saved(), [{ tier: "1m", startMs: t, endMs: t + 2 * MIN }]);
    assert.equal(selects(sent).length, 0);
    await time.advance(5000);
    assert.deepEqual(selects(sent), [rollupSelect("pw", "1m", "plugwatch_raw", { startMs: t, endMs: t + 2 * MIN })]);
    assert.deepEqual(saved(), []);
    await m.close();
  });

  it("counts a range a running flush has taken but not finished as pending, as the file still holds it", async function () {
    const time = new FakeTime();
    const t = Math.floor((time.now - 3 * H) / H) * H;
    let release: (() => void) | undefined;
    const send = (spec: HttpRequestSpec): Promise<HttpResponse> => {
      const q = spec.query.q ?? "";
      // The 1-hour re-aggregation waits until the test releases it.
      if (q.startsWith("SELECT") && q.includes("plugwatch_1h")) return new Promise((resolve) => (release = () => resolve(STATEMENT_OK)));
      return Promise.resolve(STATEMENT_OK);
    };
    const m = testRetentionManager(time, send, { store: lateWindowsFile(file, () => undefined) });
    await m.start();
    m.noteWritten(`plug,device=a power=1,energy=2 ${t + 5000}\n`);
    await time.advance(5000);
    assert.ok(release, "the 1-hour re-aggregation is running");
    assert.deepEqual([m.status().reaggregated, m.status().pendingRanges], [1, 1], "the 1-minute range done, the 1-hour one still waiting");
    assert.deepEqual(saved(), [{ tier: "1h", startMs: t, endMs: t + H }]);
    release();
    await m.flush();
    assert.deepEqual([m.status().reaggregated, m.status().pendingRanges], [2, 0]);
    assert.deepEqual(saved(), []);
    await m.close();
  });

  it("a restarted manager re-aggregates the saved windows once the tiers are applied; a failed try keeps them saved", async function () {
    const time = new FakeTime();
    const t = Math.floor((time.now - 3 * H) / H) * H;
    const first = manager(time, []);
    await first.start();
    first.noteWritten(`plug,device=a power=1,energy=2 ${t + 5000}\n`);
    // Crash: no close(), no flush; the next instance starts from the file alone.
    const want = [
      { tier: "1m", startMs: t, endMs: t + MIN },
      { tier: "1h", startMs: t, endMs: t + H },
    ];
    assert.deepEqual(saved(), want);

    const time2 = new FakeTime();
    time2.now = time.now + 1000;
    let down = true;
    const sent: string[] = [];
    const second = manager(time2, sent, (q) => down && q.startsWith("SELECT"));
    assert.equal(second.status().pendingRanges, 2, "loaded before the start");
    await second.start();
    await time2.advance(5000);
    assert.equal(second.status().reaggregated, 0);
    assert.deepEqual(saved(), want, "still saved after the failed try");
    down = false;
    await time2.advance(30_000);
    assert.deepEqual(selects(sent), [
      rollupSelect("pw", "1m", "plugwatch_raw", { startMs: t, endMs: t + MIN }),
      rollupSelect("pw", "1h", "plugwatch_raw", { startMs: t, endMs: t + H }),
    ]);
    assert.deepEqual([second.status().reaggregated, second.status().pendingRanges], [2, 0]);
    assert.deepEqual(saved(), []);
    await second.close();
  });

  it("keeps ranges of a flush in progress saved until each is done", async function () {
    const time = at40();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const snapshots: unknown[] = [];
    const send = async (spec: HttpRequestSpec): Promise<HttpResponse> => {
      if ((spec.query.q ?? "").startsWith("SELECT")) {
        snapshots.push(saved());
        await gate;
      }
      return STATEMENT_OK;
    };
    const m = testRetentionManager(time, send, { store: lateWindowsFile(file, () => undefined) });
    await m.start();
    const t = Math.floor((time.now - 20 * MIN) / MIN) * MIN;
    m.noteWritten(`plug,device=a power=1 ${t}\n`);
    await time.advance(5000);
    assert.deepEqual(snapshots, [[{ tier: "1m", startMs: t, endMs: t + MIN }]], "in flight, still in the file");
    release();
    await m.close();
    assert.deepEqual(saved(), []);
  });
});
