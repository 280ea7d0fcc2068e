// Retention tiers: settings parsing, SHOW parsing, the 1.x statement plan, the 2.x request plan and late-window tracking.
import assert from "node:assert/strict";
import { PlugwatchError } from "../../lib/contracts/errors";
import { LateWindows, MAX_RANGE_MS } from "../../lib/influx/late-windows";
import {
  influxqlDuration,
  parseContinuousQueries,
  parseGoDuration,
  parseRetentionPolicies,
  parseRetentionSettings,
  planRetention,
  type RetentionSettings,
  type ServerState,
} from "../../lib/influx/retention";
import { planRetentionV2, reaggregateRequestV2, type V2State } from "../../lib/influx/retention-v2";
import { continuousQuery, fluxTask, influxqlSelectList, rollupSelect } from "../../lib/influx/rollup-aggregate";
import { rollupFields } from "../../lib/influx/rollup-schema";
import type { InfluxSettings } from "../../lib/influx/settings";
import { nth } from "../support/checked";

const DAY = 86_400_000;
const H = 3_600_000;
const ON: RetentionSettings = { enabled: true, durationMs: { raw: 30 * DAY, "1m": 730 * DAY, "1h": 0 } };

function inStep(db: string): ServerState {
  return {
    databaseExists: true,
    retentionPolicies: [
      { name: "autogen", durationMs: 0, default: false },
      { name: "plugwatch_raw", durationMs: 30 * DAY, default: true },
      { name: "plugwatch_1m", durationMs: 730 * DAY, default: false },
      { name: "plugwatch_1h", durationMs: 0, default: false },
    ],
    continuousQueries: [
      { name: continuousQuery(db, "1m", "plugwatch_raw").name, query: "…" },
      { name: continuousQuery(db, "1h", "plugwatch_raw").name, query: "…" },
      { name: "someone_elses_cq", query: "…" },
    ],
  };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PlugwatchError, String(err));
    return `${err.code}: ${err.message}`;
  }
  assert.fail("no error");
}

describe("retention: settings", function () {
  it("defaults to 30d / 730d / forever, and off when the saved config has no `rollups` (older flows)", function () {
    assert.deepEqual(parseRetentionSettings({}), { enabled: false, durationMs: { raw: 30 * DAY, "1m": 730 * DAY, "1h": 0 } });
    assert.equal(parseRetentionSettings({ rollups: true }).enabled, true);
    assert.equal(parseRetentionSettings({ rollups: "true" }).enabled, true);
  });
  it("reads days, h/d/w and inf", function () {
    const s = parseRetentionSettings({ rollups: true, rawRetention: "48h", rollup1mRetention: "104w", rollup1hRetention: 3650 });
    assert.deepEqual(s.durationMs, { raw: 48 * H, "1m": 728 * DAY, "1h": 3650 * DAY });
    assert.equal(parseRetentionSettings({ rawRetention: " 7 ", rollup1hRetention: "forever" }).durationMs.raw, 7 * DAY);
  });
  it("refuses bad durations with RETENTION_INVALID naming each field", function () {
    const msg = code(() => parseRetentionSettings({ rawRetention: "30 days", rollup1mRetention: "30m", rollup1hRetention: { x: 1 } }));
    assert.match(msg, /^RETENTION_INVALID: /);
    assert.match(msg, /rawRetention: '30 days' is not a duration/);
    assert.match(msg, /rollup1mRetention: '30m' is not a duration/);
    assert.match(msg, /rollup1hRetention: must be a duration/);
    assert.match(
      code(() => parseRetentionSettings({ rawRetention: "0h" })),
      /shorter than InfluxDB's minimum of 1h/,
    );
  });
  it("refuses a finer tier kept longer than a coarser one", function () {
    assert.match(
      code(() => parseRetentionSettings({ rawRetention: "800d" })),
      /RETENTION_INVALID: .*rawRetention: must not be longer than rollup1mRetention/,
    );
    assert.match(
      code(() => parseRetentionSettings({ rollup1mRetention: "inf", rollup1hRetention: "365d" })),
      /rollup1mRetention: must not be longer/,
    );
    assert.equal(parseRetentionSettings({ rawRetention: "inf", rollup1mRetention: "inf" }).durationMs.raw, 0);
  });
  it("InfluxQL durations and Go durations round-trip", function () {
    assert.equal(influxqlDuration(30 * DAY), "720h");
    assert.equal(influxqlDuration(0), "INF");
    assert.equal(parseGoDuration("720h0m0s"), 30 * DAY);
    assert.equal(parseGoDuration("0s"), 0);
    assert.equal(parseGoDuration("1h30m"), 1.5 * H);
    assert.ok(Number.isNaN(parseGoDuration("720 hours")));
  });
});

describe("retention: SHOW parsing", function () {
  it("reads SHOW RETENTION POLICIES and a missing database", function () {
    const json = {
      results: [
        {
          statement_id: 0,
          series: [
            {
              columns: ["name", "duration", "shardGroupDuration", "replicaN", "default"],
              values: [
                ["autogen", "0s", "168h0m0s", 1, false],
                ["plugwatch_raw", "720h0m0s", "24h0m0s", 1, true],
              ],
            },
          ],
        },
      ],
    };
    assert.deepEqual(parseRetentionPolicies(json), {
      databaseExists: true,
      retentionPolicies: [
        { name: "autogen", durationMs: 0, default: false },
        { name: "plugwatch_raw", durationMs: 30 * DAY, default: true },
      ],
    });
    assert.deepEqual(parseRetentionPolicies({ results: [{ statement_id: 0, error: "database not found: pw" }] }), {
      databaseExists: false,
      retentionPolicies: [],
    });
    assert.match(
      code(() => parseRetentionPolicies({ results: [{ error: "not authorized" }] })),
      /^ROLLUP_FAILED: .*not authorized/,
    );
  });
  it("keeps only the CQs of our database", function () {
    const json = {
      results: [
        {
          series: [
            { name: "_internal", columns: ["name", "query"], values: [] },
            { name: "pw", columns: ["name", "query"], values: [["plugwatch_rollup_1m_x", "CREATE …"]] },
            { name: "other", columns: ["name", "query"], values: [["plugwatch_rollup_1m_y", "CREATE …"]] },
          ],
        },
      ],
    };
    assert.deepEqual(parseContinuousQueries(json, "pw"), [{ name: "plugwatch_rollup_1m_x", query: "CREATE …" }]);
  });
});

describe("retention: 1.x plan", function () {
  it("creates database, tiers (raw DEFAULT) and one CQ per rollup tier on an empty server", function () {
    const plan = planRetention({ database: "pw", settings: ON }, { databaseExists: false, retentionPolicies: [], continuousQueries: [] });
    const cq1m = continuousQuery("pw", "1m", "plugwatch_raw");
    assert.deepEqual(
      plan.map((p) => p.text),
      [
        `CREATE DATABASE "pw"`,
        `CREATE RETENTION POLICY "plugwatch_raw" ON "pw" DURATION 720h REPLICATION 1 DEFAULT`,
        `CREATE RETENTION POLICY "plugwatch_1m" ON "pw" DURATION 17520h REPLICATION 1`,
        `CREATE RETENTION POLICY "plugwatch_1h" ON "pw" DURATION INF REPLICATION 1`,
        cq1m.create,
        continuousQuery("pw", "1h", "plugwatch_raw").create,
      ],
    );
    assert.match(cq1m.name, /^plugwatch_rollup_1m_[0-9a-f]{8}$/);
    assert.equal(
      cq1m.create,
      `CREATE CONTINUOUS QUERY "${cq1m.name}" ON "pw" RESAMPLE EVERY 1m FOR 5m BEGIN SELECT ${influxqlSelectList()} INTO "pw"."plugwatch_1m".:MEASUREMENT FROM "pw"."plugwatch_raw"./.*/ GROUP BY time(1m), * END`,
    );
    assert.deepEqual(plan.map((p) => p.why).slice(1, 4), ["create plugwatch_raw (30d, default)", "create plugwatch_1m (730d)", "create plugwatch_1h (inf)"]);
  });
  it("the SELECT list holds exactly the lead's rollup fields", function () {
    const names = [...influxqlSelectList().matchAll(/AS "([a-z_]+)"/g)].map((m) => m[1]);
    assert.deepEqual(names, rollupFields());
    assert.match(influxqlSelectList(), /^mean\("power"\) AS "power_mean", min\("power"\) AS "power_min", max\("power"\) AS "power_max", /);
    assert.match(influxqlSelectList(), /first\("energy"\) AS "energy_first", last\("energy"\) AS "energy_last", .*count\("power"\) AS "n"$/);
  });
  it("plans nothing for a server in step, and nothing when management is off", function () {
    assert.deepEqual(planRetention({ database: "pw", settings: ON }, inStep("pw")), []);
    assert.deepEqual(
      planRetention({ database: "pw", settings: { ...ON, enabled: false } }, { databaseExists: false, retentionPolicies: [], continuousQueries: [] }),
      [],
    );
  });
  it("alters a changed duration, and makes raw the DEFAULT again", function () {
    const st = inStep("pw");
    st.retentionPolicies = st.retentionPolicies.map((r) =>
      r.name === "plugwatch_raw" ? { ...r, default: false } : r.name === "autogen" ? { ...r, default: true } : r,
    );
    const plan = planRetention({ database: "pw", settings: { ...ON, durationMs: { raw: 7 * DAY, "1m": 365 * DAY, "1h": 0 } } }, st);
    assert.deepEqual(
      plan.map((p) => p.text),
      [`ALTER RETENTION POLICY "plugwatch_raw" ON "pw" DURATION 168h DEFAULT`, `ALTER RETENTION POLICY "plugwatch_1m" ON "pw" DURATION 8760h`],
    );
    assert.deepEqual(
      plan.map((p) => p.why),
      ["alter plugwatch_raw (30d → 7d, default)", "alter plugwatch_1m (730d → 365d)"],
    );
  });
  it("a changed rollup set recreates the CQs: stale Plugwatch CQs dropped, others left alone", function () {
    const st = inStep("pw");
    st.continuousQueries = [
      { name: "plugwatch_rollup_1m_deadbeef", query: "…" },
      { name: continuousQuery("pw", "1h", "plugwatch_raw").name, query: "…" },
      { name: "someone_elses_cq", query: "…" },
    ];
    const plan = planRetention({ database: "pw", settings: ON }, st);
    assert.deepEqual(
      plan.map((p) => p.text),
      [`DROP CONTINUOUS QUERY "plugwatch_rollup_1m_deadbeef" ON "pw"`, continuousQuery("pw", "1m", "plugwatch_raw").create],
    );
  });
  it("a custom write RP is the raw tier: left alone, read by the CQs", function () {
    const plan = planRetention({ database: "pw", customRawRp: "mine", settings: ON }, { databaseExists: true, retentionPolicies: [], continuousQueries: [] });
    assert.ok(!plan.some((p) => p.text.includes("plugwatch_raw")));
    assert.ok(plan.some((p) => p.text.includes(`FROM "pw"."mine"./.*/`)));
    assert.notEqual(continuousQuery("pw", "1m", "mine").name, continuousQuery("pw", "1m", "plugwatch_raw").name);
  });
  it("quotes identifiers (a database name cannot break out of its quotes)", function () {
    const plan = planRetention({ database: 'pw"; DROP DATABASE x', settings: ON }, { databaseExists: false, retentionPolicies: [], continuousQueries: [] });
    assert.equal(plan[0]?.text, `CREATE DATABASE "pw\\"; DROP DATABASE x"`);
  });
  it("re-aggregates exact windows with the same SELECT as the CQ", function () {
    assert.equal(
      rollupSelect("pw", "1h", "plugwatch_raw", { startMs: 10 * H, endMs: 12 * H }),
      `SELECT ${influxqlSelectList()} INTO "pw"."plugwatch_1h".:MEASUREMENT FROM "pw"."plugwatch_raw"./.*/ WHERE time >= 36000000ms AND time < 43200000ms GROUP BY time(1h), *`,
    );
  });
});

describe("retention: late windows", function () {
  const NOW = 1_764_000_000_000 - (1_764_000_000_000 % H) + 30 * 60_000; // xx:30:00
  it("ignores points the continuous queries still cover", function () {
    const lw = new LateWindows();
    assert.equal(lw.noteTimestamps([NOW - 1000, NOW - 100_000], NOW), 0);
    assert.deepEqual(lw.drain(), []);
    assert.equal(lw.noteTimestamps([NOW - 150_000], NOW), 1, "window started 3 min ago: the 5-min RESAMPLE FOR may miss it");
    assert.deepEqual(lw.drain(), [{ tier: "1m", startMs: NOW - 180_000, endMs: NOW - 120_000 }]);
  });
  it("merges late 1-minute windows into ranges, and 1-hour windows once an hour is past its CQ's reach", function () {
    const lw = new LateWindows();
    const stamps = [];
    for (let t = NOW - 20 * 60_000; t < NOW - 10 * 60_000; t += 2000) stamps.push(t);
    stamps.push(NOW - 3 * H + 5); // an old one, late for both tiers
    assert.equal(lw.noteTimestamps(stamps, NOW), stamps.length);
    assert.deepEqual(lw.drain(), [
      { tier: "1m", startMs: NOW - 3 * H, endMs: NOW - 3 * H + 60_000 },
      { tier: "1m", startMs: NOW - 20 * 60_000, endMs: NOW - 10 * 60_000 },
      { tier: "1h", startMs: NOW - 3.5 * H, endMs: NOW - 2.5 * H },
    ]);
    assert.equal(lw.size, 0);
    assert.equal(lw.latePoints, stamps.length);
  });
  it("reads timestamps from line protocol and splits long ranges", function () {
    const lw = new LateWindows();
    const start = NOW - 5 * H - 30 * 60_000; // an hour boundary
    const body = [0, 1, 2, 3].map((i) => `plug,device=a power=1,energy=2 ${start + i * H}`).join("\n") + "\n";
    assert.equal(lw.noteLines(body, NOW), 4);
    const ranges = lw.drain();
    assert.equal(ranges.filter((r) => r.tier === "1m").length, 4);
    assert.deepEqual(
      ranges.filter((r) => r.tier === "1h"),
      [{ tier: "1h", startMs: start, endMs: start + 4 * H }],
    );
    lw.noteTimestamps([start], start + 3 * DAY);
    lw.noteTimestamps([start + 2 * DAY + 5], start + 3 * DAY);
    lw.restore([{ tier: "1h", startMs: start, endMs: start + 2 * DAY + H }]);
    const long = lw.drain().filter((r) => r.tier === "1h");
    assert.deepEqual(
      long.map((r) => [r.startMs - start, r.endMs - start]),
      [
        [0, MAX_RANGE_MS["1h"]],
        [MAX_RANGE_MS["1h"], 2 * MAX_RANGE_MS["1h"]],
        [2 * DAY, 2 * DAY + H],
      ],
    );
  });
});

describe("retention: 2.x plan (buckets, DBRP mappings, tasks)", function () {
  const S: InfluxSettings = {
    url: "http://127.0.0.1:1",
    flavour: "2.x",
    database: "pw",
    org: "office",
    bucket: "pw",
    token: "tok",
    timeoutMs: 1000,
    gzip: false,
    tls: { rejectUnauthorized: true },
  };
  const empty: V2State = { orgID: "o1", buckets: [], tasks: [], dbrps: [] };
  it("creates the three buckets first", function () {
    const plan = planRetentionV2(S, ON, empty);
    assert.deepEqual(
      plan.map((r) => [r.spec.method, r.spec.path, JSON.parse(r.body ?? "{}") as unknown]),
      [
        ["POST", "/api/v2/buckets", { orgID: "o1", name: "pw", retentionRules: [{ type: "expire", everySeconds: 2_592_000 }] }],
        ["POST", "/api/v2/buckets", { orgID: "o1", name: "pw_1m", retentionRules: [{ type: "expire", everySeconds: 63_072_000 }] }],
        ["POST", "/api/v2/buckets", { orgID: "o1", name: "pw_1h", retentionRules: [] }],
      ],
    );
    assert.equal(plan[0]?.spec.headers.Authorization, "Token tok");
  });
  it("then maps and schedules each rollup bucket, then nothing", function () {
    const buckets = [
      { id: "b0", name: "pw", everySeconds: 2_592_000 },
      { id: "b1", name: "pw_1m", everySeconds: 63_072_000 },
      { id: "b2", name: "pw_1h", everySeconds: 0 },
    ];
    const plan = planRetentionV2(S, ON, { ...empty, buckets });
    assert.deepEqual(
      plan.map((r) => r.why),
      ["map pw/plugwatch_1m to bucket pw_1m", "create task plugwatch_rollup_1m", "map pw/plugwatch_1h to bucket pw_1h", "create task plugwatch_rollup_1h"],
    );
    assert.deepEqual(JSON.parse(plan[0]?.body ?? ""), { orgID: "o1", bucketID: "b1", database: "pw", retention_policy: "plugwatch_1m", default: false });
    const task = JSON.parse(plan[1]?.body ?? "") as { flux: string; status: string };
    assert.equal(task.flux, fluxTask("plugwatch_rollup_1m", "office", "pw", "pw_1m", "1m"));
    assert.match(task.flux, /^option task = \{name: "plugwatch_rollup_1m", every: 1m, offset: 10s\}\nsrc = from\(bucket: "pw"\) \|> range\(start: -5m\)\n/);
    assert.match(task.flux, /roll\(field: "energy", fn: first, name: "energy_first"\)/);
    const tasks = [
      { id: "t1", name: "plugwatch_rollup_1m", flux: fluxTask("plugwatch_rollup_1m", "office", "pw", "pw_1m", "1m"), status: "active" },
      { id: "t2", name: "plugwatch_rollup_1h", flux: "old", status: "active" },
    ];
    const dbrps = [
      { id: "d1", bucketID: "b1", database: "pw", retention_policy: "plugwatch_1m" },
      { id: "d2", bucketID: "b2", database: "pw", retention_policy: "plugwatch_1h" },
    ];
    const again = planRetentionV2(S, ON, { ...empty, buckets, tasks, dbrps });
    assert.deepEqual(
      again.map((r) => [r.spec.method, r.spec.path]),
      [["PATCH", "/api/v2/tasks/t2"]],
    );
    tasks[1] = { ...nth(tasks, 1, "task t2"), flux: fluxTask("plugwatch_rollup_1h", "office", "pw", "pw_1h", "1h") };
    assert.deepEqual(planRetentionV2(S, ON, { ...empty, buckets, tasks, dbrps }), []);
    const shorter = planRetentionV2(S, { ...ON, durationMs: { ...ON.durationMs, raw: 7 * DAY } }, { ...empty, buckets, tasks, dbrps });
    assert.deepEqual(
      shorter.map((r) => [r.spec.method, r.spec.path, r.body]),
      [["PATCH", "/api/v2/buckets/b0", JSON.stringify({ retentionRules: [{ type: "expire", everySeconds: 604_800 }] })]],
    );
  });
  it("re-aggregates a window with a Flux query over exact times", function () {
    const r = reaggregateRequestV2(S, "1m", 1_764_000_000_000, 1_764_000_120_000);
    assert.equal(r.spec.path, "/api/v2/query");
    assert.deepEqual(r.spec.query, { org: "office" });
    assert.match((JSON.parse(r.body ?? "") as { query: string }).query, /range\(start: 2025-11-24T16:00:00.000Z, stop: 2025-11-24T16:02:00.000Z\)/);
  });
});
