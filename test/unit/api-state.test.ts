// Unit tests of the API's MQTT-fed state: availability, last seen, active alerts, bounded history, storage backlog.
import assert from "node:assert/strict";
import { ApiState } from "../../lib/api/state";

const T = 1764000000000;
const alert = (rule: string, device: string, state: "raised" | "cleared", ts: number) => ({
  v: 1,
  id: `${rule}:${device}`,
  device,
  rule,
  severity: "warning",
  state,
  ts,
  value: 50,
  message: `${rule} on ${device}`,
});

describe("api state", () => {
  it("tracks online state and last-seen per device from availability and readings", () => {
    const s = new ApiState({ root: "pw" });
    assert.deepEqual(s.device("ws-1"), { online: null, since: null, reason: null, lastSeen: null });
    assert.equal(
      s.ingest("pw/hq/1/r1/ws-1/availability", Buffer.from(JSON.stringify({ v: 1, device: "ws-1", online: true, ts: T, reason: "poll ok" }))),
      "availability",
    );
    assert.equal(
      s.ingest("pw/hq/1/r1/ws-1/reading", JSON.stringify({ v: 1, device: "ws-1", ts: T + 1000, power: 1, voltage: 230, current: 0.1, energy: 1, relay: true })),
      "reading",
    );
    assert.equal(s.ingest("pw/hq/1/r1/ws-1/reading", JSON.stringify({ v: 1, device: "ws-1", ts: T + 500, fields: { x: 1 } })), "reading");
    assert.deepEqual(s.device("ws-1"), { online: true, since: T, reason: "poll ok", lastSeen: T + 1000 });
    s.ingest("pw/hq/1/r1/ws-1/availability", JSON.stringify({ v: 1, device: "ws-1", online: false, ts: T + 2000, reason: "DEVICE_UNREACHABLE" }));
    assert.equal(s.device("ws-1").online, false);
    // An older availability (e.g. a retained one redelivered late) does not overwrite a newer one.
    s.ingest("pw/hq/1/r1/ws-1/availability", JSON.stringify({ v: 1, device: "ws-1", online: true, ts: T, reason: "poll ok" }));
    assert.equal(s.device("ws-1").online, false);
  });
  it("counts invalid messages and never throws", () => {
    const s = new ApiState({ root: "pw" });
    assert.equal(s.ingest("pw/hq/1/r1/ws-1/reading", "not json"), "invalid");
    assert.equal(s.ingest("pw/hq/1/r1/ws-1/reading", JSON.stringify({ device: "ws-2", ts: T })), "invalid");
    assert.equal(s.ingest("pw/hq/1/r1/ws-1/availability", JSON.stringify({ v: 1, device: "ws-1", online: "yes", ts: T, reason: "" })), "invalid");
    assert.equal(s.ingest("pw/alerts/ws-1/x", "{}"), "invalid");
    assert.equal(s.ingest("other/topic", "{}"), "ignored");
    assert.equal(s.invalid, 4);
    assert.equal(s.device("ws-1").lastSeen, null);
  });
  it("bounds the number of tracked devices", () => {
    const s = new ApiState({ root: "pw", maxDevices: 2 });
    for (const d of ["a", "b", "c"]) s.ingest(`pw/hq/1/r/${d}/reading`, JSON.stringify({ device: d, ts: T }));
    assert.equal(s.trackedDevices, 2);
    assert.equal(s.overflow, 1);
  });
  it("keeps active alerts from retained messages; cleared or empty retained removes them", () => {
    const s = new ApiState({ root: "pw" });
    s.ingest("pw/alerts/p-1/waste", JSON.stringify(alert("waste", "p-1", "raised", T)));
    s.ingest("pw/alerts/p-1/offline", JSON.stringify(alert("offline", "p-1", "raised", T + 1)));
    s.ingest("pw/alerts/p-2/waste", JSON.stringify(alert("waste", "p-2", "raised", T + 2)));
    assert.deepEqual(
      s.alerts().map((a) => a.id),
      ["waste:p-2", "offline:p-1", "waste:p-1"],
    );
    assert.deepEqual(
      s.alerts("p-1").map((a) => a.id),
      ["offline:p-1", "waste:p-1"],
    );
    s.ingest("pw/alerts/p-1/waste", JSON.stringify(alert("waste", "p-1", "cleared", T + 3)));
    assert.equal(s.ingest("pw/alerts/p-1/offline", Buffer.alloc(0)), "alert-cleared");
    assert.deepEqual(
      s.alerts().map((a) => a.id),
      ["waste:p-2"],
    );
    // A retained raised event redelivered (reconnect) is not a new history entry.
    s.ingest("pw/alerts/p-2/waste", JSON.stringify(alert("waste", "p-2", "raised", T + 2)));
    assert.deepEqual(
      s.alertHistory().map((e) => `${e.id}/${e.state}`),
      ["waste:p-1/raised", "offline:p-1/raised", "waste:p-2/raised", "waste:p-1/cleared"],
    );
    assert.deepEqual(
      s.alertHistory(T + 2).map((e) => e.ts),
      [T + 2, T + 3],
    );
  });
  it("keeps at most historySize events, oldest dropped first", () => {
    const s = new ApiState({ root: "pw", historySize: 3 });
    for (let i = 0; i < 5; i++) s.ingest(`pw/alerts/d-${i}/r`, JSON.stringify(alert("r", `d-${i}`, "raised", T + i)));
    assert.deepEqual(
      s.alertHistory().map((e) => e.device),
      ["d-2", "d-3", "d-4"],
    );
    assert.equal(s.alerts().length, 5);
  });
  it("records storage backlog reported on {root}/status/{component}", () => {
    const s = new ApiState({ root: "pw" });
    assert.equal(s.ingest("pw/status/influx-hook", JSON.stringify({ v: 1, component: "influx-hook", backlog: 42, ts: T })), "status");
    assert.deepEqual(s.storageStatus(), [{ component: "influx-hook", backlog: 42, ts: T }]);
    // An older status (a late redelivery) does not overwrite a newer one.
    assert.equal(s.ingest("pw/status/influx-hook", JSON.stringify({ v: 1, component: "influx-hook", backlog: 7, ts: T - 1 })), "status");
    assert.equal(s.storageStatus()[0]?.backlog, 42);
    assert.equal(s.ingest("pw/status/influx-hook", JSON.stringify({ v: 1, component: "influx-hook", backlog: -1, ts: T })), "invalid");
    // {backlog, ts} without the contract's v and component is not a ComponentStatus.
    assert.equal(s.ingest("pw/status/influx-hook", JSON.stringify({ backlog: 1, ts: T })), "invalid");
    // The payload must name the component of its topic.
    assert.equal(s.ingest("pw/status/influx-hook", JSON.stringify({ v: 1, component: "other", backlog: 1, ts: T + 1 })), "invalid");
    assert.equal(s.invalid, 3);
    assert.equal(s.storageStatus()[0]?.backlog, 42);
    s.ingest("pw/status/influx-hook", "");
    assert.deepEqual(s.storageStatus(), []);
  });
});
