// plugwatch-influx-query against an InfluxDB that accepts connections and never answers: close aborts running queries within the
// close limit (error reply, done(err)), queued ones end with done(err), and the waiting queue is bounded.
import assert from "node:assert/strict";
import * as net from "node:net";
import { influxConfig, registryConfig } from "../support/config-nodes";
import { helper, waitWithin, type SpyCall, type TestNode } from "../support/node-helper";

import registryNode from "../../nodes/plugwatch-registry/plugwatch-registry";
import influxNode from "../../nodes/plugwatch-influx/plugwatch-influx";
import queryNode from "../../nodes/plugwatch-influx-query/plugwatch-influx-query";

const waitFor = waitWithin(5000);
const DEVICES = [
  { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 9999, kind: "workplace", location: { building: "hq", floor: "1", room: "r" } },
];

interface Reply {
  topic: string;
  payload: { id: string; ok: boolean; error?: { code: string; message: string } };
}

const request = (id: string) => ({
  topic: "pwclose/api/request/query",
  payload: { v: 1, id, replyTo: "pwclose/api/reply/x", query: { type: "latestN", device: "ws-1", limit: 1 } },
});

describe("plugwatch-influx-query close and queue bound (an InfluxDB that hangs)", function () {
  this.timeout(30000);
  let server: net.Server;
  let sockets: net.Socket[];
  let requestsSeen: number;
  let port: number;

  beforeEach(async function () {
    sockets = [];
    requestsSeen = 0;
    server = net.createServer((s) => {
      sockets.push(s);
      s.on("data", () => requestsSeen++);
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => helper.startServer(() => r()));
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  let sent: Reply[];
  let errs: string[];

  async function load(): Promise<TestNode> {
    await helper.load(
      [registryNode, influxNode, queryNode],
      [
        registryConfig({ devices: DEVICES }),
        influxConfig(`http://127.0.0.1:${port}`, { flavour: "1.x", database: "x", timeout: 600000 }),
        // Editor defaults: query timeout 30000 ms; one query at a time so others queue.
        { id: "q", type: "plugwatch-influx-query", influx: "influx", registry: "reg", timeout: 30000, concurrency: 1, wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    const q = helper.getNode("q");
    sent = [];
    errs = [];
    q.on("call:send", (c: SpyCall) => sent.push(c.args[0] as Reply));
    q.on("call:error", (c: SpyCall) => errs.push(String(c.args[0])));
    return q;
  }
  const replies = (_q: TestNode) => sent;
  const errors = (_q: TestNode) => errs;

  it("close aborts the running query and refuses the queued one: both get a STORAGE_UNAVAILABLE reply and done(err), and close takes < 6 s", async () => {
    const q = await load();
    q.receive(request("r1"));
    q.receive(request("r2"));
    await waitFor("the query to reach the hanging InfluxDB", () => requestsSeen > 0);
    const t0 = Date.now();
    await (q as unknown as { close(removed: boolean): Promise<void> }).close(false);
    const took = Date.now() - t0;
    await new Promise((r) => setImmediate(r)); // the helper reports send/error calls on the next tick
    assert.ok(took < 6000, `close took ${took} ms`);
    assert.equal(replies(q).length, 2, `replies ${JSON.stringify(sent)}, errors ${errs.join("; ")}`);
    const r1 = sent.find((r) => r.payload.id === "r1");
    const r2 = sent.find((r) => r.payload.id === "r2");
    assert.equal(r1?.topic, "pwclose/api/reply/x");
    assert.equal(r1?.payload.ok, false);
    assert.equal(r1?.payload.error?.code, "STORAGE_UNAVAILABLE");
    assert.match(r1?.payload.error?.message ?? "", /closing/);
    assert.equal(r2?.topic, "pwclose/api/reply/x");
    assert.equal(r2?.payload.ok, false);
    assert.equal(r2?.payload.error?.code, "STORAGE_UNAVAILABLE");
    assert.match(r2?.payload.error?.message ?? "", /closed before the query ran/);
    // Both messages reached done(err): r1 (storage failure) and r2 (never ran).
    assert.equal(errors(q).length, 2, errs.join("; "));
    assert.ok(
      errs.some((e) => /closed before the query ran/.test(e)),
      errs.join("; "),
    );
    assert.ok(
      errs.some((e) => /is closing/.test(e)),
      errs.join("; "),
    );
    // The aborted HTTP request closed its socket (nothing left open towards InfluxDB by this query).
    await waitFor("the aborted request's socket to close", () => sockets.every((s) => s.destroyed || s.readableEnded));
  });

  it("the waiting queue is bounded: beyond 1000 waiting requests the reply is LIMIT_EXCEEDED at once", async () => {
    const q = await load();
    q.receive(request("running"));
    await waitFor("the first query to reach the hanging InfluxDB", () => requestsSeen > 0);
    for (let i = 0; i < 1000; i++) q.receive(request(`w-${i}`));
    assert.equal(replies(q).length, 0, "1000 requests wait without a reply");
    q.receive(request("overflow"));
    const r = await waitFor(
      "the overflow reply",
      () => replies(q).find((x) => x.payload.id === "overflow") ?? (errs.length > 0 && assert.fail(errs.join("; "))),
    );
    assert.equal(r.payload.ok, false);
    assert.equal(r.payload.error?.code, "LIMIT_EXCEEDED");
    assert.match(r.payload.error?.message ?? "", /too many queries waiting \(1000\)/, errs.join("; "));
    assert.equal(replies(q).length, 1);
    const t0 = Date.now();
    await (q as unknown as { close(removed: boolean): Promise<void> }).close(false);
    assert.ok(Date.now() - t0 < 6000);
    await new Promise((r) => setImmediate(r));
    assert.equal(errors(q).filter((e) => /closed before the query ran/.test(e)).length, 1000);
  });
});
