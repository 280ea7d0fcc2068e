// plugwatch-sse in the Node-RED test helper, its route served by a real HTTP server on RED.httpNode: messages become
// events (snapshot per msg.topic, msg.event), the status counts clients, a bad config leaves no route, two nodes
// cannot share a path, and close ends the streams and frees the path for the next deploy.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { NodeAPI } from "node-red";
import { helper, lastStatus, waitWithin, withMessages } from "../support/node-helper";
import { mustOpenSse, openSse, SseStream } from "../support/sse-client";

import sseModule from "../../nodes/plugwatch-sse/plugwatch-sse";

const waitFor = waitWithin(5000);
let httpNode: ((req: unknown, res: unknown) => void) | undefined;
const sseNode = withMessages(
  (RED: NodeAPI) => {
    httpNode = RED.httpNode as unknown as typeof httpNode;
    sseModule(RED);
  },
  join(__dirname, "..", "..", "nodes", "plugwatch-sse"),
  "plugwatch-sse",
);

const node = (over: Record<string, unknown> = {}) => ({
  id: "sse",
  z: "f1",
  type: "plugwatch-sse",
  name: "",
  path: "/live",
  event: "",
  maxClients: "2",
  heartbeatS: "0",
  history: "16",
  wires: [],
  ...over,
});

describe("plugwatch-sse node", function () {
  this.timeout(20000);
  let server: Server;
  let base: string;

  beforeEach(async function () {
    await new Promise<void>((r) => helper.startServer(() => r()));
    server = createServer((req, res) => httpNode?.(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async function () {
    await helper.unload();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise((resolve) => helper.stopServer(resolve));
  });

  it("sends each message as an event, the latest per topic as the snapshot, and counts clients in its status", async function () {
    await helper.load([sseNode], [{ id: "f1", type: "tab", label: "t" }, node({ event: "reading" })]);
    const n = helper.getNode("sse");
    await waitFor("0/2 clients", () => lastStatus(n)?.text === "0/2 clients");
    n.receive({ topic: "a", payload: { w: 1 } });
    n.receive({ topic: "a", payload: { w: 2 } });
    n.receive({ topic: "b", payload: "text", event: "note" });
    const s = await mustOpenSse(`${base}/live`);
    await s.until("the snapshot", () => s.events.length >= 2 || undefined);
    assert.deepEqual(
      s.events.map((e) => [e.event, e.data]),
      [
        ["reading", '{"w":2}'],
        ["note", "text"],
      ],
    );
    await waitFor("1/2 clients", () => lastStatus(n)?.text === "1/2 clients");
    assert.equal(lastStatus(n)?.fill, "green");
    n.receive({ payload: [1, 2] });
    await s.next("a live event", (e) => e.data === "[1,2]");
    s.destroy();
    await waitFor("0/2 clients", () => lastStatus(n)?.text === "0/2 clients");
    // Deeper paths are not the stream.
    assert.equal((await fetch(`${base}/live/more`)).status, 404);
  });

  it("refuses a bad configuration with a red status and serves nothing", async function () {
    await helper.load([sseNode], [{ id: "f1", type: "tab", label: "t" }, node({ path: "no-slash", maxClients: "0" })]);
    const n = helper.getNode("sse");
    await waitFor("red status", () => lastStatus(n)?.fill === "red");
    assert.equal(lastStatus(n)?.text, "invalid config");
    assert.equal((await fetch(`${base}/no-slash`)).status, 404);
  });

  it("a second node on the same path is refused; the first keeps serving", async function () {
    await helper.load([sseNode], [{ id: "f1", type: "tab", label: "t" }, node(), node({ id: "sse2" })]);
    const second = helper.getNode("sse2");
    const first = helper.getNode("sse");
    await waitFor("the second node's red status", () => lastStatus(second)?.fill === "red");
    assert.equal(lastStatus(first)?.fill, "grey", "the first serves (no client yet)");
    const s = await mustOpenSse(`${base}/live`);
    s.destroy();
  });

  it("close ends every stream and frees the path: the next deploy serves it again", async function () {
    const flow = [{ id: "f1", type: "tab", label: "t" }, node()];
    await helper.load([sseNode], flow);
    const a = await mustOpenSse(`${base}/live`);
    const b = await mustOpenSse(`${base}/live`);
    const full = await openSse(`${base}/live`);
    assert.ok(!(full instanceof SseStream) && full.status === 503);
    await helper.unload();
    await a.whenEnded();
    await b.whenEnded();
    assert.equal((await fetch(`${base}/live`)).status, 404, "nothing serves the path between deploys");
    await helper.load([sseNode], flow);
    const c = await mustOpenSse(`${base}/live`);
    const d = await mustOpenSse(`${base}/live`);
    helper.getNode("sse").receive({ topic: "x", payload: 7 });
    await c.next("the event", (e) => e.data === "7");
    await d.next("the event", (e) => e.data === "7");
    c.destroy();
    d.destroy();
  });
});
