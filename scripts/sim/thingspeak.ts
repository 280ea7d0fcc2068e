// A local ThingSpeak-style REST server: the channel "update" call (POST/GET /update with api_key + field1..8),
// answering the new entry id, or 0 when the update is refused (rate limit, no field), as the real service does.
import type * as http from "node:http";
import { optionValue, runCli } from "./cli";
import { LoopbackHttpServer } from "./http-server";

export const FIELD_NAMES = ["field1", "field2", "field3", "field4", "field5", "field6", "field7", "field8"] as const;
export type FieldName = (typeof FIELD_NAMES)[number];

/** One stored channel entry. Field values are kept as the strings received, like ThingSpeak does. */
export interface ThingSpeakEntry {
  entry_id: number;
  /** ISO 8601: the request's `created_at` when given, otherwise the time the server stored it. */
  created_at: string;
  fields: Partial<Record<FieldName, string>>;
  status?: string;
  /** Server clock (epoch ms) when the entry was accepted; used to check the client's rate limiting. */
  receivedAt: number;
}

export interface ThingSpeakOptions {
  /** Write API keys of the channel (default ["DEMOWRITEKEY0001"]). */
  apiKeys?: string[];
  /** Minimum time between two accepted updates, ms (ThingSpeak's free tier: 15000). */
  minIntervalMs?: number;
  host?: string;
  /** Port to listen on (default 0: a free one; kept across stop()/start()). */
  port?: number;
  clock?: () => number;
}

export interface ThingSpeakCounters {
  /** Requests answered 0 because they came sooner than minIntervalMs after the last accepted update. */
  rateLimited: number;
  /** Requests with an unknown or missing api_key (HTTP 401, body 0). */
  unauthorized: number;
  /** Requests without any field1..8 or with a bad created_at (body 0). */
  invalid: number;
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

/** Parses a form, JSON or query-string body into flat string parameters (later sources win: query < body). */
function parameters(url: URL, contentType: string, body: string): Record<string, string> {
  const out: Record<string, string> = Object.fromEntries(url.searchParams);
  if (!body) return out;
  if (contentType.includes("application/json")) {
    const json = JSON.parse(body) as unknown;
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw new Error("JSON body must be an object");
    for (const [k, v] of Object.entries(json)) if (v !== null && v !== undefined) out[k] = String(v);
  } else {
    for (const [k, v] of new URLSearchParams(body)) out[k] = v;
  }
  return out;
}

/**
 * The server. `stop()` closes the socket (clients then get ECONNREFUSED, like an unreachable cloud) and keeps the
 * stored entries; `start()` listens again on the same port.
 */
export class ThingSpeakServer {
  readonly entries: ThingSpeakEntry[] = [];
  readonly counters: ThingSpeakCounters = { rateLimited: 0, unauthorized: 0, invalid: 0 };
  private readonly apiKeys: Set<string>;
  private readonly minIntervalMs: number;
  private readonly clock: () => number;
  private readonly http: LoopbackHttpServer;
  private lastAcceptedAt = -Infinity;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(opts: ThingSpeakOptions = {}) {
    this.apiKeys = new Set(opts.apiKeys ?? ["DEMOWRITEKEY0001"]);
    this.minIntervalMs = opts.minIntervalMs ?? 15_000;
    this.clock = opts.clock ?? Date.now;
    this.http = new LoopbackHttpServer((req, res) => this.handle(req, res), { host: opts.host, port: opts.port });
  }

  /** The port listened on (the one asked for until the first start()); kept across stop()/start(). */
  get port(): number {
    return this.http.port;
  }

  get url(): string {
    return this.http.url;
  }

  get running(): boolean {
    return this.http.running;
  }

  async start(): Promise<void> {
    await this.http.start();
  }

  /** Closes the listener and every open connection (keep-alive ones included); entries are kept. */
  async stop(): Promise<void> {
    await this.http.stop();
  }

  /** Resolves once at least `n` entries are stored, or rejects after timeoutMs. */
  waitForEntries(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.entries.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { n, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`ThingSpeak server: ${this.entries.length} entries after ${timeoutMs} ms, expected ${n}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://thingspeak.local");
      const answer = (status: number, body: string) => {
        res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
        res.end(body);
      };
      if (url.pathname !== "/update") return answer(404, "not found: only /update is implemented");
      if (req.method !== "POST" && req.method !== "GET") return answer(405, "0");
      let params: Record<string, string>;
      try {
        params = parameters(url, String(req.headers["content-type"] ?? ""), Buffer.concat(chunks).toString("utf8"));
      } catch {
        this.counters.invalid++;
        return answer(400, "0");
      }
      const key = params.api_key ?? String(req.headers["x-thingspeakapikey"] ?? "");
      if (!this.apiKeys.has(key)) {
        this.counters.unauthorized++;
        return answer(401, "0");
      }
      const now = this.clock();
      if (now - this.lastAcceptedAt < this.minIntervalMs) {
        this.counters.rateLimited++;
        return answer(200, "0");
      }
      const fields: Partial<Record<FieldName, string>> = {};
      for (const f of FIELD_NAMES) if (params[f] !== undefined && params[f] !== "") fields[f] = params[f];
      const createdAt = params.created_at;
      if (Object.keys(fields).length === 0 || (createdAt !== undefined && (!ISO_RE.test(createdAt) || Number.isNaN(Date.parse(createdAt))))) {
        this.counters.invalid++;
        return answer(200, "0");
      }
      this.lastAcceptedAt = now;
      const entry: ThingSpeakEntry = {
        entry_id: this.entries.length + 1,
        created_at: createdAt !== undefined ? new Date(createdAt).toISOString() : new Date(now).toISOString(),
        fields,
        ...(params.status !== undefined ? { status: params.status } : {}),
        receivedAt: now,
      };
      this.entries.push(entry);
      answer(200, String(entry.entry_id));
      for (const w of [...this.waiters]) {
        if (this.entries.length >= w.n) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
  }
}

/** CLI: `node dist/scripts/sim/thingspeak.js [--port 3000] [--key KEY] [--min-interval-s 15]`; logs every entry. */
async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => optionValue(argv, name);
  const port = Number(arg("--port") ?? 3000);
  const minIntervalS = Number(arg("--min-interval-s") ?? 15);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("--port must be an integer 0..65535");
  if (!Number.isFinite(minIntervalS) || minIntervalS < 0) throw new Error("--min-interval-s must be a number >= 0");
  const server = new ThingSpeakServer({ port, apiKeys: [arg("--key") ?? "DEMOWRITEKEY0001"], minIntervalMs: minIntervalS * 1000 });
  await server.start();
  console.log(`ThingSpeak-style server on ${server.url}/update (min interval ${minIntervalS} s)`);
  let shown = 0;
  const timer = setInterval(() => {
    for (; shown < server.entries.length; shown++) console.log(JSON.stringify(server.entries[shown]));
  }, 500);
  process.once("SIGINT", () => {
    clearInterval(timer);
    void server.stop().then(() => process.exit(0));
  });
}

runCli(module, main);
