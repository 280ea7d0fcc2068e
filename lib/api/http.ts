// Node http adapter of the API: bounded body reading (413), CORS, JSON/problem responses. Works under Express (app.use) or a bare server.
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, toProblem } from "./problem";
import type { ApiResponse, ApiService } from "./service";

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/** The subset of Node-RED's `httpNodeCors` setting (the `cors` package options) the API honours. */
export interface CorsOptions {
  origin?: boolean | string | RegExp | (string | RegExp)[];
  methods?: string | string[];
  allowedHeaders?: string | string[];
  exposedHeaders?: string | string[];
  credentials?: boolean;
  maxAge?: number;
}

/** Reads at most `limit` bytes. Rejects with PAYLOAD_TOO_LARGE as soon as the declared or received size exceeds it. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume(); // drain so the connection can be reused
    return Promise.reject(new ApiError("PAYLOAD_TOO_LARGE", `body of ${declared} bytes exceeds ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const onData = (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new ApiError("PAYLOAD_TOO_LARGE", `body exceeds ${limit} bytes`));
        return; // keep draining (data is discarded) so the 413 reaches the client
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => {
      if (!failed) resolve(size ? Buffer.concat(chunks) : undefined);
    });
    req.once("error", (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

function originAllowed(setting: CorsOptions["origin"], origin: string): string | undefined {
  if (setting === undefined || setting === "*") return "*";
  if (setting === true) return origin;
  if (setting === false) return undefined;
  const list = Array.isArray(setting) ? setting : [setting];
  return list.some((o) => (typeof o === "string" ? o === origin : o.test(origin))) ? origin : undefined;
}

const joinList = (v: string | string[] | undefined, dflt: string): string => (v === undefined ? dflt : Array.isArray(v) ? v.join(",") : v);

/** CORS response headers for a request (empty when CORS is off or the origin is not allowed). */
export function corsHeaders(cors: CorsOptions | undefined, origin: string | undefined, preflight: boolean): Record<string, string> {
  if (!cors || !origin) return {};
  const allow = originAllowed(cors.origin, origin);
  if (!allow) return {};
  const h: Record<string, string> = { "Access-Control-Allow-Origin": allow };
  if (allow !== "*") h["Vary"] = "Origin";
  if (cors.credentials) h["Access-Control-Allow-Credentials"] = "true";
  if (cors.exposedHeaders) h["Access-Control-Expose-Headers"] = joinList(cors.exposedHeaders, "");
  if (preflight) {
    h["Access-Control-Allow-Methods"] = joinList(cors.methods, "GET,POST");
    h["Access-Control-Allow-Headers"] = joinList(cors.allowedHeaders, "Authorization,Content-Type");
    if (cors.maxAge !== undefined) h["Access-Control-Max-Age"] = String(cors.maxAge);
  }
  return h;
}

export interface HttpHandlerOptions {
  maxBodyBytes?: number;
  cors?: CorsOptions | undefined;
  /** Called once per finished request (status, ms, method and path relative to the base path) — for node status and metrics. Never receives tokens. */
  onDone?: (status: number, ms: number, req: { method: string; path: string }) => void;
  now?: () => number;
}

type HttpRequest = IncomingMessage & { originalUrl?: string; body?: unknown; _body?: boolean };

/** The request handler plus `reject`, which answers a request that failed before the handler (e.g. an upstream body parser) as a problem. */
export interface HttpHandler {
  (req: HttpRequest, res: ServerResponse): Promise<void>;
  reject(req: HttpRequest, res: ServerResponse, code: "INVALID_REQUEST" | "PAYLOAD_TOO_LARGE", message: string): Promise<void>;
}

/** Express-compatible handler (`(req, res)`) for a service mounted under its base path. */
export function createHttpHandler(service: ApiService, opts: HttpHandlerOptions = {}): HttpHandler {
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const now = opts.now ?? Date.now;
  const instanceOf = (req: HttpRequest) => new URL(req.originalUrl ?? req.url ?? "/", "http://localhost").pathname;
  const originOf = (req: HttpRequest) => (typeof req.headers.origin === "string" ? req.headers.origin : undefined);
  const answerProblem = (...[req, res, code, message]: Parameters<HttpHandler["reject"]>): void => {
    const started = now();
    const details = code === "INVALID_REQUEST" ? [{ path: "$", message: "not JSON" }] : undefined;
    const { problem, headers } = toProblem(
      new ApiError(code, code === "INVALID_REQUEST" ? `body is not valid JSON: ${message}` : message, { details }),
      instanceOf(req),
    );
    const response: ApiResponse = {
      status: problem.status,
      headers: { ...headers, "Content-Type": "application/problem+json", ...corsHeaders(opts.cors, originOf(req), false) },
      body: problem,
    };
    send(res, response, req.method === "HEAD");
    opts.onDone?.(response.status, now() - started, { method: req.method ?? "GET", path: new URL(req.url ?? "/", "http://localhost").pathname });
  };
  // Synchronous work, but a Promise like the handler: a throw reaches the caller as a rejection.
  const reject: HttpHandler["reject"] = (...args) => new Promise<void>((resolve) => resolve(answerProblem(...args)));
  const handler = async (req: HttpRequest, res: ServerResponse): Promise<void> => {
    const started = now();
    const url = new URL(req.url ?? "/", "http://localhost");
    const instance = instanceOf(req);
    const origin = originOf(req);
    let response: ApiResponse;
    if (req.method === "OPTIONS" && opts.cors) {
      response = { status: 204, headers: corsHeaders(opts.cors, origin, true), body: undefined };
    } else {
      let body: Buffer | undefined;
      let bodyError: unknown;
      if (req.method === "POST" || req.method === "PUT" || req.method === "PATCH") {
        try {
          // Some upstream middleware may already have parsed the body: reuse it rather than waiting for a drained stream.
          if (req._body && req.body !== undefined) body = Buffer.isBuffer(req.body) ? req.body : Buffer.from(JSON.stringify(req.body));
          else body = await readBody(req, limit);
          if (body && body.length > limit) throw new ApiError("PAYLOAD_TOO_LARGE", `body exceeds ${limit} bytes`);
        } catch (err) {
          bodyError = err;
        }
      }
      if (bodyError !== undefined) {
        const { problem, headers } = toProblem(bodyError, instance);
        response = { status: problem.status, headers: { ...headers, "Content-Type": "application/problem+json", Connection: "close" }, body: problem };
      } else {
        response = await service.handle({
          method: req.method ?? "GET",
          path: url.pathname,
          search: url.searchParams,
          authorization: typeof req.headers.authorization === "string" ? req.headers.authorization : undefined,
          remote: req.socket?.remoteAddress,
          contentType: typeof req.headers["content-type"] === "string" ? req.headers["content-type"] : undefined,
          body,
          instance,
        });
      }
      Object.assign(response.headers, corsHeaders(opts.cors, origin, false));
    }
    send(res, response, req.method === "HEAD");
    opts.onDone?.(response.status, now() - started, { method: req.method ?? "GET", path: url.pathname });
  };
  return Object.assign(handler, { reject });
}

/**
 * Serialised bodies by body object. Response bodies are never mutated once the service returned them, and
 * collapsed queries (ApiService.query) hand the same data object to every request that shared the reply, so it
 * is serialised once, not once per request. Entries go with their body object (WeakMap).
 */
const serialised = new WeakMap<object, Buffer>();

function serialise(body: unknown): Buffer | undefined {
  if (body === undefined) return undefined;
  if (Buffer.isBuffer(body)) return body; // already encoded (e.g. the /metrics text)
  if (typeof body !== "object" || body === null) return Buffer.from(JSON.stringify(body));
  let buf = serialised.get(body);
  if (!buf) {
    buf = Buffer.from(JSON.stringify(body));
    serialised.set(body, buf);
  }
  return buf;
}

function send(res: ServerResponse, r: ApiResponse, head: boolean): void {
  if (res.headersSent) return;
  const buf = serialise(r.body);
  res.statusCode = r.status;
  for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
  res.setHeader("Cache-Control", "no-store");
  if (buf && buf.length) res.setHeader("Content-Length", buf.length);
  res.end(head || !buf || !buf.length ? undefined : buf);
}
