// The `agents` role (lib/broker/acl.ts) and how plugwatch-broker gives it: a runtime whose collector publishes under its
// own identity may publish no reading or availability; the collector identity only its registry's devices.
import assert from "node:assert/strict";
import { AclPolicy, DEPLOY_USERS, mosquittoAcl, rulesOf } from "../../lib/broker/acl";
import { parseBrokerConfig, type PlugwatchBrokerNodeDef } from "../../nodes/plugwatch-broker/types";
import { nth } from "../support/checked";

const R = "plugwatch";
const WS1 = { id: "ws-1", location: { building: "hq", floor: "1", room: "open-1" } };
const key = (r: { access: string; filter: string }) => `${r.access} ${r.filter}`;

describe("agents role: the shipped runtime without the collector's rights", function () {
  const acl = new AclPolicy(R, { collectorDevices: [WS1] });

  it("agents may publish no reading or availability, of a registered device or any other", function () {
    for (const topic of [`${R}/hq/1/open-1/ws-1/reading`, `${R}/hq/1/open-1/ws-1/availability`, `${R}/hq/1/open-1/intruder-9/reading`]) {
      assert.equal(acl.mayPublish("agents", "runtime", topic), false, topic);
      assert.equal(acl.mayPublish("runtime", "runtime", topic), true, `runtime (examples) still may: ${topic}`);
    }
  });

  it("agents keeps every other right of runtime: requests, replies, alerts, audit, hook status, backup health", function () {
    const runtime = new Set(rulesOf("runtime", R).map(key));
    const agents = new Set(rulesOf("agents", R).map(key));
    const collector = new Set(rulesOf("collector", R).map(key));
    assert.deepEqual(
      [...runtime].filter((r) => !agents.has(r)),
      [...collector],
      "runtime minus agents is exactly the collector's rules",
    );
    for (const topic of [
      `${R}/api/request/command`,
      `${R}/api/request/query`,
      `${R}/api/request/schedule`,
      `${R}/api/reply/api-1/x`,
      `${R}/alerts/ws-1/offline`,
      `${R}/audit/command`,
      `${R}/status/influx-hook`,
      `${R}/backup/backup-plugwatch/availability`,
    ])
      assert.equal(acl.mayPublish("agents", "runtime", topic), true, topic);
    // Its subscriptions are those of runtime (readings included: hook, alerts, scheduler, dashboard read them).
    assert.equal(acl.maySubscribe("agents", "runtime", `${R}/+/+/+/+/reading`), true);
    assert.equal(acl.maySubscribe("agents", "runtime", `${R}/+/+/+/+/+`), true);
  });

  it("the collector identity publishes its registry's devices only", function () {
    assert.equal(acl.mayPublish("collector", "collector", `${R}/hq/1/open-1/ws-1/reading`), true);
    assert.equal(acl.mayPublish("collector", "collector", `${R}/hq/1/open-1/intruder-9/reading`), false);
    assert.equal(acl.explainRefusedPublish("collector", "collector", `${R}/hq/1/open-1/intruder-9/reading`).code, "UNKNOWN_DEVICE");
  });

  it("deploy/mosquitto/acl identities: plugwatch-nodered is agents, plugwatch-collector is collector", function () {
    assert.equal(DEPLOY_USERS["plugwatch-nodered"], "agents");
    assert.equal(DEPLOY_USERS["plugwatch-collector"], "collector");
    const text = mosquittoAcl(R, DEPLOY_USERS, { collectorDevices: [WS1] });
    const block = (user: string) => nth(nth(text.split(`\nuser ${user}\n`), 1, `${user} block`).split("\n\n"), 0);
    const nodered = block("plugwatch-nodered");
    assert.match(nodered, /^topic read plugwatch\/\+\/\+\/\+\/\+\/reading$/m, "it still reads readings");
    assert.doesNotMatch(nodered, /^topic (write|readwrite) plugwatch\/(\+|hq)\/(\+|1)\/(\+|open-1)\/(\+|ws-1)\/(reading|availability)$/m);
    assert.match(block("plugwatch-collector"), /^topic write plugwatch\/hq\/1\/open-1\/ws-1\/reading$/m);
  });
});

describe("plugwatch-broker: roles of the runtime and collector users", function () {
  const def = (o: Partial<PlugwatchBrokerNodeDef>): PlugwatchBrokerNodeDef => ({
    id: "b",
    type: "plugwatch-broker",
    name: "",
    z: "",
    port: "1883",
    hosts: "",
    passwd: "",
    roles: "",
    root: R,
    maxPacketBytes: "",
    runtimeUser: "runtime",
    runtimePassword: "rt-secret",
    ...o,
  });
  const env = { t: (k: string) => k, userDir: undefined };

  it("without a collector user the runtime user keeps role runtime (flows whose collector shares its connection)", function () {
    const c = parseBrokerConfig(def({}), env);
    assert.deepEqual(c.roles, { runtime: "runtime" });
    assert.deepEqual([...c.users.keys()], ["runtime"]);
  });

  it("with a collector user: it gets role collector and its password, the runtime user gets agents", function () {
    const c = parseBrokerConfig(def({ collectorUser: "pw-coll", collectorPassword: "co-secret" }), env);
    assert.deepEqual(c.roles, { "pw-coll": "collector", runtime: "agents" });
    assert.deepEqual([...c.users.keys()].sort(), ["pw-coll", "runtime"]);
  });

  it("an explicit Roles entry wins; the same user for both is refused", function () {
    assert.equal(parseBrokerConfig(def({ collectorUser: "c", collectorPassword: "x", roles: "runtime=runtime" }), env).roles.runtime, "runtime");
    assert.throws(() => parseBrokerConfig(def({ collectorUser: "runtime", collectorPassword: "x" }), env), /must differ from the runtime user/);
  });
});
