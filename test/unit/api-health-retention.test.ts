// /health and retention: the plugwatch-influx config node's retention state travels in the hook's component status
// to the API; applied tiers keep /health ok, refused ones make it degraded with the error.
import assert from "node:assert/strict";
import { Authenticator } from "../../lib/api/auth";
import { Correlator } from "../../lib/api/correlator";
import { Health } from "../../lib/api/schemas";
import { ApiService } from "../../lib/api/service";
import { ApiState } from "../../lib/api/state";
import { ComponentStatus, validate } from "../../lib/contracts";
import { hookStatus } from "../../lib/influx/hook-status";
import { InfluxHttpError, type HttpResponse } from "../../lib/influx/http";
import { RetentionManager } from "../../lib/influx/retention-manager";
import type { HttpRequestSpec } from "../../lib/influx/settings";
import type { WriterStats } from "../../lib/influx/writer";
import { buildRegistry } from "../../lib/registry";
import { FakeTime } from "../support/fake-time";
import { testRetentionManager } from "../support/retention-manager";

const registry = buildRegistry(
  {
    devices: [
      { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 9999, kind: "workplace", location: { building: "hq", floor: "1", room: "open" } },
    ],
  },
  "test",
);

const STATS: WriterStats = {
  acceptedLines: 10,
  writtenLines: 10,
  rejectedLines: 0,
  acceptedPerSec: 1,
  writtenPerSec: 1,
  backlogLines: 0,
  backlogBytes: 0,
  retries: 0,
  retrying: false,
  inFlight: 0,
  spool: {
    backlogLines: 0,
    backlogBytes: 0,
    diskBytes: 0,
    appendedLines: 10,
    ackedLines: 10,
    rejectedLines: 0,
    droppedLines: 0,
    segments: 1,
    fairShareRejectedLines: 0,
    maxBytes: 1_000_000,
    keys: 0,
    largestKeyBytes: 0,
    recovery: { segments: 0, records: 0, lines: 0, skippedBytes: 0, tornBytes: 0, corruptRegions: 0, lostLines: 0, keptRecords: 0 },
  },
};

/** A manager whose InfluxDB answers `answer` to every /query (a real 1.x JSON body) or refuses with `status`. */
function manager(time: FakeTime, answer: { status: number; body?: string }): RetentionManager {
  const send = (_spec: HttpRequestSpec): Promise<HttpResponse> =>
    answer.status === 200
      ? Promise.resolve({ status: 200, headers: {}, body: answer.body ?? "{}" })
      : Promise.reject(new InfluxHttpError(`InfluxDB answered ${answer.status}: ${answer.body ?? ""}`, answer.status));
  return testRetentionManager(time, send);
}

describe("/health retention", function () {
  it("shows the tiers' state per component: applied → ok; refused → degraded with ROLLUP_FAILED", async function () {
    const time = new FakeTime();
    const state = new ApiState({ root: "t" });
    const sent: { id: string }[] = [];
    const service = new ApiService({
      root: "t",
      basePath: "/api/v1",
      registry: () => registry,
      broker: { connected: () => true, publish: (_t, payload) => Promise.resolve(void sent.push(JSON.parse(payload) as { id: string })) },
      correlator: new Correlator({ timeoutMs: 5000 }),
      state,
      auth: new Authenticator([], false),
      replyTopic: "t/api/reply/x",
      inactiveAfterDays: 30,
      openHealth: true,
      openSpec: true,
      now: () => time.now,
    });
    const health = async (): Promise<Health> => {
      const pending = service.handle({ method: "GET", path: "/health", search: new URLSearchParams(), instance: "/api/v1/health" });
      await new Promise((r) => setImmediate(r));
      for (const s of sent.splice(0))
        service.onReply(Buffer.from(JSON.stringify({ v: 1, id: s.id, ok: false, error: { code: "UNKNOWN_DEVICE", message: "probe" } })));
      return (await pending).body as Health;
    };
    const report = (m: RetentionManager): void => {
      const status = hookStatus(STATS, { invalidInputs: 0, invalidElements: 0, spoolFullRefusals: 0 }, { node: "n1" }, time.now, { retention: m.status() });
      const msg: unknown = JSON.parse(JSON.stringify(status));
      const r = validate(ComponentStatus, msg);
      assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
      assert.equal(state.ingest("t/status/influx-hook", JSON.stringify(msg)), "status");
    };

    // A server already in step (SHOW answers listing our RPs and CQs would be needed for "in step"; an empty SHOW
    // plans the creates, each answered 200 with no error): applied.
    const ok = manager(time, { status: 200, body: JSON.stringify({ results: [{ statement_id: 0 }] }) });
    await ok.start();
    assert.equal(ok.status().state, "applied");
    report(ok);
    let h = await health();
    assert.equal(validate(Health, h).ok, true);
    assert.equal(h.status, "ok");
    assert.deepEqual(h.storage.components[0]?.retention, { state: "applied" });

    const refused = manager(time, { status: 403, body: '{"error":"requires admin privilege"}' });
    await refused.start();
    report(refused);
    h = await health();
    assert.equal(validate(Health, h).ok, true);
    assert.equal(h.status, "degraded");
    assert.equal(h.storage.problem, "retention tiers refused");
    assert.equal(h.storage.components[0]?.retention?.state, "failed");
    assert.equal(h.storage.components[0]?.retention?.error?.code, "ROLLUP_FAILED");
    assert.match(h.storage.components[0]?.retention?.error?.message ?? "", /requires admin privilege/);
    await Promise.all([ok.close(), refused.close()]);
  });

  it("keeps retrying while InfluxDB is unreachable (state pending, STORAGE_UNAVAILABLE), then applies", async function () {
    const time = new FakeTime();
    let up = false;
    const texts: string[] = [];
    const send = (spec: HttpRequestSpec): Promise<HttpResponse> => {
      if (!up) return Promise.reject(new InfluxHttpError("cannot reach InfluxDB at http://127.0.0.1:1: connect ECONNREFUSED"));
      texts.push(spec.query.q ?? "");
      return Promise.resolve({ status: 200, headers: {}, body: JSON.stringify({ results: [{ statement_id: 0 }] }) });
    };
    const m = testRetentionManager(time, send, { retryMs: 30_000 });
    await m.start();
    assert.deepEqual([m.status().state, m.status().error?.code], ["pending", "STORAGE_UNAVAILABLE"]);
    await time.advance(29_000);
    assert.equal(texts.length, 0);
    up = true;
    await time.advance(1000);
    assert.equal(m.status().state, "applied");
    assert.equal(texts[0], `SHOW RETENTION POLICIES ON "pw"`);
    assert.ok(texts.includes(`CREATE RETENTION POLICY "plugwatch_raw" ON "pw" DURATION 720h REPLICATION 1 DEFAULT`), texts.join("\n"));
    await m.close();
    assert.equal(time.pending, 0, "no timer left after close");
  });
});
