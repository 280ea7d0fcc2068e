// The HTTP edge of a server-sent events endpoint: GET only, the event-stream headers, Last-Event-ID (header, or
// ?lastEventId= for clients that cannot set headers), the client cap as a 503 problem, and detach on disconnect.
import type { IncomingMessage, ServerResponse } from "node:http";
import { problemType, TITLES, type ApiErrorCode } from "../api/problem";
import type { SseHub } from "./event-hub";

export interface SseHandlerOptions {
  /** Called after every connect and disconnect with the number of clients. */
  onClients?: (count: number) => void;
  /** Seconds a refused client is told to wait (Retry-After). */
  retryAfterS?: number;
  /** Run first, in order (settings.js httpNodeMiddleware); an error goes to next(err). */
  middleware?: readonly Middleware[];
}

type Middleware = (req: never, res: never, next: (err?: unknown) => void) => void;

type Req = IncomingMessage & { path?: string; originalUrl?: string };

function problem(res: ServerResponse, req: Req, status: number, code: ApiErrorCode, detail: string, headers: Record<string, string> = {}): void {
  const body = { type: problemType(code), title: TITLES[status] ?? "Error", status, detail, code, instance: (req.originalUrl ?? req.url ?? "").split("?")[0] };
  res.writeHead(status, { "Content-Type": "application/problem+json", "Cache-Control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

/** Last-Event-ID from the header the browser's EventSource sends on reconnect, or from the query string. */
export function lastEventIdOf(req: IncomingMessage): string | undefined {
  const h = req.headers["last-event-id"];
  if (typeof h === "string" && h) return h;
  const q = new URL(req.url ?? "/", "http://x").searchParams.get("lastEventId");
  return q || undefined;
}

/** An (req, res, next) handler serving `hub` at the mount point itself; deeper paths go to next(). */
export function sseHandler(hub: () => SseHub | undefined, opts: SseHandlerOptions = {}) {
  const serve = (req: Req, res: ServerResponse, next: () => void): void => {
    const sub = req.path ?? "/";
    if (sub !== "/" && sub !== "") return next();
    if (req.method !== "GET" && req.method !== "HEAD")
      return problem(res, req, 405, "METHOD_NOT_ALLOWED", `${req.method} is not allowed: GET the event stream`, { Allow: "GET, HEAD" });
    const live = hub();
    if (!live) return problem(res, req, 503, "INTERNAL", "the event stream is closing", { "Retry-After": String(opts.retryAfterS ?? 5) });
    if (req.method === "HEAD") {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      return void res.end();
    }
    if (live.full) {
      return problem(res, req, 503, "LIMIT_EXCEEDED", `too many clients of this event stream (at most ${String(live.maxClients)})`, {
        "Retry-After": String(opts.retryAfterS ?? 5),
      });
    }
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no", // nginx: do not buffer the stream
    });
    res.socket?.setNoDelay(true);
    const result = live.connect(
      {
        write: (chunk) => void res.write(chunk),
        end: () => res.end(),
        buffered: () => res.writableLength,
      },
      lastEventIdOf(req),
    );
    if (!result.ok) return void res.end(); // closed between the check and now (the cap was checked above)
    opts.onClients?.(live.clientCount);
    let gone = false;
    const bye = (): void => {
      if (gone) return;
      gone = true;
      result.detach();
      opts.onClients?.(live.clientCount);
    };
    req.on("close", bye);
    res.on("close", bye);
    res.on("error", bye);
  };
  return (req: Req, res: ServerResponse, next: (err?: unknown) => void): void => {
    const chain = opts.middleware ?? [];
    let i = 0;
    const step = (err?: unknown): void => {
      if (err) return next(err);
      const mw = chain[i++] as ((req: Req, res: ServerResponse, next: (err?: unknown) => void) => void) | undefined;
      if (mw) return mw(req, res, step);
      serve(req, res, next);
    };
    step();
  };
}
