// /health and storage: the plugwatch-influx-hook's status (spool full, fill level, oldest unsent reading, write errors) shows in
// `storage` and turns the status `degraded`; peers answer, so nothing else degrades it.
import assert from "node:assert/strict";
import { Authenticator } from "../../lib/api/auth";
import { Correlator } from "../../lib/api/correlator";
import { ApiService } from "../../lib/api/service";
import { ApiState } from "../../lib/api/state";
import type { Health } from "../../lib/api/schemas";
import { CONTRACT_VERSION } from "../../lib/contracts/common";
import { buildRegistry } from "../../lib/registry";

const registry = buildRegistry(
  {
    devices: [
      { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 9999, kind: "workplace", location: { building: "hq", floor: "1", room: "open" } },
    ],
  },
  "test",
);
const NOW = Date.UTC(2026, 11, 4, 6);

describe("/health storage", function () {
  it("is ok with healthy storage and degraded while the spool is full, naming the problem and the storage figures", async function () {
    const state = new ApiState({ root: "t" });
    const sent: { id: string }[] = [];
    const service = new ApiService({
      root: "t",
      basePath: "/api/v1",
      registry: () => registry,
      broker: { connected: () => true, publish: (_t, payload) => (sent.push(JSON.parse(payload) as { id: string }), Promise.resolve()) },
      correlator: new Correlator({ timeoutMs: 5000 }),
      state,
      auth: new Authenticator([], false),
      replyTopic: "t/api/reply/x",
      inactiveAfterDays: 30,
      openHealth: true,
      openSpec: true,
      now: () => NOW,
    });
    const health = async (): Promise<Health> => {
      const pending = service.handle({ method: "GET", path: "/health", search: new URLSearchParams(), instance: "/api/v1/health" });
      await new Promise((r) => setImmediate(r));
      // Any valid reply proves a peer answers (an error reply too).
      for (const s of sent.splice(0))
        service.onReply(Buffer.from(JSON.stringify({ v: 1, id: s.id, ok: false, error: { code: "UNKNOWN_DEVICE", message: "probe" } })));
      return (await pending).body as Health;
    };
    const status = (extra: Record<string, unknown>) =>
      state.ingest("t/status/influx-hook", JSON.stringify({ v: CONTRACT_VERSION, component: "influx-hook", ts: NOW, backlog: 1200, ...extra }));

    assert.equal(status({ spoolFull: false, fill: 0.2, oldestAgeMs: 60_000, writeErrors: 0, retrying: false }), "status");
    let h = await health();
    assert.equal(h.status, "ok");
    assert.deepEqual([h.storage.problem, h.storage.oldestAgeMs, h.storage.backlog], [null, 60_000, 1200]);

    status({ spoolFull: true, fill: 1, oldestAgeMs: 67_000, writeErrors: 12, retrying: true });
    h = await health();
    assert.equal(h.status, "degraded");
    assert.equal(h.storage.problem, "spool full");
    assert.deepEqual(h.storage.components, [
      { component: "influx-hook", backlog: 1200, ts: NOW, spoolFull: true, fill: 1, oldestAgeMs: 67_000, writeErrors: 12, retrying: true },
    ]);

    status({ spoolFull: false, fill: 0.1, writeErrors: 12, retrying: true });
    assert.equal((await health()).storage.problem, "database writes failing");
    status({ spoolFull: false, fill: 0.1, writeErrors: 12, retrying: false });
    assert.equal((await health()).status, "ok");
  });
});
