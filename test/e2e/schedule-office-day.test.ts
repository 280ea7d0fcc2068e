// Acceptance: a simulated office evening and morning with the scheduler on a message-driven clock, in a real Node-RED
// with Mosquitto and simulated plugs: printers off at 20:00 and on at 07:30 (checked at the simulator), one standby
// cut-off, a critical device never switched, and GET /savings with hand-computed figures.
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { AuditRecord, Device } from "../../lib/contracts";
import { SimulatedOffice } from "../../scripts/sim/office";
import { brokerNode, collectorNode, httpApiNode, mqttInNode, mqttOutNode, registryNode } from "../support/flow-nodes";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { connectClient, startBroker, Teardown, uniqueRoot } from "../../scripts/harness/services";
import { eventually } from "../../scripts/harness/wait";
import { nth } from "../support/checked";

const TOKEN = "sched-e2e-token-0123456789abcdef";
const READ_TOKEN = "sched-e2e-read-0123456789abcdef";

/** Typed factory: the office of this test (ports chosen by the simulators). */
function devices(): Device[] {
  const d = (id: string, kind: Device["kind"], floor: string, room: string, extra: Partial<Device> = {}): Device => ({
    id,
    name: id,
    model: "HS110",
    host: "127.0.0.1",
    port: 9999,
    kind,
    location: { building: "hq", floor, room },
    ...extra,
  });
  return [
    d("pr-1", "printer", "2", "copy"),
    d("pr-2", "printer", "2", "copy"),
    // The print server sits in the copy room: the room's schedule selects it, the control agent must skip it.
    d("srv-1", "other", "2", "copy", { critical: true }),
    d("ws-1", "workplace", "1", "open"),
    d("ws-2", "workplace", "1", "open"),
  ];
}

const SCHEDULES = {
  holidays: [{ date: "2026-03-12", name: "Séminaire" }],
  schedules: [
    { name: "copy-room", target: { building: "hq", floor: "2", room: "copy" }, days: ["mon", "tue", "wed", "thu", "fri"], on: "07:30", off: "20:00" },
  ],
  standby: [{ name: "desk-idle", kind: "workplace", belowW: 5, minutes: 30 }],
  price: { perKWh: 0.2, currency: "EUR" },
};

function flow(root: string, brokerPort: number, registry: Device[]): FlowNode[] {
  const z = "sched-tab";
  const mqttIn = (id: string, topic: string, to: string, y: number): FlowNode => mqttInNode(id, z, topic, to, y);
  const mqttOut = (id: string, y: number): FlowNode => mqttOutNode(id, z, 600, y);
  return [
    { id: z, type: "tab", label: "schedules e2e" },
    brokerNode("b", brokerPort),
    registryNode("reg", { timezone: "Europe/Paris", devices: registry }),
    { id: "sch", type: "plugwatch-schedule", name: "office schedules", source: "json", file: "", json: JSON.stringify(SCHEDULES) },
    collectorNode("col", z, root, "colout", { interval: 1, timeout: 2000, concurrency: 8, offlineAfter: 3, x: 300, y: 40 }),
    mqttOut("colout", 40),
    mqttIn("cin", `${root}/api/request/command`, "ctl", 100),
    { id: "ctl", type: "plugwatch-control", z, name: "", registry: "reg", concurrency: 8, timeout: 2000, x: 300, y: 100, wires: [["cout"]] },
    mqttOut("cout", 100),
    mqttIn("s-read", `${root}/+/+/+/+/reading`, "scheduler", 160),
    mqttIn("s-audit", `${root}/audit/command`, "scheduler", 200),
    mqttIn("s-req", `${root}/api/request/schedule`, "scheduler", 240),
    mqttIn("s-clock", `${root}/sim/clock`, "to-clock", 280),
    {
      id: "to-clock",
      type: "change",
      z,
      name: "topic clock",
      rules: [{ t: "set", p: "topic", pt: "msg", to: "clock", tot: "str" }],
      action: "",
      property: "",
      from: "",
      to: "",
      reg: false,
      x: 200,
      y: 280,
      wires: [["scheduler"]],
    },
    {
      id: "scheduler",
      type: "plugwatch-scheduler",
      z,
      name: "",
      registry: "reg",
      schedule: "sch",
      root,
      clock: "input",
      tick: 15,
      x: 400,
      y: 200,
      wires: [["sout"]],
    },
    mqttOut("sout", 200),
    httpApiNode("api", z, root, "/api/v1", `${TOKEN} read,control operator\n${READ_TOKEN} read reader`, { x: 300, y: 340 }),
  ];
}

describe("e2e: schedules, standby cut-off, critical device and savings over a simulated office day", function () {
  this.timeout(120_000);
  const td = new Teardown();
  let office: SimulatedOffice;
  let red: NodeRedInstance;
  let mqtt: MqttClient;
  let root: string;
  const audits: AuditRecord[] = [];
  const seen = new Map<string, number>();
  /** Commands seen on the broker (shown when a wait fails). */
  const commands: string[] = [];
  const last = new Map<string, string>();

  before(async function () {
    root = uniqueRoot("pwsched");
    const broker = await startBroker(td, "mosquitto");
    office = td.add(await SimulatedOffice.start(devices(), { portFor: () => 0, tickMs: 0, relayOn: true }), (o) => o.stop());
    // Standby draws (W): the printers idle in the evening, ws-1 was left on idle, ws-2 is busy, the server works.
    for (const [id, w] of [
      ["pr-1", 4.5],
      ["pr-2", 3],
      ["srv-1", 80],
      ["ws-1", 2],
      ["ws-2", 60],
    ] as const)
      office.plug(id).force({ power: w });
    mqtt = await connectClient(td, broker.url, { protocolVersion: 5 });
    await new Promise<void>((resolve, reject) =>
      mqtt.subscribe([`${root}/audit/command`, `${root}/+/+/+/+/reading`, `${root}/api/request/command`], { qos: 1 }, (e) => (e ? reject(e) : resolve())),
    );
    mqtt.on("message", (topic, payload) => {
      if (topic.endsWith("/api/request/command")) commands.push(payload.toString());
      else if (topic.endsWith("/audit/command")) audits.push(JSON.parse(payload.toString()) as AuditRecord);
      else {
        const id = topic.split("/").at(-2) as string;
        last.set(id, payload.toString());
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
    });
    red = td.add(await startNodeRed({}), (r) => r.stop());
    await red.deploy(flow(root, broker.port, office.registryDevices()));
  });
  after(() => td.run());

  const at = async (iso: string): Promise<void> => {
    await mqtt.publishAsync(`${root}/sim/clock`, JSON.stringify(Date.parse(iso)), { qos: 1 });
  };
  /** Waits until every device has sent `n` more readings (the scheduler gets the same messages). */
  const moreReadings = async (n = 2): Promise<void> => {
    const base = new Map(seen);
    await eventually(`${n} more readings of every device`, () => devices().every((d) => (seen.get(d.id) ?? 0) >= (base.get(d.id) ?? 0) + n), Boolean, {
      timeoutMs: 20_000,
      context: () => red.logTail(20),
    });
  };
  const relays = (): Record<string, boolean> => Object.fromEntries(devices().map((d) => [d.id, office.plug(d.id).relay]));
  const waitRelays = (what: string, want: Record<string, boolean>) =>
    eventually(what, relays, (r) => Object.entries(want).every(([id, on]) => r[id] === on), {
      timeoutMs: 20_000,
      context: () => `commands: ${commands.join("\n")}\nlast readings: ${[...last.values()].join("\n")}`,
    });
  const api = async <T>(method: string, path: string, body?: unknown, token = TOKEN): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${red.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      body: body !== undefined ? JSON.stringify(body) : null,
    });
    return { status: r.status, body: (await r.json()) as T };
  };

  it("runs the evening and the morning: one cut-off, printers off at 20:00 and on at 07:30, the server untouched, savings by hand", async function () {
    // The scheduler answers over MQTT once its subscriptions (readings, audit, requests, clock) are in place.
    await eventually(
      "the scheduler answers GET /schedules",
      () => api("GET", "/schedules").then((r) => r.status),
      (st) => st === 200,
      { timeoutMs: 20_000 },
    );
    // Tuesday 10 March 2026, 19:00 in Paris (CET, UTC+1).
    await at("2026-03-10T18:00:00Z");
    await moreReadings();
    // 29 minutes idle: ws-1 stays on.
    await at("2026-03-10T18:29:00Z");
    await moreReadings();
    assert.deepEqual(relays(), { "pr-1": true, "pr-2": true, "srv-1": true, "ws-1": true, "ws-2": true });
    // 31 minutes below 5 W: ws-1 is cut off, once; ws-2 (60 W) is not.
    await at("2026-03-10T18:31:00Z");
    await waitRelays("ws-1 cut off", { "ws-1": false });
    await moreReadings();
    await at("2026-03-10T18:59:00Z");
    await moreReadings();
    assert.deepEqual(relays(), { "pr-1": true, "pr-2": true, "srv-1": true, "ws-1": false, "ws-2": true });

    // 20:00 local: the copy room goes off, except the critical print server.
    await at("2026-03-10T19:00:00Z");
    await waitRelays("printers off at 20:00", { "pr-1": false, "pr-2": false });
    await moreReadings();
    assert.equal(office.plug("srv-1").relay, true);
    const off = audits.find((a) => a.by === "schedule:copy-room" && a.action === "off");
    assert.ok(off, JSON.stringify(audits));
    assert.deepEqual(off.target, { devices: ["pr-1", "pr-2", "srv-1"] });
    assert.deepEqual(
      off.results.map((r) => [r.device, r.ok, r.relay ?? null, r.code ?? null, r.skipped ?? false]),
      [
        ["pr-1", true, false, null, false],
        ["pr-2", true, false, null, false],
        ["srv-1", true, null, "CRITICAL_DEVICE", true],
      ],
    );

    // Through the night: nothing more (ws-1 is off, the cut-off does not fire again).
    for (const t of ["2026-03-10T23:00:00Z", "2026-03-11T03:00:00Z", "2026-03-11T06:29:00Z"]) {
      await at(t);
      await moreReadings(1);
    }
    assert.deepEqual(relays(), { "pr-1": false, "pr-2": false, "srv-1": true, "ws-1": false, "ws-2": true });

    // 07:30 local on Wednesday: the copy room comes back on.
    await at("2026-03-11T06:30:00Z");
    await waitRelays("printers on at 07:30", { "pr-1": true, "pr-2": true });
    await moreReadings();
    assert.equal(office.plug("srv-1").relay, true);
    const byWho = audits.map((a) => `${a.by ?? "-"} ${a.action}`);
    assert.deepEqual(byWho, ["cutoff:desk-idle off", "schedule:copy-room off", "schedule:copy-room on"]);
    assert.deepEqual(nth(audits, 0).target, { device: "ws-1" });
    assert.ok(audits.every((a) => a.results.find((r) => r.device === "srv-1")?.skipped !== false));

    // Savings, by hand. Copy room: pr-1 4.5 W + pr-2 3 W off from 19:00Z to 06:30Z = 11.5 h each:
    //   23 device-hours, (4.5 + 3) W × 11.5 h = 86.25 Wh = 0.08625 kWh, × 0.20 EUR = 0.01725 EUR.
    // Open space: ws-1 2 W off since 18:31Z, still off at the scheduler's 06:30Z = 719 min = 11.983333 h:
    //   2 W × 11.983333 h = 23.966667 Wh = 0.023967 kWh, × 0.20 = 0.004793 EUR.
    const savings = await api<{ rows: unknown[]; totalKWh: number; ts: number }>("GET", "/savings?month=2026-03", undefined, READ_TOKEN);
    assert.equal(savings.status, 200, JSON.stringify(savings.body));
    assert.equal(savings.body.ts, Date.parse("2026-03-11T06:30:00Z"));
    assert.deepEqual(savings.body.rows, [
      { month: "2026-03", building: "hq", floor: "1", room: "open", offs: 1, hoursOff: 11.983333, kWh: 0.023967, cost: 0.004793, currency: "EUR" },
      { month: "2026-03", building: "hq", floor: "2", room: "copy", offs: 2, hoursOff: 23, kWh: 0.08625, cost: 0.01725, currency: "EUR" },
    ]);
    assert.equal(savings.body.totalKWh, 0.110217);
    const none = await api<{ rows: unknown[] }>("GET", "/savings?month=2026-02", undefined, READ_TOKEN);
    assert.deepEqual(none.body.rows, []);

    // Thursday 12 March is a holiday in the document: 20:00 on Wednesday runs, 07:30 on Thursday does not.
    await at("2026-03-11T19:00:00Z");
    await waitRelays("printers off on Wednesday evening", { "pr-1": false, "pr-2": false });
    await at("2026-03-12T06:31:00Z");
    await moreReadings();
    assert.deepEqual(relays(), { "pr-1": false, "pr-2": false, "srv-1": true, "ws-1": false, "ws-2": true });
  });

  it("group commands skip the critical device; naming it alone switches it", async function () {
    const bulk = await api<{ ok: boolean; results: { device: string; ok: boolean; relay?: boolean; skipped?: { code: string } }[] }>("POST", "/power", {
      state: "on",
      building: "hq",
      floor: "2",
      room: "copy",
    });
    assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
    assert.equal(bulk.body.ok, true);
    assert.deepEqual(
      bulk.body.results.map((r) => [r.device, r.relay ?? null, r.skipped?.code ?? null]),
      [
        ["pr-1", true, null],
        ["pr-2", true, null],
        ["srv-1", null, "CRITICAL_DEVICE"],
      ],
    );
    const single = await api<{ ok: boolean; results: { device: string; relay?: boolean }[] }>("POST", "/devices/srv-1/power", { state: "off" });
    assert.equal(single.status, 200, JSON.stringify(single.body));
    assert.deepEqual(single.body.results, [{ device: "srv-1", ok: true, relay: false }]);
    assert.equal(office.plug("srv-1").relay, false);
    const audit = await eventually("audit of the explicit switch", () => audits.find((a) => a.by === "operator" && a.action === "off"), Boolean);
    assert.deepEqual(audit?.target, { device: "srv-1" });
  });

  it("lists and replaces the schedules through the API (control scope), refusing a bad document with JSON paths", async function () {
    const list = await api<{ document: unknown; source: string; updatedBy: string | null }>("GET", "/schedules");
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.document, SCHEDULES);
    assert.equal(list.body.updatedBy, null);
    assert.equal((await api("GET", "/schedules", undefined, READ_TOKEN)).status, 403);

    const bad = await api<{ code: string; details: unknown[] }>("PUT", "/schedules", { schedules: [{ name: "x", target: { device: "ghost" }, on: "25:00" }] });
    assert.equal(bad.status, 422, JSON.stringify(bad.body));
    assert.equal(bad.body.code, "INVALID_SCHEDULE");
    assert.deepEqual(bad.body.details, [{ path: "$.schedules[0].on", message: '"25:00" is not a valid on' }]);

    const doc = { schedules: [{ name: "desks", target: { kind: "workplace" }, on: "08:00" }], neverOff: ["ws-2"] };
    const put = await api<{ document: unknown; source: string; updatedBy: string }>("PUT", "/schedules", doc);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body.document, doc);
    assert.equal(put.body.updatedBy, "operator");
    assert.match(put.body.source, /plugwatch-schedules\/sch\.json$/);
    const again = await api<{ document: unknown }>("GET", "/schedules");
    assert.deepEqual(again.body.document, doc);
    // The new document runs: 08:00 Paris on Friday 13 March switches the desks on (ws-1 was cut off).
    await at("2026-03-13T07:00:00Z");
    await waitRelays("desks on at 08:00", { "ws-1": true });
  });
});
