// The retention manager tells watchers (the query component's day cache) about stored data that changed after the
// fact: tier changes made by an apply, late windows when noted and again when re-aggregated. Fake InfluxDB answers,
// fake clock.
import assert from "node:assert/strict";
import { DayEnergyCache } from "../../lib/influx/day-energy-cache";
import { RetentionManager, type StorageChange } from "../../lib/influx/retention-manager";
import { FakeTime } from "../support/fake-time";
import { STATEMENT_OK, testRetentionManager } from "../support/retention-manager";
import { nth } from "../support/checked";

const MIN = 60_000;
const H = 3_600_000;
const DAY = 24 * H;

describe("retention manager: change events for the day cache", function () {
  /** A manager whose InfluxDB accepts every statement and reports no retention policy or CQ (so an apply changes things). */
  const manager = (time: FakeTime): RetentionManager => testRetentionManager(time, () => Promise.resolve(STATEMENT_OK));

  it("an apply that changed the tiers says so; late windows are told when noted and once per re-aggregated range", async function () {
    const time = new FakeTime();
    const m = manager(time);
    const seen: StorageChange[] = [];
    const stop = m.onChange((c) => seen.push(c));
    await m.start();
    assert.deepEqual(seen, [{ kind: "tiers" }]);
    seen.length = 0;
    const t = Math.floor((time.now - 3 * H) / H) * H; // late for both tiers
    m.noteWritten(`plug,device=a power=1,energy=2 ${t + 5000}\n`);
    assert.deepEqual(seen, [
      {
        kind: "late",
        ranges: [
          { tier: "1m", startMs: t, endMs: t + MIN },
          { tier: "1h", startMs: t, endMs: t + H },
        ],
      },
    ]);
    await time.advance(5000);
    assert.deepEqual(seen.slice(1), [
      { kind: "late", ranges: [{ tier: "1m", startMs: t, endMs: t + MIN }] },
      { kind: "late", ranges: [{ tier: "1h", startMs: t, endMs: t + H }] },
    ]);
    // On time for every tier: nothing to tell.
    seen.length = 0;
    m.noteWritten(`plug,device=a power=1,energy=2 ${time.now}\n`);
    assert.deepEqual(seen, []);
    stop();
    m.noteWritten(`plug,device=a power=1,energy=2 ${t + 5000}\n`);
    assert.deepEqual(seen, [], "unsubscribed");
    await m.close();
  });

  it("drops the days of a late write from a day cache that listens", async function () {
    const time = new FakeTime();
    const m = manager(time);
    await m.start();
    const cache = new DayEnergyCache({ now: () => time.now });
    m.onChange((c) => cache.onStorageChange(c));
    const today = Math.floor(time.now / DAY) * DAY;
    const days = [3, 2, 1].map((k) => today - k * DAY);
    for (const d of days) cache.put("UTC|1h", d, d + DAY, ["a"], new Map([["a", { first: 1, last: 2, inner: 1 }]]), cache.epoch);
    assert.equal(cache.stats().days, 3);
    m.noteWritten(`plug,device=a power=1,energy=2 ${nth(days, 1) + 12 * H}\n`);
    assert.deepEqual(
      days.map((d) => cache.get("UTC|1h", d, ["a"]) !== undefined),
      [true, false, true],
    );
    await m.close();
  });
});
