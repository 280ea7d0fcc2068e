// Devices not in the registry: the unknown-device policy (lib/pending.ts), its file store, the encoder's use of it and the API's list/approve/reject.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PlugwatchError } from "../../lib/contracts/errors";
import { encodePayload, LineEncoder } from "../../lib/influx/points";
import { parseUnknownDevicePolicy, UnknownDevices } from "../../lib/pending";
import { fileStore, unknownDevicesFor } from "../../lib/pending-file";
import { buildRegistry } from "../../lib/registry";
import { testApiService } from "../support/api-service";
import { nth } from "../support/checked";

const devices = [
  { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 9999, kind: "workplace", location: { building: "hq", floor: "1", room: "open" } },
];
const teleinfo = (ts: number, device = "teleinfo-main") => ({
  v: 1,
  device,
  ts,
  measurement: "teleinfo",
  fields: { papp: 1840 },
  tags: { source: "eco-devices" },
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PlugwatchError, String(err));
    return err.code;
  }
  assert.fail("did not throw");
}

describe("unknown devices (pending approval)", function () {
  it("parses the policy: reject by default, pending, accept; anything else is an error", function () {
    assert.equal(parseUnknownDevicePolicy(undefined), "reject");
    assert.equal(parseUnknownDevicePolicy(""), "reject");
    assert.equal(parseUnknownDevicePolicy("pending"), "pending");
    assert.equal(parseUnknownDevicePolicy("accept"), "accept");
    assert.throws(() => parseUnknownDevicePolicy("yes"), /expected one of reject, pending, accept/);
  });

  it("pending: holds new ids with pending=true, counts readings, and bounds the number waiting", function () {
    let t = 1000;
    const u = new UnknownDevices({ policy: "pending", maxPending: 2, now: () => t });
    assert.deepEqual(u.admit("a"), { tags: { device: "a", pending: "true" } });
    t = 2000;
    assert.deepEqual(u.admit("a"), { tags: { device: "a", pending: "true" } });
    assert.ok("tags" in u.admit("b"));
    const full = u.admit("c");
    assert.ok("refused" in full && /2 devices are already pending/.test(full.refused));
    assert.deepEqual(u.list("pending"), [
      { id: "a", state: "pending", firstSeen: 1000, lastSeen: 2000, readings: 2, refused: 0 },
      { id: "b", state: "pending", firstSeen: 2000, lastSeen: 2000, readings: 1, refused: 0 },
    ]);
    // A decision frees a place.
    assert.equal(u.approve("a").state, "approved");
    assert.deepEqual(u.admit("a"), { tags: { device: "a" } });
    assert.ok("tags" in u.admit("c"));
    assert.equal(u.reject("b").state, "rejected");
    assert.ok("refused" in u.admit("b"));
    assert.equal(u.get("b")?.refused, 1);
    assert.equal(
      codeOf(() => u.approve("zz")),
      "UNKNOWN_DEVICE",
    );
  });

  it("forgets the oldest decisions beyond maxDecided", function () {
    const u = new UnknownDevices({ policy: "pending", maxDecided: 2 });
    for (const id of ["a", "b", "c"]) u.admit(id);
    u.reject("a");
    u.reject("b");
    u.approve("c");
    assert.deepEqual(
      u.list().map((d) => [d.id, d.state]),
      [
        ["b", "rejected"],
        ["c", "approved"],
      ],
    );
  });

  it("reject and accept policies keep no list", function () {
    assert.ok("refused" in new UnknownDevices().admit("a"));
    const acc = new UnknownDevices({ policy: "accept" });
    assert.deepEqual(acc.admit("a"), { tags: { device: "a" } });
    assert.deepEqual(acc.list(), []);
  });

  it("the file store keeps decisions across restarts; a damaged file is an empty list with a warning", function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-pending-"));
    try {
      const warnings: string[] = [];
      const first = unknownDevicesFor("pending", dir, "reg.1", (m) => warnings.push(m));
      first.admit("teleinfo-main");
      first.admit("other");
      first.approve("teleinfo-main");
      const again = unknownDevicesFor("pending", dir, "reg.1", (m) => warnings.push(m));
      assert.deepEqual(
        again.list().map((d) => [d.id, d.state]),
        [
          ["other", "pending"],
          ["teleinfo-main", "approved"],
        ],
      );
      assert.deepEqual(again.admit("teleinfo-main"), { tags: { device: "teleinfo-main" } });
      const file = path.join(dir, "plugwatch-unknown-reg.1.json");
      assert.ok(JSON.parse(readFileSync(file, "utf8")));
      writeFileSync(file, "{not json");
      assert.deepEqual(new UnknownDevices({ policy: "pending", store: fileStore(file, (m) => warnings.push(m)) }).list(), []);
      assert.equal(warnings.length, 1);
      assert.match(nth(warnings, 0), /starting with an empty list/);
      const bad: string[] = [];
      assert.equal(unknownDevicesFor("maybe", dir, "reg.2", (m) => bad.push(m)).policy, "reject");
      assert.equal(bad.length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("plugwatch-influx-hook's encoder with a registry in pending mode", function () {
    it("stores a well-formed reading of an unregistered id with pending=true; malformed ones never create an entry", function () {
      const registry = buildRegistry({ devices, measurements: ["teleinfo"] }, "test");
      registry.unknown = new UnknownDevices({ policy: "pending" });
      const enc = new LineEncoder(registry);
      assert.equal(enc.encodeValue(teleinfo(1764000000000)), "teleinfo,device=teleinfo-main,pending=true,source=eco-devices papp=1840 1764000000000");
      // Absurd plug values, a bad id, a bad field: INVALID_READING, and no pending entry.
      const { lines, errors } = encodePayload(enc, [
        { v: 1, device: "ghost-1", ts: 1764000000000, power: 1e9, voltage: 230, current: 1, energy: 1, relay: true },
        { v: 1, device: "Bad Id", ts: 1764000000000, fields: { papp: 1 } },
        { v: 1, device: "ghost-2", ts: 1764000000000, fields: { "1bad": 1 } },
      ]);
      assert.deepEqual(lines, []);
      assert.deepEqual(
        errors.map((e) => e.code),
        ["INVALID_READING", "INVALID_READING", "INVALID_READING"],
      );
      assert.deepEqual(
        registry.unknown.list().map((d) => d.id),
        ["teleinfo-main"],
      );
      // A reading cannot set the pending tag itself, on a registered device or any other.
      assert.equal(
        enc.encodeValue({ v: 1, device: "ws-1", ts: 1764000000005, fields: { t: 1 }, tags: { pending: "true" } }),
        "plug,building=hq,device=ws-1,floor=1,kind=workplace,room=open t=1 1764000000005",
      );
      // Approved: the same series key is no longer cached as pending.
      registry.unknown.approve("teleinfo-main");
      assert.equal(enc.encodeValue(teleinfo(1764000060000)), "teleinfo,device=teleinfo-main,source=eco-devices papp=1840 1764000060000");
      registry.unknown.reject("teleinfo-main");
      assert.equal(
        codeOf(() => enc.encodeValue(teleinfo(1764000120000))),
        "UNKNOWN_DEVICE",
      );
      // Plug readings of an unregistered id are held the same way, and re-admitted (counted) every time.
      const plug = { v: 1, device: "ws-9", ts: 1764000000007, power: 1, voltage: 230, current: 0.1, energy: 1, relay: false };
      assert.equal(enc.encodeValue(plug), "plug,device=ws-9,pending=true power=1,voltage=230,current=0.1,energy=1,relay=F 1764000000007");
      enc.encodeValue(plug);
      assert.equal(registry.unknown.get("ws-9")?.readings, 2);
    });

    it("with the default policy an unregistered id is still UNKNOWN_DEVICE", function () {
      const enc = new LineEncoder(buildRegistry({ devices }, "test"));
      assert.equal(
        codeOf(() => enc.encodeValue(teleinfo(1764000000000))),
        "UNKNOWN_DEVICE",
      );
    });
  });

  describe("REST API", function () {
    function api() {
      const registry = buildRegistry({ devices }, "test");
      registry.unknown = new UnknownDevices({ policy: "pending", now: () => 1764000000000 });
      const service = testApiService({ registry, broker: { connected: () => true, publish: () => Promise.resolve() } });
      const call = (method: "GET" | "POST", p: string, search = "") =>
        service.handle({ method, path: p, search: new URLSearchParams(search), instance: `/api/v1${p}` });
      return { registry, call };
    }

    it("GET /devices?state=pending lists them; approve and reject move them; errors for unlisted, registered and bad states", async function () {
      const { registry, call } = api();
      registry.unknown.admit("teleinfo-main");
      const listed = await call("GET", "/devices", "state=pending");
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body, {
        state: "pending",
        policy: "pending",
        count: 1,
        devices: [{ id: "teleinfo-main", state: "pending", firstSeen: 1764000000000, lastSeen: 1764000000000, readings: 1, refused: 0 }],
      });
      assert.equal(((await call("GET", "/devices")).body as { count: number }).count, 1, "the registry's devices by default");
      assert.equal(((await call("GET", "/devices", "state=registered&kind=workplace")).body as { count: number }).count, 1);
      const approved = await call("POST", "/devices/teleinfo-main/approve");
      assert.equal(approved.status, 200);
      assert.equal((approved.body as { state: string }).state, "approved");
      assert.deepEqual((await call("GET", "/devices", "state=pending")).body, { state: "pending", policy: "pending", count: 0, devices: [] });
      assert.equal(((await call("GET", "/devices", "state=approved")).body as { count: number }).count, 1);
      assert.equal((await call("POST", "/devices/teleinfo-main/reject")).status, 200);
      assert.equal((await call("POST", "/devices/nobody/approve")).status, 404);
      assert.equal((await call("POST", "/devices/ws-1/approve")).status, 400);
      assert.equal((await call("GET", "/devices", "state=maybe")).status, 400);
      assert.equal((await call("GET", "/devices", "state=pending&kind=printer")).status, 400);
    });
  });
});
