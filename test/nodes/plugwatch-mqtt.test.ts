// plugwatch-mqtt in the Node-RED helper runtime with a real Mosquitto: nodes/shared/broker.ts works with it unchanged,
// TLS comes from a core tls-config node, a redeploy ends the connection, a bad config is a translated red status.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import * as path from "node:path";
import type { MqttClient } from "mqtt";
import { brokerPort, brokerUser, subscribeAll } from "../../nodes/shared/broker";
import type { PlugwatchMqttNode } from "../../nodes/plugwatch-mqtt/types";
import { startMosquitto, type MosquittoInstance } from "../../scripts/harness/mosquitto";
import { coreNodes } from "../../scripts/harness/runtime";
import { connectClient, nextMessage, Teardown, uniqueRoot } from "../../scripts/harness/services";
import { selfSignedCert, tlsMosquitto } from "../support/self-signed";
import { calls, helper, lastStatus, waitFor, withMessages, type TestNode } from "../support/node-helper";

import mqttModule from "../../nodes/plugwatch-mqtt/plugwatch-mqtt";

const tlsNode = coreNodes("network/05-tls.js");
const mqttNode = withMessages(mqttModule, path.join(__dirname, "..", "..", "nodes", "plugwatch-mqtt"), "plugwatch-mqtt");

describe("plugwatch-mqtt config node (MQTT connection with TCP_NODELAY)", function () {
  this.timeout(30000);
  let mosquitto: MosquittoInstance;
  let td: Teardown;
  let root: string;

  before(async function () {
    mosquitto = await startMosquitto();
  });
  after(async function () {
    await mosquitto?.stop();
  });
  beforeEach(function (done) {
    td = new Teardown();
    root = uniqueRoot("pwmqn");
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await td.run();
  });

  async function load(config: Record<string, unknown>): Promise<{ mq: PlugwatchMqttNode & TestNode; user: TestNode }> {
    const flow = [
      { id: "tab", type: "tab", label: "mqtt test" },
      {
        id: "mq",
        type: "plugwatch-mqtt",
        name: "",
        broker: "127.0.0.1",
        port: mosquitto.port,
        usetls: false,
        tls: "",
        clientid: "",
        keepalive: 60,
        protocolVersion: "4",
        ...config,
      },
      { id: "user", type: "helper", z: "tab" },
    ];
    await helper.load([mqttNode], flow);
    return { mq: helper.getNode("mq") as unknown as PlugwatchMqttNode & TestNode, user: helper.getNode("user") };
  }
  const outside = (): Promise<MqttClient> => connectClient(td, mosquitto.url);

  it("serves nodes/shared/broker.ts: connected callback, subscriptions and QoS 1 publishes, then ends on redeploy", async function () {
    const { mq, user } = await load({ protocolVersion: "5", clientid: "pwtest-node" });
    let connects = 0;
    const reg = brokerUser(mq, "api-user", () => connects++);
    const got: string[] = [];
    const release = subscribeAll(mq, user as never, [`${root}/api/reply/#`], (sub, topic, payload) => got.push(`${sub} ${topic} ${payload.toString()}`));
    await waitFor("connected", () => mq.connected && connects === 1);
    assert.deepEqual(lastStatus(user), { fill: "green", shape: "dot", text: "node-red:common.status.connected" });

    // Our publish reaches an outside client (resolved on PUBACK) …
    const client = await outside();
    await client.subscribeAsync(`${root}/api/request/#`, { qos: 1 });
    const arrived = nextMessage(client, `${root}/api/request/query`);
    const port = brokerPort(mq, () => "broker down");
    await port.publish(`${root}/api/request/query`, '{"v":1}');
    assert.equal((await arrived).payload.toString(), '{"v":1}');
    // … and an outside publish reaches our subscription.
    await waitFor(
      "reply delivered",
      async () => {
        await client.publishAsync(`${root}/api/reply/app/1`, "r1", { qos: 1 });
        return got.length > 0;
      },
      5000,
    );
    assert.equal(got[0], `${root}/api/reply/# ${root}/api/reply/app/1 r1`);

    await release(false);
    await reg.release(false);
    assert.equal(mq.connected, true, "a config node keeps its connection until it is closed");
    await helper.clearFlows();
    assert.equal(mq.connected, false);
    await assert.rejects(port.publish(`${root}/api/request/query`, "x"), /broker down/);
    assert.deepEqual(calls(mq, "error"), []);
  });

  it("a bad config gives a translated red status, users are told the error and publishes fail, no crash", async function () {
    const { mq, user } = await load({ port: "0" });
    const message = "port must be an integer from 1 to 65535 (got '0')";
    assert.deepEqual(
      calls(mq, "error").map((a) => String(a[0])),
      [message],
    );
    assert.deepEqual(lastStatus(mq), { fill: "red", shape: "ring", text: "bad config" });
    assert.equal(mq.connected, false);
    mq.register(user as never);
    assert.deepEqual(lastStatus(user), { fill: "red", shape: "ring", text: message.slice(0, 40) });
    const err = await new Promise<Error | string | undefined>((resolve) => mq.publish({ topic: `${root}/x`, payload: "p", qos: 1, retain: false }, resolve));
    assert.equal(err instanceof Error ? err.message : err, message);
    await new Promise<void>((resolve) => mq.deregister(user as never, resolve, true));
  });

  it("a missing TLS config node and a bad keep alive are refused with their own messages", async function () {
    const tls = await load({ usetls: true, tls: "no-such-node" });
    assert.deepEqual(
      calls(tls.mq, "error").map((a) => String(a[0])),
      ["TLS config node no-such-node not found (deploy a tls-config node or clear the field)"],
    );
    await helper.unload();
    const keep = await load({ keepalive: "soon" });
    assert.deepEqual(
      calls(keep.mq, "error").map((a) => String(a[0])),
      ["keep alive must be an integer from 0 to 65535 s (got 'soon')"],
    );
  });
});

describe("plugwatch-mqtt with a core tls-config node (Mosquitto over TLS)", function () {
  this.timeout(30000);
  let dir: string;
  let mosquitto: MosquittoInstance;
  let tlsPort: number;

  before(async function () {
    ({ dir } = selfSignedCert("pw-mqnode-tls-"));
    ({ mosquitto, tlsPort } = await tlsMosquitto(dir));
  });
  after(async function () {
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  it("connects with the CA and server name of the tls-config node (addTLSOptions) and round-trips a QoS 1 message", async function () {
    const flow = [
      { id: "tab", type: "tab", label: "mqtt tls test" },
      {
        id: "tls",
        type: "tls-config",
        name: "",
        cert: "",
        key: "",
        ca: path.join(dir, "cert.pem"),
        certname: "",
        keyname: "",
        caname: "",
        servername: "localhost",
        verifyservercert: true,
      },
      {
        id: "mq",
        type: "plugwatch-mqtt",
        name: "",
        broker: "127.0.0.1",
        port: tlsPort,
        usetls: true,
        tls: "tls",
        clientid: "",
        keepalive: 60,
        protocolVersion: "4",
      },
      { id: "user", type: "helper", z: "tab" },
    ];
    await helper.load([tlsNode, mqttNode], flow);
    const mq = helper.getNode("mq") as unknown as PlugwatchMqttNode & TestNode;
    const user = helper.getNode("user");
    const got: string[] = [];
    const release = subscribeAll(mq, user as never, ["pwtls/#"], (_sub, topic, payload) => got.push(`${topic}=${payload.toString()}`));
    await waitFor("connected over TLS", () => mq.connected);
    await brokerPort(mq, () => "down").publish("pwtls/node", "over tls");
    await waitFor("message back", () => got.length > 0);
    assert.deepEqual(got, ["pwtls/node=over tls"]);
    assert.deepEqual(calls(mq, "warn"), []);
    await release(true);
  });
});
