// Device registry: every bad fixture gives the documented file + JSON path + reason, never a partial registry.
import assert from "node:assert/strict";
import * as path from "node:path";
import { buildRegistry, lineColumn, loadRegistryFile, MAX_ISSUES, Registry, RegistryError } from "../../lib/registry";
import { repoRoot } from "../../scripts/harness/nodered";

const fixture = (name: string): string => path.join(repoRoot(), "test", "fixtures", "registries", name);

/** Loads a fixture that must fail and returns its issues as [path, message] pairs. */
function issuesOf(name: string): [string, string][] {
  const file = fixture(name);
  let error: unknown;
  try {
    loadRegistryFile(file);
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof RegistryError, `${name} must fail with a RegistryError`);
  assert.equal(error.code, "REGISTRY_INVALID");
  assert.equal(error.file, file);
  for (const i of error.issues) assert.equal(i.file, file, "every issue names the file");
  assert.ok(error.message.startsWith(`${file}: `), "the message starts with the file");
  return error.issues.map((i) => [i.path, i.message]);
}

const KIND_HELP = "use workplace, meeting-room, printer, other";

describe("registry files", function () {
  it("loads the good fixture with the default port applied", function () {
    const r = loadRegistryFile(fixture("good.json"));
    assert.ok(r instanceof Registry);
    assert.equal(r.size, 5);
    assert.equal(r.get("pr-annex")?.port, 9999);
    assert.equal(r.get("ws-1-01")?.port, 21001);
    assert.deepEqual(
      r.filter({ kind: "workplace", floor: "1" }).map((d) => d.id),
      ["ws-1-01", "ws-1-02"],
    );
  });

  const cases: [string, [string, string][]][] = [
    ["bad-kind.json", [["$.devices[0].kind", `"lamp" is not a valid kind: ${KIND_HELP}`]]],
    ["bad-port.json", [["$.devices[0].port", "port must be an integer from 1 to 65535 (got 70000)"]]],
    [
      "bad-slug-id.json",
      [
        [
          "$.devices[0].id",
          `"Desk 1/01" is not a valid id: use lower-case letters, digits, '-' and '_', starting and ending with a letter or digit, at most 64 characters`,
        ],
      ],
    ],
    ["duplicate-address.json", [["$.devices[1].host", "address 10.0.1.1:9999 already used by $.devices[0]"]]],
    ["duplicate-id.json", [["$.devices[2].id", "duplicate id 'ws-1-01' (first at $.devices[0])"]]],
    ["missing-host.json", [["$.devices[1].host", "missing required property 'host'"]]],
    [
      "no-devices.json",
      [
        ["$.plugs", "unknown property 'plugs'"],
        ["$.devices", "missing required property 'devices' (the list of plugs)"],
      ],
    ],
    ["not-an-object.json", [["$", "expected an object with a 'devices' array, got string"]]],
    ["unknown-property.json", [["$.devices[0].ip", "unknown property 'ip'"]]],
    [
      "many-problems.json",
      [
        ["$.owner", "unknown property 'owner'"],
        ["$.version", "version must be 1 (got 2)"],
        ["$.devices[1].name", "name must not be empty"],
        ["$.devices[1].kind", `"desk" is not a valid kind: ${KIND_HELP}`],
        ["$.devices[1].location.room", "missing required property 'room'"],
        ["$.devices[2]", "expected an object, got string"],
        ["$.devices[1].id", "duplicate id 'ws-1-01' (first at $.devices[0])"],
        ["$.devices[1].host", "address 10.0.1.1:9999 already used by $.devices[0]"],
      ],
    ],
  ];
  for (const [name, expected] of cases) {
    it(`${name} → ${expected.map(([p]) => p).join(", ")}`, function () {
      assert.deepEqual(issuesOf(name), expected);
    });
  }

  it("not-json.json → $: not valid JSON with the line and column", function () {
    const issues = issuesOf("not-json.json");
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.[0], "$");
    assert.match(issues[0]?.[1] ?? "", /^not valid JSON: .*line 1,? column 56/);
  });

  it("a missing file is one issue at $ naming the cause", function () {
    const issues = issuesOf("does-not-exist.json");
    assert.equal(issues.length, 1);
    assert.match(issues[0]?.[1] ?? "", /^cannot read file: ENOENT/);
  });

  it("lineColumn counts lines and columns from a JSON.parse position", function () {
    assert.equal(lineColumn('{\n  "a": 1,\n  x\n}', "Unexpected token x in JSON at position 14"), " (line 3, column 3)");
    assert.equal(lineColumn("{}", "Unexpected end of JSON input"), "");
  });

  it("caps a flood of problems at MAX_ISSUES plus one summary line", function () {
    const devices = Array.from({ length: MAX_ISSUES + 50 }, (_, i) => ({
      id: `d-${i}`,
      name: "x",
      model: "HS110",
      host: "10.0.0.1",
      port: i + 1,
      kind: "lamp",
      location: { building: "b", floor: "1", room: "r" },
    }));
    let error: RegistryError | undefined;
    try {
      buildRegistry({ devices }, "big.json");
    } catch (err) {
      error = err as RegistryError;
    }
    assert.ok(error instanceof RegistryError);
    assert.equal(error.issues.length, MAX_ISSUES + 1);
    assert.deepEqual(error.issues.at(-1), { file: "big.json", path: "$", message: "50 more problems not shown" });
    assert.match(error.message, /\(and 196 more\)$/);
  });
});

describe("registry time zones and critical devices", function () {
  const dev = (id: string, building: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id,
    name: id,
    model: "HS110",
    host: `10.0.0.${id.length}`,
    kind: "other",
    location: { building, floor: "f1", room: "r1" },
    ...extra,
  });

  it("answers each building's zone: its own, else the file's", function () {
    const reg = buildRegistry({
      timezone: "Europe/Paris",
      buildings: { lisbon: { timezone: "Europe/Lisbon", name: "Lisbon office" } },
      devices: [dev("a", "hq"), dev("bb", "lisbon")],
    });
    assert.equal(reg.timezone, "Europe/Paris");
    assert.equal(reg.timeZoneOf("hq"), "Europe/Paris");
    assert.equal(reg.timeZoneOf("lisbon"), "Europe/Lisbon");
  });

  it("rejects an unknown zone at load, naming the path", function () {
    assert.throws(
      () => buildRegistry({ timezone: "Europe/Pariss", buildings: { hq: { timezone: "Mars/Olympus" } }, devices: [dev("a", "hq")] }),
      (e: RegistryError) =>
        e.code === "REGISTRY_INVALID" &&
        e.issues.some((i) => i.path === "$.timezone" && /Europe\/Pariss/.test(i.message)) &&
        e.issues.some((i) => i.path === "$.buildings.hq.timezone"),
    );
  });

  it("keeps `critical` on a device and lets an outlet override its strip", function () {
    const reg = buildRegistry({
      devices: [dev("srv", "hq", { critical: true }), dev("strip", "hq", { model: "HS300", outlets: [{}, { critical: true }] })],
    });
    assert.equal(reg.get("srv")?.critical, true);
    assert.equal(reg.get("strip-1")?.critical, undefined);
    assert.equal(reg.get("strip-2")?.critical, true);
    assert.throws(() => buildRegistry({ devices: [dev("x", "hq", { critical: "yes" })] }), /critical/);
  });

  it("accepts a pinned MAC in either spelling and rejects a malformed one, naming the path", function () {
    assert.equal(buildRegistry({ devices: [dev("a", "hq", { mac: "50-c7-bf-01-02-03" })] }).get("a")?.mac, "50-c7-bf-01-02-03");
    assert.throws(
      () => buildRegistry({ devices: [dev("a", "hq", { mac: "50:c7:bf:01:02" })] }),
      (e: RegistryError) => e.issues.some((i) => i.path === "$.devices[0].mac"),
    );
  });
});
