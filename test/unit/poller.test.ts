// Unit tests of the polling scheduler on a fake clock: concurrency, jitter, timeouts, backoff, recovery, missed cycles.
import assert from "node:assert/strict";
import type { AvailabilityChange, PollFailure } from "../../lib/availability";
import { PlugwatchError } from "../../lib/contracts/errors";
import { backoffDelay, percentile, Poller, type PollerOptions, type PollerStats } from "../../lib/poller";

import { FakeTime, T0 } from "../support/fake-time";
import { nth } from "../support/checked";

/** Stops while letting fake time run, so polls in flight can finish. */
async function stopAll(time: FakeTime, poller: { stop(): Promise<void> }): Promise<void> {
  const stopping = poller.stop();
  await time.advance(10_000);
  await stopping;
  assert.equal(time.pending, 0, "stop leaves no timer");
}

interface Dev {
  id: string;
}
const devices = (n: number): Dev[] => Array.from({ length: n }, (_, i) => ({ id: `d${i}` }));

type Behaviour = { kind: "ok"; latencyMs: number } | { kind: "down"; latencyMs: number } | { kind: "hang" };

/** A poll function whose behaviour per device is set by the test; records every start. */
class FakePlugs {
  readonly behaviour = new Map<string, Behaviour>();
  readonly starts: { id: string; at: number }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly time: FakeTime,
    private readonly fallback: Behaviour = { kind: "ok", latencyMs: 5 },
  ) {}
  poll = (d: Dev): Promise<{ power: number }> => {
    this.starts.push({ id: d.id, at: this.time.now });
    const b = this.behaviour.get(d.id) ?? this.fallback;
    if (b.kind === "hang") return new Promise(() => undefined);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return this.time.after(b.latencyMs, () => {
      this.inFlight--;
      if (b.kind === "down") throw new PlugwatchError("DEVICE_UNREACHABLE", `connect ECONNREFUSED (${d.id})`);
      return { power: 42 };
    });
  };
  startsOf(id: string): number[] {
    return this.starts.filter((s) => s.id === id).map((s) => s.at - T0);
  }
}

interface Recorded {
  readings: { id: string; ts: number; power: number }[];
  changes: AvailabilityChange[];
  errors: { id: string; failure: PollFailure; ts: number }[];
  stats: PollerStats[];
}

function makePoller(time: FakeTime, plugs: FakePlugs, opts: Partial<PollerOptions<Dev, { power: number }>> & { devices: Dev[] }) {
  const rec: Recorded = { readings: [], changes: [], errors: [], stats: [] };
  const poller = new Poller<Dev, { power: number }>({
    intervalMs: 1000,
    random: () => 0,
    clock: time.clock,
    setTimer: time.setTimer,
    clearTimer: time.clearTimer,
    statsIntervalMs: 0,
    poll: plugs.poll,
    on: {
      reading: (d, s, ts) => rec.readings.push({ id: d.id, ts, power: s.power }),
      availability: (c) => rec.changes.push(c),
      error: (d, failure, ts) => rec.errors.push({ id: d.id, failure, ts }),
      stats: (s) => rec.stats.push(s),
    },
    ...opts,
  });
  return { poller, rec };
}

describe("Poller", function () {
  it("a throwing handler is logged, once a minute per handler and message, and polling goes on", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time);
    const logged: string[] = [];
    let readings = 0;
    const { poller } = makePoller(time, plugs, {
      devices: devices(2),
      log: (m) => logged.push(m),
      on: {
        reading: () => {
          readings++;
          throw new Error("handler bug");
        },
      },
    });
    poller.start();
    await time.advance(59_999);
    assert.equal(readings, 120, "every poll still delivered");
    assert.deepEqual(logged, ["poller: the reading handler threw: handler bug"]);
    await time.advance(1000);
    assert.deepEqual(logged.slice(1), ["poller: the reading handler threw: handler bug (119 similar suppressed)"]);
    await stopAll(time, poller);
  });

  it("polls every device once per interval and emits readings", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time);
    const { poller, rec } = makePoller(time, plugs, { devices: devices(4) });
    poller.start();
    await time.advance(3999);
    for (const id of ["d0", "d1", "d2", "d3"]) assert.equal(plugs.startsOf(id).length, 4, id);
    assert.deepEqual(plugs.startsOf("d1"), [250, 1250, 2250, 3250]);
    assert.equal(rec.readings.length, 16);
    assert.ok(rec.readings.every((r) => r.power === 42));
    assert.equal(rec.changes.length, 4, "one initial online state per device");
    assert.ok(rec.changes.every((c) => c.online && c.initial));
    await poller.stop();
    assert.equal(time.pending, 0, "stop leaves no timer");
  });

  it("never exceeds the concurrency bound and still polls every device", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time, { kind: "ok", latencyMs: 50 });
    // 20 devices spread 10 ms apart, 50 ms polls: ~5 would overlap without the bound.
    const { poller, rec } = makePoller(time, plugs, { devices: devices(20), intervalMs: 200, concurrency: 3 });
    poller.start();
    await time.advance(2000);
    assert.equal(plugs.maxInFlight, 3);
    const ids = new Set(plugs.starts.map((s) => s.id));
    assert.equal(ids.size, 20);
    assert.ok(rec.readings.length > 20);
    const st = poller.stats();
    assert.ok(st.lagP99Ms > 0, "queueing behind the bound shows as lag");
    await stopAll(time, poller);
  });

  it("pollNow polls all devices with bounded concurrency and resolves when they finished", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time, { kind: "ok", latencyMs: 100 });
    const { poller, rec } = makePoller(time, plugs, { devices: devices(10), intervalMs: 60_000, concurrency: 4 });
    let result: { started: number; busy: number } | undefined;
    void poller.pollNow().then((r) => (result = r));
    await time.advance(250);
    assert.equal(result, undefined, "not finished after 2 rounds of 4");
    await time.advance(50);
    assert.deepEqual(result, { started: 10, busy: 0 });
    assert.equal(plugs.maxInFlight, 4);
    assert.equal(rec.readings.length, 10);
    await stopAll(time, poller);
  });

  it("spreads first polls over the interval (jitter)", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time);
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const { poller } = makePoller(time, plugs, { devices: devices(100), intervalMs: 1000, concurrency: 1000, random });
    poller.start();
    await time.advance(1000);
    const firstById = new Map<string, number>();
    for (const s of plugs.starts) if (!firstById.has(s.id)) firstById.set(s.id, s.at - T0);
    const firsts = [...firstById.values()];
    assert.equal(firsts.length, 100);
    assert.ok(Math.min(...firsts) >= 0 && Math.max(...firsts) < 1000);
    const distinct = new Set(firsts.map((t) => Math.floor(t)));
    assert.ok(distinct.size >= 95, `starts spread over many ms, got ${distinct.size} distinct`);
    // Each device stays in its own tenth of the interval: no bunching.
    const byDecile = new Map<number, number>();
    for (const t of firsts) byDecile.set(Math.floor(t / 100), (byDecile.get(Math.floor(t / 100)) ?? 0) + 1);
    assert.deepEqual([...byDecile.values()], Array(10).fill(10));
    await stopAll(time, poller);
  });

  it("times a hanging poll out after timeoutMs, independent of a longer interval", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time);
    plugs.behaviour.set("d0", { kind: "hang" });
    const { poller, rec } = makePoller(time, plugs, { devices: devices(1), intervalMs: 10_000, timeoutMs: 300 });
    poller.start();
    await time.advance(299);
    assert.equal(rec.errors.length, 0);
    await time.advance(1);
    assert.equal(rec.errors.length, 1);
    assert.equal(rec.errors[0]?.ts, T0 + 300);
    assert.deepEqual(rec.errors[0]?.failure, { code: "DEVICE_UNREACHABLE", message: "no reply within 300 ms" });
    await stopAll(time, poller);
  });

  it("times out after timeoutMs when it is longer than the interval, counting the slots it overlaps as missed", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time);
    plugs.behaviour.set("d0", { kind: "hang" });
    const { poller, rec } = makePoller(time, plugs, { devices: devices(1), intervalMs: 1000, timeoutMs: 2500 });
    poller.start();
    await time.advance(2600);
    assert.equal(rec.errors.length, 1);
    assert.equal(rec.errors[0]?.ts, T0 + 2500);
    assert.deepEqual(plugs.startsOf("d0"), [0], "no second poll piled up while the first hangs");
    const st = poller.stats();
    assert.equal(st.missedCycles, 2);
    assert.equal(st.cycles, 3);
    await time.advance(500);
    assert.deepEqual(plugs.startsOf("d0"), [0, 3000]);
    await stopAll(time, poller);
  });

  it("counts a missed cycle for each slot that comes while the previous poll is running, without piling up", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time, { kind: "ok", latencyMs: 2500 });
    const { poller, rec } = makePoller(time, plugs, { devices: devices(1), intervalMs: 1000, timeoutMs: 5000 });
    poller.start();
    await time.advance(9500);
    assert.deepEqual(plugs.startsOf("d0"), [0, 3000, 6000, 9000]);
    assert.equal(plugs.maxInFlight, 1);
    const st = poller.stats();
    assert.equal(st.missedCycles, 6); // 1000, 2000, 4000, 5000, 7000, 8000
    assert.equal(st.cycles, 10);
    assert.equal(st.missedPercent, 60);
    assert.equal(rec.readings.length, 3);
    assert.equal(st.latencyP50Ms, 2500);
    await stopAll(time, poller);
  });

  it("backs off an unreachable plug 1, 2, 4 … × interval up to the cap", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time);
    plugs.behaviour.set("d0", { kind: "down", latencyMs: 10 });
    const { poller, rec } = makePoller(time, plugs, { devices: devices(1), intervalMs: 1000, offlineAfter: 3, backoffCapMs: 8000 });
    poller.start();
    await time.advance(40_000);
    const starts = plugs.startsOf("d0");
    assert.deepEqual(starts, [0, 1000, 2000, 3000, 5000, 9000, 17000, 25000, 33000]);
    const gaps = starts.slice(1).map((t, i) => t - nth(starts, i));
    assert.deepEqual(gaps, [1000, 1000, 1000, 2000, 4000, 8000, 8000, 8000]);
    assert.equal(rec.changes.length, 1, "offline reported once");
    assert.equal(rec.changes[0]?.online, false);
    assert.equal(rec.changes[0]?.ts, T0 + 2010, "after the third miss");
    assert.match(rec.changes[0]?.reason ?? "", /^DEVICE_UNREACHABLE: connect ECONNREFUSED/);
    assert.equal(rec.errors.length, 9);
    const st = poller.stats();
    assert.equal(st.backoffSkips, 41 - 9, "41 slots from 0 to 40 000 ms, 9 attempts");
    assert.equal(st.missedCycles, 0, "backoff skips are not missed cycles");
    await stopAll(time, poller);
  });

  it("a registry of mostly dead plugs never delays the plugs that answer (issue 18)", async function () {
    const time = new FakeTime();
    // 40 plugs, 36 of them dead: each poll of a dead one takes 900 ms to fail (a slow refusal), more than the
    // concurrency of 8 can absorb every 1 s interval (36 × 0.9 s = 32 slot-seconds a second).
    const plugs = new FakePlugs(time, { kind: "down", latencyMs: 900 });
    const live = ["d0", "d10", "d20", "d30"];
    for (const id of live) plugs.behaviour.set(id, { kind: "ok", latencyMs: 5 });
    const { poller, rec } = makePoller(time, plugs, { devices: devices(40), intervalMs: 1000, concurrency: 8, offlineAfter: 3, backoffCapMs: 4000 });
    assert.equal(poller.suspectSlots, 6, "three quarters of the concurrency by default");
    poller.start();
    await time.advance(10_000);
    poller.stats(true);
    const before = rec.readings.length;
    await time.advance(20_000);
    const window = rec.readings.slice(before);
    for (const id of live) assert.equal(window.filter((r) => r.id === id).length, 20, `${id}: one reading per interval`);
    const st = poller.stats();
    assert.equal(st.missedCycles, 0, "no slot of a live plug missed once every dead plug has failed");
    assert.equal(st.ok, 80);
    assert.ok(st.failed > 0 && st.failed <= (20 * 6) / 0.9 + 6, `dead plugs still retried, within their share (${st.failed})`);
    assert.ok(plugs.maxInFlight <= 8);
    const deadOffline = rec.changes.filter((c) => !c.online).length;
    assert.equal(deadOffline, 36, "every dead plug reported offline");
    await stopAll(time, poller);
  });

  it("suspectSlots: bounded by the concurrency, at least 1", function () {
    const base = { devices: devices(1), poll: () => Promise.resolve({ power: 1 }), intervalMs: 1000 };
    assert.equal(new Poller({ ...base, concurrency: 1 }).suspectSlots, 1);
    assert.equal(new Poller({ ...base, concurrency: 64 }).suspectSlots, 48);
    assert.equal(new Poller({ ...base, concurrency: 4, suspectSlots: 10 }).suspectSlots, 4);
    assert.throws(() => new Poller({ ...base, suspectSlots: 0 }), /suspectSlots/);
  });

  it("backoffDelay: none below the threshold, doubling from 1 × interval, capped", function () {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 50].map((f) => backoffDelay(f, 3, 1000, 5000)),
      [0, 0, 1000, 2000, 4000, 5000, 5000, 5000],
    );
    assert.equal(backoffDelay(3, 3, 10_000, 1000), 10_000, "the cap never goes below the interval");
  });

  it("recovers a plug that was down at start when it comes back", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time);
    plugs.behaviour.set("d1", { kind: "down", latencyMs: 10 });
    const { poller, rec } = makePoller(time, plugs, { devices: devices(2), intervalMs: 1000, backoffCapMs: 4000 });
    poller.start();
    await time.advance(20_000);
    const d1 = rec.changes.filter((c) => c.device === "d1");
    assert.equal(d1.length, 1);
    assert.equal(d1[0]?.online, false);
    assert.equal(d1[0]?.initial, true);
    plugs.behaviour.delete("d1");
    const cameBackAt = time.now;
    await time.advance(5000);
    const back = rec.changes.filter((c) => c.device === "d1");
    assert.equal(back.length, 2);
    assert.equal(back[1]?.online, true);
    assert.equal(back[1]?.reason, "poll ok");
    assert.ok((back[1]?.ts ?? 0) - cameBackAt <= 4000 + 10, "found within the backoff cap");
    // Back to the normal interval.
    const before = plugs.startsOf("d1").length;
    await time.advance(3000);
    assert.equal(plugs.startsOf("d1").length - before, 3);
    assert.equal(rec.changes.filter((c) => c.device === "d0").length, 1, "the healthy plug never changed");
    await stopAll(time, poller);
  });

  it("stop() cancels timers, waits for polls in flight and emits nothing afterwards", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time, { kind: "ok", latencyMs: 400 });
    const { poller, rec } = makePoller(time, plugs, { devices: devices(3), intervalMs: 1000, concurrency: 1 });
    poller.start();
    await time.advance(100); // d0 in flight, d1 not yet due
    let stopped = false;
    const stopping = poller.stop().then(() => (stopped = true));
    await time.advance(299);
    assert.equal(stopped, false, "still waiting for the poll in flight");
    await time.advance(1);
    await stopping;
    assert.equal(stopped, true);
    assert.equal(rec.readings.length, 0, "a result arriving during stop is not emitted");
    assert.equal(time.pending, 0);
    await time.advance(5000);
    assert.equal(plugs.starts.length, 1);
  });

  it("emits periodic stats with polls/s, missed % and online/total", async function () {
    const time = new FakeTime();
    const plugs = new FakePlugs(time, { kind: "ok", latencyMs: 20 });
    plugs.behaviour.set("d9", { kind: "down", latencyMs: 1 });
    const { poller, rec } = makePoller(time, plugs, { devices: devices(10), intervalMs: 500, statsIntervalMs: 5000, backoffCapMs: 500 });
    poller.start();
    await time.advance(10_000);
    assert.equal(rec.stats.length, 2);
    const s = nth(rec.stats, 1, "second stats window");
    assert.equal(s.windowMs, 5000);
    assert.equal(s.devices, 10);
    assert.equal(s.online, 9);
    assert.equal(s.offline, 1);
    assert.equal(s.pollsPerSecond, 20);
    assert.equal(s.missedPercent, 0);
    assert.equal(s.latencyP50Ms, 20);
    assert.equal(s.totals.polls, 200);
    await stopAll(time, poller);
  });

  it("turns a throwing poll function into a failure, not a crash", async function () {
    const time = new FakeTime();
    const { poller, rec } = makePoller(time, new FakePlugs(time), { devices: devices(1), offlineAfter: 1 });
    const p = new Poller<Dev, { power: number }>({
      devices: devices(1),
      intervalMs: 1000,
      offlineAfter: 1,
      clock: time.clock,
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
      statsIntervalMs: 0,
      poll: () => {
        throw new TypeError("boom");
      },
      on: { availability: (c) => rec.changes.push(c), reading: () => assert.fail("no reading") },
    });
    p.start();
    await time.advance(1000);
    assert.equal(rec.changes[0]?.online, false);
    assert.equal(rec.changes[0]?.reason, "DEVICE_UNREACHABLE: boom");
    await p.stop();
    await stopAll(time, poller);
  });

  it("rejects bad options and duplicate devices", function () {
    const base = { devices: devices(1), poll: () => Promise.resolve({ power: 1 }) };
    assert.throws(() => new Poller({ ...base, intervalMs: 0 }), /intervalMs/);
    assert.throws(() => new Poller({ ...base, intervalMs: 1000, concurrency: 0 }), /concurrency/);
    assert.throws(() => new Poller({ ...base, intervalMs: 1000, timeoutMs: Number.NaN }), /timeoutMs/);
    assert.throws(() => new Poller({ ...base, devices: [{ id: "a" }, { id: "a" }], intervalMs: 1000 }), /twice/);
  });

  it("percentile picks nearest-rank values", function () {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile([], 50), 0);
  });
});
