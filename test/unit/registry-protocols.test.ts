// Registry: protocol field and its default ports, HS300 strips expanded into outlet devices, outlet id collisions.
import assert from "node:assert/strict";
import { buildRegistry, RegistryError } from "../../lib/registry";

const loc = { building: "hq", floor: "1", room: "r" };
const base = { name: "Plug", model: "HS110", host: "10.0.0.1", kind: "workplace", location: loc };

describe("registry protocols and strips", function () {
  it("defaults: legacy on 9999, klap and tapo on 80, auto probes from 9999; an explicit port wins", function () {
    const r = buildRegistry({
      devices: [
        { ...base, id: "a" },
        { ...base, id: "b", host: "10.0.0.2", protocol: "klap" },
        { ...base, id: "c", host: "10.0.0.3", protocol: "tapo", model: "P110" },
        { ...base, id: "d", host: "10.0.0.4", protocol: "auto" },
        { ...base, id: "e", host: "10.0.0.5", protocol: "klap", port: 4433 },
      ],
    });
    assert.deepEqual(
      r.devices.map((d) => [d.id, d.protocol ?? "(none)", d.port]),
      [
        ["a", "(none)", 9999],
        ["b", "klap", 80],
        ["c", "tapo", 80],
        ["d", "auto", 9999],
        ["e", "klap", 4433],
      ],
    );
  });

  it("rejects an unknown protocol with its path", function () {
    assert.throws(
      () => buildRegistry({ devices: [{ ...base, id: "a", protocol: "securepassthrough" }] }),
      (err: unknown) => err instanceof RegistryError && err.issues.some((i) => i.path.startsWith("$.devices[0].protocol")),
    );
  });

  it("a strip becomes one device per outlet: ids <strip>-<n>, inherited name/kind/location, own overrides", function () {
    const r = buildRegistry({
      devices: [
        {
          ...base,
          id: "strip",
          name: "Strip",
          model: "HS300",
          protocol: "klap",
          tags: { team: "ops" },
          outlets: [{}, { name: "Monitor" }, { id: "printer-9", kind: "printer", location: { building: "hq", floor: "1", room: "copy" }, idleWatts: 9 }],
        },
      ],
    });
    assert.equal(r.size, 3);
    assert.equal(r.get("strip"), undefined, "the strip itself is not a device");
    const [a, b, c] = r.devices;
    assert.deepEqual([a?.id, a?.name, a?.kind, a?.port, a?.strip], ["strip-1", "Strip 1", "workplace", 80, { id: "strip", index: 0 }]);
    assert.deepEqual([b?.id, b?.name, b?.strip?.index], ["strip-2", "Monitor", 1]);
    assert.deepEqual([c?.id, c?.kind, c?.location.room, c?.idleWatts, c?.strip?.index, c?.tags], ["printer-9", "printer", "copy", 9, 2, { team: "ops" }]);
    assert.equal("outlets" in (a as object), false);
    assert.deepEqual(
      r.select({ kind: "printer" }).map((d) => d.id),
      ["printer-9"],
    );
  });

  it("an outlet id that collides with another device is an error naming the strip", function () {
    assert.throws(
      () =>
        buildRegistry({
          devices: [
            { ...base, id: "strip-1", host: "10.0.0.9" },
            { ...base, id: "strip", model: "HS300", protocol: "klap", outlets: [{}, {}] },
          ],
        }),
      (err: unknown) => err instanceof RegistryError && err.issues.some((i) => i.path === "$.devices[1].outlets" && /strip-1/.test(i.message)),
    );
  });
});
