// The embedded broker bound to a registry (issue 14), in a real Node-RED runtime with a real influxd: plugwatch-broker
// selects the flow's plugwatch-registry; the collector identity's reading of a registered device is stored by
// plugwatch-influx-hook, an unregistered id is refused at the broker (coded log) and never stored although the hook
// itself would accept it (acceptUnknown, shown with the runtime identity); a redeploy with a changed registry grants
// the new device.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import type { DeviceEntry } from "../../lib/contracts";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { freePort } from "../../scripts/harness/ports";
import { Teardown, uniqueRoot } from "../../scripts/harness/services";
import { readingTopic, storageFlow } from "../../scripts/harness/storage-flow";
import { waitFor } from "../../scripts/harness/wait";

const DB = "plugwatch_acl";
const RUNTIME_PASSWORD = "rt-pass-acl-0123456789";
const COLLECTOR_PASSWORD = "co-pass-acl-0123456789";
const device = (id: string, room: string, port: number): DeviceEntry => ({
  id,
  name: id,
  model: "HS110",
  host: "127.0.0.1",
  port,
  kind: "workplace",
  location: { building: "hq", floor: "1", room },
});
const WS1 = device("ws-1", "open-1", 23001);
const WS2 = device("ws-2", "open-1", 23002);
const INTRUDER = device("intruder-9", "open-1", 23003);
const OUTSIDER = device("outsider-7", "open-1", 23004);

describe("plugwatch-broker with a registry: the collector identity publishes the registry's devices only (Node-RED + influxd)", function () {
  this.timeout(90_000);
  const td = new Teardown();
  const root = uniqueRoot("pwacl");
  let influxd: InfluxdInstance;
  let red: NodeRedInstance;
  let port: number;
  let passwd: string;

  /** The storage flow on the embedded broker: the runtime's MQTT connection authenticates as the runtime identity. */
  function flow(devices: DeviceEntry[]): FlowNode[] {
    const nodes = storageFlow({ root, mqttPort: port, influxUrl: influxd.url, database: DB, devices, query: false });
    for (const n of nodes) {
      if (n.type === "mqtt-broker") n.credentials = { user: "runtime", password: RUNTIME_PASSWORD };
      // The hook would store any id: only the broker stands between an unregistered id and the database.
      if (n.type === "plugwatch-influx-hook") n.acceptUnknown = true;
    }
    nodes.push({
      id: "aedes",
      type: "plugwatch-broker",
      z: "storage-tab",
      x: 100,
      y: 400,
      port: String(port),
      hosts: "loopback",
      passwd,
      roles: "",
      root,
      registry: "registry",
      maxPacketBytes: "262144",
      runtimeUser: "runtime",
      runtimePassword: RUNTIME_PASSWORD,
      wires: [],
    });
    return nodes;
  }

  async function count(id: string): Promise<number> {
    const r = await influxd.query(`SELECT count("power") FROM "plug" WHERE "device" = '${id}'`, DB);
    const v = r.results[0]?.series?.[0]?.values[0]?.[1];
    return typeof v === "number" ? v : 0;
  }
  const reading = (d: DeviceEntry, power: number) =>
    JSON.stringify({ v: 1, device: d.id, ts: Date.now(), power, voltage: 230, current: 0.5, energy: 1.5, relay: true });
  function connect(user: string, password: string): Promise<MqttClient> {
    return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: user, password, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });
  }
  /** Publishes as the collector on a fresh connection; resolves "delivered" (PUBACK) or "closed" (refused by aedes). */
  async function publishAsCollector(d: DeviceEntry, power: number): Promise<"delivered" | "closed"> {
    const c = await connect("collector", COLLECTOR_PASSWORD);
    try {
      const closed = new Promise<"closed">((resolve) => c.once("close", () => resolve("closed")));
      const acked = c.publishAsync(readingTopic(root, d), reading(d, power), { qos: 1 }).then(
        () => "delivered" as const,
        () => "closed" as const,
      );
      return await Promise.race([acked, closed]);
    } finally {
      await c.endAsync(true);
    }
  }

  before(async function () {
    const dir = td.add(mkdtempSync(path.join(os.tmpdir(), "pw-acl-")), (d) => rmSync(d, { recursive: true, force: true }));
    passwd = path.join(dir, "passwd");
    execFileSync("mosquitto_passwd", ["-c", "-b", passwd, "collector", COLLECTOR_PASSWORD]);
    port = await freePort();
    influxd = td.add(await startInfluxd(), (i) => i.destroy());
    red = td.add(await startNodeRed(), (r) => r.stop());
    await red.deploy(flow([WS1]));
    await red.waitForLog(/collector role limited to the 1 devices of the registry/);
  });

  after(async function () {
    await td.run();
  });

  it("stores the registered device's reading; refuses an unregistered id at the broker with a coded log; nothing of it is stored", async function () {
    // The flow's own MQTT connection subscribes asynchronously: publish until the first reading is stored.
    await waitFor("ws-1's reading stored", async () => (await publishAsCollector(WS1, 101)) === "delivered" && (await count("ws-1")) > 0, 20_000);
    assert.equal(await publishAsCollector(INTRUDER, 666), "closed");
    assert.match(
      await red.waitForLog(/\[UNKNOWN_DEVICE\] refused publish: .*intruder-9/),
      new RegExp(`collector \\(collector\\) may not publish to ${root}/hq/1/open-1/intruder-9/reading: device 'intruder-9' is not in the broker's registry`),
    );
    // The runtime identity (not narrowed) publishes an unregistered id, and the hook stores it: the hook would have
    // stored intruder-9 too, had the broker let it through.
    const rt = td.add(await connect("runtime", RUNTIME_PASSWORD), (c) => c.endAsync(true));
    await rt.publishAsync(readingTopic(root, OUTSIDER), reading(OUTSIDER, 7), { qos: 1 });
    await waitFor("outsider-7's reading stored", async () => (await count("outsider-7")) === 1, 15_000);
    assert.equal(await count("intruder-9"), 0);
    const stored = await influxd.query(`SHOW TAG VALUES FROM "plug" WITH KEY = "device"`, DB);
    assert.deepEqual(stored.results[0]?.series?.[0]?.values.map((v) => v[1]).sort(), ["outsider-7", "ws-1"]);
  });

  it("a redeploy with a changed registry changes the allowed set", async function () {
    assert.equal(await publishAsCollector(WS2, 202), "closed", "ws-2 is not registered yet");
    await red.deploy(flow([WS1, WS2]));
    await red.waitForLog(/collector role limited to the 2 devices of the registry/);
    await waitFor("ws-2's reading stored", async () => (await publishAsCollector(WS2, 203)) === "delivered" && (await count("ws-2")) > 0, 20_000);
    const powers = await influxd.query(`SELECT "power" FROM "plug" WHERE "device" = 'ws-2'`, DB);
    assert.ok(
      powers.results[0]?.series?.[0]?.values.every((v) => v[1] === 203),
      `only readings published after the redeploy are stored: ${JSON.stringify(powers.results[0]?.series?.[0]?.values)}`,
    );
    assert.equal(await publishAsCollector(INTRUDER, 667), "closed");
    assert.equal(await count("intruder-9"), 0);
  });

  it("a registry that does not load grants the collector nothing (fail closed), and the broker keeps serving", async function () {
    const bad = device("ws-2", "open-1", 23001); // ws-2 on ws-1's port: two devices on one address: the registry is refused as a whole
    await red.deploy(flow([WS1, bad]));
    await red.waitForLog(/\[plugwatch-broker:aedes\] registry not loaded: the collector role may publish no device/);
    await red.waitForLog(/collector role limited to the 0 devices of the registry/);
    assert.equal(await publishAsCollector(WS1, 301), "closed");
    const rt = td.add(await connect("runtime", RUNTIME_PASSWORD), (c) => c.endAsync(true));
    await rt.publishAsync(readingTopic(root, WS1), "{}", { qos: 1 }); // the runtime identity is still served
  });
});
