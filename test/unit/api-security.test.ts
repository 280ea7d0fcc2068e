// REST API security: tokens stored hashed and named, per-token rate limit (429 + Retry-After), unknown tokens slowed,
// and the token's name (never the token) carried in command requests for the audit trail.
import assert from "node:assert/strict";
import { Authenticator, hashToken, parseTokens } from "../../lib/api/auth";
import { Correlator } from "../../lib/api/correlator";
import { RateLimiter } from "../../lib/api/rate-limit";
import { ApiService } from "../../lib/api/service";
import { ApiState } from "../../lib/api/state";
import { buildRegistry } from "../../lib/registry";

const TOKEN = "ops-token-0123456789abcdef";
const registry = buildRegistry({
  devices: [{ id: "ws-1", name: "a", model: "HS110", host: "10.0.0.1", kind: "workplace", location: { building: "hq", floor: "1", room: "r" } }],
});

function service(
  now: () => number,
  published: { topic: string; payload: string }[],
  tokens: string,
  onAuthFailure?: (e: { total: number; limited: boolean; remote?: string }) => void,
) {
  const svc: ApiService = new ApiService({
    root: "t",
    basePath: "/api/v1",
    registry: () => registry,
    broker: {
      connected: () => true,
      publish: (topic, payload) => {
        published.push({ topic, payload });
        const req = JSON.parse(payload) as { id: string; action?: string };
        if (req.action) queueMicrotask(() => svc.onReply(JSON.stringify({ v: 1, id: req.id, ok: true, results: [{ device: "ws-1", ok: true, relay: true }] })));
        return Promise.resolve();
      },
    },
    correlator: new Correlator({ timeoutMs: 1000 }),
    state: new ApiState({ root: "t" }),
    auth: new Authenticator(parseTokens(tokens), true),
    replyTopic: "t/api/reply/x",
    inactiveAfterDays: 30,
    openHealth: true,
    openSpec: true,
    now,
    rateLimit: { ratePerSec: 2, burst: 3 },
    failureLimit: { ratePerSec: 1, burst: 2 },
    ...(onAuthFailure ? { onAuthFailure } : {}),
  });
  return svc;
}
const get = (path: string, token?: string) => ({
  method: "GET",
  path,
  search: new URLSearchParams(),
  instance: path,
  ...(token ? { authorization: `Bearer ${token}` } : {}),
});

describe("REST API security", function () {
  it("a token stored as sha256:<hex> works and is named; the credential never holds the token", async function () {
    const t = 0;
    const svc = service(() => t, [], `${hashToken(TOKEN)} read,control ops-laptop`);
    assert.equal((await svc.handle(get("/devices", TOKEN))).status, 200);
    assert.equal((await svc.handle(get("/devices", "x".repeat(20)))).status, 401);
    assert.doesNotMatch(hashToken(TOKEN), new RegExp(TOKEN));
    const unnamed = new Authenticator(parseTokens(`${TOKEN} read`), true).check(`Bearer ${TOKEN}`, "read");
    assert.match(unnamed?.name ?? "", /^token-[0-9a-f]{8}$/);
  });

  it("per-token rate limit: the 4th request in a burst of 3 gets 429 with Retry-After; it recovers with time", async function () {
    let t = 1_000_000;
    const svc = service(() => t, [], `${TOKEN} read ops`);
    for (let i = 0; i < 3; i++) assert.equal((await svc.handle(get("/devices", TOKEN))).status, 200);
    const r = await svc.handle(get("/devices", TOKEN));
    assert.equal(r.status, 429);
    assert.equal(r.headers["Retry-After"], "1");
    assert.equal((r.body as { code: string }).code, "TOO_MANY_REQUESTS");
    t += 1000;
    assert.equal((await svc.handle(get("/devices", TOKEN))).status, 200);
  });

  it("every unknown-token request is reported for the log with a running count, the address and whether it was slowed; never the token", async function () {
    const seen: { total: number; limited: boolean; remote?: string }[] = [];
    const svc = service(
      () => 7,
      [],
      `${TOKEN} read ops`,
      (e) => seen.push(e),
    );
    for (let i = 0; i < 3; i++) await svc.handle({ ...get("/devices", `guess-${i}-0123456789abcdef`), remote: "10.0.0.66" });
    await svc.handle(get("/devices", TOKEN));
    await svc.handle(get("/devices"));
    assert.deepEqual(seen, [
      { total: 1, limited: false, remote: "10.0.0.66" },
      { total: 2, limited: false, remote: "10.0.0.66" },
      { total: 3, limited: true, remote: "10.0.0.66" },
    ]);
    assert.doesNotMatch(JSON.stringify(seen), /guess|0123456789/);
  });

  it("unknown tokens are slowed together (429 after the burst), without saying which part was wrong", async function () {
    const t = 5;
    const svc = service(() => t, [], `${TOKEN} read ops`);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await svc.handle(get("/devices", `guess-${i}-0123456789abcdef`))).status);
    assert.deepEqual(codes, [401, 401, 429, 429]);
    // A valid token is not affected by others' guessing.
    assert.equal((await svc.handle(get("/devices", TOKEN))).status, 200);
  });

  it("a command from the API carries the token's name (never the token)", async function () {
    const published: { topic: string; payload: string }[] = [];
    const svc = service(() => 0, published, `${TOKEN} read,control ops-laptop`);
    const r = await svc.handle({ ...get("/devices/ws-1/power", TOKEN), method: "POST", contentType: "application/json", body: Buffer.from('{"state":"on"}') });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const cmd = published.find((p) => p.topic === "t/api/request/command");
    assert.equal((JSON.parse(cmd?.payload ?? "{}") as { by?: string }).by, "ops-laptop");
    assert.doesNotMatch(cmd?.payload ?? "", new RegExp(TOKEN));
  });

  it("GET /audit lists the agent's records (control scope), filtered by device, token name and time", async function () {
    const svc = service(() => 1764000010000, [], `${TOKEN} read,control ops\nread-only-token-0123456789 read wall`);
    const state = (svc as unknown as { o: { state: ApiState } }).o.state;
    const rec = (id: string, by: string, device: string, ts: number) => ({
      v: 1,
      ts,
      id,
      by,
      action: "off",
      target: { device },
      ok: true,
      results: [{ device, ok: true, relay: false }],
    });
    assert.equal(state.ingest("t/audit/command", JSON.stringify(rec("a1", "ops", "ws-1", 1764000000000))), "audit");
    assert.equal(state.ingest("t/audit/command", JSON.stringify(rec("a2", "wall", "ws-2", 1764000005000))), "audit");
    assert.equal(state.ingest("t/audit/command", '{"v":1,"forged":true}'), "invalid");
    const all = await svc.handle(get("/audit", TOKEN));
    assert.equal(all.status, 200);
    assert.deepEqual(
      (all.body as { records: { id: string }[] }).records.map((r) => r.id),
      ["a1", "a2"],
    );
    const q = { ...get("/audit", TOKEN), search: new URLSearchParams({ by: "ops", device: "ws-1" }) };
    assert.deepEqual(
      ((await svc.handle(q)).body as { records: { id: string }[] }).records.map((r) => r.id),
      ["a1"],
    );
    const since = { ...get("/audit", TOKEN), search: new URLSearchParams({ from: new Date(1764000002000).toISOString() }) };
    assert.deepEqual(
      ((await svc.handle(since)).body as { records: { id: string }[] }).records.map((r) => r.id),
      ["a2"],
    );
    assert.equal((await svc.handle(get("/audit", "read-only-token-0123456789"))).status, 403);
  });

  it("the limiter keeps a bounded number of keys", function () {
    const l = new RateLimiter({ ratePerSec: 1, burst: 1, maxKeys: 2, now: () => 0 });
    assert.equal(l.take("a").ok, true);
    assert.equal(l.take("a").ok, false);
    l.take("b");
    l.take("c"); // forgets "a"
    assert.equal(l.take("a").ok, true);
  });
});
