// Proves the test harness itself: real Mosquitto and aedes round trips, and a real Node-RED child runtime that loads this package.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { startAedes, startMosquitto } from "../../scripts/harness/mosquitto";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { connectClient, nextMessage, Teardown, topicMatches, uniqueRoot } from "../../scripts/harness/services";

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe("harness (e2e)", function () {
  this.timeout(60000);

  describe("brokers", function () {
    const td = new Teardown();
    afterEach(() => td.run());

    it("Mosquitto: QoS 1 publish reaches a subscriber with the same payload, and stop() frees port and temp dir", async function () {
      const broker = await startMosquitto();
      td.add(broker, (b) => b.stop());
      assert.match(broker.url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
      const sub = await connectClient(td, broker.url, { protocolVersion: 5 });
      const pub = await connectClient(td, broker.url, { protocolVersion: 5 });
      const topic = `${uniqueRoot()}/hq/2/open-space/ws-2-14/reading`;
      await sub.subscribeAsync(topic, { qos: 1 });
      const got = nextMessage(sub, topic);
      const payload = { v: 1, device: "ws-2-14", ts: 1700000000000, power: 42.5, voltage: 230.1, current: 0.19, energy: 1.25, relay: true };
      await pub.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
      const msg = await got;
      assert.equal(msg.topic, topic);
      assert.deepEqual(JSON.parse(msg.payload.toString("utf8")), payload);

      // Retained availability is delivered to a late subscriber (MQTT 5 broker semantics the agents rely on).
      const avail = topic.replace(/reading$/, "availability");
      await pub.publishAsync(avail, JSON.stringify({ v: 1, device: "ws-2-14", online: true, ts: 1 }), { qos: 1, retain: true });
      const late = await connectClient(td, broker.url);
      const retained = nextMessage(late, avail);
      await late.subscribeAsync(avail, { qos: 1 });
      const r = await retained;
      assert.equal(r.retain, true);
      assert.equal((JSON.parse(r.payload.toString()) as { online: boolean }).online, true);
      assert.match(broker.logTail(), /New client connected/);

      await td.run();
      assert.equal(await portOpen(broker.port), false, "mosquitto still listening after stop()");
      assert.equal(existsSync(broker.dir), false, "temp dir left behind");
    });

    it("Mosquitto with a password file refuses anonymous clients", async function () {
      // mosquitto_passwd needs a file; an empty password file means no user can log in.
      const dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-pw-"));
      td.add(dir, (d) => rmSync(d, { recursive: true, force: true }));
      const pw = path.join(dir, "passwd");
      writeFileSync(pw, "");
      const broker = await startMosquitto({ passwordFile: pw });
      td.add(broker, (b) => b.stop());
      await assert.rejects(connectClient(td, broker.url), /Not authorized|Bad username or password|connack/i);
    });

    it("aedes: publish reaches a subscriber, wildcard subscription matches, stop() closes the port", async function () {
      const broker = await startAedes();
      td.add(broker, (b) => b.stop());
      const sub = await connectClient(td, broker.url, { protocolVersion: 4 });
      const pub = await connectClient(td, broker.url, { protocolVersion: 4 });
      const root = uniqueRoot();
      await sub.subscribeAsync(`${root}/alerts/#`, { qos: 1 });
      const got = nextMessage(sub, `${root}/alerts/#`);
      await pub.publishAsync(`${root}/alerts/pr-1/power-waste`, JSON.stringify({ v: 1, state: "raised" }), { qos: 1 });
      const msg = await got;
      assert.equal(msg.topic, `${root}/alerts/pr-1/power-waste`);
      assert.deepEqual(JSON.parse(msg.payload.toString()), { v: 1, state: "raised" });
      assert.ok(broker.broker.connectedClients >= 2);
      await td.run();
      assert.equal(await portOpen(broker.port), false, "aedes still listening after stop()");
    });

    it("topicMatches follows MQTT wildcard rules", function () {
      assert.equal(topicMatches("a/+/c", "a/b/c"), true);
      assert.equal(topicMatches("a/#", "a/b/c"), true);
      assert.equal(topicMatches("a/+", "a/b/c"), false);
      assert.equal(topicMatches("a/b", "a/b/c"), false);
      assert.equal(topicMatches("a/b/c", "a/b"), false);
    });
  });

  describe("Node-RED child runtime", function () {
    let red: NodeRedInstance | undefined;
    afterEach(async () => {
      await red?.stop();
      red = undefined;
    });

    const registry = {
      devices: [
        {
          id: "ws-2-14",
          name: "Desk 2.14",
          model: "HS110",
          host: "127.0.0.1",
          port: 9999,
          kind: "workplace",
          location: { building: "hq", floor: "2", room: "open-space" },
        },
      ],
    };
    const flow = (marker: string): FlowNode[] => [
      { id: "tab1", type: "tab", label: "harness", disabled: false, info: "" },
      { id: "reg1", type: "plugwatch-registry", name: "harness registry", source: "json", file: "", json: JSON.stringify(registry) },
      {
        id: "inj1",
        type: "inject",
        z: "tab1",
        name: "",
        props: [{ p: "payload" }],
        repeat: "",
        crontab: "",
        once: true,
        onceDelay: "0.1",
        topic: "",
        payload: marker,
        payloadType: "str",
        x: 100,
        y: 40,
        wires: [["dbg1"]],
      },
      {
        id: "dbg1",
        type: "debug",
        z: "tab1",
        name: "",
        active: true,
        tosidebar: true,
        console: true,
        tostatus: false,
        complete: "payload",
        targetType: "msg",
        statusVal: "",
        statusType: "auto",
        x: 300,
        y: 40,
        wires: [],
      },
    ];

    it("starts with settings.js, loads this package, deploys inject → debug + registry, serves it back, survives a restart, stops cleanly", async function () {
      red = await startNodeRed({ logLevel: "info" });
      const { port, userDir } = red;

      const types = await red.nodeTypes();
      assert.ok(types.includes("plugwatch-registry"), `plugwatch-registry not loaded; types: ${types.join(", ")}\n${red.logTail()}`);
      assert.ok(types.includes("inject") && types.includes("debug"));

      // settings.js turned off telemetry, tours and projects.
      const settings = (await (await red.request("/settings")).json()) as {
        editorTheme?: { tours?: boolean; projects?: { enabled?: boolean } };
        telemetryEnabled?: boolean;
      };
      assert.equal(settings.editorTheme?.tours, false);
      assert.equal(settings.editorTheme?.projects?.enabled, false);

      const marker = `harness-ping-${Date.now()}`;
      const rev = await red.deploy(flow(marker));
      assert.match(rev, /^[0-9a-f]+$/);

      const got = await red.getFlows();
      assert.equal(got.rev, rev);
      const byId = new Map(got.flows.map((n) => [n.id, n]));
      assert.deepEqual([...byId.keys()].sort(), ["dbg1", "inj1", "reg1", "tab1"]);
      assert.equal(byId.get("reg1")?.type, "plugwatch-registry");
      assert.deepEqual(JSON.parse(String(byId.get("reg1")?.json)), registry);
      assert.deepEqual(byId.get("inj1")?.wires, [["dbg1"]]);

      // The flow really runs: inject fires once and the debug node logs the marker; the registry loaded its device.
      await red.waitForLog(new RegExp(marker), 10000);
      await red.waitForLog(/loaded 1 devices/, 10000);
      assert.doesNotMatch(red.log(), /\[error\]/);

      // The flow file persists across a restart on the same port and user dir.
      await red.restart();
      const again = await red.getFlows();
      assert.deepEqual(again.flows.map((n) => n.id).sort(), ["dbg1", "inj1", "reg1", "tab1"]);

      await red.stop();
      assert.equal(await portOpen(port), false, "Node-RED still listening after stop()");
      assert.equal(existsSync(userDir), false, "user dir left behind");
    });

    it("an invalid inline registry is reported in the log, and the runtime keeps running", async function () {
      red = await startNodeRed({ logLevel: "info" });
      await red.deploy([{ id: "reg2", type: "plugwatch-registry", name: "bad", source: "json", file: "", json: '{"devices": [{"id": "Bad Id"}]}' }]);
      const line = await red.waitForLog(/\[error\] \[plugwatch-registry:bad\]/, 10000);
      assert.match(line, /devices/);
      const r = await red.request("/settings");
      assert.equal(r.status, 200);
    });

    it("flows written before start run at startup; an unknown node type fails startup with its name", async function () {
      const marker = `preloaded-${Date.now()}`;
      red = await startNodeRed({ flows: flow(marker) });
      await red.waitForLog(new RegExp(marker), 5000);
      await red.stop();
      red = undefined;
      await assert.rejects(
        startNodeRed({
          flows: [
            { id: "t", type: "tab", label: "x" },
            { id: "n", type: "no-such-node-type", z: "t", wires: [] },
          ],
        }),
        /unknown node types: no-such-node-type/,
      );
    });

    it("with adminAuth from env: the admin API needs a token, the harness logs in and deploys", async function () {
      red = await startNodeRed({ admin: { user: "admin", password: "s3cret-harness" } });
      assert.ok(red.token, "no admin token");
      const anon = await fetch(`${red.url}/flows`);
      assert.equal(anon.status, 401);
      await anon.arrayBuffer();
      const rev = await red.deploy(flow("auth-marker"));
      assert.equal((await red.getFlows()).rev, rev);
    });
  });
});
