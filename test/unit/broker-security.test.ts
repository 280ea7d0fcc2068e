// Identities and ACL (lib/broker/acl), broker passwords (lib/broker/passwd) and the packet size guard (lib/broker/packet-guard).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import mqttPacket from "mqtt-packet";
import {
  AclPolicy,
  collectorTopics,
  DEPLOY_USERS,
  filterCovers,
  filterMatches,
  mayPublish,
  maySubscribe,
  mosquittoAcl,
  parseRoleMap,
  roleOf,
  type GrantedDevice,
} from "../../lib/broker/acl";
import { checkExposure, parseHosts } from "../../lib/broker/embedded";
import { PacketSizeGuard, PacketTooLarge } from "../../lib/broker/packet-guard";
import { hashPassword, parsePasswd, verifyPassword } from "../../lib/broker/passwd";
import { loadRegistryFile } from "../../lib/registry";
import { aclForRegistry } from "../../scripts/write-acl";
import { repoRoot } from "../../scripts/harness/nodered";
import { nth } from "../support/checked";

const R = "plugwatch";
const reading = `${R}/hq/1/open-1/ws-1-01/reading`;

describe("broker identities and ACL", function () {
  it("anonymous (readonly) reads readings, availability and alerts, and publishes nothing", function () {
    for (const f of [`${R}/+/+/+/+/reading`, `${R}/hq/1/+/+/availability`, `${R}/alerts/#`, reading]) assert.equal(maySubscribe("readonly", "", f, R), true, f);
    for (const f of ["#", `${R}/#`, `${R}/api/request/command`, `${R}/api/reply/#`, "$SYS/#"]) assert.equal(maySubscribe("readonly", "", f, R), false, f);
    for (const t of [reading, `${R}/api/request/command`, `${R}/api/request/query`, `${R}/alerts/ws-1-01/offline`])
      assert.equal(mayPublish("readonly", "", t, R), false, t);
  });

  it("each agent identity gets exactly its contract's topics", function () {
    assert.equal(mayPublish("collector", "collector", reading, R), true);
    assert.equal(mayPublish("collector", "collector", `${R}/api/request/command`, R), false);
    assert.equal(maySubscribe("control", "control", `${R}/api/request/command`, R), true);
    assert.equal(mayPublish("control", "control", `${R}/api/reply/pw-api-1`, R), true);
    assert.equal(mayPublish("control", "control", "clients/desk/r", R), true);
    assert.equal(mayPublish("control", "control", "$SYS/x", R), false);
    assert.equal(mayPublish("control", "control", `${R}/alerts/ws-1-01/x`, R), false);
    assert.equal(mayPublish("control", "control", reading, R), false);
    assert.equal(maySubscribe("hook", "hook", `${R}/+/+/+/+/reading`, R), true);
    assert.equal(mayPublish("hook", "hook", reading, R), false);
    assert.equal(maySubscribe("component", "component", `${R}/api/request/query`, R), true);
    assert.equal(maySubscribe("component", "component", `${R}/api/request/command`, R), false);
    assert.equal(mayPublish("api", "api", `${R}/api/request/command`, R), true);
    assert.equal(maySubscribe("api", "api", `${R}/api/reply/pw-api-1`, R), true);
    assert.equal(maySubscribe("dashboard", "dashboard", `${R}/api/reply/other/#`, R), false);
    // a client reads only its own reply prefixes
    assert.equal(maySubscribe("client", "desk", "clients/desk/#", R), true);
    assert.equal(maySubscribe("client", "desk", "clients/other/#", R), false);
    assert.equal(maySubscribe("client", "desk", "clients/+/#", R), false);
    // a foreign device publishes only its own id's topics
    assert.equal(mayPublish("device", "meter-1", `${R}/hq/0/plant/meter-1/reading`, R), true);
    assert.equal(mayPublish("device", "meter-1", `${R}/hq/0/plant/ws-1-01/reading`, R), false);
    assert.equal(mayPublish("runtime", "runtime", "$SYS/x", R), false);
  });

  it("filters: matching and covering follow MQTT wildcard rules", function () {
    assert.equal(filterMatches("a/+/c", "a/b/c"), true);
    assert.equal(filterMatches("a/#", "a"), true);
    assert.equal(filterMatches("+/x", "$SYS/x"), false);
    assert.equal(filterCovers("a/+/c", "a/+/c"), true);
    assert.equal(filterCovers("a/+/c", "a/#"), false);
    assert.equal(filterCovers("a/#", "a/+/c/#"), true);
  });

  it("roles come from the name, the role map, or default to device", function () {
    assert.equal(roleOf("collector"), "collector");
    assert.equal(roleOf("desk", parseRoleMap("desk=client, wall=readonly")), "client");
    assert.equal(roleOf("someone"), "device");
    assert.equal(roleOf("client"), "device");
    assert.throws(() => parseRoleMap("desk=admin"), /role map entry 'desk=admin'/);
  });

  it("deploy/mosquitto/acl is generated from the same rules and flows/registry/office.json (node dist/scripts/write-acl.js)", function () {
    const office = path.join(repoRoot(), "flows", "registry", "office.json");
    const shipped = readFileSync(path.join(repoRoot(), "deploy", "mosquitto", "acl"), "utf8");
    assert.equal(shipped, aclForRegistry(office));
    const devices = loadRegistryFile(office).devices;
    assert.equal(shipped, mosquittoAcl(R, DEPLOY_USERS, { collectorDevices: devices, registryLabel: "flows/registry/office.json" }));
    // The collector block holds exactly one write line per device and stream, nothing wider.
    const block = nth(nth(shipped.split("\nuser collector\n"), 1, "collector block").split("\n\n"), 0).split("\n");
    assert.equal(block.length, devices.length * 2);
    assert.ok(block.includes("topic write plugwatch/hq/1/open-space-1/ws-1-01/reading"), block[0]);
    assert.ok(block.includes("topic write plugwatch/hq/2/print-corner-2/printer-2/availability"));
    assert.equal(
      block.some((l) => /[+#]/.test(l)),
      false,
      "a wildcard in the collector block",
    );
    // The runtime (single Node-RED) keeps its wildcard device rules.
    assert.match(nth(shipped.split("\nuser runtime\n"), 1, "runtime block"), /^topic write plugwatch\/\+\/\+\/\+\/\+\/reading$/m);
  });

  it("a broker beyond loopback without a password file refuses to start, naming the setting", function () {
    assert.deepEqual(parseHosts(""), ["127.0.0.1", "::1"]);
    assert.deepEqual(parseHosts("loopback"), ["127.0.0.1", "::1"]);
    assert.doesNotThrow(() => checkExposure(["127.0.0.1", "::1"], undefined, undefined));
    assert.throws(() => checkExposure(["0.0.0.0"], undefined, undefined), /PLUGWATCH_BROKER_PASSWD.*PLUGWATCH_BROKER_HOST/);
    assert.throws(() => checkExposure(["10.0.0.1"], new Map(), undefined), /without authentication/);
    assert.throws(() => checkExposure(["10.0.0.1"], new Map([["a", "h"]]), true), /anonymous/);
  });
});

describe("collector ACL bound to a registry", function () {
  const devices: GrantedDevice[] = [
    { id: "ws-1-01", location: { building: "hq", floor: "1", room: "open-1" } },
    { id: "mr-board", location: { building: "hq", floor: "0", room: "board" } },
  ];
  const acl = new AclPolicy(R, { collectorDevices: devices });

  it("grants the exact reading and availability topics of each registered device, nothing else", function () {
    assert.deepEqual(collectorTopics(devices, R), [
      `${R}/hq/1/open-1/ws-1-01/reading`,
      `${R}/hq/1/open-1/ws-1-01/availability`,
      `${R}/hq/0/board/mr-board/reading`,
      `${R}/hq/0/board/mr-board/availability`,
    ]);
    for (const t of collectorTopics(devices, R)) assert.equal(acl.mayPublish("collector", "collector", t), true, t);
    for (const t of [
      `${R}/hq/1/open-1/intruder-9/reading`, // not registered
      `${R}/hq/1/open-1/card-1/availability`,
      `${R}/hq/9/elsewhere/ws-1-01/reading`, // registered id, another location
      `${R}/hq/1/open-1/ws-1-01/other`, // not a device stream
      `${R}/hq/1/open-1/ws-1-01/reading/x`,
      `${R}/api/request/command`,
      `${R}/hq/1/open-1/+/reading`,
      "$SYS/x",
    ])
      assert.equal(acl.mayPublish("collector", "collector", t), false, t);
    // the same through the functional form
    assert.equal(mayPublish("collector", "collector", `${R}/hq/1/open-1/intruder-9/reading`, R, { collectorDevices: devices }), false);
    assert.equal(mayPublish("collector", "collector", `${R}/hq/1/open-1/ws-1-01/reading`, R, { collectorDevices: devices }), true);
  });

  it("an empty registry grants nothing; no registry keeps every device topic; runtime and device are not narrowed", function () {
    const none = new AclPolicy(R, { collectorDevices: [] });
    assert.equal(none.mayPublish("collector", "collector", `${R}/hq/1/open-1/ws-1-01/reading`), false);
    assert.equal(new AclPolicy(R).mayPublish("collector", "collector", `${R}/hq/1/open-1/intruder-9/reading`), true);
    assert.equal(acl.mayPublish("runtime", "runtime", `${R}/hq/1/open-1/intruder-9/reading`), true);
    assert.equal(acl.mayPublish("device", "meter-1", `${R}/hq/0/plant/meter-1/reading`), true);
    assert.equal(acl.mayPublish("readonly", "", `${R}/hq/1/open-1/ws-1-01/reading`), false);
    assert.equal(acl.maySubscribe("collector", "collector", `${R}/hq/1/open-1/ws-1-01/reading`), false);
  });

  it("explains a refusal: UNKNOWN_DEVICE for an unregistered id, the location for a registered one", function () {
    const unknown = acl.explainRefusedPublish("collector", "collector", `${R}/hq/1/open-1/intruder-9/reading`);
    assert.equal(unknown.code, "UNKNOWN_DEVICE");
    assert.equal(
      unknown.reason,
      `collector (collector) may not publish to ${R}/hq/1/open-1/intruder-9/reading: device 'intruder-9' is not in the broker's registry`,
    );
    const moved = acl.explainRefusedPublish("collector", "collector", `${R}/hq/9/x/ws-1-01/reading`);
    assert.equal(moved.code, undefined);
    assert.match(moved.reason, /not the registered location of device 'ws-1-01'/);
    assert.deepEqual(acl.explainRefusedPublish("collector", "c2", `${R}/api/request/command`), {
      reason: `c2 (collector) may not publish to ${R}/api/request/command`,
    });
    assert.deepEqual(new AclPolicy(R).explainRefusedPublish("readonly", "", `${R}/hq/1/open-1/intruder-9/reading`), {
      reason: `anonymous (readonly) may not publish to ${R}/hq/1/open-1/intruder-9/reading`,
    });
  });

  it("the Mosquitto ACL without a registry keeps the wildcard collector rules and says so", function () {
    const text = mosquittoAcl(R);
    assert.match(text, /No registry given/);
    assert.match(
      nth(text.split("\nuser collector\n"), 1, "collector block"),
      /^topic write plugwatch\/\+\/\+\/\+\/\+\/reading\ntopic write plugwatch\/\+\/\+\/\+\/\+\/availability\n\n/,
    );
    const bound = mosquittoAcl(R, { "site-b-collector": "collector" }, { collectorDevices: devices, registryLabel: "reg.json" });
    assert.match(bound, /the 2 devices of reg\.json only: regenerate after every registry change/);
    assert.equal(
      nth(nth(bound.split("\nuser site-b-collector\n"), 1, "site-b-collector block").split("\n\n"), 0),
      collectorTopics(devices, R)
        .map((t) => `topic write ${t}`)
        .join("\n"),
    );
  });
});

describe("broker passwords ($7$, the mosquitto_passwd format)", function () {
  it("verifies a hash made by the real mosquitto_passwd, and ours; wrong passwords fail", function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), "pw-passwd-"));
    try {
      const file = path.join(dir, "passwd");
      execFileSync("mosquitto_passwd", ["-c", "-b", file, "alice", "s3cret-Ä"]);
      const users = parsePasswd(readFileSync(file, "utf8"));
      assert.equal(verifyPassword("s3cret-Ä", users.get("alice")!), true);
      assert.equal(verifyPassword("s3cret-A", users.get("alice")!), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const ours = hashPassword("x", 1000);
    assert.match(ours, /^\$7\$1000\$/);
    assert.equal(verifyPassword("x", ours), true);
    assert.equal(verifyPassword("y", ours), false);
    assert.equal(verifyPassword("x", "plain"), false);
    assert.throws(() => parsePasswd("bob:plaintext\n"), /no hashed password/);
  });
});

describe("packet size guard", function () {
  const publish = (bytes: number): Buffer =>
    mqttPacket.generate({
      cmd: "publish",
      topic: "t",
      payload: Buffer.alloc(bytes),
      qos: 0,
      retain: false,
      dup: false,
      messageId: undefined as unknown as number,
    });
  const run = async (chunks: Buffer[], limit: number): Promise<Buffer> => {
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(chunks),
      new PacketSizeGuard(limit),
      new Writable({
        write(c: Buffer, _e, cb) {
          out.push(c);
          cb();
        },
      }),
    );
    return Buffer.concat(out);
  };

  it("passes packets under the limit through unchanged, across chunk boundaries", async function () {
    const stream = Buffer.concat([mqttPacket.generate({ cmd: "pingreq" }), publish(1000), publish(200_000)]);
    const chunks = [stream.subarray(0, 1), stream.subarray(1, 3), stream.subarray(3, 1500), stream.subarray(1500)];
    assert.deepEqual(await run(chunks, 256 * 1024), stream);
  });

  it("stops at the header of a packet over the limit, before its body arrives", async function () {
    const big = publish(50 * 1024 * 1024);
    await assert.rejects(run([publish(10), big.subarray(0, 16)], 256 * 1024), (err: unknown) => err instanceof PacketTooLarge && err.size === big.length);
  });
});
