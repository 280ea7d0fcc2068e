// Kept-alive HTTP/1.1 connections to plugs with minimal framing: one write per request, a small reply parser.
//
// A KLAP poll is one small POST and one small reply on a connection the plug keeps open. Node's http client spends
// more CPU on its own machinery (agent bookkeeping, header objects, two writes per request, stream events) than
// the AES and SHA-256 of the request cost, so the collector speaks the little HTTP the plugs need directly on a
// socket: request line, Host, Content-Type, Content-Length, Cookie; a reply with Content-Length (what plugs send),
// chunked, or delimited by the close. One idle socket per address is kept; a reused socket that turns out dead
// before any byte of the reply is retried once on a fresh one (as Node documents for its agent).
import * as net from "node:net";
import * as tls from "node:tls";
import { PlugwatchError } from "../contracts/errors";

/** Largest reply accepted (headers + body), bytes (a KLAP reply with sysinfo + emeter is under 2 KiB). */
export const MAX_BODY = 1 << 20;
/** Largest header block accepted, bytes. */
const MAX_HEADER = 16 * 1024;

export interface PostResult {
  status: number;
  /** Every `name=value` pair of every Set-Cookie header (real plugs put TP_SESSIONID and TIMEOUT in one header). */
  cookies: Map<string, string>;
  body: Buffer;
}

export interface PostOptions {
  host: string;
  port: number;
  path: string;
  body: Buffer;
  tls?: boolean;
  cookie?: string | undefined;
  timeoutMs: number;
}

const COOKIE_ATTRIBUTES = /^(path|expires|domain|max-age|samesite|secure|httponly)$/i;

export function parseSetCookie(headers: readonly string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const header of headers ?? []) {
    for (const part of header.split(";")) {
      const eq = part.indexOf("=");
      if (eq <= 0) continue;
      const name = part.slice(0, eq).trim();
      // Attributes of a standard cookie (Path, Expires…) are not session data.
      if (COOKIE_ATTRIBUTES.test(name)) continue;
      out.set(name, part.slice(eq + 1).trim());
    }
  }
  return out;
}

/** The bytes of one POST: head and body in a single buffer, so a request is one write (one system call). */
export function encodePost(host: string, port: number, path: string, body: Buffer, cookie?: string): Buffer {
  const head =
    `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n` +
    (cookie ? `Cookie: ${cookie}\r\n` : "") +
    "\r\n";
  const headLen = Buffer.byteLength(head, "latin1");
  const out = Buffer.allocUnsafe(headLen + body.length);
  out.write(head, 0, "latin1");
  body.copy(out, headLen);
  return out;
}

/** A reply parsed so far: undefined while incomplete. `rest` is what followed it on the socket. */
export interface ParsedReply {
  status: number;
  setCookie: string[];
  body: Buffer;
  /** The device asked to close the connection (or did not say how long the body is). */
  close: boolean;
}

const HTTP = Buffer.from("HTTP/");
const CRLFCRLF = Buffer.from("\r\n\r\n");

/**
 * Parses one HTTP/1.x reply from `buf`. Returns undefined if more bytes are needed, the reply and the index after
 * it when complete; throws PROTOCOL_ERROR for bytes that are not HTTP. `ended`: the peer closed, so a reply with no
 * length is complete.
 */
export function parseReply(buf: Buffer, ended: boolean): { reply: ParsedReply; end: number } | undefined {
  const probe = Math.min(buf.length, HTTP.length);
  if (buf.compare(HTTP, 0, probe, 0, probe) !== 0) throw new PlugwatchError("PROTOCOL_ERROR", "reply is not HTTP");
  let start = 0;
  for (;;) {
    const headEnd = buf.indexOf(CRLFCRLF, start);
    if (headEnd < 0) {
      if (buf.length - start > MAX_HEADER) throw new PlugwatchError("PROTOCOL_ERROR", `reply headers longer than ${MAX_HEADER} bytes`);
      return undefined;
    }
    const lines = buf.toString("latin1", start, headEnd).split("\r\n");
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? "");
    if (!m) throw new PlugwatchError("PROTOCOL_ERROR", "reply has no HTTP status line");
    const status = Number(m[2]);
    const bodyStart = headEnd + 4;
    // An interim reply (100 Continue): the real one follows.
    if (status >= 100 && status < 200) {
      start = bodyStart;
      continue;
    }
    let length: number | undefined;
    let chunked = false;
    let close = m[1] === "0";
    const setCookie: string[] = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new PlugwatchError("PROTOCOL_ERROR", "reply has a malformed header line");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d+$/.test(value)) throw new PlugwatchError("PROTOCOL_ERROR", `reply has Content-Length '${value}'`);
        length = Number(value);
      } else if (name === "transfer-encoding") chunked = /chunked\s*$/i.test(value);
      else if (name === "connection") close = /close/i.test(value) ? true : /keep-alive/i.test(value) ? false : close;
      else if (name === "set-cookie") setCookie.push(value);
    }
    if (length !== undefined && length > MAX_BODY) throw new PlugwatchError("PROTOCOL_ERROR", `reply larger than ${MAX_BODY} bytes`);
    // No body for these statuses whatever the headers say.
    if (status === 204 || status === 304) return { reply: { status, setCookie, body: Buffer.alloc(0), close }, end: bodyStart };
    if (chunked) {
      const c = dechunk(buf, bodyStart);
      return c && { reply: { status, setCookie, body: c.body, close }, end: c.end };
    }
    if (length !== undefined) {
      if (buf.length - bodyStart < length) return undefined;
      return { reply: { status, setCookie, body: buf.subarray(bodyStart, bodyStart + length), close }, end: bodyStart + length };
    }
    // No length: the body runs to the close.
    if (buf.length - bodyStart > MAX_BODY) throw new PlugwatchError("PROTOCOL_ERROR", `reply larger than ${MAX_BODY} bytes`);
    return ended ? { reply: { status, setCookie, body: buf.subarray(bodyStart), close: true }, end: buf.length } : undefined;
  }
}

function dechunk(buf: Buffer, from: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let size = 0;
  let at = from;
  for (;;) {
    const eol = buf.indexOf("\r\n", at, "latin1");
    if (eol < 0) return undefined;
    const [hex = ""] = buf.toString("latin1", at, eol).split(";");
    const n = parseInt(hex, 16);
    if (!Number.isFinite(n) || n < 0) throw new PlugwatchError("PROTOCOL_ERROR", "reply has a malformed chunk");
    size += n;
    if (size > MAX_BODY) throw new PlugwatchError("PROTOCOL_ERROR", `reply larger than ${MAX_BODY} bytes`);
    if (n === 0) {
      // Trailers (none expected) end with an empty line.
      const end = buf.indexOf(CRLFCRLF, eol);
      if (end === eol) return { body: Buffer.concat(parts, size), end: eol + 4 };
      if (buf.length < eol + 4) return undefined;
      if (end < 0) return undefined;
      return { body: Buffer.concat(parts, size), end: end + 4 };
    }
    if (buf.length < eol + 2 + n + 2) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n + 2;
  }
}

/** One failed attempt; `stale` = a reused socket failed before any byte of the reply (retry on a fresh one). */
class AttemptFailed extends Error {
  constructor(
    readonly failure: PlugwatchError,
    readonly stale: boolean,
  ) {
    super(failure.message);
  }
}

/** One request in flight on a socket. */
interface Pending {
  path: string;
  received: Buffer | undefined;
  reused: boolean;
  resolve: (r: PostResult) => void;
  reject: (e: AttemptFailed) => void;
  timer: NodeJS.Timeout | undefined;
}

/** A socket with its one listener set, installed once for its life (no listeners added per request). */
class Conn {
  pending: Pending | undefined;
  /** Bytes that arrived while no request was waiting (the stream is out of step). */
  stray = false;
  closed = false;

  constructor(
    readonly socket: net.Socket,
    readonly key: string,
    private readonly owner: HttpConnections,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err: Error & { code?: string }) => this.onEnd(err));
    socket.on("close", () => this.onEnd(undefined));
    socket.on("timeout", () => socket.destroy());
  }

  onData(chunk: Buffer): void {
    const p = this.pending;
    if (!p) {
      this.stray = true;
      this.socket.destroy();
      return;
    }
    p.received = p.received ? Buffer.concat([p.received, chunk]) : chunk;
    this.tryComplete(p, false);
  }

  private tryComplete(p: Pending, ended: boolean): void {
    let parsed: ReturnType<typeof parseReply>;
    try {
      parsed = parseReply(p.received as Buffer, ended);
    } catch (err) {
      const e = err as PlugwatchError;
      this.fail(p, new PlugwatchError(e.code, `${p.path}: ${e.message}`), false);
      return;
    }
    if (!parsed) {
      if ((p.received as Buffer).length > MAX_BODY + MAX_HEADER)
        this.fail(p, new PlugwatchError("PROTOCOL_ERROR", `${p.path}: reply larger than ${MAX_BODY} bytes`), false);
      else if (ended) this.fail(p, new PlugwatchError("DEVICE_UNREACHABLE", `${p.path}: connection closed in the middle of a reply`), false);
      return;
    }
    const { reply, end } = parsed;
    this.settle();
    // Anything after the reply, or a device closing the connection: do not reuse this socket.
    const reusable = !ended && !reply.close && end === (p.received as Buffer).length;
    if (reusable) this.owner.park(this);
    else this.owner.drop(this);
    p.resolve({ status: reply.status, cookies: parseSetCookie(reply.setCookie), body: reply.body });
  }

  onEnd(err: (Error & { code?: string }) | undefined): void {
    const p = this.pending;
    if (!this.closed) {
      this.closed = true;
      this.owner.drop(this);
    }
    if (!p) return;
    if (p.received && !err) {
      // The device closed after (or in the middle of) a reply: complete if the reply needs no more bytes.
      this.tryComplete(p, true);
      return;
    }
    const nothing = p.received === undefined;
    const message = err ? err.message : nothing ? "connection closed without a reply" : "connection closed in the middle of a reply";
    this.fail(p, new PlugwatchError("DEVICE_UNREACHABLE", `${p.path}: ${message}`), p.reused && nothing);
  }

  send(bytes: Buffer, p: Pending, timeoutMs: number): void {
    this.pending = p;
    p.timer = setTimeout(
      () => this.fail(p, new PlugwatchError("DEVICE_UNREACHABLE", `no complete reply to ${p.path} within ${timeoutMs} ms`), false),
      timeoutMs,
    );
    this.socket.setTimeout(0);
    this.socket.write(bytes);
  }

  private settle(): void {
    const p = this.pending;
    this.pending = undefined;
    if (p?.timer) clearTimeout(p.timer);
  }

  private fail(p: Pending, failure: PlugwatchError, stale: boolean): void {
    if (this.pending !== p) return;
    this.settle();
    this.owner.drop(this);
    this.socket.destroy();
    p.reject(new AttemptFailed(failure, stale));
  }
}

export interface HttpConnectionsOptions {
  /** An idle socket unused for this long is closed, ms (default 60 000). */
  idleMs?: number;
}

/** Kept-alive connections to plugs, at most one idle socket per address; close() ends them all. */
export class HttpConnections {
  private readonly idleMs: number;
  private readonly idle = new Map<string, Conn>();
  private readonly busy = new Set<Conn>();
  private closed = false;

  constructor(opts: HttpConnectionsOptions = {}) {
    this.idleMs = opts.idleMs ?? 60_000;
  }

  /** Open sockets (idle + busy), for tests and stats. */
  get openSockets(): number {
    return this.idle.size + this.busy.size;
  }

  /**
   * POSTs `body` and resolves with the whole reply. Rejects with DEVICE_UNREACHABLE (refused, reset, no complete
   * reply within `timeoutMs` — also a device that stops in the middle of a reply) or PROTOCOL_ERROR (oversized or
   * not HTTP). Never leaves a timer behind; a socket stays open only if it can carry the next request.
   */
  async post(opts: PostOptions): Promise<PostResult> {
    const started = Date.now();
    const bytes = encodePost(opts.host, opts.port, opts.path, opts.body, opts.cookie);
    try {
      return await this.attempt(opts, bytes, opts.timeoutMs);
    } catch (err) {
      if (!(err instanceof AttemptFailed)) throw err;
      if (!err.stale || this.closed) throw err.failure;
      const left = opts.timeoutMs - (Date.now() - started);
      if (left <= 0) throw err.failure;
      try {
        return await this.attempt(opts, bytes, left);
      } catch (again) {
        throw again instanceof AttemptFailed ? again.failure : again;
      }
    }
  }

  /** Closes every socket; requests in flight fail, later ones are refused. */
  close(): void {
    this.closed = true;
    for (const c of [...this.idle.values(), ...this.busy]) c.socket.destroy();
    this.idle.clear();
    this.busy.clear();
  }

  /** @internal A socket that finished a reply and can carry the next request. */
  park(c: Conn): void {
    this.busy.delete(c);
    if (this.closed || c.closed || this.idle.has(c.key)) {
      c.socket.destroy();
      return;
    }
    this.idle.set(c.key, c);
    c.socket.setTimeout(this.idleMs);
  }

  /** @internal A socket that must not be reused. */
  drop(c: Conn): void {
    this.busy.delete(c);
    if (this.idle.get(c.key) === c) this.idle.delete(c.key);
    if (!c.closed) c.socket.destroy();
  }

  private attempt(opts: PostOptions, bytes: Buffer, timeoutMs: number): Promise<PostResult> {
    if (this.closed) return Promise.reject(new PlugwatchError("INTERNAL", "HTTP connections are closed"));
    const key = `${opts.tls ? "s" : ""}${opts.host}:${opts.port}`;
    let c = this.idle.get(key);
    const reused = c !== undefined && !c.closed && !c.stray;
    if (c) this.idle.delete(key);
    if (!reused) {
      const socket = opts.tls
        ? // Plugs serve a self-signed certificate on 4433; the KLAP handshake, not TLS, authenticates them.
          tls.connect({ host: opts.host, port: opts.port, rejectUnauthorized: false })
        : net.connect({ host: opts.host, port: opts.port });
      socket.setNoDelay(true);
      c = new Conn(socket, key, this);
    }
    const conn = c as Conn;
    this.busy.add(conn);
    return new Promise<PostResult>((resolve, reject) => {
      conn.send(bytes, { path: opts.path, received: undefined, reused, resolve, reject, timer: undefined }, timeoutMs);
    });
  }
}
