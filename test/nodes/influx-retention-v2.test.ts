// plugwatch-influx with Rollups on for InfluxDB 2.x and 3.x: the exact HTTP requests (buckets, DBRP mappings, tasks),
// recorded by a loopback server (no 2.x server runs here), and 3.x's documented limitation.
import assert from "node:assert/strict";
import type { RetentionManager, RetentionStatus } from "../../lib/influx/retention-manager";
import { fluxTask } from "../../lib/influx/rollup-aggregate";
import { helper } from "../support/node-helper";
import { startRecordingServer, type RecordingServer, type ScriptedResponse } from "../support/recording-server";
import { eventually } from "../../scripts/harness/wait";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED node modules are `export =`
import influxNode = require("../../nodes/plugwatch-influx/plugwatch-influx");

const json = (body: unknown): ScriptedResponse => ({ status: 200, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const DAY_S = 86_400;
const FLUX_1M = fluxTask("plugwatch_rollup_1m", "office", "pw", "pw_1m", "1m");
const FLUX_1H = fluxTask("plugwatch_rollup_1h", "office", "pw", "pw_1h", "1h");

describe("plugwatch-influx retention tiers on 2.x and 3.x (recording server)", function () {
  this.timeout(20_000);
  let server: RecordingServer;

  beforeEach(function (done) {
    void startRecordingServer(json({})).then((s) => {
      server = s;
      helper.startServer(done);
    });
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await server.close();
  });

  const status = (): RetentionStatus => (helper.getNode("influx") as unknown as { retention: RetentionManager }).retention.status();
  const settled = (): Promise<RetentionStatus> => eventually("retention settled", status, (s) => s.state !== "pending", { timeoutMs: 10_000, everyMs: 20 });

  it("2.x: sets the raw bucket's retention, creates the rollup buckets, then maps and schedules them, then finds nothing to do", async function () {
    const reads = (buckets: unknown[][], tasks: unknown[][], dbrps: unknown[]): ScriptedResponse[] => [
      json({ orgs: [{ id: "o1", name: "office" }] }),
      ...buckets.map((b) => json({ buckets: b })),
      ...tasks.map((t) => json({ tasks: t })),
      json({ content: dbrps }),
    ];
    const b0 = { id: "b0", name: "pw", retentionRules: [] };
    const b0in = { ...b0, retentionRules: [{ type: "expire", everySeconds: 30 * DAY_S }] };
    const b1 = { id: "b1", name: "pw_1m", retentionRules: [{ type: "expire", everySeconds: 730 * DAY_S }] };
    const b2 = { id: "b2", name: "pw_1h", retentionRules: [] };
    server.script.push(
      ...reads([[b0], [], []], [[], []], []),
      json({}),
      json({ id: "b1" }),
      json({ id: "b2" }),
      ...reads([[b0in], [b1], [b2]], [[], []], []),
      json({}),
      json({}),
      json({}),
      json({}),
      ...reads(
        [[b0in], [b1], [b2]],
        [
          [{ id: "t1", name: "plugwatch_rollup_1m", flux: FLUX_1M, status: "active" }],
          [{ id: "t2", name: "plugwatch_rollup_1h", flux: FLUX_1H, status: "active" }],
        ],
        [
          { id: "d1", bucketID: "b1", database: "pw", retention_policy: "plugwatch_1m" },
          { id: "d2", bucketID: "b2", database: "pw", retention_policy: "plugwatch_1h" },
        ],
      ),
    );
    await helper.load(
      [influxNode],
      [{ id: "influx", type: "plugwatch-influx", url: server.url, flavour: "2.x", org: "office", bucket: "pw", database: "pw", rollups: true }],
      {
        influx: { token: "tok" },
      },
    );
    const st = await settled();
    assert.deepEqual([st.state, st.changes, st.error], ["applied", 7, undefined]);
    assert.equal(server.script.length, 0, "every scripted answer used");
    const seen = server.requests.map((r) => [r.method, r.path, r.query, r.body ? (JSON.parse(r.body) as unknown) : ""]);
    const readsOf = [
      ["GET", "/api/v2/orgs", { org: "office" }, ""],
      ["GET", "/api/v2/buckets", { orgID: "o1", name: "pw" }, ""],
      ["GET", "/api/v2/buckets", { orgID: "o1", name: "pw_1m" }, ""],
      ["GET", "/api/v2/buckets", { orgID: "o1", name: "pw_1h" }, ""],
      ["GET", "/api/v2/tasks", { orgID: "o1", name: "plugwatch_rollup_1m" }, ""],
      ["GET", "/api/v2/tasks", { orgID: "o1", name: "plugwatch_rollup_1h" }, ""],
      ["GET", "/api/v2/dbrps", { orgID: "o1", db: "pw" }, ""],
    ];
    assert.deepEqual(seen, [
      ...readsOf,
      ["PATCH", "/api/v2/buckets/b0", {}, { retentionRules: [{ type: "expire", everySeconds: 30 * DAY_S }] }],
      ["POST", "/api/v2/buckets", {}, { orgID: "o1", name: "pw_1m", retentionRules: [{ type: "expire", everySeconds: 730 * DAY_S }] }],
      ["POST", "/api/v2/buckets", {}, { orgID: "o1", name: "pw_1h", retentionRules: [] }],
      ...readsOf,
      ["POST", "/api/v2/dbrps", {}, { orgID: "o1", bucketID: "b1", database: "pw", retention_policy: "plugwatch_1m", default: false }],
      ["POST", "/api/v2/tasks", {}, { orgID: "o1", flux: FLUX_1M, status: "active", description: "Plugwatch 1m rollup" }],
      ["POST", "/api/v2/dbrps", {}, { orgID: "o1", bucketID: "b2", database: "pw", retention_policy: "plugwatch_1h", default: false }],
      ["POST", "/api/v2/tasks", {}, { orgID: "o1", flux: FLUX_1H, status: "active", description: "Plugwatch 1h rollup" }],
      ...readsOf,
    ]);
    for (const r of server.requests) assert.equal(r.headers.authorization, "Token tok");
    for (const r of server.requests.filter((x) => x.method !== "GET")) assert.equal(r.headers["content-type"], "application/json");
  });

  it("2.x: a refused request (no rights) leaves the state 'failed' with ROLLUP_FAILED and is not retried", async function () {
    server.script.push({ status: 401, body: '{"code":"unauthorized","message":"unauthorized access"}' });
    await helper.load(
      [influxNode],
      [{ id: "influx", type: "plugwatch-influx", url: server.url, flavour: "2.x", org: "office", bucket: "pw", database: "pw", rollups: true }],
      {
        influx: { token: "bad" },
      },
    );
    const st = await settled();
    assert.equal(st.state, "failed");
    assert.equal(st.error?.code, "ROLLUP_FAILED");
    assert.match(st.error?.message ?? "", /401/);
    assert.equal(server.requests.length, 1);
  });

  it("3.x: sends nothing and reports 'unsupported' (a documented limitation)", async function () {
    await helper.load([influxNode], [{ id: "influx", type: "plugwatch-influx", url: server.url, flavour: "3.x", database: "pw", rollups: true }], {
      influx: { token: "t" },
    });
    assert.equal(status().state, "unsupported");
    await new Promise((r) => setImmediate(r));
    assert.equal(server.requests.length, 0);
  });
});
