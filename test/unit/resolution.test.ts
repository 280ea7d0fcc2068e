// Resolution picker: which tier serves a query by range, step and retention, and the raw tail of a rollup plan.
import assert from "node:assert/strict";
import { covers, NO_ROLLUPS, pickTier, planQuery, rawTailStart, rollupSettings, type PlanInput, type RollupSettings } from "../../lib/influx/resolution";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 5, 15, 12, 34, 56);
const ON: RollupSettings = { enabled: true, retentionDays: { raw: 30, "1m": 730, "1h": 0 } };

const input = (o: Partial<PlanInput>): PlanInput => ({ from: NOW - HOUR, to: NOW, now: NOW, rollupable: true, rollups: ON, ...o });

describe("resolution: pickTier", function () {
  it("reads raw when rollups are off or cannot answer (another measurement, the relay field)", function () {
    assert.equal(pickTier(input({ from: NOW - 300 * DAY, alignMs: DAY, rollups: NO_ROLLUPS })), "raw");
    assert.equal(pickTier(input({ from: NOW - 300 * DAY, alignMs: DAY, rollupable: false })), "raw");
  });
  it("reads raw for short ranges (≤ 6 h) and for steps finer than a minute while raw holds them", function () {
    assert.equal(pickTier(input({ from: NOW - 6 * HOUR, alignMs: MIN })), "raw");
    assert.equal(pickTier(input({ from: NOW - 6 * HOUR })), "raw");
    assert.equal(pickTier(input({ from: NOW - 3 * DAY, alignMs: 30_000 })), "raw");
  });
  it("uses 1-minute rollups beyond 6 h up to 7 days, and for minute steps", function () {
    assert.equal(pickTier(input({ from: NOW - 6 * HOUR - MIN, alignMs: MIN })), "1m");
    assert.equal(pickTier(input({ from: NOW - 7 * DAY, alignMs: HOUR })), "1m");
    assert.equal(pickTier(input({ from: NOW - 20 * DAY, alignMs: 5 * MIN })), "1m");
    assert.equal(pickTier(input({ from: NOW - 2 * DAY })), "1m"); // an energy total: any tier
    assert.equal(pickTier(input({ from: NOW - 2 * DAY, rawRows: true })), "raw"); // raw rows while raw holds them
  });
  it("uses 1-hour rollups beyond 7 days when the step is whole hours", function () {
    assert.equal(pickTier(input({ from: NOW - 7 * DAY - MIN, alignMs: HOUR })), "1h");
    assert.equal(pickTier(input({ from: NOW - 365 * DAY, alignMs: DAY })), "1h");
  });
  it("never serves a range reaching past the raw retention from raw, whatever its step", function () {
    // 31 days ago with a 30 s step: raw no longer holds the start, so the 1-minute rollups serve it (coarser, and said so).
    assert.equal(pickTier(input({ from: NOW - 31 * DAY, to: NOW - 31 * DAY + HOUR, alignMs: 30_000 })), "1m");
    assert.equal(pickTier(input({ from: NOW - 31 * DAY, to: NOW - 31 * DAY + HOUR, rawRows: true })), "1m"); // per-minute rows
    assert.equal(pickTier(input({ from: NOW - 30 * DAY - 1, to: NOW - 29 * DAY, alignMs: MIN })), "1m");
  });
  it("falls back to 1-hour rollups past the 1-minute retention, even for short ranges", function () {
    assert.equal(pickTier(input({ from: NOW - 800 * DAY, to: NOW - 800 * DAY + 2 * HOUR, alignMs: HOUR })), "1h");
    // A 5-minute step cannot come from hourly rows: the 1-minute tier (partly expired) is the best there is.
    assert.equal(pickTier(input({ from: NOW - 800 * DAY, to: NOW - 799 * DAY, alignMs: 5 * MIN })), "1m");
  });
  it("follows the configured retention", function () {
    const short: RollupSettings = { enabled: true, retentionDays: { raw: 2, "1m": 10, "1h": 0 } };
    assert.equal(pickTier(input({ from: NOW - 3 * HOUR, to: NOW - 2 * HOUR, rollups: short })), "raw");
    assert.equal(pickTier(input({ from: NOW - 3 * DAY, to: NOW - 3 * DAY + HOUR, alignMs: MIN, rollups: short })), "1m");
    assert.equal(pickTier(input({ from: NOW - 5 * DAY, alignMs: HOUR, rollups: short })), "1m");
    assert.equal(pickTier(input({ from: NOW - 11 * DAY, to: NOW - 10 * DAY - 12 * HOUR, alignMs: HOUR, rollups: short })), "1h");
    assert.equal(covers("1h", 0, NOW, short), true);
    assert.equal(covers("raw", NOW - 2 * DAY, NOW, short), true);
    assert.equal(covers("raw", NOW - 2 * DAY - 1, NOW, short), false);
  });
});

describe("resolution: planQuery", function () {
  it("serves raw in one segment", function () {
    assert.deepEqual(planQuery(input({ from: NOW - HOUR })), { resolution: "raw", segments: [{ tier: "raw", from: NOW - HOUR, to: NOW }] });
  });
  it("gives a rollup plan a raw tail from two steps before now, aligned to the step", function () {
    const cut = Date.UTC(2026, 5, 15, 11, 0);
    assert.equal(rawTailStart("1h", NOW, HOUR), cut);
    assert.equal(rawTailStart("1h", NOW, DAY), Date.UTC(2026, 5, 15));
    assert.equal(rawTailStart("1m", NOW), Date.UTC(2026, 5, 15, 12, 33));
    const plan = planQuery(input({ from: NOW - 30 * DAY, alignMs: HOUR }));
    assert.deepEqual(plan, {
      resolution: "1h",
      segments: [
        { tier: "1h", from: NOW - 30 * DAY, to: cut },
        { tier: "raw", from: cut, to: NOW },
      ],
    });
  });
  it("needs no tail for a range that ended before the rollups' newest steps", function () {
    const to = NOW - 10 * DAY;
    assert.deepEqual(planQuery(input({ from: to - 20 * DAY, to, alignMs: DAY })).segments, [{ tier: "1h", from: to - 20 * DAY, to }]);
  });
});

describe("resolution: rollupSettings", function () {
  it("reads the config node's days, defaults for blanks, and refuses bad values", function () {
    assert.deepEqual(rollupSettings(undefined), NO_ROLLUPS);
    assert.deepEqual(rollupSettings({ enabled: true, retentionDays: { raw: "7", "1m": "" } }), {
      enabled: true,
      retentionDays: { raw: 7, "1m": 730, "1h": 0 },
    });
    assert.deepEqual(rollupSettings({ enabled: true, durationMs: { raw: 7 * DAY, "1m": 365 * DAY, "1h": 0 } }), {
      enabled: true,
      retentionDays: { raw: 7, "1m": 365, "1h": 0 },
    });
    assert.throws(() => rollupSettings({ enabled: true, retentionDays: { raw: -1 } }), /tier raw/);
    assert.throws(() => rollupSettings({ enabled: true, retentionDays: { "1h": 1.5 } }), /tier 1h/);
  });
});
