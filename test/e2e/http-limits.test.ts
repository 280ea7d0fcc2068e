// Slow clients can't hold Node-RED's HTTP server for ever: with plugwatch-http-api deployed, idle and trickling
// sockets are closed by the server (settings.js plugwatch.httpServer), while an API request and the editor's
// WebSocket keep working.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { brokerConfig } from "../../scripts/harness/api-stack";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { startBroker, Teardown, uniqueRoot } from "../../scripts/harness/services";

const IDLE_MS = 4000; // above the API's timeout (2000 ms): the idle timer also runs while a request waits for its reply
const HEADERS_MS = 3000;

/** Resolves with how long the server took to close the socket (ms), or rejects after `withinMs`. */
function closedWithin(socket: net.Socket, withinMs: number): Promise<number> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`socket still open after ${withinMs} ms`)), withinMs);
    socket.once("close", () => {
      clearTimeout(t);
      resolve(Date.now() - start);
    });
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });
}

describe("HTTP server limits with plugwatch-http-api (real Node-RED)", function () {
  this.timeout(90_000);
  const td = new Teardown();
  let red: NodeRedInstance;
  after(() => td.run());

  before(async function () {
    const broker = await startBroker(td, "mosquitto");
    const root = uniqueRoot("pwhttp");
    const flows: FlowNode[] = [
      { id: "t", type: "tab", label: "http limits" },
      brokerConfig("b", broker.port, "mosquitto"),
      { id: "reg", type: "plugwatch-registry", source: "json", json: JSON.stringify({ devices: [] }) },
      {
        id: "api",
        type: "plugwatch-http-api",
        z: "t",
        broker: "b",
        registry: "reg",
        root,
        basePath: "/api/v1",
        timeoutMs: 2000,
        inactiveAfterDays: 30,
        historySize: 10,
        auth: "none",
        openHealth: true,
        openSpec: true,
        x: 200,
        y: 100,
        wires: [],
      },
    ];
    red = td.add(
      await startNodeRed({
        flows,
        env: { PLUGWATCH_HTTP_IDLE_MS: String(IDLE_MS), PLUGWATCH_HTTP_HEADERS_MS: String(HEADERS_MS), PLUGWATCH_HTTP_KEEPALIVE_MS: "1000" },
      }),
      (r) => r.stop(),
    );
    await red.waitForLog(/HTTP server limits: idle socket 4000 ms, headers 3000 ms/);
  });

  it("closes 50 sockets that never send a byte after the idle timeout", async function () {
    const sockets = await Promise.all(Array.from({ length: 50 }, () => connect(red.port)));
    const times = await Promise.all(sockets.map((s) => closedWithin(s, IDLE_MS + 5000)));
    assert.ok(Math.min(...times) >= IDLE_MS - 200, `closed after ${Math.min(...times)} ms, not before the idle timeout`);
  });

  it("closes a socket that trickles its headers one byte a second (headers timeout, checked every 30 s by Node)", async function () {
    const s = await connect(red.port);
    const drip = setInterval(() => s.writable && s.write("X"), 1000);
    s.write("GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    try {
      const ms = await closedWithin(s, HEADERS_MS + 35_000);
      assert.ok(ms >= HEADERS_MS, `closed after ${ms} ms`);
    } finally {
      clearInterval(drip);
    }
  });

  it("still answers API requests and keeps the editor's WebSocket open past the idle timeout", async function () {
    // A fresh connection (node:http without an agent), so no pooled socket of an earlier request is reused.
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port: red.port, path: "/api/v1/health", agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on("error", reject);
    });
    assert.ok(status === 200 || status === 503, `health answered ${status}`);
    const ws = new WebSocket(`ws://127.0.0.1:${red.port}/comms`);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("WebSocket did not open"));
    });
    let closed = false;
    ws.onclose = () => (closed = true);
    await new Promise((r) => setTimeout(r, IDLE_MS * 2 + 500));
    assert.equal(closed, false, "the editor's WebSocket survives the idle timeout");
    ws.close();
  });
});
