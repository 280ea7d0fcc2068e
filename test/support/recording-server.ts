// A loopback HTTP server that records every request (method, path, query, headers, gunzipped body) and answers scripted responses.
import * as http from "node:http";
import { gunzipSync } from "node:zlib";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  /** The raw body as received. */
  raw: Buffer;
  /** The body, gunzipped when Content-Encoding is gzip. */
  body: string;
  at: number;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface RecordingServer {
  url: string;
  requests: RecordedRequest[];
  /** Responses used in order, one per request; when empty, `fallback` answers. */
  script: ScriptedResponse[];
  fallback: ScriptedResponse;
  /** Resolves when at least `n` requests were recorded. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startRecordingServer(fallback: ScriptedResponse = { status: 204 }): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const script: ScriptedResponse[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const u = new URL(req.url ?? "/", "http://x");
      const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
      requests.push({ method: req.method ?? "", path: u.pathname, query: Object.fromEntries(u.searchParams), headers: req.headers, raw, body, at: Date.now() });
      const r = script.shift() ?? server.fallback;
      res.writeHead(r.status, r.headers ?? {});
      res.end(r.body ?? "");
      for (const w of [...waiters]) {
        if (requests.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as AddressInfo).port;
  const server: RecordingServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    script,
    fallback,
    waitFor(n, timeoutMs = 10000) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`only ${requests.length} of ${n} requests recorded after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
    close() {
      srv.closeAllConnections();
      return new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
  return server;
}
