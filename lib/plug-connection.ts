// Keep-alive TCP connections to plugs speaking the legacy protocol (4-byte length + XOR autokey cipher), one per plug.
//
// The collector asks every plug every few seconds. Opening and closing a TCP connection per poll costs both sides
// more CPU than the request itself (connect, accept, FIN handshake); the plugs answer any number of requests on
// one connection, so each plug keeps one idle socket between polls. A reused socket that turns out to be dead
// (the plug rebooted, an idle timeout on its side) is retried once on a fresh connection, so a stale socket never
// costs a poll. A fresh connection that closes without a byte is what newer firmware does: UNSUPPORTED_FIRMWARE.
import * as net from "node:net";
import { PlugwatchError } from "./contracts/errors";

/** First key of the legacy protocol's autokey XOR cipher. */
const INITIAL_KEY = 171;
/** Largest response accepted, bytes (a get_sysinfo + get_realtime answer is under 1 KiB; statistics under 4 KiB). */
const MAX_RESPONSE = 1 << 20;

/** Length-prefixed, encrypted request bytes. */
export function encrypt(text: string): Buffer {
  const plain = Buffer.from(text, "utf8");
  const out = Buffer.allocUnsafe(plain.length + 4);
  out.writeUInt32BE(plain.length, 0);
  let key = INITIAL_KEY;
  let i = 4;
  for (const b of plain) {
    key = b ^ key;
    out[i++] = key;
  }
  return out;
}

/** Decrypts a response body (without its 4-byte length). */
export function decrypt(body: Buffer): string {
  const out = Buffer.allocUnsafe(body.length);
  let key = INITIAL_KEY;
  let i = 0;
  for (const c of body) {
    out[i++] = c ^ key;
    key = c;
  }
  return out.toString("utf8");
}

export interface PlugConnectionsOptions {
  /** An idle socket unused for this long is closed, ms (default 60 000). */
  idleMs?: number;
}

interface Pooled {
  socket: net.Socket;
  busy: boolean;
}

/** Why one attempt failed, and whether a fresh connection may be tried. */
class AttemptError extends Error {
  constructor(
    readonly failure: PlugwatchError,
    readonly retryable: boolean,
  ) {
    super(failure.message);
  }
}

export class PlugConnections {
  private readonly idleMs: number;
  private readonly pool = new Map<string, Pooled>();
  /** Sockets of requests in flight that are not pooled (a second request to a busy plug). */
  private readonly oneShot = new Set<net.Socket>();
  private closed = false;

  constructor(opts: PlugConnectionsOptions = {}) {
    this.idleMs = opts.idleMs ?? 60_000;
  }

  /** Open sockets (pooled + one-shot), for tests and stats. */
  get openSockets(): number {
    return this.pool.size + this.oneShot.size;
  }

  /** Sends one request and resolves with the decrypted response text. Rejects with a PlugwatchError. */
  async request(host: string, port: number, payload: string, timeoutMs: number): Promise<string> {
    if (this.closed) throw new PlugwatchError("INTERNAL", "plug connections are closed");
    const key = `${host}:${port}`;
    const pooled = this.pool.get(key);
    if (pooled?.socket.destroyed) this.forget(key, pooled.socket);
    else if (pooled && !pooled.busy) {
      try {
        return await this.attempt(key, pooled.socket, payload, timeoutMs, true);
      } catch (err) {
        if (!(err instanceof AttemptError)) throw err;
        if (!err.retryable || this.closed) throw err.failure;
        // A dead keep-alive socket: fall through to one fresh connection.
      }
    }
    const pool = !this.pool.has(key);
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    if (pool) this.pool.set(key, { socket, busy: true });
    else this.oneShot.add(socket);
    try {
      return await this.attempt(key, socket, payload, timeoutMs, false);
    } catch (err) {
      throw err instanceof AttemptError ? err.failure : err;
    } finally {
      if (!pool) {
        this.oneShot.delete(socket);
        socket.destroy();
      }
    }
  }

  /** Closes every socket. Requests in flight fail; later ones are refused. */
  close(): void {
    this.closed = true;
    for (const { socket } of this.pool.values()) socket.destroy();
    this.pool.clear();
    for (const socket of this.oneShot) socket.destroy();
    this.oneShot.clear();
  }

  private forget(key: string, socket: net.Socket): void {
    if (this.pool.get(key)?.socket === socket) this.pool.delete(key);
    socket.destroy();
  }

  private attempt(key: string, socket: net.Socket, payload: string, timeoutMs: number, reused: boolean): Promise<string> {
    const entry = this.pool.get(key);
    const pooled = entry?.socket === socket ? entry : undefined;
    if (pooled) pooled.busy = true;
    this.unpark(socket);
    return new Promise<string>((resolve, reject) => {
      let received: Buffer | undefined;
      let settled = false;
      const finish = (err: AttemptError | undefined, text?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off("data", onData);
        socket.off("error", onError);
        socket.off("close", onClose);
        if (err) {
          this.forget(key, socket);
          reject(err);
          return;
        }
        if (pooled) {
          pooled.busy = false;
          this.park(key, socket);
        }
        resolve(text as string);
      };
      const onData = (chunk: Buffer): void => {
        received = received ? Buffer.concat([received, chunk]) : chunk;
        if (received.length < 4) return;
        const length = received.readUInt32BE(0);
        if (length > MAX_RESPONSE) {
          finish(new AttemptError(new PlugwatchError("DEVICE_ERROR", `plug announced a ${length}-byte response (at most ${MAX_RESPONSE})`), false));
          return;
        }
        if (received.length - 4 < length) return;
        finish(undefined, decrypt(received.subarray(4, 4 + length)));
      };
      const onError = (err: Error & { code?: string }): void => {
        const nothing = received === undefined;
        const refused = err.code === "ECONNREFUSED" || err.code === "EHOSTUNREACH" || err.code === "ENETUNREACH" || err.code === "ETIMEDOUT";
        // A reset on a fresh connection before any byte is how newer firmware refuses the legacy protocol.
        const code = !refused && nothing && !reused && /ECONNRESET|EPIPE/.test(err.code ?? "") ? "UNSUPPORTED_FIRMWARE" : "DEVICE_UNREACHABLE";
        const message =
          code === "UNSUPPORTED_FIRMWARE"
            ? `connection closed without a reply (${err.message}): firmware may not support the legacy protocol on this port`
            : err.message;
        finish(new AttemptError(new PlugwatchError(code, message), reused && nothing), undefined);
      };
      const onClose = (): void => {
        const nothing = received === undefined;
        const cause =
          nothing && !reused
            ? new PlugwatchError("UNSUPPORTED_FIRMWARE", "connection closed without a reply: firmware may not support the legacy protocol on this port")
            : new PlugwatchError("DEVICE_UNREACHABLE", nothing ? "connection closed without a reply" : "connection closed in the middle of a reply");
        finish(new AttemptError(cause, reused && nothing));
      };
      const timer = setTimeout(() => finish(new AttemptError(new PlugwatchError("DEVICE_UNREACHABLE", `no reply within ${timeoutMs} ms`), false)), timeoutMs);
      socket.on("data", onData);
      socket.on("error", onError);
      socket.on("close", onClose);
      if (socket.destroyed) {
        onClose();
        return;
      }
      socket.write(encrypt(payload));
    });
  }

  /** Keeps an idle socket for the next request; it leaves the pool when it closes, errors, idles out or talks. */
  private park(key: string, socket: net.Socket): void {
    const drop = (): void => {
      this.unpark(socket);
      this.forget(key, socket);
    };
    socket.once("close", drop);
    socket.once("error", drop);
    socket.once("timeout", drop);
    // Bytes nobody asked for: the stream is out of step, start afresh next time.
    socket.on("data", drop);
    socket.setTimeout(this.idleMs);
    this.idle.set(socket, () => {
      socket.off("close", drop);
      socket.off("error", drop);
      socket.off("timeout", drop);
      socket.off("data", drop);
      socket.setTimeout(0);
    });
  }

  /** Removes the idle listeners before the socket carries a request. */
  private unpark(socket: net.Socket): void {
    const detach = this.idle.get(socket);
    if (!detach) return;
    this.idle.delete(socket);
    detach();
  }

  private readonly idle = new WeakMap<net.Socket, () => void>();
}
