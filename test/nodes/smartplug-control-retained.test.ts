// plugwatch-control behind a real mqtt in on Mosquitto: a retained (stale) command never switches a plug; a live one does.
import { coreNodes } from "../../scripts/harness/runtime";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import mqtt from "mqtt";
import type { Device } from "../../lib/contracts";
import { SimulatedOffice, type SimulatedPlug } from "../../scripts/sim/office";
import { projectRoot } from "../../scripts/services/repo-root";
import { registryConfig } from "../support/config-nodes";
import { simPlug } from "../support/sim-devices";
import { startMosquitto, type MosquittoInstance } from "../../scripts/harness/mosquitto";
import { calls, helper, statuses, waitWithin, withMessages, type Status } from "../support/node-helper";

import registryNode from "../../nodes/plugwatch-registry/plugwatch-registry";
import controlModule from "../../nodes/plugwatch-control/plugwatch-control";
const mqttNodes = coreNodes("network/10-mqtt.js");

const controlNode = withMessages(controlModule, path.join(__dirname, "../../nodes/plugwatch-control"), "plugwatch-control");
const waitFor = waitWithin(8000);

const fridge: Device = simPlug("fridge", "Kitchen fridge", "kitchen");

let rootSeq = 0;
/** A unique topic root per test, so retained leftovers of one test never reach another. */
const newRoot = (): string => `pwret${process.pid}x${++rootSeq}`;

describe("plugwatch-control ignores retained commands (real Mosquitto + simulated plug)", function () {
  this.timeout(30_000);
  let broker: MosquittoInstance;
  let office: SimulatedOffice;
  let plug: SimulatedPlug;
  let observer: mqtt.MqttClient;
  const replies: { topic: string; payload: Record<string, unknown> }[] = [];

  before(async function () {
    broker = await startMosquitto();
    office = await SimulatedOffice.start([fridge], { portFor: () => 0, tickMs: 0, relayOn: true });
    plug = office.plug("fridge");
    await plug.start();
    observer = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    observer.on("message", (topic, payload) => replies.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown> }));
    await observer.subscribeAsync("+/api/reply/#", { qos: 1 });
  });

  after(async function () {
    await observer?.endAsync();
    await office?.stop();
    await broker?.stop();
  });

  beforeEach(async function () {
    plug.relay = true;
    replies.length = 0;
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
  });

  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  /** mqtt in (the request topic) → plugwatch-control → mqtt out (reply topic from the message). */
  function flow(root: string, o: { protocolVersion: "4" | "5"; rh: 0 | 2 }): Record<string, unknown>[] {
    return [
      { id: "tab", type: "tab", label: "retained" },
      registryConfig({ devices: office.registryDevices() }),
      {
        id: "b",
        type: "mqtt-broker",
        broker: "127.0.0.1",
        port: String(broker.port),
        clientid: "",
        autoConnect: true,
        usetls: false,
        protocolVersion: o.protocolVersion,
        keepalive: "60",
        cleansession: true,
      },
      {
        id: "in",
        z: "tab",
        type: "mqtt in",
        broker: "b",
        topic: `${root}/api/request/command`,
        qos: "1",
        datatype: "json",
        nl: false,
        rap: true,
        rh: o.rh,
        inputs: 0,
        wires: [["ctl"]],
      },
      { id: "ctl", z: "tab", type: "plugwatch-control", name: "", registry: "reg", concurrency: 4, timeout: 1500, wires: [["mout"]] },
      { id: "mout", z: "tab", type: "mqtt out", name: "", topic: "", qos: "", retain: "", broker: "b", wires: [] },
    ];
  }

  async function publish(topic: string, body: unknown, retain: boolean): Promise<void> {
    const c = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await c.publishAsync(topic, JSON.stringify(body), { qos: 1, retain });
    await c.endAsync();
  }

  async function clearRetained(topic: string): Promise<void> {
    const c = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await c.publishAsync(topic, "", { qos: 1, retain: true });
    await c.endAsync();
  }

  const warnings = (): string[] => calls(helper.getNode("ctl"), "warn").map((a) => String(a[0]));

  it("MQTT 3.1.1, rh 0: the replayed retained 'off' is ignored with a warning and no reply; a live 'off' switches", async function () {
    const root = newRoot();
    const topic = `${root}/api/request/command`;
    await publish(topic, { id: "stale", replyTo: `${root}/api/reply/t/stale`, action: "off", device: "fridge" }, true);
    try {
      for (const start of [1, 2]) {
        // Each load is a Node-RED start (or a reconnect): the broker replays the retained command to the new subscription.
        if (start === 2) {
          await helper.unload();
          await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
          await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
        }
        await helper.load([registryNode, mqttNodes, controlNode], flow(root, { protocolVersion: "4", rh: 0 }));
        const seen = (): Status[] => statuses(helper.getNode("ctl"));
        await waitFor(`start ${start}: the retained command reaches the node and is refused`, () => warnings().find((w) => /retained command/.test(w)));
        assert.match(warnings()[0] ?? "", new RegExp(`ignored a retained command on '${topic}'.*nothing was switched`));
        assert.equal(plug.relay, true, `start ${start}: the fridge stays on`);
        const st = await waitFor("status", () => seen().find((s) => s.text === "retained ignored"));
        assert.deepEqual(st, { fill: "yellow", shape: "dot", text: "retained ignored" });
      }

      // A live command (not retained) on the same topic is executed and answered.
      await publish(topic, { id: "live", replyTo: `${root}/api/reply/t/live`, action: "off", device: "fridge" }, false);
      const reply = await waitFor("the live reply", () => replies.find((r) => r.topic === `${root}/api/reply/t/live`));
      assert.equal(plug.relay, false, "the live 'off' switched the fridge off");
      assert.deepEqual(reply.payload, { v: 1, id: "live", ok: true, results: [{ device: "fridge", ok: true, relay: false }] });
      assert.deepEqual(
        replies.filter((r) => r.topic.startsWith(`${root}/`)).map((r) => r.topic),
        [`${root}/api/reply/t/live`],
        "the stale command got no reply (it arrived first, so its reply would be here already)",
      );
    } finally {
      await clearRetained(topic);
    }
  });

  it("MQTT 5, rh 2 (the shipped setting): the retained command is not even delivered", async function () {
    const root = newRoot();
    const topic = `${root}/api/request/command`;
    await publish(topic, { id: "stale", replyTo: `${root}/api/reply/t/stale`, action: "off", device: "fridge" }, true);
    try {
      await helper.load([registryNode, mqttNodes, controlNode], flow(root, { protocolVersion: "5", rh: 2 }));
      await waitFor("mqtt in connected", () => statuses(helper.getNode("in")).find((s) => s.fill === "green"));
      // A live read-only command, repeated until answered (the subscription follows the connection by a moment).
      let reply: { topic: string; payload: Record<string, unknown> } | undefined;
      for (let i = 0; i < 40 && !reply; i++) {
        await publish(topic, { id: "live", replyTo: `${root}/api/reply/t/live`, action: "status", device: "fridge" }, false);
        reply = await waitFor("the live reply", () => replies.find((r) => r.topic === `${root}/api/reply/t/live`), 250).catch(() => undefined);
      }
      assert.ok(reply, "the live command was answered");
      assert.deepEqual(reply.payload, { v: 1, id: "live", ok: true, results: [{ device: "fridge", ok: true, relay: true }] });
      assert.equal(plug.relay, true, "the retained 'off' never ran");
      assert.deepEqual(warnings(), [], "nothing retained reached the node");
    } finally {
      await clearRetained(topic);
    }
  });

  it("every shipped mqtt in on a command or query request topic never takes retained messages (rh 2)", function () {
    const root = projectRoot();
    const files = [
      "flows/plugwatch.json",
      ...readdirSync(path.join(root, "examples"))
        .filter((f) => f.endsWith(".json"))
        .map((f) => `examples/${f}`),
    ];
    let checked = 0;
    for (const file of files) {
      const nodes = JSON.parse(readFileSync(path.join(root, file), "utf8")) as Record<string, unknown>[];
      for (const n of nodes) {
        if (n.type !== "mqtt in" || typeof n.topic !== "string" || !/\/api\/request\/(command|query)$/.test(n.topic)) continue;
        assert.equal(n.rh, 2, `${file}: mqtt in ${String(n.id)} on ${n.topic}`);
        checked++;
      }
    }
    assert.ok(checked >= 4, `expected the flow's and the examples' request inputs, found ${checked}`);
  });
});
