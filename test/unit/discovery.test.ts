// Discovery's pure parts: the admin route's query parsing and the registry drafts built from answers.
import assert from "node:assert/strict";
import { DeviceEntry } from "../../lib/contracts/device";
import { PlugwatchError } from "../../lib/contracts/errors";
import { validate } from "../../lib/contracts/validate";
import { MAX_PROBES, parseDiscoveryQuery, slugify, toRegistryDrafts, type DiscoveredPlug } from "../../lib/discovery";

const invalid = (query: Record<string, unknown>, message: RegExp) =>
  assert.throws(
    () => parseDiscoveryQuery(query),
    (e: unknown) => e instanceof PlugwatchError && e.code === "INVALID_REQUEST" && message.test(e.message),
  );

describe("parseDiscoveryQuery", function () {
  it("defaults to the limited broadcast, 3 s and no probe", function () {
    assert.deepEqual(parseDiscoveryQuery({}), { broadcast: "255.255.255.255", timeoutMs: 3000, probe: [] });
    assert.deepEqual(parseDiscoveryQuery({ broadcast: "", timeout: "", probe: "" }), { broadcast: "255.255.255.255", timeoutMs: 3000, probe: [] });
  });

  it("reads broadcast, timeout and a probe list with default port 9999", function () {
    assert.deepEqual(parseDiscoveryQuery({ broadcast: "192.168.1.255", timeout: "500", probe: "10.0.0.5, 10.0.0.6:9000" }), {
      broadcast: "192.168.1.255",
      timeoutMs: 500,
      probe: [
        { host: "10.0.0.5", port: 9999 },
        { host: "10.0.0.6", port: 9000 },
      ],
    });
  });

  it("rejects bad values with a reason", function () {
    invalid({ broadcast: "256.1.1.1" }, /broadcast must be an IPv4 address, got '256.1.1.1'/);
    invalid({ broadcast: "plug.local" }, /broadcast must be an IPv4 address/);
    invalid({ timeout: "50" }, /timeout must be an integer number of ms between 100 and 30000, got '50'/);
    invalid({ timeout: "1.5e3x" }, /timeout must be/);
    invalid({ probe: "10.0.0.1:0" }, /probe entries must be ipv4\[:port\] \(port 1-65535\), got '10.0.0.1:0'/);
    invalid({ probe: "plug.local" }, /got 'plug.local'/);
    invalid({ probe: Array.from({ length: MAX_PROBES + 1 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(",") }, /probe lists 257 addresses \(at most 256\)/);
  });
});

describe("registry drafts from discovered plugs", function () {
  const plug = (alias: string, host: string, port = 9999, mac = "50:C7:BF:00:00:01"): DiscoveredPlug => ({
    alias,
    host,
    port,
    model: "HS110(EU)",
    mac,
    deviceId: "X",
  });

  it("slugifies aliases, falling back to the MAC", function () {
    assert.equal(slugify("Desk 2.14", "m"), "desk-2-14");
    assert.equal(slugify("  Kitchen — Coffee!! ", "m"), "kitchen-coffee");
    assert.equal(slugify("***", "50:C7:BF:00:00:01"), "50-c7-bf-00-00-01");
    assert.equal(slugify("x".repeat(80), "m").length, 64);
  });

  it("makes unique ids, keeps non-default ports and validates as registry entries", function () {
    const drafts = toRegistryDrafts(
      [plug("Desk 1", "10.0.0.1"), plug("Desk 1", "10.0.0.2", 9000), plug("", "10.0.0.3", 9999, "AA:BB:CC:DD:EE:FF")],
      ["desk-1-2"],
    );
    assert.deepEqual(
      drafts.map((d) => [d.id, d.host, d.port]),
      [
        ["desk-1", "10.0.0.1", undefined],
        ["desk-1-3", "10.0.0.2", 9000],
        ["aa-bb-cc-dd-ee-ff", "10.0.0.3", undefined],
      ],
    );
    for (const d of drafts) {
      assert.equal(d.model, "HS110");
      assert.equal(d.kind, "other");
      assert.deepEqual(d.location, { building: "unassigned", floor: "unassigned", room: "unassigned" });
      assert.ok(validate(DeviceEntry, d).ok, JSON.stringify(d));
    }
  });
});
