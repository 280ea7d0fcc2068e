// Sends HttpRequestSpecs to InfluxDB over keep-alive HTTP(S) with a timeout; the only place that does I/O to the database.
import * as http from "node:http";
import * as https from "node:https";
import { gzip, constants as zconst, type ZlibOptions } from "node:zlib";
import { promisify } from "node:util";
import { displayUrl, type HttpRequestSpec, type InfluxSettings } from "./settings";

const gzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gzip);
/** Fastest gzip level: line protocol still shrinks ~5-10x, at a fraction of the CPU of the default level. */
const GZIP_OPTIONS: ZlibOptions = { level: zconst.Z_BEST_SPEED };

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class InfluxHttpError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** Retry-After in ms when the server sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "InfluxHttpError";
  }
  /** Network errors, timeouts, 429 and 5xx are worth retrying; 4xx means the request itself is wrong. */
  get retryable(): boolean {
    return this.status === undefined || this.status === 429 || this.status >= 500;
  }
}

/** Parses Retry-After (seconds or an HTTP date) into ms from `now`. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(parseFloat(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** What to do when nothing answers at the URL (the demo runs without InfluxDB: the API's 503 detail says how to get one). */
export const INSTALL_HINT =
  "is InfluxDB running? Install it with `apt-get install -y influxdb` (or `bash scripts/install.sh`), or set the URL in the plugwatch-influx node (PLUGWATCH_INFLUX_URL)";

/** STORAGE_UNAVAILABLE message for a network error or timeout: the URL's origin (never credentials), the cause and the install hint. */
export function unreachableMessage(url: string, cause: string): string {
  return `cannot reach InfluxDB at ${displayUrl(url)}: ${cause} — ${INSTALL_HINT}`;
}

/**
 * Sockets per config node. One connection serves every node using it: the hook's writes (1 in flight by default)
 * and plugwatch-influx-query's concurrent queries (8 by default, up to 64); with fewer sockets than that, queries would
 * queue inside the agent where the query timeout still runs.
 */
const MAX_SOCKETS = 16;

export class InfluxHttp {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(private readonly settings: InfluxSettings) {
    this.base = new URL(settings.url);
    const isHttps = this.base.protocol === "https:";
    this.agent = isHttps
      ? new https.Agent({
          keepAlive: true,
          maxSockets: MAX_SOCKETS,
          rejectUnauthorized: settings.tls.rejectUnauthorized,
          ...(settings.tls.ca ? { ca: settings.tls.ca } : {}),
        })
      : new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  }

  /**
   * Sends the request; resolves for 2xx, rejects with InfluxHttpError otherwise (body text in the message).
   * `signal` aborts it (the socket is destroyed; the rejection says "aborted").
   */
  async send(spec: HttpRequestSpec, body?: string | Buffer, opts: { signal?: AbortSignal } = {}): Promise<HttpResponse> {
    if (opts.signal?.aborted) throw new InfluxHttpError(`request to InfluxDB at ${displayUrl(this.settings.url)} aborted`);
    let payload: Buffer | undefined = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
    const headers: Record<string, string> = { ...spec.headers };
    if (payload && headers["Content-Encoding"] === "gzip") payload = await gzipAsync(payload, GZIP_OPTIONS);
    // The 1.x-compatible /query endpoint takes its parameters as a form body on POST.
    let search = new URLSearchParams(spec.query).toString();
    if (spec.path === "/query" && spec.method === "POST" && payload === undefined) {
      payload = Buffer.from(search, "utf8");
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      search = "";
    }
    if (payload) headers["Content-Length"] = String(payload.length);
    const basePath = this.base.pathname.replace(/\/$/, "");
    const mod = this.base.protocol === "https:" ? https : http;
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = mod.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          method: spec.method,
          path: `${basePath}${spec.path}${search ? `?${search}` : ""}`,
          headers,
          agent: this.agent,
          timeout: this.settings.timeoutMs,
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (err) => reject(new InfluxHttpError(err.message)));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve({ status, headers: res.headers, body: text });
            else reject(new InfluxHttpError(`InfluxDB answered ${status}: ${text.slice(0, 300)}`, status, parseRetryAfter(res.headers["retry-after"])));
          });
        },
      );
      // Header and body go out as one write, but keep Nagle off anyway: a query's reply time is what the API waits for.
      req.setNoDelay(true);
      req.on("timeout", () => req.destroy(new Error(`timeout after ${this.settings.timeoutMs} ms`)));
      req.on("error", (err) =>
        reject(
          new InfluxHttpError(
            opts.signal?.aborted ? `request to InfluxDB at ${displayUrl(this.settings.url)} aborted` : unreachableMessage(this.settings.url, err.message),
          ),
        ),
      );
      if (payload) req.write(payload);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
