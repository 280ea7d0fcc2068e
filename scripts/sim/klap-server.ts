// The device side of KLAP over HTTP for simulated plugs: handshakes, sessions, sealed requests, and fault knobs for tests.
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type * as net from "node:net";
import { authHash, handshake1Proof, handshake2Proof, KlapSession, SEED_BYTES, type KlapVersion } from "../../lib/transports/klap-crypto";
import type { Credentials } from "../../lib/transports/klap";

/** Faults a test can switch on; each applies to every later request until cleared. */
export interface KlapFaults {
  /** handshake2 answers this HTTP status even to a correct proof (firmware that refuses the session). */
  handshake2Status?: number;
  /** handshake1 replies with this many bytes instead of 48. */
  handshake1Length?: number;
  /** The device stops mid-reply (headers and half the body, then silence) on this step. */
  hang?: "handshake1" | "request";
  /** Replies to requests with random bytes. */
  garbage?: boolean;
  /** Replies to requests with a correct ciphertext under a wrong signature. */
  badSignature?: boolean;
  /** Replies to requests with the first half of the sealed bytes only (Content-Length says so). */
  truncated?: boolean;
  /** The device forgets a session after this many requests (later requests: 403), like firmware with short sessions. */
  dropAfter?: number;
  /** After this many requests in a session, the device answers with bytes that are not HTTP and closes the socket. */
  notHttpAfter?: number;
}

export interface KlapServerStats {
  handshake1: number;
  handshake2: number;
  requests: number;
  rejected403: number;
}

interface ServerSession {
  local: Buffer;
  remote: Buffer;
  crypto?: KlapSession;
  createdMs: number;
  requests: number;
}

export interface KlapServerOptions {
  version: KlapVersion;
  /** The account the device is bound to; undefined = never bound (blank credentials). */
  credentials?: Credentials | undefined;
  /** Device logic: one JSON request text in, one JSON reply text out. */
  handle: (text: string) => string;
  /** Session length sent in the TIMEOUT cookie, s (default 86 400). */
  sessionTimeoutS?: number;
  /** Clock for session expiry, ms (default Date.now). */
  now?: () => number;
}

export class KlapServer {
  private server: http.Server | undefined;
  private readonly sessions = new Map<string, ServerSession>();
  private readonly sockets = new Set<net.Socket>();
  private auth: Buffer;
  faults: KlapFaults = {};
  readonly stats: KlapServerStats = { handshake1: 0, handshake2: 0, requests: 0, rejected403: 0 };
  host = "";
  port = 0;

  constructor(private readonly opts: KlapServerOptions) {
    this.auth = authHash(opts.version, opts.credentials?.user ?? "", opts.credentials?.password ?? "");
  }

  /** Binds the device to another account (a user re-registering it); existing sessions end. */
  setCredentials(c: Credentials | undefined): void {
    this.auth = authHash(this.opts.version, c?.user ?? "", c?.password ?? "");
    this.sessions.clear();
  }

  /** Ends every session (the device rebooted or its session table was flushed). */
  dropSessions(): void {
    this.sessions.clear();
  }

  /** TCP connections open to the device right now (a client that closed properly leaves none). */
  get openConnections(): number {
    return this.sockets.size;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Listens on `host:port`; with `tls` (key and certificate, PEM) it serves HTTPS, as plugs do on port 4433. */
  async listen(host: string, port: number, tls?: { key: string; cert: string }): Promise<void> {
    if (this.server) return;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.onRequest(req, res);
    const server: http.Server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : http.createServer(handler);
    server.keepAliveTimeout = 60_000;
    server.on("connection", (s: net.Socket) => {
      this.sockets.add(s);
      s.on("error", () => undefined);
      s.once("close", () => this.sockets.delete(s));
    });
    server.on("clientError", (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address();
    this.host = host;
    this.port = addr && typeof addr === "object" ? addr.port : port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.sessions.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= 65_536) chunks.push(c);
    });
    req.on("end", () => {
      try {
        this.route(req, res, Buffer.concat(chunks));
      } catch {
        if (!res.headersSent) res.writeHead(500).end();
      }
    });
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? "/", "http://device");
    if (req.method !== "POST") return void res.writeHead(405).end();
    const cookieId = /(?:^|;\s*)TP_SESSIONID=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
    const now = (this.opts.now ?? Date.now)();
    const timeoutS = this.opts.sessionTimeoutS ?? 86_400;
    switch (url.pathname) {
      case "/app/handshake1": {
        this.stats.handshake1++;
        if (body.length !== SEED_BYTES) return void res.writeHead(400).end();
        const remote = randomBytes(SEED_BYTES);
        const id = randomBytes(16).toString("hex").toUpperCase();
        // A plug keeps a small session table: the oldest session goes first (bounded memory under endless retries).
        if (this.sessions.size >= 64) this.sessions.delete(this.sessions.keys().next().value as string);
        this.sessions.set(id, { local: body, remote, createdMs: now, requests: 0 });
        let reply = Buffer.concat([remote, handshake1Proof(this.opts.version, body, remote, this.auth)]);
        if (this.faults.handshake1Length !== undefined) reply = Buffer.concat([reply, randomBytes(64)]).subarray(0, this.faults.handshake1Length);
        // Real plugs send both values in one header; the reference clients read the first header's first pair.
        const headers = { "Content-Type": "application/octet-stream", "Set-Cookie": `TP_SESSIONID=${id};TIMEOUT=${timeoutS}` };
        if (this.faults.hang === "handshake1") return this.hangMidReply(res, headers, reply);
        res.writeHead(200, { ...headers, "Content-Length": reply.length }).end(reply);
        return;
      }
      case "/app/handshake2": {
        this.stats.handshake2++;
        const s = cookieId ? this.sessions.get(cookieId) : undefined;
        if (!s || s.crypto) return void res.writeHead(403).end();
        if (this.faults.handshake2Status !== undefined) return void res.writeHead(this.faults.handshake2Status).end();
        if (!body.equals(handshake2Proof(this.opts.version, s.local, s.remote, this.auth))) {
          this.sessions.delete(cookieId as string);
          return void res.writeHead(403).end();
        }
        s.crypto = new KlapSession(s.local, s.remote, this.auth);
        res.writeHead(200, { "Content-Length": 0 }).end();
        return;
      }
      case "/app/request": {
        this.stats.requests++;
        const s = cookieId ? this.sessions.get(cookieId) : undefined;
        const expired = s !== undefined && now - s.createdMs >= timeoutS * 1000;
        const dropped = s !== undefined && this.faults.dropAfter !== undefined && s.requests >= this.faults.dropAfter;
        if (!s?.crypto || expired || dropped) {
          if (s && (expired || dropped)) this.sessions.delete(cookieId as string);
          this.stats.rejected403++;
          return void res.writeHead(403).end();
        }
        if (this.faults.notHttpAfter !== undefined && s.requests >= this.faults.notHttpAfter) {
          this.sessions.delete(cookieId as string);
          req.socket.end(Buffer.from([0x00, 0x00, 0x00, 0x10, 0xd0, 0xf2, 0x81, 0xf8]));
          return;
        }
        const seq = Number(url.searchParams.get("seq"));
        if (!Number.isInteger(seq)) return void res.writeHead(400).end();
        let text: string;
        try {
          text = s.crypto.open(body, seq).toString("utf8");
        } catch {
          return void res.writeHead(400).end();
        }
        s.requests++;
        let reply = s.crypto.seal(this.opts.handle(text), seq);
        if (this.faults.garbage) reply = randomBytes(reply.length);
        if (this.faults.badSignature) reply = Buffer.concat([randomBytes(32), reply.subarray(32)]);
        if (this.faults.truncated) reply = reply.subarray(0, Math.max(1, reply.length >> 1));
        if (this.faults.hang === "request") return this.hangMidReply(res, {}, reply);
        res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": reply.length }).end(reply);
        return;
      }
      default:
        res.writeHead(404).end();
    }
  }

  /** Sends the headers and half the body, then nothing (the socket stays open until the client gives up). */
  private hangMidReply(res: http.ServerResponse, headers: http.OutgoingHttpHeaders, body: Buffer): void {
    res.writeHead(200, { ...headers, "Content-Length": body.length });
    res.write(body.subarray(0, body.length >> 1));
  }
}
