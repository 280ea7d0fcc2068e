// The API's HTTP adapter on a real loopback server: body bound (413, declared or streamed), media type (415), CORS, HEAD, reject() for upstream parse errors.
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { createHttpHandler, type CorsOptions, type HttpHandler } from "../../lib/api/http";
import type { ApiService } from "../../lib/api/service";
import { buildRegistry } from "../../lib/registry";
import { testApiService } from "../support/api-service";

const registry = buildRegistry(
  {
    devices: [
      { id: "pr-1", name: "Printer", model: "HS110", host: "127.0.0.1", port: 9999, kind: "printer", location: { building: "hq", floor: "1", room: "copy" } },
    ],
  },
  "test",
);

function service(): ApiService {
  // A broker that is down: every MQTT-bound request fails fast with 503, which is all these tests need.
  return testApiService({ registry, broker: { connected: () => false, publish: () => Promise.reject(new Error("down")) } });
}

async function serve(
  handler: HttpHandler,
  pre?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (pre?.(req, res)) return;
    void handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("api http adapter", function () {
  let srv: { url: string; close: () => Promise<void> };
  const statuses: number[] = [];
  const cors: CorsOptions = { origin: ["https://app.example"], credentials: true, maxAge: 600 };

  before(async function () {
    const handler = createHttpHandler(service(), { maxBodyBytes: 64, cors, onDone: (s) => statuses.push(s) });
    srv = await serve(handler, (req, res) => {
      if (req.url !== "/parse-error") return false;
      void handler.reject(req, res, "INVALID_REQUEST", "Unexpected token } in JSON at position 1");
      return true;
    });
  });
  after(async function () {
    await srv.close();
  });

  it("answers a registry endpoint with JSON and no-store", async function () {
    const r = await fetch(`${srv.url}/devices/pr-1`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal(r.headers.get("cache-control"), "no-store");
    assert.equal(((await r.json()) as { id: string }).id, "pr-1");
  });

  it("413 for a declared or streamed body over the bound, before the service sees it", async function () {
    const declared = await fetch(`${srv.url}/power`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ state: "on", pad: "x".repeat(100) }),
    });
    assert.equal(declared.status, 413);
    assert.equal(((await declared.json()) as { code: string }).code, "PAYLOAD_TOO_LARGE");
    // Chunked: no Content-Length, the bound trips while reading.
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${srv.url}/power`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      for (let i = 0; i < 10; i++) req.write(`{"pad":"${"y".repeat(20)}"}`);
      req.end();
    });
    assert.equal(streamed.status, 413);
    assert.equal((JSON.parse(streamed.body) as { code: string }).code, "PAYLOAD_TOO_LARGE");
  });

  it("415 for a body that is not JSON, 503 at once when the broker is down", async function () {
    const r = await fetch(`${srv.url}/power`, { method: "POST", headers: { "content-type": "text/plain" }, body: "state=on" });
    assert.equal(r.status, 415);
    const started = Date.now();
    const q = await fetch(`${srv.url}/devices/pr-1/power`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"state":"on"}' });
    assert.equal(q.status, 503);
    assert.equal(q.headers.get("retry-after"), "5");
    assert.ok(Date.now() - started < 1500, "at once, not after the 10 s reply timeout");
  });

  it("CORS: preflight and response headers for an allowed origin, none for another", async function () {
    const pre = await fetch(`${srv.url}/devices`, { method: "OPTIONS", headers: { origin: "https://app.example" } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(pre.headers.get("access-control-allow-credentials"), "true");
    assert.equal(pre.headers.get("access-control-max-age"), "600");
    assert.match(pre.headers.get("access-control-allow-headers") ?? "", /Authorization/);
    const ok = await fetch(`${srv.url}/devices`, { headers: { origin: "https://app.example" } });
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(ok.headers.get("vary"), "Origin");
    const other = await fetch(`${srv.url}/devices`, { headers: { origin: "https://evil.example" } });
    assert.equal(other.status, 200);
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  });

  it("HEAD answers headers without a body; reject() turns an upstream parse error into a 400 problem", async function () {
    const head = await fetch(`${srv.url}/devices`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const r = await fetch(`${srv.url}/parse-error`, { method: "POST" });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get("content-type"), "application/problem+json");
    const p = (await r.json()) as { code: string; detail: string; instance: string };
    assert.equal(p.code, "INVALID_REQUEST");
    assert.match(p.detail, /not valid JSON/);
    assert.equal(p.instance, "/parse-error");
    assert.ok(statuses.includes(400) && statuses.includes(413) && statuses.includes(503));
  });
});
