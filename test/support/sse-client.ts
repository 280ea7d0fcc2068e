// A server-sent events reader for e2e tests, on node:http/https (fetch cannot be given a CA): parses the stream as
// it arrives (events, comments, retry) and waits for what a test expects, with a deadline.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface StreamEvent {
  id?: string;
  event?: string;
  data: string;
}

export interface SseOptions {
  headers?: Record<string, string>;
  /** PEM of the CA to trust (https URLs). */
  ca?: Buffer | string;
  timeoutMs?: number;
}

/** An HTTP answer that was not an event stream: status, headers and body. */
export interface SseRefusal {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export class SseStream {
  readonly events: StreamEvent[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  ended = false;
  private buffer = "";
  private waiters: (() => void)[] = [];

  constructor(
    readonly res: IncomingMessage,
    private readonly close: () => void,
  ) {
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => this.take(chunk));
    const end = () => {
      this.ended = true;
      this.wake();
    };
    res.on("end", end);
    res.on("close", end);
    res.on("error", end);
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  /** Resolves when `check()` is true (re-checked on every chunk and at the end); rejects after `timeoutMs`. */
  until<T>(what: string, check: () => T | undefined | false, timeoutMs = 10000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== test);
        reject(new Error(`SSE: no ${what} within ${timeoutMs} ms; events so far: ${JSON.stringify(this.events.slice(-5))}`));
      }, timeoutMs);
      const test = (): void => {
        const v = check();
        if (v !== undefined && v !== false) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== test);
          resolve(v);
        } else if (this.ended) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== test);
          reject(new Error(`SSE: the stream ended before ${what}`));
        }
      };
      this.waiters.push(test);
      test();
    });
  }

  /** The next event (from index `from` on) matching `match`. */
  next(what: string, match: (e: StreamEvent) => boolean, from = 0, timeoutMs = 10000): Promise<StreamEvent> {
    return this.until(what, () => this.events.slice(from).find(match), timeoutMs);
  }

  /** Resolves when the server ends the stream. */
  whenEnded(timeoutMs = 10000): Promise<true> {
    return this.until("end of the stream", () => this.ended || undefined, timeoutMs).catch((e: unknown) => {
      if (this.ended) return true as const;
      throw e;
    });
  }

  /** The client disconnects. */
  destroy(): void {
    this.close();
  }

  private take(chunk: string): void {
    this.buffer += chunk.replace(/\r\n?/g, "\n");
    let cut: number;
    while ((cut = this.buffer.indexOf("\n\n")) >= 0) {
      const block = this.buffer.slice(0, cut);
      this.buffer = this.buffer.slice(cut + 2);
      const e: StreamEvent = { data: "" };
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
        else {
          const i = line.indexOf(":");
          const field = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
          if (field === "data") data.push(value);
          else if (field === "id") e.id = value;
          else if (field === "event") e.event = value;
          else if (field === "retry") this.retry = Number(value);
        }
      }
      if (data.length) {
        e.data = data.join("\n");
        this.events.push(e);
      }
    }
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** GETs `url` as an event stream: the open stream on 200 `text/event-stream`, else the refusal (status + body). */
export function openSse(url: string, opts: SseOptions = {}): Promise<SseStream | SseRefusal> {
  const request = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", headers: { accept: "text/event-stream", ...opts.headers }, ...(opts.ca ? { ca: opts.ca } : {}) }, (res) => {
      if (res.statusCode === 200 && /^text\/event-stream/.test(res.headers["content-type"] ?? "")) {
        req.setTimeout(0);
        resolve(new SseStream(res, () => req.destroy()));
        return;
      }
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(opts.timeoutMs ?? 10000, () => req.destroy(new Error(`SSE: no answer from ${url}`)));
    req.on("error", reject);
    req.end();
  });
}

/** The open stream, or a failed assertion naming the refusal. */
export async function mustOpenSse(url: string, opts: SseOptions = {}): Promise<SseStream> {
  const r = await openSse(url, opts);
  if (r instanceof SseStream) return r;
  throw new Error(`SSE: ${url} answered ${r.status}: ${r.body.slice(0, 300)}`);
}
