// One bounded HTTP(S) POST of raw bytes: status, Set-Cookie pairs and body, with a hard deadline and a size cap.
import * as http from "node:http";
import * as https from "node:https";
import { PlugwatchError } from "../contracts/errors";

/** Largest reply body accepted, bytes (a KLAP reply with sysinfo + emeter is under 2 KiB). */
export const MAX_BODY = 1 << 20;

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
  cookie?: string;
  timeoutMs: number;
  agent?: http.Agent;
}

export function parseSetCookie(headers: string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const header of headers ?? []) {
    for (const part of header.split(";")) {
      const eq = part.indexOf("=");
      if (eq <= 0) continue;
      const name = part.slice(0, eq).trim();
      // Attributes of a standard cookie (Path, Expires…) are not session data.
      if (/^(path|expires|domain|max-age|samesite)$/i.test(name)) continue;
      out.set(name, part.slice(eq + 1).trim());
    }
  }
  return out;
}

/**
 * POSTs `body` and resolves with the whole reply. Rejects with DEVICE_UNREACHABLE (refused, reset, no complete
 * reply within `timeoutMs` — also a device that stops in the middle of a reply) or PROTOCOL_ERROR (oversized or
 * not HTTP). Never leaves a socket or timer behind.
 */
export async function post(opts: PostOptions): Promise<PostResult> {
  const started = Date.now();
  try {
    return await postOnce(opts);
  } catch (err) {
    // A keep-alive socket the plug had already closed: Node's documented remedy is one retry on a new socket.
    if (!(err instanceof StaleSocket)) throw err;
    const left = opts.timeoutMs - (Date.now() - started);
    if (left <= 0) throw err.failure;
    try {
      return await postOnce({ ...opts, timeoutMs: left });
    } catch (again) {
      throw again instanceof StaleSocket ? again.failure : again;
    }
  }
}

/** A reset on a reused keep-alive socket before any reply. */
class StaleSocket extends Error {
  constructor(readonly failure: PlugwatchError) {
    super(failure.message);
  }
}

function postOnce(opts: PostOptions): Promise<PostResult> {
  return new Promise<PostResult>((resolve, reject) => {
    const mod = opts.tls ? https : http;
    const headers: http.OutgoingHttpHeaders = { "Content-Type": "application/octet-stream", "Content-Length": opts.body.length };
    if (opts.cookie) headers.Cookie = opts.cookie;
    let settled = false;
    const finish = (err: PlugwatchError | StaleSocket | undefined, result?: PostResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(result as PostResult);
    };
    const req = mod.request({
      host: opts.host,
      port: opts.port,
      path: opts.path,
      method: "POST",
      headers,
      agent: opts.agent,
      // Plugs serve a self-signed certificate on 4433; the KLAP handshake, not TLS, authenticates them.
      ...(opts.tls ? { rejectUnauthorized: false } : {}),
    });
    const timer = setTimeout(
      () => finish(new PlugwatchError("DEVICE_UNREACHABLE", `no complete reply to ${opts.path} within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    let responded = false;
    req.on("error", (err: Error & { code?: string }) => {
      const code = /^HPE_/.test(err.code ?? "") ? "PROTOCOL_ERROR" : "DEVICE_UNREACHABLE";
      const failure = new PlugwatchError(code, `${opts.path}: ${err.message}`);
      finish(req.reusedSocket && !responded && err.code === "ECONNRESET" ? new StaleSocket(failure) : failure);
    });
    req.on("response", (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) finish(new PlugwatchError("PROTOCOL_ERROR", `${opts.path}: reply larger than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      res.on("aborted", () => finish(new PlugwatchError("DEVICE_UNREACHABLE", `${opts.path}: connection closed in the middle of a reply`)));
      res.on("error", (err) => finish(new PlugwatchError("DEVICE_UNREACHABLE", `${opts.path}: ${err.message}`)));
      res.on("end", () => {
        if (!res.complete) {
          finish(new PlugwatchError("DEVICE_UNREACHABLE", `${opts.path}: connection closed in the middle of a reply`));
          return;
        }
        finish(undefined, { status: res.statusCode ?? 0, cookies: parseSetCookie(res.headers["set-cookie"]), body: Buffer.concat(chunks) });
      });
    });
    req.end(opts.body);
  });
}
