// The KLAP client's minimal HTTP/1.1: reply parsing (lengths, chunks, close-delimited, interim, not HTTP) and kept-alive sockets on loopback.
import assert from "node:assert/strict";
import * as net from "node:net";
import { encodePost, HttpConnections, parseReply } from "../../lib/transports/http-conn";

const buf = (s: string): Buffer => Buffer.from(s, "latin1");

describe("HTTP framing of the KLAP client", function () {
  it("encodes one POST as a single buffer: request line, Host, Content-Type, Content-Length, Cookie, body", function () {
    const bytes = encodePost("10.0.0.5", 80, "/app/request?seq=7", Buffer.from([1, 2, 3]), "TP_SESSIONID=AB");
    assert.equal(
      bytes.toString("latin1"),
      "POST /app/request?seq=7 HTTP/1.1\r\nHost: 10.0.0.5:80\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\nCookie: TP_SESSIONID=AB\r\n\r\n\x01\x02\x03",
    );
    assert.doesNotMatch(encodePost("h", 1, "/p", Buffer.alloc(0)).toString("latin1"), /Cookie/);
  });

  it("parses a reply with Content-Length, its cookies, and where it ends; incomplete → undefined", function () {
    const text = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nSet-Cookie: TP_SESSIONID=X1;TIMEOUT=86400\r\n\r\nabcd";
    const r = parseReply(buf(text), false);
    assert.ok(r);
    assert.equal(r.reply.status, 200);
    assert.deepEqual(r.reply.setCookie, ["TP_SESSIONID=X1;TIMEOUT=86400"]);
    assert.equal(r.reply.body.toString(), "abcd");
    assert.equal(r.end, text.length);
    assert.equal(r.reply.close, false);
    assert.equal(parseReply(buf(text.slice(0, -1)), false), undefined);
    assert.equal(parseReply(buf("HTTP/1.1 200 OK\r\nContent-Le"), false), undefined);
  });

  it("chunked bodies, close-delimited bodies, Connection: close, HTTP/1.0, 100 Continue", function () {
    const chunked = parseReply(buf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"), false);
    assert.equal(chunked?.reply.body.toString(), "abcde");
    assert.equal(parseReply(buf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab"), false), undefined);
    const noLength = buf("HTTP/1.1 200 OK\r\n\r\nall of it");
    assert.equal(parseReply(noLength, false), undefined);
    assert.equal(parseReply(noLength, true)?.reply.body.toString(), "all of it");
    assert.equal(parseReply(noLength, true)?.reply.close, true);
    assert.equal(parseReply(buf("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"), false)?.reply.close, true);
    assert.equal(parseReply(buf("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"), false)?.reply.close, true);
    const interim = parseReply(buf("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), false);
    assert.equal(interim?.reply.status, 200);
    assert.equal(interim?.reply.body.toString(), "ok");
  });

  it("bytes that are not HTTP, a bad status line, a bad length or oversized headers: PROTOCOL_ERROR", function () {
    for (const bad of [
      Buffer.from([0, 0, 0, 0x10, 0xd0]),
      buf("HTTX"),
      buf("HTTP/2 200\r\n\r\n"),
      buf("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
      buf("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n"),
      buf("HTTP/1.1 200 OK\r\nbroken header\r\n\r\n"),
      buf(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(20_000)}`),
    ]) {
      assert.throws(() => parseReply(bad, false), { code: "PROTOCOL_ERROR" }, bad.toString("latin1").slice(0, 40));
    }
  });
});

describe("HttpConnections on loopback", function () {
  let server: net.Server;
  let port = 0;
  let connections = 0;
  /** What the raw server answers to each request it has read (by request number). */
  let answer: (n: number, socket: net.Socket) => void;
  let conns: HttpConnections;

  beforeEach(async function () {
    connections = 0;
    let n = 0;
    server = net.createServer((socket) => {
      connections++;
      let pending = "";
      socket.on("data", (d) => {
        pending += d.toString("latin1");
        // Requests carry Content-Length: 2 in these tests.
        for (;;) {
          const at = pending.indexOf("\r\n\r\n");
          if (at < 0 || pending.length < at + 6) return;
          pending = pending.slice(at + 6);
          answer(++n, socket);
        }
      });
      socket.on("error", () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as net.AddressInfo).port;
    conns = new HttpConnections();
  });
  afterEach(async function () {
    conns.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const post = (timeoutMs = 1000) => conns.post({ host: "127.0.0.1", port, path: "/x", body: Buffer.from("hi"), timeoutMs });

  it("keeps one socket for consecutive requests, answered in pieces", async function () {
    answer = (n, s) => {
      const reply = `HTTP/1.1 200 OK\r\nContent-Length: ${String(n).length}\r\n\r\n${n}`;
      s.write(reply.slice(0, 10));
      setImmediate(() => s.write(reply.slice(10)));
    };
    for (let i = 1; i <= 5; i++) assert.equal((await post()).body.toString(), String(i));
    assert.equal(connections, 1);
    assert.equal(conns.openSockets, 1);
  });

  it("a reused socket the device closed while idle: one retry on a fresh connection, the caller sees success", async function () {
    answer = (n, s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${n}`);
    };
    assert.equal((await post()).body.toString(), "1");
    // The next request's socket is dropped by the device as soon as the request arrives (a stale keep-alive).
    answer = (n, s) => {
      if (n === 2) s.destroy();
      else s.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${n}`);
    };
    assert.equal((await post()).body.toString(), "3");
    assert.equal(connections, 2);
  });

  it("Connection: close and bytes after the reply: the socket is not reused", async function () {
    answer = (n, s) => {
      if (n === 1) s.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na");
      else if (n === 2) s.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nbEXTRA");
      else s.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc");
    };
    assert.equal((await post()).body.toString(), "a");
    assert.equal((await post()).body.toString(), "b");
    assert.equal((await post()).body.toString(), "c");
    assert.equal(connections, 3);
  });

  it("a device that stops mid-reply: DEVICE_UNREACHABLE within the budget, socket closed, next request on a new one", async function () {
    answer = (n, s) => {
      if (n === 1) s.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
      else s.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz");
    };
    await assert.rejects(post(150), (err: { code?: string; message?: string }) => err.code === "DEVICE_UNREACHABLE" && /within 150 ms/.test(err.message ?? ""));
    assert.equal(conns.openSockets, 0);
    assert.equal((await post()).body.toString(), "z");
    assert.equal(connections, 2);
  });

  it("non-HTTP bytes then close: PROTOCOL_ERROR; nothing listening: DEVICE_UNREACHABLE; closed pool: INTERNAL", async function () {
    answer = (_n, s) => s.end(Buffer.from([0, 0, 0, 0x10, 0xd0, 0xf2]));
    await assert.rejects(post(), { code: "PROTOCOL_ERROR" });
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
    const deadPort = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    await assert.rejects(conns.post({ host: "127.0.0.1", port: deadPort, path: "/x", body: Buffer.alloc(0), timeoutMs: 1000 }), { code: "DEVICE_UNREACHABLE" });
    conns.close();
    await assert.rejects(post(), { code: "INTERNAL" });
  });
});
