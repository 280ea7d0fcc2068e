// The alert engine follows the registry: readings and availability of unregistered ids never create alert state.
import assert from "node:assert/strict";
import { AlertEngine } from "../../lib/alerts/engine";
import { parseRules } from "../../lib/alerts/rules";

const T0 = Date.parse("2026-01-06T10:00:00Z");
const devices = [{ id: "ws-1-01", kind: "workplace" as const, location: { building: "hq", floor: "1", room: "open-1" } }];
const rules = parseRules(
  [
    { id: "stale", type: "stale", afterSeconds: 60 },
    { id: "offline", type: "offline", severity: "critical" },
  ],
  "Europe/Paris",
);

describe("alert engine with a registry (admit)", function () {
  it("300 unregistered ids and a spoofed availability raise nothing, persist nothing; the registered device still alerts", function () {
    let now = T0;
    const engine = new AlertEngine({ rules, devices, clock: () => now, admit: (_id, meta) => meta.source?.startsWith("plugwatch/backup/") === true });
    const reading = (device: string) => ({ v: 1, device, ts: now, power: 5, voltage: 230, current: 0.02, energy: 1, relay: true });
    let warnings = 0;
    for (let i = 0; i < 300; i++) {
      const out = engine.onReading(reading(`card-${i}`), { source: `plugwatch/hq/1/open-1/card-${i}/reading` });
      assert.equal(out.accepted, false);
      assert.deepEqual(out.events, []);
      warnings += out.warnings.filter((w) => w.code === "UNKNOWN_DEVICE").length;
    }
    const spoof = engine.onAvailability(
      { v: 1, device: "ws-9-99", online: false, ts: now, reason: "spoofed" },
      { source: "plugwatch/hq/9/x/ws-9-99/availability" },
    );
    assert.deepEqual(spoof.events, []);
    assert.equal(engine.unregisteredInputs, 301);
    assert.ok(warnings >= 1 && warnings <= 300);
    now += 10 * 60_000;
    const events = engine.tick(now);
    assert.deepEqual(
      events.map((e) => e.id),
      ["stale:ws-1-01"],
      "only the registered device goes stale",
    );
    const saved = JSON.stringify(engine.snapshot());
    assert.doesNotMatch(saved, /card-|ws-9-99/);
    // Backup health (its own topic) is admitted.
    const backup = engine.onAvailability(
      { v: 1, device: "plugwatch-influx-backup", online: false, ts: now, reason: "BACKUP_FAILED" },
      { source: "plugwatch/backup/plugwatch-influx-backup/availability" },
    );
    assert.deepEqual(
      backup.events.map((e) => e.id),
      ["offline:plugwatch-influx-backup"],
    );
  });

  it("restoring state saved before drops unregistered devices and clears their alerts", function () {
    const now = T0;
    const open = new AlertEngine({ rules, clock: () => now });
    open.onAvailability({ v: 1, device: "card-7", online: false, ts: now, reason: "spoofed" });
    const state = open.snapshot();
    const strict = new AlertEngine({ rules, devices, clock: () => now, admit: () => false });
    const cleared = strict.restore(JSON.parse(JSON.stringify(state)));
    assert.deepEqual(
      cleared.map((e) => `${e.state} ${e.id}`),
      ["cleared offline:card-7"],
    );
    assert.doesNotMatch(JSON.stringify(strict.snapshot()), /card-7/);
  });
});
