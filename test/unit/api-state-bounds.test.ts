// The API's MQTT-fed state stays bounded when clients publish alerts and component statuses with ever new ids.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ApiState } from "../../lib/api/state";

const T = 1764000000000;
const alert = (rule: string, device: string, state: "raised" | "cleared", ts: number, id = `${rule}:${device}`) =>
  JSON.stringify({ v: 1, id, device, rule, severity: "warning", state, ts, value: 1, message: `${rule} on ${device}` });
const randomSlug = (): string => randomBytes(6).toString("hex");

describe("api state bounds", () => {
  it("keeps at most maxActiveAlerts active alerts under a spray of random alert ids; the rest are counted", () => {
    const s = new ApiState({ root: "pw", maxActiveAlerts: 50, historySize: 20 });
    for (let i = 0; i < 5000; i++) {
      const device = randomSlug();
      assert.equal(s.ingest(`pw/alerts/${device}/hot`, alert("hot", device, "raised", T + i)), i < 50 ? "alert" : "overflow");
    }
    assert.equal(s.trackedAlerts, 50);
    assert.equal(s.alerts().length, 50);
    assert.equal(s.alertOverflow, 4950);
    assert.equal(s.alertHistory().length, 20);
  });

  it("at the cap, known alerts still update and clear, and a cleared slot is free for a new alert", () => {
    const s = new ApiState({ root: "pw", maxActiveAlerts: 2 });
    s.ingest("pw/alerts/a/hot", alert("hot", "a", "raised", T));
    s.ingest("pw/alerts/b/hot", alert("hot", "b", "raised", T));
    assert.equal(s.ingest("pw/alerts/c/hot", alert("hot", "c", "raised", T)), "overflow");
    assert.deepEqual(
      s
        .alerts()
        .map((a) => a.id)
        .sort(),
      ["hot:a", "hot:b"],
    );
    assert.equal(s.alertOverflow, 1);
    // A re-raise of a known id (newer ts) replaces it, not counted.
    s.ingest("pw/alerts/a/hot", alert("hot", "a", "raised", T + 5));
    assert.equal(s.alerts()[0]?.ts, T + 5);
    assert.equal(s.alertOverflow, 1);
    // Clearing frees a slot (by event and by empty retained message).
    assert.equal(s.ingest("pw/alerts/a/hot", alert("hot", "a", "cleared", T + 6)), "alert-cleared");
    assert.equal(s.ingest("pw/alerts/b/hot", ""), "alert-cleared");
    assert.equal(s.trackedAlerts, 0);
    s.ingest("pw/alerts/c/hot", alert("hot", "c", "raised", T + 7));
    assert.deepEqual(
      s.alerts().map((a) => a.id),
      ["hot:c"],
    );
  });

  it("refuses alert events whose id is not <rule>:<device> (ids would otherwise be unbounded strings)", () => {
    const s = new ApiState({ root: "pw" });
    assert.equal(s.ingest("pw/alerts/a/hot", alert("hot", "a", "raised", T, `hot:${"x".repeat(10_000)}`)), "invalid");
    assert.equal(s.ingest("pw/alerts/a/hot", alert("hot", "a", "raised", T, "cold:a")), "invalid");
    assert.equal(s.invalid, 2);
    assert.equal(s.trackedAlerts, 0);
    assert.equal(s.ingest("pw/alerts/a/hot", alert("hot", "a", "raised", T)), "alert");
    assert.equal(s.trackedAlerts, 1);
  });

  it("keeps at most maxComponents storage statuses; known components still update", () => {
    const s = new ApiState({ root: "pw", maxComponents: 3 });
    const status = (component: string, backlog: number, ts: number) => JSON.stringify({ v: 1, component, ts, backlog });
    assert.equal(s.ingest("pw/status/hook", status("hook", 1, T)), "status");
    for (let i = 0; i < 1000; i++) {
      const c = randomSlug();
      assert.equal(s.ingest(`pw/status/${c}`, status(c, 1, T)), i < 2 ? "status" : "overflow");
    }
    assert.equal(s.storageStatus().length, 3);
    assert.equal(s.statusOverflow, 998);
    s.ingest("pw/status/hook", status("hook", 7, T + 1));
    assert.equal(s.storageStatus().find((x) => x.component === "hook")?.backlog, 7);
  });

  it("devices beyond maxDevices: readings and availabilities answer overflow, known devices still update", () => {
    const s = new ApiState({ root: "pw", maxDevices: 10 });
    for (let i = 0; i < 500; i++) {
      const d = randomSlug();
      const r =
        i % 2
          ? s.ingest(`pw/hq/1/r/${d}/reading`, JSON.stringify({ device: d, ts: T }))
          : s.ingest(`pw/hq/1/r/${d}/availability`, JSON.stringify({ v: 1, device: d, online: true, ts: T, reason: "poll ok" }));
      assert.equal(r, i < 10 ? (i % 2 ? "reading" : "availability") : "overflow");
    }
    assert.equal(s.trackedDevices, 10);
    assert.equal(s.overflow, 490);
  });

  it("defaults: 20 000 active alerts, 1000 components", () => {
    const s = new ApiState({ root: "pw" });
    assert.equal(s.maxActiveAlerts, 20_000);
    assert.equal(s.maxComponents, 1000);
  });
});
