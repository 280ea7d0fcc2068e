// InfluxDB 1.x/2.x/3.x HTTP requests of plugwatch-influx-hook and plugwatch-influx-query, recorded by a loopback server (no real 2.x/3.x server runs here).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import type { DeviceEntry } from "../../lib/contracts";
import { influxConfig, registryConfig } from "../support/config-nodes";
import { helper } from "../support/node-helper";
import { startRecordingServer, type RecordingServer, type RecordedRequest } from "../support/recording-server";

import registryNode from "../../nodes/plugwatch-registry/plugwatch-registry";
import influxNode from "../../nodes/plugwatch-influx/plugwatch-influx";
import hookNode from "../../nodes/plugwatch-influx-hook/plugwatch-influx-hook";
import queryNode from "../../nodes/plugwatch-influx-query/plugwatch-influx-query";
import { member, nth } from "../support/checked";

const DEVICES: DeviceEntry[] = [
  {
    id: "ws-1",
    name: "Desk 1",
    model: "HS110",
    host: "127.0.0.1",
    port: 23001,
    kind: "workplace",
    location: { building: "hq", floor: "1", room: "open-1" },
    tags: { desk: "north, window=2" },
  },
];
const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const READING = { v: 1, device: "ws-1", ts: T0, power: 87.4, voltage: 231.2, current: 0.378, energy: 152.31, relay: true };
/** The exact line the hook must send (tags sorted, comma, space and = of the free tag escaped, ms timestamp). */
const LINE =
  "plug,building=hq,desk=north\\,\\ window\\=2,device=ws-1,floor=1,kind=workplace,room=open-1 power=87.4,voltage=231.2,current=0.378,energy=152.31,relay=T 1736154000000";

type Config = Record<string, unknown>;

function flow(url: string, config: Config, spoolDir: string): Record<string, unknown>[] {
  return [
    registryConfig({ devices: DEVICES }),
    influxConfig(url, { timeout: 2000, gzip: true, rejectUnauthorized: true, caFile: "", database: "", org: "", bucket: "", retentionPolicy: "", ...config }),
    {
      id: "hook",
      type: "plugwatch-influx-hook",
      influx: "influx",
      registry: "reg",
      measurement: "plug",
      batchSize: 100,
      flushInterval: 10,
      maxSpoolMB: 4,
      spoolPolicy: "reject",
      acceptUnknown: false,
      maxInFlight: 1,
      createDatabase: true,
      statsInterval: 0,
      topicRoot: "pwtest",
      spoolDir,
      wires: [[]],
    },
    {
      id: "q",
      type: "plugwatch-influx-query",
      influx: "influx",
      registry: "reg",
      database: "",
      maxSpanDays: 366,
      maxRawSpanDays: 31,
      maxRows: 1000,
      timeout: 2000,
      concurrency: 1,
      wires: [["out"]],
    },
    { id: "out", type: "helper" },
  ];
}

describe("InfluxDB flavours: exact HTTP requests (recording server)", function () {
  this.timeout(20000);
  let server: RecordingServer;
  let spoolDir: string;

  beforeEach(function (done) {
    spoolDir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-flavour-spool-"));
    void startRecordingServer({ status: 204 }).then((s) => {
      server = s;
      helper.startServer(done);
    });
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await server.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  async function load(config: Config, credentials: Record<string, string> = {}): Promise<void> {
    await helper.load([registryNode, influxNode, hookNode, queryNode], flow(server.url, config, spoolDir), { influx: credentials });
  }
  /** Stores one reading and returns the write request. */
  async function writeOne(): Promise<RecordedRequest> {
    helper.getNode("hook").receive({ payload: READING });
    await server.waitFor(1);
    return nth(server.requests, 0, "write request");
  }
  /** Asks for the latest 5 readings of ws-1 and returns the query request and the reply. */
  async function queryOne(): Promise<{ req: RecordedRequest; reply: { ok: boolean; data?: unknown } }> {
    const n = server.requests.length;
    server.script.push({
      status: 200,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ results: [{ statement_id: 0, series: [{ name: "plug", columns: ["time", "power", "device"], values: [[T0, 87.4, "ws-1"]] }] }] }),
    });
    const reply = new Promise<{ ok: boolean; data?: unknown }>((resolve) =>
      helper.getNode("out").on("input", (m: { payload: { ok: boolean; data?: unknown } }) => resolve(m.payload)),
    );
    helper.getNode("q").receive({ payload: { v: 1, id: "q1", replyTo: "clients/r/q1", query: { type: "latestN", device: "ws-1", limit: 5 } } });
    await server.waitFor(n + 1);
    return { req: nth(server.requests, n, "query request"), reply: await reply };
  }
  /** The /query form body (POST, application/x-www-form-urlencoded). */
  const form = (req: RecordedRequest) => Object.fromEntries(new URLSearchParams(req.body));

  function assertWriteBody(req: RecordedRequest, gzip = true): void {
    assert.equal(req.method, "POST");
    assert.equal(req.headers["content-type"], "text/plain; charset=utf-8");
    if (gzip) {
      assert.equal(req.headers["content-encoding"], "gzip");
      assert.deepEqual([...req.raw.subarray(0, 2)], [0x1f, 0x8b], "gzip magic");
      assert.equal(gunzipSync(req.raw).toString("utf8"), `${LINE}\n`);
    } else {
      assert.equal(req.headers["content-encoding"], undefined);
      assert.equal(req.raw.toString("utf8"), `${LINE}\n`);
    }
    assert.equal(req.headers["content-length"], String(req.raw.length));
  }

  it("1.x: POST /write?db&rp&precision=ms with Basic auth and a gzip body; InfluxQL over POST /query with bound params", async function () {
    await load({ flavour: "1.x", database: "plugwatch", retentionPolicy: "autogen" }, { username: "writer", password: "s3cret:pw" });
    const w = await writeOne();
    assert.equal(w.path, "/write");
    assert.deepEqual(w.query, { db: "plugwatch", precision: "ms", rp: "autogen" });
    assert.equal(w.headers.authorization, `Basic ${Buffer.from("writer:s3cret:pw").toString("base64")}`);
    assertWriteBody(w);

    const { req, reply } = await queryOne();
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/query");
    assert.deepEqual(req.query, {}, "nothing in the URL: parameters travel in the form body");
    assert.equal(req.headers["content-type"], "application/x-www-form-urlencoded");
    assert.equal(req.headers.authorization, w.headers.authorization);
    const f = form(req);
    assert.deepEqual(Object.keys(f).sort(), ["db", "epoch", "params", "q", "rp"]);
    assert.deepEqual([f.db, f.epoch, f.rp], ["plugwatch", "ms", "autogen"]);
    assert.equal(f.q, 'SELECT * FROM "plug" WHERE ("device" = $d0) ORDER BY time DESC LIMIT 5');
    assert.deepEqual(JSON.parse(member(f, "params")), { d0: "ws-1" });
    assert.equal(reply.ok, true);
  });

  it("1.x without credentials sends no Authorization header; gzip off sends the plain body", async function () {
    await load({ flavour: "1.x", database: "plugwatch", gzip: false });
    const w = await writeOne();
    assert.equal(w.headers.authorization, undefined);
    assert.deepEqual(w.query, { db: "plugwatch", precision: "ms" });
    assertWriteBody(w, false);
  });

  it("1.x: 'database not found' → CREATE DATABASE with the name quoted once, then the same batch again", async function () {
    server.script.push({ status: 404, headers: { "Content-Type": "application/json" }, body: '{"error":"database not found: \\"plug\\"watch\\""}' });
    server.script.push({ status: 200, body: '{"results":[{"statement_id":0}]}' });
    await load({ flavour: "1.x", database: 'plug"watch' });
    helper.getNode("hook").receive({ payload: READING });
    await server.waitFor(3);
    const [first, create, again] = server.requests as [RecordedRequest, RecordedRequest, RecordedRequest];
    assert.equal(first.path, "/write");
    assert.equal(create.path, "/query");
    assert.equal(form(create).q, 'CREATE DATABASE "plug\\"watch"');
    assert.equal(again.path, "/write");
    assert.equal(gunzipSync(again.raw).toString("utf8"), gunzipSync(first.raw).toString("utf8"));
  });

  it("2.x: POST /api/v2/write?org&bucket&precision=ms with 'Token' auth; queries use /query with the bucket as db (DBRP)", async function () {
    await load({ flavour: "2.x", org: "acme", bucket: "plugwatch/autogen" }, { token: "tok-2x==" });
    const w = await writeOne();
    assert.equal(w.path, "/api/v2/write");
    assert.deepEqual(w.query, { org: "acme", bucket: "plugwatch/autogen", precision: "ms" });
    assert.equal(w.headers.authorization, "Token tok-2x==");
    assertWriteBody(w);
    const { req, reply } = await queryOne();
    assert.equal(req.path, "/query");
    assert.equal(req.headers.authorization, "Token tok-2x==");
    assert.equal(form(req).db, "plugwatch/autogen");
    assert.equal(reply.ok, true);
  });

  it("2.x: a 404 is not answered with CREATE DATABASE (1.x only); 429 with Retry-After waits that long", async function () {
    server.script.push({ status: 404, body: '{"code":"not found","message":"bucket \\"b\\" not found"}' });
    server.script.push({ status: 429, headers: { "Retry-After": "1" }, body: '{"code":"too many requests"}' });
    await load({ flavour: "2.x", org: "acme", bucket: "b" }, { token: "t" });
    helper.getNode("hook").receive({ payload: READING });
    await server.waitFor(3, 5000);
    const [, second, third] = server.requests as [RecordedRequest, RecordedRequest, RecordedRequest];
    assert.ok(third.at - second.at >= 950, `retried after ${third.at - second.at} ms, Retry-After was 1 s`);
    assert.deepEqual(
      server.requests.map((r) => r.path),
      ["/api/v2/write", "/api/v2/write", "/api/v2/write"],
      "no /query request (CREATE DATABASE) on 2.x",
    );
  });

  it("3.x: POST /api/v3/write_lp?db&precision=millisecond with 'Bearer' auth; InfluxQL over /query", async function () {
    await load({ flavour: "3.x", database: "plugwatch" }, { token: "apiv3_tok" });
    const w = await writeOne();
    assert.equal(w.path, "/api/v3/write_lp");
    assert.deepEqual(w.query, { db: "plugwatch", precision: "millisecond" });
    assert.equal(w.headers.authorization, "Bearer apiv3_tok");
    assertWriteBody(w);
    const { req, reply } = await queryOne();
    assert.equal(req.path, "/query");
    assert.equal(req.headers.authorization, "Bearer apiv3_tok");
    assert.equal(form(req).db, "plugwatch");
    assert.equal(form(req).q, 'SELECT * FROM "plug" WHERE ("device" = $d0) ORDER BY time DESC LIMIT 5');
    assert.equal(reply.ok, true);
  });

  it("3.x: a 503 is retried with backoff, the same body is sent again and nothing is lost", async function () {
    server.script.push({ status: 503, body: "busy" }, { status: 503, body: "busy" });
    await load({ flavour: "3.x", database: "plugwatch" }, { token: "t" });
    helper.getNode("hook").receive({ payload: READING });
    await server.waitFor(3, 10000);
    const bodies = server.requests.map((r) => gunzipSync(r.raw).toString("utf8"));
    assert.deepEqual(bodies, [`${LINE}\n`, `${LINE}\n`, `${LINE}\n`]);
  });
});
