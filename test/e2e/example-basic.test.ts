// examples/basic-monitor.json and examples/basic-switch.json in a real Node-RED: a simulated HS110 on its own loopback
// address (port 9999, as the examples' registry expects), a real Mosquitto; readings on MQTT, switching through inject.
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import { Availability, Reading, validate } from "../../lib/contracts";
import type { Device } from "../../lib/contracts/device";
import { SimulatedOffice, type SimulatedPlug } from "../../scripts/sim/office";
import { assertOfferedAsExample, DebugTap, exampleWithEnv, loadExample, ownLoopbackAddress, waitFor, withRegistryHost } from "../support/examples";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { connectClient, startBroker, Teardown } from "../../scripts/harness/services";
import { nth } from "../support/checked";

const PLUG_TOPIC = "plugwatch/home/0/living-room/plug-1";

/** The example's one registry entry, as its inline JSON has it, on `host`. */
function exampleDevice(name: string, host: string): Device {
  const reg = loadExample(name).find((n) => n.type === "plugwatch-registry");
  const doc = JSON.parse(reg?.json as string) as { devices: Device[] };
  assert.equal(doc.devices.length, 1);
  return { ...nth(doc.devices, 0), host, port: 9999 };
}

describe("starter examples basic-monitor and basic-switch (e2e, real Node-RED, simulated HS110, Mosquitto)", function () {
  this.timeout(90000);
  const td = new Teardown();
  const address = ownLoopbackAddress();
  let red: NodeRedInstance;
  let plug: SimulatedPlug;
  let client: MqttClient;
  let debug: DebugTap;
  let brokerPort: string;
  const received: { topic: string; payload: string; retain: boolean }[] = [];

  before(async function () {
    const office = td.add(await SimulatedOffice.start([exampleDevice("basic-monitor", address)], { tickMs: 0, address }), (o) => o.stop());
    plug = office.plug("plug-1");
    plug.force({ power: 61.5, voltage: 229.8 });
    const broker = await startBroker(td, "mosquitto");
    brokerPort = new URL(broker.url).port;
    client = await connectClient(td, broker.url, { protocolVersion: 5 });
    client.on("message", (topic, payload, packet) => received.push({ topic, payload: payload.toString("utf8"), retain: packet.retain === true }));
    await client.subscribeAsync("plugwatch/#", { qos: 1, rap: true });
    red = td.add(await startNodeRed(), (r) => r.stop());
    debug = td.add(await DebugTap.open(red), (d) => d.close());
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${red?.logTail(40)}`);
  });

  after(() => td.run());

  it("both are offered under Import → Examples, exactly as the files hold them", async function () {
    await assertOfferedAsExample(red, "basic-monitor");
    await assertOfferedAsExample(red, "basic-switch");
  });

  it("basic-monitor: the plug's readings arrive on MQTT per contract, availability retained, and in the debug sidebar", async function () {
    const flow: FlowNode[] = withRegistryHost(exampleWithEnv("basic-monitor", { MQTT_HOST: "127.0.0.1", MQTT_PORT: brokerPort }), address);
    // The example polls every 10 s (first poll spread over that interval); 1 s keeps the test short.
    const collector = flow.find((n) => n.type === "plugwatch-collector");
    assert.equal(collector?.interval, 10);
    collector.interval = 1;
    await red.deploy(flow);

    await waitFor(
      "a reading with 61.5 W on MQTT",
      () => received.some((m) => m.topic === `${PLUG_TOPIC}/reading` && (JSON.parse(m.payload) as Reading).power === 61.5),
      20000,
      red,
    );
    const m = received.find((x) => x.topic === `${PLUG_TOPIC}/reading`)!;
    const reading = JSON.parse(m.payload) as Reading;
    assert.ok(validate(Reading, reading).ok, m.payload);
    assert.equal(reading.device, "plug-1");
    assert.equal(reading.voltage, 229.8);
    assert.equal(reading.current, plug.realtime.current);
    assert.equal(reading.relay, true);
    assert.equal(m.retain, false);

    await waitFor("availability online", () => received.some((x) => x.topic === `${PLUG_TOPIC}/availability`), 10000, red);
    const av = received.find((x) => x.topic === `${PLUG_TOPIC}/availability`)!;
    assert.equal(av.retain, true);
    assert.ok(validate(Availability, JSON.parse(av.payload)).ok);
    assert.equal((JSON.parse(av.payload) as Availability).online, true);

    // A new value at the plug shows up in a later reading, and the debug node shows the whole message.
    plug.force({ power: 1234.5 });
    const shown = await debug.waitFor<{ topic: string; payload: Reading }>("basic-monitor.debug", (msg) => msg.payload?.power === 1234.5, red);
    assert.equal(shown.topic, `${PLUG_TOPIC}/reading`);
    await waitFor(
      "the 1234.5 W reading on MQTT",
      () => received.some((x) => x.topic === `${PLUG_TOPIC}/reading` && (JSON.parse(x.payload) as Reading).power === 1234.5),
      10000,
      red,
    );
    assert.equal(red.log().match(/\[error\]/g), null, "no error in the runtime log");
  });

  it("basic-switch: the inject buttons switch the plug (confirmed at the simulator) and the reply reaches the debug sidebar", async function () {
    // The admin API answers a deploy before the new flows run: wait for the runtime's next "Started flows".
    const started = () => (red.log().match(/\] Started flows/g) ?? []).length;
    const startedBefore = started();
    await red.deploy(withRegistryHost(loadExample("basic-switch"), address));
    await waitFor("the switch flow to start", () => started() > startedBefore, 10000, red);
    assert.equal(plug.relay, true);
    const press = async (action: string) => {
      const r = await red.request(`/inject/basic-switch.${action}`, { method: "POST" });
      assert.equal(r.status, 200, `inject ${action}`);
    };
    type Reply = { v: number; ok: boolean; results: { device: string; ok: boolean; relay?: boolean }[] };
    const replies = () => debug.messages.filter((m) => m.id === "basic-switch.debug").length;

    let before = replies();
    await press("off");
    await waitFor("the off reply", () => replies() > before, 10000, red);
    assert.equal(plug.relay, false);
    let reply = JSON.parse(debug.messages.filter((m) => m.id === "basic-switch.debug").at(-1)!.msg) as Reply;
    assert.deepEqual([reply.v, reply.ok, reply.results], [1, true, [{ device: "plug-1", ok: true, relay: false }]]);

    before = replies();
    await press("toggle");
    await waitFor("the toggle reply", () => replies() > before, 10000, red);
    assert.equal(plug.relay, true);
    reply = JSON.parse(debug.messages.filter((m) => m.id === "basic-switch.debug").at(-1)!.msg) as Reply;
    assert.deepEqual(reply.results, [{ device: "plug-1", ok: true, relay: true }]);

    before = replies();
    await press("status");
    await waitFor("the status reply", () => replies() > before, 10000, red);
    reply = JSON.parse(debug.messages.filter((m) => m.id === "basic-switch.debug").at(-1)!.msg) as Reply;
    assert.deepEqual([reply.ok, reply.results], [true, [{ device: "plug-1", ok: true, relay: true }]]);
    assert.equal(plug.relay, true);
  });
});
