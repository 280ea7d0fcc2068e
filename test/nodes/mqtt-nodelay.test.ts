// TCP_NODELAY on the core mqtt-broker node's connection: set when flows start (any Plugwatch request/reply node
// loaded), and again after a reconnect (new socket) — against a real Mosquitto.
import { coreNodes } from "../support/runtime";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import * as net from "node:net";
import { noDelayBroker, type BrokerLike } from "../../nodes/shared/mqtt-nodelay";
import { startMosquitto, type MosquittoInstance } from "../support/mosquitto";
import { helper, waitWithin } from "../support/node-helper";

import apiNode = require("../../nodes/plugwatch-http-api/plugwatch-http-api");
import queryNode = require("../../nodes/plugwatch-influx-query/plugwatch-influx-query");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = coreNodes("network/10-mqtt.js");

const waitFor = waitWithin(8000);

/** Records every socket setNoDelay(true) was called on, in this process. */
function spyNoDelay(): { sockets: Set<net.Socket>; restore: () => void } {
  const sockets = new Set<net.Socket>();
  const orig = net.Socket.prototype.setNoDelay;
  net.Socket.prototype.setNoDelay = function (this: net.Socket, noDelay?: boolean) {
    if (noDelay !== false) sockets.add(this);
    return orig.call(this, noDelay);
  };
  return { sockets, restore: () => void (net.Socket.prototype.setNoDelay = orig) };
}

describe("MQTT connections without Nagle's algorithm", function () {
  this.timeout(30_000);

  describe("noDelayBroker (unit)", function () {
    const fakeStream = () => ({ calls: 0, setNoDelay(this: { calls: number }) { this.calls++; } });
    class FakeClient extends EventEmitter {
      stream = fakeStream();
    }
    it("sets it on the current socket, on every connect event, and on the client of a later connect()", function () {
      const broker: BrokerLike & { client: FakeClient } = {
        client: new FakeClient(),
        connect(this: { client: FakeClient }) {
          this.client = new FakeClient();
        },
      };
      noDelayBroker(broker);
      assert.equal(broker.client.stream.calls, 1, "at once");
      broker.client.stream = { calls: 0, setNoDelay(this: { calls: number }) { this.calls++; } };
      broker.client.emit("connect");
      assert.equal(broker.client.stream.calls, 1, "a reconnect's new socket");
      broker.connect?.();
      assert.equal(broker.client.stream.calls, 1, "a new client after connect()");
      noDelayBroker(broker);
      broker.client.emit("connect");
      assert.equal(broker.client.stream.calls, 2, "applying it again adds no second listener");
    });
    it("a reconnect's socket, built by the client's streamBuilder, has it before its connect event", function () {
      class Client extends EventEmitter {
        stream = fakeStream();
        streamBuilder = () => fakeStream();
      }
      const client = new Client();
      noDelayBroker({ client });
      client.stream = client.streamBuilder(); // what mqtt.js does on reconnect
      assert.equal(client.stream.calls, 1, "set when the socket is built");
      client.emit("connect");
      assert.equal(client.stream.calls, 2, "and again on connect");
    });

    it("ignores brokers without a client or streams without the option (ws://)", function () {
      noDelayBroker(null);
      noDelayBroker({});
      const c = new EventEmitter() as EventEmitter & { stream: object };
      c.stream = {};
      noDelayBroker({ client: c as unknown as BrokerLike["client"] });
      c.emit("connect");
    });
  });

  describe("in a runtime (real Mosquitto)", function () {
    let broker: MosquittoInstance;
    let spy: ReturnType<typeof spyNoDelay>;
    before(async function () {
      broker = await startMosquitto();
    });
    after(async function () {
      await broker?.stop();
    });
    beforeEach(async function () {
      spy = spyNoDelay();
      await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err as Error) : resolve())));
    });
    afterEach(async function () {
      spy.restore();
      await helper.unload();
      await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    });

    const flow = (): Record<string, unknown>[] => [
      { id: "b", type: "mqtt-broker", broker: "127.0.0.1", port: String(broker.port), clientid: "", autoConnect: true, usetls: false, protocolVersion: "4", keepalive: "15", cleansession: true },
      { id: "in", type: "mqtt in", topic: "t/q", qos: "1", datatype: "json", broker: "b", nl: false, rap: true, rh: 0, inputs: 0, wires: [["q"]] },
      { id: "q", type: "plugwatch-influx-query", influx: "", registry: "", wires: [[]] },
    ];

    it("the broker node's socket has it once connected, and again after a reconnect", async function () {
      await helper.load([mqttNodes, queryNode], flow());
      const b = helper.getNode("b") as unknown as { connected: boolean; client: { stream: net.Socket } };
      await waitFor("the connected socket got setNoDelay(true)", () => b.connected && spy.sockets.has(b.client.stream));
      const first = b.client.stream;
      first.destroy(); // the broker node reconnects on a new socket
      await waitFor("the reconnected socket got setNoDelay(true)", () => b.connected && b.client.stream !== first && spy.sockets.has(b.client.stream));
    });

    it("settings plugwatch.mqttNoDelay = false leaves the socket as it is (plugwatch-influx-query and plugwatch-http-api loaded)", async function () {
      helper.settings({ plugwatch: { mqttNoDelay: false } });
      try {
        const api = { id: "api", type: "plugwatch-http-api", broker: "b", registry: "", root: "t", basePath: "/api/v1", timeoutMs: 5000, inactiveAfterDays: 30, historySize: 100, auth: "none", openHealth: true, openSpec: true };
        await helper.load([mqttNodes, queryNode, apiNode], [...flow(), api]);
        const b = helper.getNode("b") as unknown as { connected: boolean; client: { stream: net.Socket } };
        await waitFor("the broker connected", () => b.connected);
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(spy.sockets.has(b.client.stream), false);
      } finally {
        helper.settings({});
      }
    });
  });
});
