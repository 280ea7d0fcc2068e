// REST API end to end: real HTTP → Node-RED runtime (plugwatch-http-api) → Mosquitto or aedes → plugwatch-influx-query/influxd and plugwatch-control/simulated plugs; every answer checked against /openapi.json.
// With Mosquitto the API and the query node talk over a plugwatch-mqtt connection (the shipped flow's shape), with aedes over the core mqtt-broker node.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Problem } from "../../lib/api/problem";
import type { AlertList, AuditList, CommandOutcome, DeviceList, DeviceView, Health, UnknownDeviceList } from "../../lib/api/schemas";
import type { DeviceEntry } from "../../lib/contracts/device";
import type { QueryData } from "../../lib/contracts/query";
import { BASE, DEAD_BASE, eventually, SLOW_BASE, SLOW_TIMEOUT_MS, startApiStack, TOKENS, withConnection, type ApiStack } from "../../scripts/harness/api-stack";
import { nextMessage, Teardown, type BrokerKind } from "../../scripts/harness/services";
import { member, nth } from "../support/checked";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Data times are relative to this instant (taken once, before the data is written). */
const NOW = Date.now();
/**
 * A whole past UTC day: 1440 one-minute readings of ws-a. It ends at least 5 hours before NOW, so the RECENT readings
 * (up to 3 hours old) and `from=now-4h` never fall into it, whatever the hour of the run.
 */
const D = Math.floor((NOW - 5 * HOUR) / DAY) * DAY - DAY;
const iso = (ms: number) => new Date(ms).toISOString();

/** Recent ws-a readings: [age ms, power W, energy kWh]. */
const RECENT: [number, number, number][] = [
  [3 * HOUR, 1, 12.0],
  [90 * MIN, 2, 12.1],
  [30 * MIN, 3, 12.2],
  [5 * MIN, 4, 12.3],
];

function lineFor(d: DeviceEntry, ts: number, power: number, energy: number): string {
  const { building, floor, room } = d.location;
  return `plug,device=${d.id},kind=${d.kind},building=${building},floor=${floor},room=${room} power=${power},voltage=230,current=${(power / 230).toFixed(4)},energy=${energy.toFixed(3)},relay=true ${ts}`;
}

/** What influxd holds before the runtime starts (direct writes: the values every answer is compared with). */
function data(devices: DeviceEntry[]): string {
  const by = (id: string) => devices.find((d) => d.id === id) as DeviceEntry;
  const lines: string[] = [];
  for (let i = 0; i < 1440; i++) lines.push(lineFor(by("ws-a"), D + i * MIN, i % 60, 10 + i / 1000));
  for (const [age, power, energy] of RECENT) lines.push(lineFor(by("ws-a"), NOW - age, power, energy));
  lines.push(lineFor(by("pr-1"), NOW - 2 * MIN, 50, 5));
  // Silent for 40 days: hidden from /measurements/latest unless all=true (inactiveAfterDays 30).
  lines.push(lineFor(by("mr-1"), NOW - 40 * DAY, 7, 1));
  return lines.join("\n");
}

// Answer bodies, typed by the same schemas the served OpenAPI document is built from (the stack checks every answer against it).
type Range = Extract<QueryData, { type: "range" }>;
type LatestN = Extract<QueryData, { type: "latestN" }>;
type Latest = Extract<QueryData, { type: "latest" }>;
type Energy = Extract<QueryData, { type: "energy" }>;

function findRedocly(): string {
  for (const up of ["../../..", "../../../.."]) {
    const p = path.resolve(__dirname, up, "node_modules/.bin/redocly");
    if (existsSync(p)) return p;
  }
  throw new Error("node_modules/.bin/redocly not found: @redocly/cli is a devDependency");
}

function lint(doc: unknown): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-openapi-"));
  const file = path.join(dir, "openapi.json");
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return new Promise((resolve) => {
    execFile(
      findRedocly(),
      ["lint", "--format", "stylish", file],
      { env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" }, timeout: 50_000 },
      (err, stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true });
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      },
    );
  });
}

/** Asserts an RFC 9457 problem with this status and code (the OpenAPI check runs on every answer anyway); returns it. */
function assertProblem(r: { status: number; headers: Headers; body: unknown }, status: number, code: string): Problem {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.headers.get("content-type")?.split(";")[0], "application/problem+json");
  const body = r.body as Problem;
  assert.equal(body.code, code, JSON.stringify(body));
  assert.equal(body.status, status);
  assert.equal(body.type, `urn:plugwatch:problem:${code}`);
  assert.equal(typeof body.detail, "string");
  return body;
}

/** A JSON object body as the tests read it. */
type Json = Record<string, unknown>;

/** `connection`: the API and the query node on a plugwatch-mqtt connection (the shipped flow's shape), else the core broker node. */
function suite(kind: BrokerKind, full: boolean, connection: boolean): void {
  describe(`REST API end to end (${kind}${full ? "" : ", core paths"}, ${connection ? "plugwatch-mqtt connection" : "core mqtt-broker node"})`, function () {
    this.timeout(60_000);
    const td = new Teardown();
    let s: ApiStack;
    const R: { token?: string } = { token: TOKENS.read };
    const C: { token?: string } = { token: TOKENS.control };
    // T: the body of a successful answer (a problem is checked with assertProblem).
    const get = <T = unknown>(p: string, o = R) => s.request<T>("GET", BASE + p, o);
    const post = <T = CommandOutcome>(p: string, body: unknown, o = C) => s.request<T>("POST", BASE + p, { ...o, body });

    before(async function () {
      // The core run logs at debug level: tokens must not leak there either.
      s = await startApiStack(td, kind, { data, logLevel: full ? "info" : "debug", ...(connection ? { flow: withConnection } : {}) });
    });
    after(async function () {
      await td.run();
    });

    it("GET /health: broker connected, component and agent answering, registry loaded", async function () {
      const r = await get<Health>("/health", {});
      assert.equal(r.status, 200);
      assert.equal(r.body.status, "ok");
      assert.equal(r.body.broker.connected, true);
      assert.equal(r.body.query.answering, true);
      assert.equal(r.body.control.answering, true);
      assert.deepEqual(r.body.registry, { loaded: true, devices: 6 });
      assert.equal(r.body.api.pending, 0);
    });

    it("GET /devices with filters, GET /devices/{id} with online state and last-seen time from MQTT", async function () {
      const all = await get<DeviceList>("/devices");
      assert.equal(all.status, 200);
      assert.equal(all.body.count, 6);
      const ids = (r: { body: DeviceList }) => r.body.devices.map((d) => d.id).sort();
      assert.deepEqual(ids(await get<DeviceList>("/devices?kind=printer")), ["pr-1", "pr-2"]);
      assert.deepEqual(ids(await get<DeviceList>("/devices?building=hq&floor=2")), ["gone-1", "mr-1", "pr-1", "pr-2"]);
      assert.deepEqual(ids(await get<DeviceList>("/devices?room=open-1")), ["ws-a", "ws-b"]);
      assert.deepEqual(ids(await get<DeviceList>("/devices?kind=printer&floor=1")), []);

      // What the collector would publish: a retained availability and a reading.
      const ts = Date.now();
      await s.mqtt.publishAsync(
        `${s.root}/hq/2/copy/pr-1/availability`,
        JSON.stringify({ v: 1, device: "pr-1", online: false, ts, reason: "DEVICE_UNREACHABLE: test" }),
        { qos: 1, retain: true },
      );
      await s.mqtt.publishAsync(
        `${s.root}/hq/1/open-1/ws-a/reading`,
        JSON.stringify({ v: 1, device: "ws-a", ts, power: 4, voltage: 230, current: 0.02, energy: 12.3, relay: true, kind: "workplace" }),
        { qos: 1 },
      );
      const pr1 = await eventually(
        () => get<DeviceView>("/devices/pr-1"),
        (r) => r.body.online === false,
        5000,
        "pr-1 offline",
      );
      assert.equal(pr1.status, 200);
      assert.equal(pr1.body.since, ts);
      assert.equal(pr1.body.reason, "DEVICE_UNREACHABLE: test");
      assert.equal(pr1.body.kind, "printer");
      assert.deepEqual(pr1.body.location, { building: "hq", floor: "2", room: "copy" });
      const wsa = await eventually(
        () => get<DeviceView>("/devices/ws-a"),
        (r) => r.body.lastSeen === ts,
        5000,
        "ws-a lastSeen",
      );
      assert.equal(wsa.body.online, null);
      const ws = (await get<DeviceList>("/devices?room=open-1")).body.devices;
      assert.equal(ws.find((d) => d.id === "ws-a")?.lastSeen, ts);
      await s.mqtt.publishAsync(`${s.root}/hq/2/copy/pr-1/availability`, "", { qos: 1, retain: true });
    });

    it("GET /devices/{id}/measurements: 1-minute means, hourly max, raw with limit, relative times", async function () {
      const day = `from=${iso(D)}&to=${iso(D + DAY)}`;
      const mean = await get<Range>(`/devices/ws-a/measurements?${day}&fields=power&aggregate=mean&interval=1m`);
      assert.equal(mean.status, 200);
      assert.equal(mean.body.type, "range");
      const pts = nth(mean.body.series, 0, "first series").points;
      assert.equal(nth(mean.body.series, 0, "first series").device, "ws-a");
      assert.equal(pts.length, 1440);
      pts.forEach((p, i) => {
        assert.equal(p.ts, D + i * MIN);
        assert.equal(p.power, i % 60);
      });
      const max = await get<Range>(`/devices/ws-a/measurements?${day}&fields=power,energy&aggregate=max&interval=1h`);
      const hours = nth(max.body.series, 0, "first series").points;
      assert.equal(hours.length, 24);
      assert.ok(hours.every((p) => p.power === 59));
      assert.equal(nth(hours, 23).energy, 11.439);
      const raw = await get<Range>(`/devices/ws-a/measurements?${day}&limit=10`);
      assert.deepEqual(
        nth(raw.body.series, 0, "first series").points.map((p) => p.power),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      const rel = await get<Range>(`/devices/ws-a/measurements?from=-2h&to=now&fields=power`);
      assert.equal(rel.status, 200);
      assert.deepEqual(
        nth(rel.body.series, 0, "first series").points.map((p) => p.power),
        [2, 3, 4],
      );
      const rel2 = await get<Range>(`/devices/ws-a/measurements?from=now-4h&fields=power`);
      assert.deepEqual(
        nth(rel2.body.series, 0, "first series").points.map((p) => p.power),
        [1, 2, 3, 4],
      );
    });

    it("GET /devices/{id}/measurements/latest: the newest N readings, newest first", async function () {
      const two = await get<LatestN>("/devices/ws-a/measurements/latest?limit=2");
      assert.equal(two.status, 200);
      assert.equal(two.body.device, "ws-a");
      assert.deepEqual(
        two.body.readings.map((r) => [r.ts, r.power]),
        [
          [NOW - 5 * MIN, 4],
          [NOW - 30 * MIN, 3],
        ],
      );
      const dflt = await get<LatestN>("/devices/ws-a/measurements/latest");
      assert.equal(dflt.body.readings.length, 1440);
      const none = await get<LatestN>("/devices/ws-b/measurements/latest");
      assert.deepEqual(none.body.readings, []);
    });

    it("GET /measurements/latest: one reading per active device; all=true adds the ones silent for 30+ days", async function () {
      const latest = await get<Latest>("/measurements/latest");
      assert.equal(latest.status, 200);
      const pick = (r: { body: Latest }) => r.body.readings.map((x) => [x.device, x.power]);
      assert.deepEqual(pick(latest), [
        ["pr-1", 50],
        ["ws-a", 4],
      ]);
      assert.deepEqual(pick(await get<Latest>("/measurements/latest?all=true")), [
        ["mr-1", 7],
        ["pr-1", 50],
        ["ws-a", 4],
      ]);
      assert.deepEqual(pick(await get<Latest>("/measurements/latest?kind=printer")), [["pr-1", 50]]);
    });

    if (full) {
      it("GET /energy: kWh per device and per kind over a day", async function () {
        const r = await get<Energy>(`/energy?from=${iso(D)}&to=${iso(D + DAY)}&groupBy=device&interval=1d`);
        assert.equal(r.status, 200);
        assert.equal(r.body.groupBy, "device");
        const rows = r.body.rows;
        assert.equal(rows.length, 1, JSON.stringify(rows));
        assert.equal(nth(rows, 0).group, "ws-a");
        assert.equal(nth(rows, 0).ts, D);
        assert.ok(Math.abs(nth(rows, 0).kWh - 1.439) < 1e-6, String(nth(rows, 0).kWh));
        const byKind = await get<Energy>(`/energy?from=${iso(D)}&to=${iso(D + DAY)}&groupBy=kind`);
        assert.deepEqual(
          byKind.body.rows.map((x) => [x.group, Math.round(x.kWh * 1000)]),
          [["workplace", 1439]],
        );
        // Relative default range (-7d .. now) includes the day and the recent readings.
        const week = await get<Energy>(`/energy?groupBy=building`);
        assert.equal(week.status, 200);
        assert.ok(week.body.rows.every((x) => x.group === "hq"));
      });

      it("GET /cost: a query component without a plugwatch-tariff answers 503 TARIFF_INVALID (priced in test/e2e/cost-api.test.ts)", async function () {
        const r = await get(`/cost?from=${iso(D)}&to=${iso(D + DAY)}&groupBy=room`);
        assertProblem(r, 503, "TARIFF_INVALID");
        assertProblem(await get(`/cost?interval=1d`), 400, "INVALID_REQUEST");
      });
    }

    it("POST /devices/{id}/power switches the simulated plug and reports the relay read back", async function () {
      const plug = s.office.plug("pr-2");
      assert.equal(plug.relay, true);
      const off = await post("/devices/pr-2/power", { state: "off" });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      assert.equal(off.body.ok, true);
      assert.equal(off.body.action, "off");
      assert.deepEqual(off.body.results, [{ device: "pr-2", ok: true, relay: false }]);
      assert.equal(plug.relay, false, "the simulator's relay is off");
      const read = await get<CommandOutcome>("/devices/pr-2/power");
      assert.equal(read.status, 200);
      assert.equal(nth(read.body.results, 0).relay, false);
      const toggled = await post("/devices/pr-2/power", { state: "toggle" }, { token: TOKENS.both });
      assert.equal(nth(toggled.body.results, 0).relay, true);
      assert.equal(plug.relay, true);
    });

    it("POST /power switches a group and answers per device (an unreachable plug fails alone)", async function () {
      const off = await post("/power", { state: "off", kind: "printer" });
      assert.equal(off.status, 200);
      assert.equal(off.body.ok, true);
      assert.deepEqual(off.body.results.map((r) => [r.device, r.relay]).sort(), [
        ["pr-1", false],
        ["pr-2", false],
      ]);
      assert.equal(s.office.plug("pr-1").relay, false);
      assert.equal(s.office.plug("pr-2").relay, false);
      const on = await post("/power", { state: "on", building: "hq", floor: "2" });
      assert.equal(on.status, 200);
      assert.equal(on.body.ok, false);
      const byId = Object.fromEntries(on.body.results.map((r) => [r.device, r]));
      assert.deepEqual(Object.keys(byId).sort(), ["gone-1", "mr-1", "pr-1", "pr-2"]);
      assert.equal(member(byId, "gone-1").ok, false);
      assert.equal(member(byId, "gone-1").error?.code, "DEVICE_UNREACHABLE");
      for (const id of ["mr-1", "pr-1", "pr-2"]) {
        assert.equal(member(byId, id).relay, true, id);
        assert.equal(s.office.plug(id).relay, true, id);
      }
      const list = await post("/power", { state: "status", devices: ["ws-a"] });
      assertProblem(list, 400, "INVALID_REQUEST");
      const single = await post("/devices/gone-1/power", { state: "on" });
      assert.equal(assertProblem(single, 502, "DEVICE_UNREACHABLE").results?.[0]?.device, "gone-1");
    });

    it("GET /audit: every switch above is in the agent's audit trail with the token's name (never the token)", async function () {
      type Rec = AuditList["records"][number];
      const wanted = (recs: Rec[]) => recs.map((r) => `${r.by} ${r.action} ${JSON.stringify(r.target)}`);
      const expected = [
        'operator off {"device":"pr-2"}',
        'operator off {"kind":"printer"}',
        'operator on {"building":"hq","floor":"2"}',
        'operator on {"device":"gone-1"}',
      ];
      const byOperator = await eventually(
        async () => (await get<AuditList>("/audit?by=operator", C)).body.records,
        (r) => r.length >= expected.length,
        10_000,
        "the operator's audit records",
      );
      assert.deepEqual(wanted(byOperator), expected);
      assert.deepEqual(
        byOperator.map((r) => r.ok),
        [true, true, false, false],
        "failures are recorded too",
      );
      const admin = (await get<AuditList>("/audit?by=admin&device=pr-2", C)).body.records;
      assert.deepEqual(wanted(admin), ['admin toggle {"device":"pr-2"}']);
      const all = await get("/audit", C);
      for (const t of Object.values(TOKENS)) assert.equal(JSON.stringify(all.body).includes(t), false);
      assertProblem(await get("/audit"), 403, "FORBIDDEN");
    });

    it("?queue=PT1M queues a command for an unreachable plug (202) and GET /commands/{id} follows it", async function () {
      const queued = await post("/devices/gone-1/power?queue=PT1M", { state: "off" });
      assert.equal(queued.status, 202);
      const results = queued.body.results as { device: string; ok: boolean; queued?: boolean; error?: { code: string } }[];
      assert.deepEqual(
        results.map((r) => [r.device, r.ok, r.queued, r.error?.code]),
        [["gone-1", false, true, "DEVICE_UNREACHABLE"]],
      );
      const state = await get<Json>(`/commands/${queued.body.requestId}`, C);
      assert.equal(state.status, 200);
      assert.deepEqual([state.body.state, state.body.action, state.body.by], ["queued", "off", "operator"]);
      assert.equal(state.body.expiresAt, queued.body.expiresAt);
      assertProblem(await get("/commands/no-such-command", C), 404, "UNKNOWN_COMMAND");
      assertProblem(await get(`/commands/${queued.body.requestId}`), 403, "FORBIDDEN");
      assertProblem(await post("/devices/gone-1/power?queue=P1Y", { state: "off" }), 400, "INVALID_REQUEST");
    });

    it("GET/PUT /schedules and GET /savings are answered by the scheduler over MQTT (control and read scopes)", async function () {
      const list = await get<Json>("/schedules", C);
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.deepEqual(list.body.document, { schedules: [] });
      assertProblem(await get("/schedules"), 403, "FORBIDDEN");
      const doc = { schedules: [{ name: "printers", target: { kind: "printer" }, on: "07:30", off: "20:00" }] };
      const put = await s.request<Json>("PUT", BASE + "/schedules", { ...C, body: doc });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual(put.body.document, doc);
      assert.equal(put.body.updatedBy, "operator");
      const bad = await s.request<Json>("PUT", BASE + "/schedules", { ...C, body: { schedules: [{ name: "x", target: { device: "nope" }, on: "07:30" }] } });
      assertProblem(bad, 422, "INVALID_SCHEDULE");
      const savings = await get<Json>("/savings?month=2026-03&building=hq");
      assert.equal(savings.status, 200, JSON.stringify(savings.body));
      assert.deepEqual(savings.body.rows, []);
      assertProblem(await get("/savings?month=2026-13"), 400, "INVALID_REQUEST");
    });

    it("GET /alerts lists a retained alert event and drops it when cleared; state=all keeps the history", async function () {
      const raised = {
        v: 1,
        id: "waste:pr-1",
        device: "pr-1",
        rule: "waste",
        severity: "warning",
        state: "raised",
        ts: Date.now(),
        value: 52.3,
        message: "pr-1 draws 52.3 W outside working hours (limit 20 W)",
      };
      const topic = `${s.root}/alerts/pr-1/waste`;
      await s.mqtt.publishAsync(topic, JSON.stringify(raised), { qos: 1, retain: true });
      const active = await eventually(
        () => get<AlertList>("/alerts"),
        (r) => r.body.count === 1,
        5000,
        "alert listed",
      );
      assert.equal(active.status, 200);
      assert.equal(active.body.state, "active");
      assert.deepEqual(active.body.alerts, [raised]);
      assert.equal((await get<AlertList>("/alerts?device=ws-a")).body.count, 0);
      const cleared = { ...raised, state: "cleared", ts: raised.ts + 1000, value: 3 };
      await s.mqtt.publishAsync(topic, JSON.stringify(cleared), { qos: 1 });
      await s.mqtt.publishAsync(topic, "", { qos: 1, retain: true });
      await eventually(
        () => get<AlertList>("/alerts"),
        (r) => r.body.count === 0,
        5000,
        "alert cleared",
      );
      const history = await get<AlertList>(`/alerts?state=all&from=${iso(raised.ts - 1000)}`);
      assert.deepEqual(
        history.body.alerts.map((a) => a.state),
        ["raised", "cleared"],
      );
    });

    it("auth: 401 without or with an unknown token, 403 with the wrong scope; /health and /openapi.json stay open", async function () {
      const none = await s.request("GET", `${BASE}/devices`);
      assertProblem(none, 401, "UNAUTHORIZED");
      assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer realm="plugwatch"/);
      assertProblem(await s.request("GET", `${BASE}/devices`, { token: "not-a-token-of-this-api" }), 401, "UNAUTHORIZED");
      // The guess is logged (rate-limited) with the caller's address, never with the token.
      await s.red.waitForLog(/request refused for an unknown token from \S*127\.0\.0\.1 \(\d+ since start\)/);
      assert.doesNotMatch(s.red.log(), /not-a-token-of-this-api/);
      assertProblem(await s.request("GET", `${BASE}/devices`, { headers: { authorization: `Basic ${TOKENS.read}` } }), 401, "UNAUTHORIZED");
      const wrong = await post("/devices/pr-1/power", { state: "on" }, R);
      assertProblem(wrong, 403, "FORBIDDEN");
      assert.match(wrong.headers.get("www-authenticate") ?? "", /insufficient_scope/);
      assertProblem(await post("/power", { state: "on", kind: "printer" }, R), 403, "FORBIDDEN");
      assertProblem(await get("/devices", C), 403, "FORBIDDEN");
      assert.equal((await get("/devices", { token: TOKENS.both })).status, 200);
      assert.equal((await s.request("GET", `${BASE}/openapi.json`)).status, 200);
      assert.equal((await s.request("GET", `${BASE}/health`)).status, 200);
    });

    it("400/404/405/413/415/422 problem details for bad parameters, bodies and targets", async function () {
      assertProblem(await get("/devices/ws-a/measurements?from=yesterday"), 400, "INVALID_REQUEST");
      assertProblem(await get("/devices/ws-a/measurements?form=-1h"), 400, "INVALID_REQUEST");
      assertProblem(await get("/devices/ws-a/measurements?aggregate=median&interval=1m"), 400, "INVALID_REQUEST");
      assertProblem(await get("/devices/ws-a/measurements?from=2025-11-24T08:00:00"), 400, "INVALID_REQUEST");
      assertProblem(await get("/devices/ws-a/measurements/latest?limit=abc"), 400, "INVALID_REQUEST");
      assertProblem(await get("/devices?kind=toaster"), 400, "INVALID_REQUEST");
      assertProblem(await get("/devices/WS%20A"), 400, "INVALID_REQUEST");
      assertProblem(await get("/measurements/latest?all=maybe"), 400, "INVALID_REQUEST");
      assertProblem(await get("/energy?groupBy=planet"), 400, "INVALID_REQUEST");
      assertProblem(await get("/alerts?state=active&from=-1d"), 400, "INVALID_REQUEST");
      assertProblem(await post("/devices/pr-1/power", { state: "dim" }), 400, "INVALID_REQUEST");
      assertProblem(await post("/devices/pr-1/power", { state: "on", extra: 1 }), 400, "INVALID_REQUEST");
      assertProblem(
        await s.request("POST", `${BASE}/devices/pr-1/power`, { ...C, raw: "{not json", headers: { "content-type": "application/json" } }),
        400,
        "INVALID_REQUEST",
      );
      assertProblem(await s.request("POST", `${BASE}/devices/pr-1/power`, C), 400, "INVALID_REQUEST");
      assertProblem(await post("/power", { state: "off" }), 400, "INVALID_REQUEST");
      assertProblem(await post("/power", { state: "off", kind: "printer", all: true }), 400, "INVALID_REQUEST");

      assertProblem(await get("/devices/nope"), 404, "UNKNOWN_DEVICE");
      assertProblem(await get("/devices/nope/measurements"), 404, "UNKNOWN_DEVICE");
      assertProblem(await post("/devices/nope/power", { state: "on" }), 404, "UNKNOWN_DEVICE");
      assertProblem(await post("/power", { state: "on", devices: ["ws-a", "nope"] }), 404, "UNKNOWN_DEVICE");
      // Devices not in the registry (none sent a reading here): an empty pending list; approve/reject need a listed id.
      const pendingList = await get<UnknownDeviceList>("/devices?state=pending");
      assert.equal(pendingList.status, 200);
      assert.deepEqual([pendingList.body.state, pendingList.body.count], ["pending", 0]);
      assertProblem(await s.request("POST", `${BASE}/devices/nope/approve`, C), 404, "UNKNOWN_DEVICE");
      assertProblem(await s.request("POST", `${BASE}/devices/nope/reject`, C), 404, "UNKNOWN_DEVICE");
      assertProblem(await s.request("POST", `${BASE}/devices/pr-1/approve`, C), 400, "INVALID_REQUEST");
      assertProblem(await get("/devices?state=lost"), 400, "INVALID_REQUEST");
      assertProblem(await get("/no-such-endpoint"), 404, "NOT_FOUND");
      const wrongMethod = await s.request("DELETE", `${BASE}/devices/pr-1`, R);
      assertProblem(wrongMethod, 405, "METHOD_NOT_ALLOWED");
      assert.equal(wrongMethod.headers.get("allow"), "GET");
      assertProblem(await s.request("GET", `${BASE}/power`, R), 405, "METHOD_NOT_ALLOWED");

      const big = await s.request("POST", `${BASE}/devices/pr-1/power`, {
        ...C,
        raw: JSON.stringify({ state: "on", pad: "x".repeat(20_000) }),
        headers: { "content-type": "application/json" },
      });
      assertProblem(big, 413, "PAYLOAD_TOO_LARGE");
      assertProblem(
        await s.request("POST", `${BASE}/power`, { ...C, raw: "state=on", headers: { "content-type": "text/plain" } }),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      );

      assertProblem(await get(`/devices/ws-a/measurements?from=${iso(D + DAY)}&to=${iso(D)}`), 422, "INVALID_QUERY");
      assertProblem(await get(`/devices/ws-a/measurements?from=-40d`), 422, "LIMIT_EXCEEDED");
      assertProblem(await get(`/devices/ws-a/measurements?from=-400d&aggregate=mean&interval=1h`), 422, "LIMIT_EXCEEDED");
      assertProblem(await get(`/devices/ws-a/measurements/latest?limit=100001`), 422, "LIMIT_EXCEEDED");
      assertProblem(await post("/power", { state: "off", building: "annex" }), 422, "EMPTY_TARGET");
      // Nothing was switched by any of these.
      assert.equal(s.office.plug("pr-1").relay, true);
    });

    it("reply timeout → 504 TIMEOUT; a late reply after it is dropped without side effects", async function () {
      const reqTopic = `${s.slowRoot}/api/request/query`;
      await s.mqtt.subscribeAsync(reqTopic, { qos: 1 });
      const seen = nextMessage(s.mqtt, reqTopic, (p) => (JSON.parse(p.toString()) as { query?: { limit?: number } }).query?.limit === 7, 5000);
      const before = (await s.request<Health>("GET", `${SLOW_BASE}/health`)).body.api;
      const r = await s.request("GET", `${SLOW_BASE}/devices/ws-a/measurements/latest?limit=7`);
      const timedOut = assertProblem(r, 504, "TIMEOUT");
      assert.ok(r.ms >= SLOW_TIMEOUT_MS - 50 && r.ms < SLOW_TIMEOUT_MS + 2000, `${r.ms} ms`);
      const request = JSON.parse((await seen).payload.toString()) as { id: string; replyTo: string };
      assert.equal(timedOut.requestId, request.id);
      // The component finally answers: the API has nobody waiting for that id any more.
      await s.mqtt.publishAsync(request.replyTo, JSON.stringify({ v: 1, id: request.id, ok: true, data: { type: "latestN", device: "ws-a", readings: [] } }), {
        qos: 1,
      });
      const after = await eventually(
        () => s.request<Health>("GET", `${SLOW_BASE}/health`),
        (h) => h.body.api.dropped > before.dropped,
        5000,
        "late reply dropped",
      );
      assert.equal(after.body.api.pending, 0);
      assert.equal(after.body.status, "degraded");
      assert.ok(after.body.api.timedOut > before.timedOut);
      // The same API still answers what needs no reply.
      assert.equal((await s.request("GET", `${SLOW_BASE}/devices/ws-a`)).status, 200);
      await s.mqtt.unsubscribeAsync(reqTopic);
    });

    it("broker not connected → 503 BROKER_UNAVAILABLE at once, for queries and commands", async function () {
      const q = await s.request("GET", `${DEAD_BASE}/devices/ws-a/measurements/latest`);
      assertProblem(q, 503, "BROKER_UNAVAILABLE");
      assert.equal(q.headers.get("retry-after"), "5");
      // "At once": far below the 5000 ms reply timeout this API would otherwise wait (bound generous for a loaded CI machine).
      assert.ok(q.ms < 1500, `${q.ms} ms`);
      const c = await s.request("POST", `${DEAD_BASE}/devices/pr-1/power`, { body: { state: "off" } });
      assertProblem(c, 503, "BROKER_UNAVAILABLE");
      assert.ok(c.ms < 1500, `${c.ms} ms`);
      assert.equal(s.office.plug("pr-1").relay, true);
      const h = await s.request<Health>("GET", `${DEAD_BASE}/health`);
      assert.equal(h.status, 503);
      assert.equal(h.body.status, "down");
      assert.equal(h.body.broker.connected, false);
      // Registry endpoints need no broker.
      assert.equal((await s.request("GET", `${DEAD_BASE}/devices`)).status, 200);
    });

    it("many concurrent requests are each matched to their own reply; nothing stays pending", async function () {
      const before = (await get<Health>("/health")).body.api;
      const n = full ? 120 : 60;
      const jobs = Array.from({ length: n }, (_, i) => {
        const limit = (i % 40) + 1;
        if (i % 3 === 2)
          return get<Latest>("/measurements/latest").then((r) => ({
            r,
            check: () =>
              assert.deepEqual(
                r.body.readings.map((x) => x.device),
                ["pr-1", "ws-a"],
              ),
          }));
        return get<LatestN>(`/devices/ws-a/measurements/latest?limit=${limit}`).then((r) => ({
          r,
          check: () => {
            assert.equal(r.body.readings.length, limit);
            assert.equal(nth(r.body.readings, 0).power, 4);
          },
        }));
      });
      const done = await Promise.all(jobs);
      for (const { r, check } of done) {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        check();
      }
      const after = (await get<Health>("/health")).body.api;
      assert.equal(after.pending, 0);
      // Identical requests in flight share one reply (read collapsing): every request was either answered by its own
      // reply or joined one, and each distinct query needed a reply of its own.
      const distinct = new Set(Array.from({ length: n }, (_, i) => (i % 3 === 2 ? "latest" : `limit=${(i % 40) + 1}`))).size;
      const delivered = after.delivered - before.delivered;
      const collapsed = after.collapsed - before.collapsed;
      assert.ok(delivered + collapsed >= n, `${delivered} delivered + ${collapsed} collapsed < ${n}`);
      assert.ok(delivered >= distinct, `${delivered} delivered for ${distinct} distinct queries`);
      assert.equal(after.dropped, before.dropped);
      assert.equal(after.timedOut, before.timedOut);
    });

    if (full) {
      it("a redeploy replaces the API's routes; removing the node removes them", async function () {
        const changed = s.flows.map((n) => (n.id === "api" ? { ...n, historySize: 50 } : n));
        // "nodes" deploy: only the changed node restarts, as when a user edits it in the editor.
        await s.red.deploy(changed, "nodes");
        // The runtime starts the redeployed node just after answering the deploy: wait for its route (raw fetch,
        // so express's 404 of the gap is not taken for an API answer).
        const routed = () => fetch(`${s.red.url}${BASE}/health`).then(async (x) => (await x.arrayBuffer(), x.status));
        await eventually(routed, (st) => st === 200, 10000, "API routed after redeploy");
        const r = await get<Latest>("/measurements/latest");
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.readings.length, 2);
        assert.equal((await get<AlertList>("/alerts?state=all")).body.historySize, 50, "the new node instance answers");
        await s.red.deploy(
          s.flows.filter((n) => n.id !== "api"),
          "nodes",
        );
        await eventually(routed, (st) => st === 404, 10000, "API route removed");
        const gone = await fetch(`${s.red.url}${BASE}/devices`, { headers: { authorization: `Bearer ${TOKENS.read}` } });
        assert.equal(gone.status, 404);
        assert.doesNotMatch(await gone.text(), /urn:plugwatch/);
        await s.red.deploy(s.flows, "nodes");
        await eventually(routed, (st) => st === 200, 10000, "API routed again");
        const back = await get<Health>("/health");
        assert.equal(back.status, 200);
        assert.equal(back.body.api.pending, 0);
      });

      it("GET /openapi.json is OpenAPI 3.1 and passes redocly lint", async function () {
        const r = await s.request<{ openapi: string; servers: { url: string }[] }>("GET", `${BASE}/openapi.json`);
        assert.equal(r.status, 200);
        assert.equal(r.body.openapi, "3.1.0");
        assert.deepEqual(
          r.body.servers.map((x) => x.url),
          [BASE],
        );
        const { code, out } = await lint(r.body);
        assert.equal(code, 0, out);
        assert.doesNotMatch(out, /\berror\b/i, out);
      });
    }

    it("tokens never appear in the runtime's log", function () {
      const log = s.red.log();
      assert.match(log, /REST API on \/api\/v1/);
      for (const t of Object.values(TOKENS)) assert.equal(log.includes(t), false, `token ${t.slice(0, 8)}… found in the log`);
    });

    it("GET /metrics: Prometheus text, open while the node has no metrics token (the default)", async function () {
      await s.request("GET", `${BASE}/health`);
      const r = await s.request<string>("GET", `${BASE}/metrics`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      assert.match(r.body, /^# TYPE plugwatch_api_requests_total counter$/m);
      assert.match(r.body, /^plugwatch_api_requests_total\{route="getHealth",status="200"\} [1-9]/m);
    });

    it("every answer matched the served OpenAPI document" + (full ? "; every operation was exercised" : ""), function () {
      assert.deepEqual(s.violations, []);
      if (full) {
        const exercised = new Set([...s.validator.seen].map((x) => x.split(" ")[0]));
        assert.deepEqual(
          s.validator.operations().filter((o) => !exercised.has(o)),
          [],
        );
      }
    });
  });
}

suite("mosquitto", true, true);
suite("aedes", false, false);
