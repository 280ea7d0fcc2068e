// Collector and control on the transport layer, in the Node-RED test helper, against a mixed simulated office over loopback:
// a legacy HS110 (TCP), a KLAP HS110 (Kasa JSON over KLAP), a Tapo P110 and an HS300 strip whose outlets are devices.
import assert from "node:assert/strict";
import * as path from "node:path";
import { Availability, Reading, validate, type Device } from "../../lib/contracts";
import type { CommandReply } from "../../lib/contracts/command";
import { buildRegistry } from "../../lib/registry";
import { SimulatedOffice } from "../../scripts/sim/office";
import { registryConfig } from "../support/config-nodes";
import { uniqueRoot } from "../../scripts/harness/services";
import { calls, helper, history, statuses, waitFor, withMessages, type TestNode } from "../support/node-helper";

import registryModule from "../../nodes/plugwatch-registry/plugwatch-registry";
import accountModule from "../../nodes/plugwatch-tplink-account/plugwatch-tplink-account";
import collectorModule from "../../nodes/plugwatch-collector/plugwatch-collector";
import controlModule from "../../nodes/plugwatch-control/plugwatch-control";
import { member } from "../support/checked";

const collectorNode = withMessages(collectorModule, path.join(__dirname, "..", "..", "nodes", "plugwatch-collector"), "plugwatch-collector");
const controlNode = withMessages(controlModule, path.join(__dirname, "..", "..", "nodes", "plugwatch-control"), "plugwatch-control");

const ACCOUNT = { user: "facilities@office.example", password: "the-right-one" };
/** Must never appear anywhere outside the credentials: messages, statuses, logs, errors, the flow. */
const CANARY = "CANARY-pw-5c1e7a93d2";
const loc = { building: "hq", floor: "2", room: "east" };

const ENTRIES = [
  { id: "legacy-1", name: "Legacy desk", model: "HS110", host: "127.0.0.1", port: 0, kind: "workplace", location: loc, protocol: "legacy" },
  { id: "klap-1", name: "KLAP desk", model: "HS110", host: "127.0.0.1", port: 0, kind: "workplace", location: loc, protocol: "klap" },
  { id: "tapo-1", name: "Tapo kettle", model: "P110", host: "127.0.0.1", port: 0, kind: "other", location: loc, protocol: "tapo" },
  {
    id: "strip",
    name: "Desk strip",
    model: "HS300",
    host: "127.0.0.1",
    port: 0,
    kind: "workplace",
    location: loc,
    protocol: "klap",
    outlets: [{}, {}, { name: "Monitor" }, {}, {}, { kind: "printer" }],
  },
];

interface Out {
  topic: string;
  payload: Record<string, unknown>;
}

describe("collector + control over legacy, KLAP, Tapo and HS300 (simulated office on loopback)", function () {
  this.timeout(20000);
  let office: SimulatedOffice;
  /** The registry with the ports the simulators listen on (the strip as one entry with its outlets). */
  let registryJson: { devices: unknown[] };

  async function startOffice(password: string): Promise<void> {
    const devices: Device[] = [...buildRegistry({ devices: ENTRIES.map((e, i) => ({ ...e, port: 10 + i })) }).devices];
    office = await SimulatedOffice.start(devices, { portFor: () => 0, tickMs: 0, credentialsFor: () => ({ user: ACCOUNT.user, password }) });
    const actual = office.registryDevices();
    const portOf = (id: string): number => (actual.find((d) => d.id === id || d.strip?.id === id) as Device).port;
    registryJson = { devices: ENTRIES.map((e) => ({ ...e, port: portOf(e.id) })) };
  }

  beforeEach(async function () {
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve, reject) => helper.stopServer((err) => (err ? reject(err) : resolve())));
    await office?.stop();
  });

  function flow(root: string): Record<string, unknown>[] {
    return [
      { id: "tab", type: "tab", label: "klap" },
      registryConfig(registryJson, { name: "office", file: "" }),
      { id: "acct", type: "plugwatch-tplink-account", name: "office account" },
      {
        id: "col",
        type: "plugwatch-collector",
        z: "tab",
        x: 100,
        y: 100,
        name: "",
        registry: "reg",
        account: "acct",
        root,
        kind: "",
        building: "",
        floor: "",
        room: "",
        interval: 0.2,
        timeout: 1000,
        concurrency: 8,
        offlineAfter: 2,
        wires: [["out"]],
      },
      {
        id: "ctl",
        type: "plugwatch-control",
        z: "tab",
        x: 100,
        y: 100,
        name: "",
        registry: "reg",
        account: "acct",
        concurrency: 4,
        timeout: 1500,
        wires: [["ctlout"]],
      },
      { id: "out", type: "helper", z: "tab" },
      { id: "ctlout", type: "helper", z: "tab" },
      { id: "catch", type: "catch", z: "tab", x: 100, y: 100, scope: ["col", "ctl"], uncaught: false, wires: [["caught"]] },
      { id: "caught", type: "helper", z: "tab" },
    ];
  }

  async function load(password: string): Promise<{ col: TestNode; ctl: TestNode; sent: () => Out[]; caught: unknown[]; root: string; flowJson: string }> {
    const root = uniqueRoot();
    const f = flow(root);
    await helper.load([registryModule, accountModule, collectorNode, controlNode], f, { acct: { email: ACCOUNT.user, password } });
    const col = helper.getNode("col");
    const caught: unknown[] = [];
    helper.getNode("caught").on("input", (m: unknown) => caught.push(m));
    const sends = history(col, "send");
    return { col, ctl: helper.getNode("ctl"), sent: () => sends().map((a) => a[0] as Out), caught, root, flowJson: JSON.stringify(f) };
  }

  it("publishes contract readings for every family (strip outlets as devices) and switches each family", async function () {
    await startOffice(ACCOUNT.password);
    office.plug("legacy-1").force({ power: 11, voltage: 230 });
    office.outlet("klap-1").force({ power: 22, voltage: 231 });
    office.outlet("tapo-1").force({ power: 33, voltage: 232 });
    for (let i = 1; i <= 6; i++) office.outlet(`strip-${i}`).force({ power: 100 + i, voltage: 229 });
    const { ctl, sent } = await load(ACCOUNT.password);
    const ids = ["legacy-1", "klap-1", "tapo-1", ...Array.from({ length: 6 }, (_, i) => `strip-${i + 1}`)];
    const readings = await waitFor("a reading from every device", () => {
      const latest = new Map<string, Reading>();
      for (const m of sent()) if (m.topic.endsWith("/reading")) latest.set(String(m.payload.device), m.payload as unknown as Reading);
      return ids.every((id) => latest.has(id)) ? latest : undefined;
    });
    const expected: Record<string, [number, number]> = { "legacy-1": [11, 230], "klap-1": [22, 231], "tapo-1": [33, 232] };
    for (let i = 1; i <= 6; i++) expected[`strip-${i}`] = [100 + i, 229];
    for (const id of ids) {
      const r = readings.get(id) as Reading;
      assert.ok(validate(Reading, r).ok, `${id}: ${JSON.stringify(r)}`);
      const [w, v] = member(expected, id);
      assert.ok(Math.abs(r.power - w) < 0.01, `${id} power ${r.power}`);
      assert.ok(Math.abs(r.voltage - v) < 0.01, `${id} voltage ${r.voltage}`);
      assert.ok(Math.abs(r.current - w / v) < 0.002, `${id} current ${r.current}`);
      assert.equal(r.relay, true);
    }
    assert.equal(readings.get("strip-6")?.kind, "printer");
    // The strip's topic carries each outlet's own id.
    assert.ok(sent().some((m) => m.topic.endsWith("/strip-3/reading")));
    const stripDevice = office.klap.find((k) => k.model === "HS300");
    assert.equal(stripDevice?.server.stats.handshake1, 1, "the six outlets share one KLAP session");

    const out = helper.getNode("ctlout");
    const command = (payload: Record<string, unknown>): Promise<CommandReply> =>
      new Promise((resolve) => {
        out.on("input", (m: { payload: CommandReply }) => resolve(m.payload));
        ctl.receive({ payload });
      });
    const reply = await command({ action: "off", devices: ["legacy-1", "klap-1", "tapo-1", "strip-3"] });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    assert.deepEqual(
      reply.results.map((r) => [r.device, r.ok, r.relay]),
      [
        ["legacy-1", true, false],
        ["klap-1", true, false],
        ["tapo-1", true, false],
        ["strip-3", true, false],
      ],
    );
    assert.equal(office.plug("legacy-1").relay, false);
    assert.equal(office.outlet("klap-1").relay, false);
    assert.equal(office.outlet("tapo-1").relay, false);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((i) => office.outlet(`strip-${i}`).relay),
      [true, true, false, true, true, true],
    );
    // The collector sees the switched outlet read 0 W.
    await waitFor("strip-3 reading with relay off", () =>
      sent().find((m) => m.payload.device === "strip-3" && m.payload.relay === false && m.payload.power === 0),
    );
    assert.ok(
      office.klap.every((k) => k.server.openConnections > 0),
      "keep-alive connections while running",
    );
    // A redeploy (close) leaves no connection to any KLAP/Tapo plug behind.
    await helper.unload();
    await waitFor("no KLAP connection left", () => office.klap.every((k) => k.server.openConnections === 0), 3000);
  });

  it("wrong password: AUTH_FAILED offline, a status naming the device, one handshake per backoff step, and the password nowhere", async function () {
    await startOffice(ACCOUNT.password);
    const { col, ctl, sent, caught, flowJson } = await load(CANARY);
    const offline = await waitFor("tapo-1 offline", () => sent().find((m) => m.topic.endsWith("/tapo-1/availability") && m.payload.online === false));
    assert.ok(validate(Availability, offline.payload).ok);
    assert.match(String(offline.payload.reason), /^AUTH_FAILED: /);
    await waitFor("strip outlets offline", () => sent().some((m) => m.topic.endsWith("/strip-6/availability") && m.payload.online === false));
    // The legacy plug does not care about the account: its schedule is unaffected.
    await waitFor("legacy readings", () => sent().filter((m) => m.payload.device === "legacy-1" && m.topic.endsWith("/reading")).length >= 3);
    // Polls every 0.2 s for well over a second; the first backoff step is 5 s: one handshake per device.
    await new Promise((r) => setTimeout(r, 1200));
    assert.ok(
      statuses(col).some((s) => /^auth failed: (klap-1|tapo-1|strip-\d)$/.test(s.text ?? "")),
      JSON.stringify(statuses(col).slice(-3)),
    );
    for (const k of office.klap) assert.equal(k.server.stats.handshake1, 1, `${k.model}: ${k.server.stats.handshake1} handshakes`);
    for (const k of office.klap) assert.equal(k.server.stats.handshake2, 0);

    const out = helper.getNode("ctlout");
    const reply = await new Promise<CommandReply>((resolve) => {
      out.on("input", (m: { payload: CommandReply }) => resolve(m.payload));
      ctl.receive({ payload: { action: "on", device: "tapo-1" } });
    });
    assert.equal(reply.results[0]?.error?.code, "AUTH_FAILED");

    const everything = JSON.stringify({
      sent: sent(),
      status: [...calls(col, "status"), ...calls(ctl, "status")],
      logs: [col, ctl].flatMap((n) => (["warn", "error", "log"] as const).flatMap((m) => calls(n, m))),
      caught,
      reply,
      flowJson,
    });
    assert.ok(everything.includes("AUTH_FAILED"));
    assert.ok(!everything.includes(CANARY), "the canary password leaked");
    assert.ok(!everything.includes("5c1e7a93d2"));
  });
});
