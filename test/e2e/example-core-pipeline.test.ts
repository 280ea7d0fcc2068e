// examples/core-pipeline.json in a real Node-RED with only its own settings (tab env): real Mosquitto, real influxd, a
// simulated HS110 on its own loopback address. Readings on MQTT and in InfluxDB, a command over MQTT switches the plug.
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import { CommandReply } from "../../lib/contracts";
import { validate } from "../../lib/contracts/validate";
import type { Device } from "../../lib/contracts/device";
import { SimulatedOffice, type SimulatedPlug } from "../../scripts/sim/office";
import { EXAMPLE_REGISTRY } from "../../scripts/flows/example-flows";
import { exampleWithEnv, ownLoopbackAddress, waitFor, withRegistryHost } from "../support/examples";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { startNodeRed, type NodeRedInstance } from "../../scripts/harness/nodered";
import { connectClient, startBroker, Teardown } from "../../scripts/harness/services";

const DB = "plugwatch_example";

describe("example: core pipeline (e2e: Mosquitto, influxd, simulated HS110, settings only from the tab's env)", function () {
  this.timeout(120000);
  const td = new Teardown();
  const address = ownLoopbackAddress();
  let red: NodeRedInstance;
  let influxd: InfluxdInstance;
  let plug: SimulatedPlug;
  let client: MqttClient;
  const received: { topic: string; payload: string }[] = [];

  before(async function () {
    const entry = EXAMPLE_REGISTRY.devices[0] as Device;
    const office = td.add(await SimulatedOffice.start([{ ...entry, host: address, port: 9999 }], { tickMs: 0, address }), (o) => o.stop());
    plug = office.plug(entry.id);
    plug.force({ power: 42.5, voltage: 230.4 });
    const broker = await startBroker(td, "mosquitto");
    influxd = td.add(await startInfluxd(), (i) => i.destroy());
    client = await connectClient(td, broker.url, { protocolVersion: 5 });
    client.on("message", (topic, payload) => received.push({ topic, payload: payload.toString("utf8") }));
    await client.subscribeAsync("plugwatch/#", { qos: 1 });
    red = td.add(await startNodeRed(), (r) => r.stop());
    const flow = withRegistryHost(
      exampleWithEnv("core-pipeline", { MQTT_HOST: "127.0.0.1", MQTT_PORT: new URL(broker.url).port, INFLUX_URL: influxd.url, INFLUX_DB: DB }),
      address,
    );
    const collector = flow.find((n) => n.type === "plugwatch-collector")!;
    collector.interval = 1; // the example's 10 s, shortened for the test
    await red.deploy(flow);
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${red?.logTail(40)}`);
  });

  after(() => td.run());

  it("publishes the plug's readings on MQTT and stores them in InfluxDB (database created by the hook)", async function () {
    const topic = "plugwatch/home/0/living-room/plug-1/reading";
    await waitFor(
      "a 42.5 W reading on MQTT",
      () => received.some((m) => m.topic === topic && (JSON.parse(m.payload) as { power: number }).power === 42.5),
      20000,
      red,
    );
    let row: unknown[] | undefined;
    await waitFor(
      "the reading in InfluxDB",
      async () => {
        const r = await influxd.query(`SELECT "power","voltage","room","kind" FROM "plug" WHERE "device"='plug-1' LIMIT 1`, DB);
        row = r.results[0]?.series?.[0]?.values[0];
        return row !== undefined;
      },
      30000,
      red,
    );
    assert.deepEqual(row!.slice(1), [42.5, 230.4, "living-room", "other"]);
  });

  it("switches the plug on an MQTT command request and replies on replyTo (confirmed at the simulator)", async function () {
    assert.equal(plug.relay, true);
    const replyTo = "plugwatch/api/reply/core-test/core-1"; // the control accepts {root}/api/reply/<client>/… or clients/<name>/… only
    await client.publishAsync("plugwatch/api/request/command", JSON.stringify({ v: 1, id: "core-1", replyTo, action: "off", target: { device: "plug-1" } }), {
      qos: 1,
    });
    await waitFor("the command reply", () => received.some((m) => m.topic === replyTo), 15000, red);
    const reply = JSON.parse(received.find((m) => m.topic === replyTo)!.payload) as CommandReply;
    assert.ok(validate(CommandReply, reply).ok, JSON.stringify(reply));
    assert.equal(reply.ok, true);
    assert.deepEqual(
      reply.results.map((r) => [r.device, r.ok, r.relay]),
      [["plug-1", true, false]],
    );
    assert.equal(plug.relay, false);
  });

  it("logs no error", function () {
    assert.deepEqual(
      red
        .log()
        .split("\n")
        .filter((l) => /\[error\]/.test(l)),
      [],
    );
  });
});
