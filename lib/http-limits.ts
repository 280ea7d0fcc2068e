// Time limits for the HTTP server Node-RED shares between the editor and the API: idle and trickling sockets are
// closed instead of being held for ever. Node's defaults leave a socket that never sends a byte open indefinitely
// (server.timeout 0) and give a trickling request 300 s.
import type { Server } from "node:http";

export interface HttpServerLimits {
  /** A socket with no traffic for this long is closed (server.timeout; 0 = never). */
  idleTimeoutMs: number;
  /** The request headers must be complete within this long (server.headersTimeout). */
  headersTimeoutMs: number;
  /** The whole request must arrive within this long (server.requestTimeout). */
  requestTimeoutMs: number;
  /** An idle keep-alive socket is closed after this long between requests (server.keepAliveTimeout). */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpServerLimits> = {
  idleTimeoutMs: 30_000,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
};

const KEYS = Object.keys(DEFAULT_HTTP_LIMITS) as (keyof HttpServerLimits)[];

/**
 * settings.js `plugwatch.httpServer` (any subset of HttpServerLimits) over the defaults; `false` turns the
 * limits off. Throws a RangeError naming the bad key.
 */
export function parseHttpLimits(settings: unknown): HttpServerLimits | undefined {
  const pw = typeof settings === "object" && settings !== null ? (settings as { plugwatch?: { httpServer?: unknown } }).plugwatch : undefined;
  const raw = pw?.httpServer;
  if (raw === false) return undefined;
  if (raw === undefined) return { ...DEFAULT_HTTP_LIMITS };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new RangeError("settings.js plugwatch.httpServer must be an object or false");
  const out = { ...DEFAULT_HTTP_LIMITS };
  for (const [k, v] of Object.entries(raw)) {
    if (!KEYS.includes(k as keyof HttpServerLimits)) throw new RangeError(`settings.js plugwatch.httpServer.${k}: unknown (use ${KEYS.join(", ")})`);
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 3_600_000)
      throw new RangeError(`settings.js plugwatch.httpServer.${k}: must be an integer number of ms from 0 to 3600000, got ${JSON.stringify(v)}`);
    out[k as keyof HttpServerLimits] = v;
  }
  // Node requires headersTimeout <= requestTimeout when both are set.
  if (out.requestTimeoutMs > 0 && out.headersTimeoutMs > out.requestTimeoutMs)
    throw new RangeError("settings.js plugwatch.httpServer.headersTimeoutMs must not exceed requestTimeoutMs");
  // A keep-alive socket announces `Keep-Alive: timeout=…` to clients; closing it earlier for idleness makes clients
  // reuse a dead socket (fetch: "other side closed").
  if (out.idleTimeoutMs > 0 && out.keepAliveTimeoutMs >= out.idleTimeoutMs)
    throw new RangeError("settings.js plugwatch.httpServer.keepAliveTimeoutMs must be below idleTimeoutMs");
  return out;
}

const applied = new WeakSet<Server>();

/**
 * Applies the limits to `server` once (later calls for the same server do nothing and return false). Upgraded
 * sockets (the editor's WebSocket) are not affected: the ws library clears the socket timeout on upgrade.
 */
export function applyHttpLimits(server: Server, limits: HttpServerLimits): boolean {
  if (applied.has(server)) return false;
  applied.add(server);
  server.setTimeout(limits.idleTimeoutMs);
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  return true;
}
