// Implausible plug data (negative, non-finite, beyond rating) and identity changes: flagged per poll, never clamped or stored.
import assert from "node:assert/strict";
import { toAvailability, type AvailabilityChange, type PollFailure } from "../../lib/availability";
import { Availability, validate } from "../../lib/contracts";
import { parsePollResponse } from "../../lib/plug-client";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { identityFile } from "../../lib/identity-file";
import { IdentityGuard, implausibility, sampleCheck, type SampleValues } from "../../lib/plausibility";
import { Poller } from "../../lib/poller";
import { FakeTime } from "../support/fake-time";

const good: SampleValues = { power: 120.5, voltage: 231.2, current: 0.52, energy: 12.3, deviceId: "8006A1", mac: "50:C7:BF:00:00:01" };

const response = (rt: Record<string, unknown>, sys: Record<string, unknown> = {}) =>
  JSON.stringify({
    system: { get_sysinfo: { relay_state: 1, deviceId: "8006A1", mac: "50:c7:bf:00:00:01", ...sys } },
    emeter: { get_realtime: { err_code: 0, ...rt } },
  });

describe("plausibility of plug data", () => {
  it("the plug client keeps negative and huge values as sent (no clamping) and reads the identity", () => {
    const s = parsePollResponse(response({ power: -5, voltage: -230, current: -0.1, total: -1 }));
    assert.deepEqual([s.power, s.voltage, s.current, s.energy], [-5, -230, -0.1, -1]);
    assert.deepEqual([s.deviceId, s.mac], ["8006A1", "50:c7:bf:00:00:01"]);
    const overflow = response({ power: 0, voltage: 230, current: 0, total: 1 }).replace('"power":0', '"power":1e400');
    assert.equal(parsePollResponse(overflow).power, Infinity, "an overflowing number is kept, to be flagged");
  });

  it("flags each of the kinds of bad data, naming every offending field; plausible data passes", () => {
    assert.equal(implausibility(good, "HS110"), undefined);
    assert.equal(implausibility({ ...good, power: 0, current: 0, energy: 0 }, "HS110"), undefined, "zero is plausible");
    assert.equal(implausibility({ ...good, power: -5 }, "HS110"), "power -5 W is negative");
    assert.equal(implausibility({ ...good, energy: -0.001 }, "HS110"), "energy -0.001 kWh is negative");
    assert.equal(implausibility({ ...good, power: Infinity }, "HS110"), "power Infinity is not a finite number");
    assert.equal(implausibility({ power: 1e30, voltage: 1e30, current: 1e30, energy: 1e30 }, "HS110")?.split("; ").length, 4, "1e30 everywhere: four problems");
    assert.match(implausibility({ ...good, power: 3000, voltage: 120 }, "HS300") ?? "", /^power 3000 W is beyond the HS300 rating \(max 2250 W\)$/);
    assert.equal(implausibility({ ...good, power: 3000 }, "HS110"), undefined, "3 kW is within an EU HS110's 3680 W");
    assert.match(implausibility({ ...good, current: 30 }, "UNKNOWN") ?? "", /beyond the largest rating \(max 20 A\)/);
  });

  it("IdentityGuard: the first identity sticks; another deviceId or MAC is flagged naming both; accept forgets it", () => {
    const g = new IdentityGuard();
    assert.equal(g.check("ws-1", good), undefined);
    assert.equal(g.check("ws-1", { ...good, mac: "50-c7-bf-00-00-01" }), undefined, "MAC spelling does not matter");
    const other = g.check("ws-1", { deviceId: "8006B2", mac: "50:C7:BF:00:00:02" });
    assert.match(other ?? "", /expected deviceId 8006A1, MAC 50:C7:BF:00:00:01, got deviceId 8006B2, MAC 50:C7:BF:00:00:02/);
    assert.ok(g.check("ws-1", { ...good, mac: "AA:AA:AA:AA:AA:AA" }), "MAC alone");
    g.accept("ws-1");
    assert.equal(g.check("ws-1", { deviceId: "8006B2", mac: "50:C7:BF:00:00:02" }), undefined, "the new identity is accepted");
    const pinned = new IdentityGuard();
    pinned.pin("pr-1", "50:c7:bf:00:00:09");
    assert.ok(pinned.check("pr-1", good), "a registry-pinned MAC is checked from the first poll");
  });

  it("IdentityGuard with a file store: a plug swapped while Node-RED was down is still caught; accept and pins persist", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "plugwatch-identity-"));
    const file = path.join(dir, "collector.json");
    const warnings: string[] = [];
    try {
      const first = new IdentityGuard(identityFile(file, (m) => warnings.push(m)));
      assert.equal(first.check("ws-1", good), undefined);
      assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { "ws-1": { deviceId: "8006A1", mac: "50:C7:BF:00:00:01" } });
      // Restart: a new guard on the same file remembers what was first seen.
      const second = new IdentityGuard(identityFile(file, (m) => warnings.push(m)));
      assert.match(second.check("ws-1", { deviceId: "8006B2", mac: "50:C7:BF:00:00:02" }) ?? "", /expected deviceId 8006A1/);
      second.accept("ws-1");
      assert.equal(second.check("ws-1", { deviceId: "8006B2", mac: "50:C7:BF:00:00:02" }), undefined);
      const third = new IdentityGuard(identityFile(file, (m) => warnings.push(m)));
      assert.equal(third.check("ws-1", { deviceId: "8006B2", mac: "50:C7:BF:00:00:02" }), undefined, "the accepted identity was saved");
      // A registry pin that differs from the remembered MAC wins (and drops the remembered deviceId).
      third.pin("ws-1", "50:c7:bf:00:00:01");
      assert.ok(third.check("ws-1", { deviceId: "8006B2", mac: "50:C7:BF:00:00:02" }));
      assert.equal(third.check("ws-1", good), undefined);
      // A damaged file is reported and starts empty, never a crash.
      writeFileSync(file, "{not json");
      const fourth = new IdentityGuard(identityFile(file, (m) => warnings.push(m)));
      assert.equal(fourth.check("ws-1", { deviceId: "X", mac: "AA:AA:AA:AA:AA:AA" }), undefined);
      assert.match(warnings.join("\n"), /unreadable .*plug identities start empty/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("in the poller: the bad poll emits no reading, an error with the code, and an online availability with a data flag; recovery clears it", async () => {
    const time = new FakeTime();
    let next: SampleValues = good;
    const rec = { readings: 0, changes: [] as AvailabilityChange[], errors: [] as PollFailure[] };
    const poller = new Poller<{ id: string; model: string }, SampleValues>({
      devices: [{ id: "ws-1", model: "HS110" }],
      poll: () => time.after(5, () => next),
      intervalMs: 1000,
      random: () => 0,
      clock: time.clock,
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
      statsIntervalMs: 0,
      check: sampleCheck(new IdentityGuard()),
      on: { reading: () => rec.readings++, availability: (c) => rec.changes.push(c), error: (_d, f) => rec.errors.push(f) },
    });
    poller.start();
    await time.advance(1500); // one good poll
    next = { ...good, power: -5 };
    await time.advance(2000); // two bad polls
    next = { ...good, deviceId: "OTHER" };
    await time.advance(1000);
    next = good;
    await time.advance(1000);
    const stopping = poller.stop();
    await time.advance(1000);
    await stopping;
    assert.equal(poller.stats().heldBack, 3);
    assert.equal(rec.readings, poller.stats().ok - 3, "only the good polls produced readings");
    assert.ok(rec.readings >= 2);
    assert.deepEqual(
      rec.errors.map((e) => e.code),
      ["IMPLAUSIBLE_READING", "IMPLAUSIBLE_READING", "IDENTITY_CHANGED"],
    );
    assert.deepEqual(
      rec.changes.map((c) => [c.online, c.data, c.reason.split(":")[0]]),
      [
        [true, undefined, "poll ok"],
        [true, "implausible", "IMPLAUSIBLE_READING"],
        [true, "identity-changed", "IDENTITY_CHANGED"],
        [true, "ok", "poll ok"],
      ],
      "flag changes only, no repeat per poll",
    );
    for (const c of rec.changes) assert.ok(validate(Availability, toAvailability(c)).ok, JSON.stringify(toAvailability(c)));
  });
});
