// plugwatch-collector in the Node-RED test helper, polling real-protocol HS110 simulators (SimulatedOffice) over TCP.
import assert from "node:assert/strict";
import * as net from "node:net";
import * as path from "node:path";
import { Availability, Reading, validate, type Device } from "../../lib/contracts";
import { SimulatedOffice, type SimulatedPlug } from "../../scripts/sim/office";
import { registryConfig } from "../support/config-nodes";
import { uniqueRoot } from "../../scripts/harness/services";
import { calls, helper, history, lastStatus, waitFor, withMessages, type Status, type TestNode } from "../support/node-helper";

import registryModule from "../../nodes/plugwatch-registry/plugwatch-registry";
import collectorModule from "../../nodes/plugwatch-collector/plugwatch-collector";
import { member, nth } from "../support/checked";

const collectorNode = withMessages(collectorModule, path.join(__dirname, "..", "..", "nodes", "plugwatch-collector"), "plugwatch-collector");

const DEVICES: Device[] = [
  { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 0, kind: "workplace", location: { building: "hq", floor: "1", room: "open-1" } },
  { id: "ws-2", name: "Desk 2", model: "HS110", host: "127.0.0.1", port: 0, kind: "workplace", location: { building: "hq", floor: "1", room: "open-1" } },
  { id: "mr-a", name: "Room Alpha", model: "HS110", host: "127.0.0.1", port: 0, kind: "meeting-room", location: { building: "hq", floor: "2", room: "alpha" } },
  { id: "pr-1", name: "Printer", model: "HS110", host: "127.0.0.1", port: 0, kind: "printer", location: { building: "annex", floor: "0", room: "copy" } },
];

interface Out {
  topic: string;
  payload: Record<string, unknown>;
  qos?: number;
  retain?: boolean;
  [k: string]: unknown;
}
interface Caught {
  payload: { device?: string; code?: string; message?: string; ts?: number };
  error: { message: string; code?: string; source: { id: string } };
}

interface CollectorConfig {
  root?: string;
  kind?: string;
  building?: string;
  floor?: string;
  room?: string;
  interval?: number | string;
  timeout?: number | string;
  concurrency?: number | string;
  offlineAfter?: number | string;
  registry?: string;
  registryJson?: string;
}

describe("plugwatch-collector node (simulated office over TCP)", function () {
  this.timeout(20000);
  let office: SimulatedOffice;
  const plug = (id: string): SimulatedPlug => office.plug(id);

  before(async function () {
    // tickMs 0: the served values change only when a test changes them, so readings can be compared exactly.
    office = await SimulatedOffice.start(DEVICES, { portFor: () => 0, tickMs: 0 });
  });

  after(async function () {
    await office?.stop();
  });

  beforeEach(async function () {
    for (const p of office.all) {
      await p.setFirmware("legacy");
      await p.start();
      p.release();
      p.relay = true;
    }
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
  });

  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve, reject) => helper.stopServer((err) => (err ? reject(err) : resolve())));
  });

  function flow(c: CollectorConfig = {}): Record<string, unknown>[] {
    return [
      { id: "tab", type: "tab", label: "collector test" },
      registryConfig(c.registryJson ?? { devices: office.registryDevices() }, { name: "office", file: "" }),
      {
        id: "col",
        type: "plugwatch-collector",
        z: "tab",
        x: 100,
        y: 100,
        name: "",
        registry: c.registry ?? "reg",
        root: c.root ?? uniqueRoot(),
        kind: c.kind ?? "",
        building: c.building ?? "",
        floor: c.floor ?? "",
        room: c.room ?? "",
        interval: c.interval ?? 0.2,
        timeout: c.timeout ?? 1000,
        concurrency: c.concurrency ?? 8,
        offlineAfter: c.offlineAfter ?? 2,
        wires: [["out"]],
      },
      { id: "out", type: "helper", z: "tab", x: 100, y: 100 },
      { id: "catch", type: "catch", z: "tab", x: 100, y: 100, scope: ["col"], uncaught: false, wires: [["caught"]] },
      { id: "caught", type: "helper", z: "tab", x: 100, y: 100 },
    ];
  }

  async function load(c: CollectorConfig = {}): Promise<{ col: TestNode; caught: Caught[]; root: string; sent: () => Out[] }> {
    const f = flow(c);
    await helper.load([registryModule, collectorNode], f);
    const col = helper.getNode("col");
    const caught: Caught[] = [];
    helper.getNode("caught").on("input", (m: Caught) => caught.push(m));
    // Every message the collector sent since it was created (the spy's history, so none is missed before a listener).
    const sends = history(col, "send");
    const sent = () => sends().map((a) => a[0] as Out);
    return { col, caught, root: (f[2] as { root: string }).root, sent };
  }

  const topicOf = (root: string, id: string, stream: string): string => {
    const d = DEVICES.find((x) => x.id === id) as Device;
    return `${root}/${d.location.building}/${d.location.floor}/${d.location.room}/${id}/${stream}`;
  };
  const readingsOf = (msgs: Out[], id: string) => msgs.filter((m) => m.topic.endsWith(`/${id}/reading`));
  const availabilityOf = (msgs: Out[], id: string) => msgs.filter((m) => m.topic.endsWith(`/${id}/availability`));
  const statusIs = (col: TestNode, expected: Status) => () => {
    const s = lastStatus(col);
    return s && s.fill === expected.fill && s.shape === expected.shape && s.text === expected.text ? s : undefined;
  };

  it("publishes readings equal to what the simulator serves, on the contract topic, valid against Reading", async function () {
    plug("ws-1").force({ power: 123.4, voltage: 231.5 });
    plug("ws-1").setEnergy(12.345678);
    plug("pr-1").relay = false;
    const t0 = Date.now();
    const { sent, root } = await load();
    const first = await waitFor("a ws-1 reading", () => readingsOf(sent(), "ws-1")[0]);
    const served = plug("ws-1").realtime;
    assert.equal(first.topic, `${root}/hq/1/open-1/ws-1/reading`);
    assert.equal(first.qos, 1);
    assert.equal(first.retain, false);
    assert.deepEqual(first.payload, {
      v: 1,
      device: "ws-1",
      ts: first.payload.ts,
      power: 123.4,
      voltage: 231.5,
      current: Math.round((123.4 / 231.5) * 1e4) / 1e4,
      energy: 12.345678,
      relay: true,
      kind: "workplace",
    });
    assert.deepEqual(
      [first.payload.power, first.payload.voltage, first.payload.current, first.payload.energy],
      [served.power, served.voltage, served.current, served.total],
    );
    const ts = first.payload.ts as number;
    assert.ok(Number.isInteger(ts) && ts >= t0 && ts <= Date.now(), `ts ${ts} within the test`);
    assert.ok(validate(Reading, first.payload).ok, JSON.stringify(validate(Reading, first.payload)));

    // Relay off: the plug serves 0 W, 0 A and the collector says so.
    const off = await waitFor("a pr-1 reading", () => readingsOf(sent(), "pr-1")[0]);
    assert.equal(off.topic, topicOf(root, "pr-1", "reading"));
    assert.equal(off.payload.relay, false);
    assert.equal(off.payload.power, 0);
    assert.equal(off.payload.current, 0);
    assert.equal(off.payload.kind, "printer");

    // A new forced value shows up in a later reading.
    plug("ws-1").force({ power: 456.7 });
    const later = await waitFor("a ws-1 reading with 456.7 W", () => readingsOf(sent(), "ws-1").find((m) => m.payload.power === 456.7));
    assert.equal(later.payload.voltage, 231.5);
    assert.equal(later.payload.current, plug("ws-1").realtime.current);
  });

  it("publishes each plug's first availability retained and shows online/total in the status", async function () {
    const { col, sent, root } = await load();
    await waitFor("green 4/4 online", statusIs(col, { fill: "green", shape: "dot", text: "4/4 online" }));
    for (const d of DEVICES) {
      const av = availabilityOf(sent(), d.id);
      assert.equal(av.length, 1, `${d.id}: exactly one availability message`);
      const m = nth(av, 0, `${d.id} availability message`);
      assert.equal(m.topic, topicOf(root, d.id, "availability"));
      assert.equal(m.retain, true);
      assert.equal(m.qos, 1);
      assert.deepEqual(m.payload, { v: 1, device: d.id, online: true, ts: m.payload.ts, reason: "poll ok" });
      assert.ok(validate(Availability, m.payload).ok);
    }
    // The status went through "starting" before the first answers.
    assert.deepEqual(calls(col, "status")[0]?.[0], { fill: "yellow", shape: "ring", text: "starting (4 plugs)" });
  });

  it("a stopped simulator goes offline after N consecutive misses (retained) and comes back online when restarted", async function () {
    const offlineAfter = 4;
    const intervalMs = 200;
    const { col, sent } = await load({ offlineAfter, interval: intervalMs / 1000 });
    await waitFor("4/4 online", statusIs(col, { fill: "green", shape: "dot", text: "4/4 online" }));
    const before = availabilityOf(sent(), "ws-2").length;

    await plug("ws-2").stop();
    const firstError = await waitFor("the first failed poll of ws-2", () =>
      calls(col, "error").find((a) => (a[1] as Caught | undefined)?.payload?.device === "ws-2"),
    );
    const offline = await waitFor("ws-2 offline", () => availabilityOf(sent(), "ws-2").find((m) => m.payload.online === false));
    // Misses 2..N come one interval apart on the polling grid after the first one. Half an interval of slack for a
    // late first timer on a loaded machine still tells N misses from N-1.
    const firstMissTs = (firstError[1] as Caught).payload.ts as number;
    const gap = (offline.payload.ts as number) - firstMissTs;
    assert.ok(gap >= (offlineAfter - 1.5) * intervalMs, `offline ${gap} ms after the first miss`);
    assert.equal(offline.retain, true);
    assert.equal(offline.payload.device, "ws-2");
    assert.match(String(offline.payload.reason), /^DEVICE_UNREACHABLE: .*ECONNREFUSED/);
    assert.ok(validate(Availability, offline.payload).ok);
    assert.match(String(firstError[0]), /^ws-2 \(127\.0\.0\.1:\d+\): DEVICE_UNREACHABLE: /);
    assert.equal((firstError[1] as Caught).payload.code, "DEVICE_UNREACHABLE");
    await waitFor("3/4 online", statusIs(col, { fill: "green", shape: "dot", text: "3/4 online" }));
    const readingsWhileDown = readingsOf(sent(), "ws-2").length;

    await plug("ws-2").start();
    const online = await waitFor("ws-2 back online", () =>
      availabilityOf(sent(), "ws-2")
        .slice(before)
        .find((m) => m.payload.online === true),
    );
    assert.equal(online.retain, true);
    assert.equal(online.payload.reason, "poll ok");
    assert.ok((online.payload.ts as number) > (offline.payload.ts as number));
    await waitFor("4/4 online again", statusIs(col, { fill: "green", shape: "dot", text: "4/4 online" }));
    await waitFor("ws-2 readings again", () => readingsOf(sent(), "ws-2").length > readingsWhileDown);
    // No flapping: exactly one offline and one online message for the outage.
    assert.deepEqual(
      availabilityOf(sent(), "ws-2")
        .slice(before)
        .map((m) => m.payload.online),
      [false, true],
    );
    // The same error of the same plug is logged once, not on every poll.
    assert.equal(calls(col, "error").filter((a) => (a[1] as Caught | undefined)?.payload?.device === "ws-2").length, 1);
  });

  it("a plug that is down when the flow starts is reported offline, then recovered when it comes up", async function () {
    await plug("mr-a").stop();
    const { col, sent } = await load({ offlineAfter: 2 });
    const down = await waitFor("mr-a offline", () => availabilityOf(sent(), "mr-a")[0]);
    assert.equal(down.payload.online, false);
    assert.equal(down.retain, true);
    assert.equal(readingsOf(sent(), "mr-a").length, 0);
    await waitFor("3/4 online", statusIs(col, { fill: "green", shape: "dot", text: "3/4 online" }));

    await plug("mr-a").start();
    const up = await waitFor("mr-a online", () => availabilityOf(sent(), "mr-a")[1]);
    assert.equal(up.payload.online, true);
    await waitFor("a reading of mr-a", () => readingsOf(sent(), "mr-a")[0]);
    await waitFor("4/4 online", statusIs(col, { fill: "green", shape: "dot", text: "4/4 online" }));
  });

  it("firmware that refuses the legacy protocol gives an 'unsupported firmware' status, warning and error code", async function () {
    await plug("pr-1").setFirmware("unsupported");
    const { col, sent } = await load({ offlineAfter: 2 });
    await waitFor("red 'unsupported firmware'", statusIs(col, { fill: "red", shape: "ring", text: "unsupported firmware" }));
    const warning = await waitFor("a firmware warning", () => calls(col, "warn").find((a) => /pr-1/.test(String(a[0]))));
    assert.match(String(warning[0]), /^pr-1 \(127\.0\.0\.1:\d+\) refuses the legacy protocol: unsupported firmware/);
    const offline = await waitFor("pr-1 offline", () => availabilityOf(sent(), "pr-1")[0]);
    assert.equal(offline.payload.online, false);
    assert.match(String(offline.payload.reason), /^UNSUPPORTED_FIRMWARE: /);
    const err = calls(col, "error").find((a) => (a[1] as Caught | undefined)?.payload?.device === "pr-1");
    assert.equal((err?.[1] as Caught).payload.code, "UNSUPPORTED_FIRMWARE");
    // The other plugs keep working meanwhile.
    assert.ok(readingsOf(sent(), "ws-1").length > 0);

    await plug("pr-1").setFirmware("legacy");
    await waitFor("pr-1 online", () => availabilityOf(sent(), "pr-1").find((m) => m.payload.online === true));
    await waitFor("green 4/4 online", statusIs(col, { fill: "green", shape: "dot", text: "4/4 online" }));
  });

  it("polls only the devices the kind/location filter selects", async function () {
    const byKind = await load({ kind: "printer" });
    await waitFor("green 1/1 online", statusIs(byKind.col, { fill: "green", shape: "dot", text: "1/1 online" }));
    await waitFor("a pr-1 reading", () => readingsOf(byKind.sent(), "pr-1")[0]);
    assert.deepEqual([...new Set(byKind.sent().map((m) => m.topic.split("/").at(-2)))], ["pr-1"]);
    await helper.unload();

    const byPlace = await load({ building: "hq", floor: "1" });
    await waitFor("green 2/2 online", statusIs(byPlace.col, { fill: "green", shape: "dot", text: "2/2 online" }));
    await waitFor("readings of ws-1 and ws-2", () => readingsOf(byPlace.sent(), "ws-1")[0] && readingsOf(byPlace.sent(), "ws-2")[0]);
    assert.deepEqual([...new Set(byPlace.sent().map((m) => m.topic.split("/").at(-2)))].sort(), ["ws-1", "ws-2"]);
    await helper.unload();

    const none = await load({ building: "nowhere" });
    assert.deepEqual(lastStatus(none.col), { fill: "grey", shape: "ring", text: "no devices" });
    assert.match(String(calls(none.col, "warn")[0]?.[0]), /selects no device/);
  });

  it("warns with the measured limit when its registry is above the fleet capacity (issue 18)", async function () {
    // 250 plugs every 0.2 s = 1250 polls/s, above the measured 10 000 devices every 10 s (1000/s). They refuse at
    // once (nothing listens on 127.3.0.x:9999): the warning and the status are what this test checks.
    const devices = Array.from({ length: 250 }, (_, i) => ({
      id: `cap-${i}`,
      name: `cap ${i}`,
      model: "HS110",
      host: `127.3.0.${(i % 250) + 1}`,
      port: 9999,
      kind: "workplace",
      location: { building: "hq", floor: "1", room: "big" },
    }));
    const big = await load({ registryJson: JSON.stringify({ devices }), interval: 0.2, offlineAfter: 1 });
    const warning = String(calls(big.col, "warn").find((a) => /LIMIT_EXCEEDED/.test(String(a[0])))?.[0]);
    assert.equal(
      warning,
      "250 devices every 0.2 s (1250 polls/s) exceed the measured capacity of 10000 devices every 10 s (1000 polls/s, " +
        "bench/fleet 2026-12-04 (docs/operations.md#capacity)) (LIMIT_EXCEEDED): polls may fall behind; raise the interval or split the registry over several collectors",
    );
    await waitFor("yellow over-capacity status", statusIs(big.col, { fill: "yellow", shape: "dot", text: "0/250 online, over capacity" }));
    await helper.unload();

    const small = await load({ interval: 10 });
    await waitFor("green status", () => lastStatus(small.col)?.fill === "green");
    assert.equal(calls(small.col, "warn").filter((a) => /LIMIT_EXCEEDED/.test(String(a[0]))).length, 0, "no warning within the capacity");
  });

  it("answers energy statistics per day and per month on request, keeping the input message", async function () {
    const dayList = (plug("ws-1").sim.data as unknown as { emeter: { daystat: { day_list: Record<string, number>[] } } }).emeter.daystat.day_list;
    dayList.length = 0;
    for (let day = 1; day <= 28; day++) dayList.push({ year: 2025, month: 2, day, energy: day / 100 });
    const { col, caught, sent } = await load({ interval: 3600 });
    const statsOut = () => sent().filter((m) => m.period !== undefined);

    col.receive({ payload: { action: "stats", device: "ws-1", period: "day", year: 2025, month: 2 }, tag: "keep-me" });
    const days = await waitFor("daily stats", () => statsOut()[0]);
    assert.equal(days.tag, "keep-me");
    assert.equal(days.device, "ws-1");
    assert.equal(days.period, "day");
    assert.equal(days.year, 2025);
    assert.equal(days.month, 2);
    assert.deepEqual(
      days.payload,
      Array.from({ length: 28 }, (_, i) => ({ year: 2025, month: 2, day: i + 1, kWh: (i + 1) / 100 })),
    );

    col.receive({ payload: JSON.stringify({ action: "stats", device: "ws-1", period: "month", year: 2025 }) });
    const months = await waitFor("monthly stats", () => statsOut()[1]);
    const list = months.payload as unknown as { year: number; month: number; kWh: number }[];
    assert.equal(list.length, 12);
    assert.deepEqual(
      list.map((e) => e.month),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    );
    assert.deepEqual(list[1], { year: 2025, month: 2, kWh: dayList.filter((e) => e.month === 2).reduce((a, e) => a + member(e, "energy"), 0) });
    assert.equal(months.month, undefined);

    // Bad requests reach Catch with their code; nothing is sent.
    col.receive({ payload: { action: "stats", device: "ws-404", period: "day" } });
    col.receive({ payload: { action: "explode" } });
    col.receive({ payload: { action: "stats", device: "ws-1", period: "week" } });
    await waitFor("three caught errors", () => caught.length >= 3);
    assert.deepEqual(
      caught.map((c) => [c.error.code, c.error.message]),
      [
        ["UNKNOWN_DEVICE", "unknown device 'ws-404'"],
        [
          "INVALID_REQUEST",
          `expected msg.payload 'poll', {action:'poll'} or {action:'stats', device, period:'day'|'month', year?, month?}; got {"action":"explode"}`,
        ],
        ["INVALID_REQUEST", `invalid stats request: $.period: period must be "day" or "month" (got "week")`],
      ],
    );
    await plug("ws-2").stop();
    col.receive({ payload: { action: "stats", device: "ws-2", period: "month", year: 2025 } });
    await waitFor("an unreachable error", () => caught[3]);
    assert.equal(caught[3]?.error.code, "DEVICE_UNREACHABLE");
    assert.match(caught[3]?.error.message ?? "", /ECONNREFUSED/);
    assert.equal(statsOut().length, 2);
  });

  it("'poll' polls every plug at once", async function () {
    const { col, sent } = await load({ interval: 3600 });
    // With a one-hour interval the first scheduled polls are spread over the hour: the command must not wait.
    col.receive({ payload: "poll" });
    await waitFor("one reading per plug", () => DEVICES.every((d) => readingsOf(sent(), d.id).length >= 1), 3000);
  });

  it("bad configuration: red status, a clear error, no polling, input errors to Catch", async function () {
    const { col, caught, sent } = await load({ interval: "abc" });
    assert.deepEqual(lastStatus(col), { fill: "red", shape: "ring", text: "bad config" });
    assert.equal(String(calls(col, "error")[0]?.[0]), "invalid configuration: interval must be a number from 0.2 to 86400 s, got 'abc'");
    col.receive({ payload: "poll" });
    await waitFor("the config error at Catch", () => caught[0]);
    assert.match(caught[0]?.error.message ?? "", /interval must be a number/);
    assert.equal(sent().length, 0);
    await helper.unload();

    const badKind = await load({ kind: "lamp" });
    assert.match(String(calls(badKind.col, "error")[0]?.[0]), /kind 'lamp' is not one of workplace, meeting-room, printer, other/);
    assert.deepEqual(lastStatus(badKind.col), { fill: "red", shape: "ring", text: "bad config" });
  });

  it("a bad registry or none: REGISTRY_INVALID status with file, JSON path and reason; nothing polled, nothing crashes", async function () {
    const bad = JSON.stringify({ devices: [{ ...office.registryDevices()[0], kind: "lamp" }] });
    const { col, caught, sent } = await load({ registryJson: bad });
    assert.deepEqual(lastStatus(col), { fill: "red", shape: "ring", text: "REGISTRY_INVALID" });
    assert.match(
      String(calls(col, "error")[0]?.[0]),
      /^registry unavailable: registry 'office' \(inline JSON\): \$\.devices\[0\]\.kind: "lamp" is not a valid kind/,
    );
    col.receive({ payload: "poll" });
    await waitFor("REGISTRY_INVALID at Catch", () => caught[0]);
    assert.match(caught[0]?.error.message ?? "", /\$\.devices\[0\]\.kind/);
    assert.equal(sent().length, 0);
    await helper.unload();

    const none = await load({ registry: "" });
    assert.deepEqual(lastStatus(none.col), { fill: "red", shape: "ring", text: "REGISTRY_INVALID" });
    assert.match(String(calls(none.col, "error")[0]?.[0]), /no plugwatch-registry config node selected/);
  });

  it("close() frees every timer and socket: a redeploy leaves nothing behind", async function () {
    const ports = new Set(office.all.map((p) => p.port));
    const clientSockets = () =>
      (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => h instanceof net.Socket && ports.has(h.remotePort ?? -1))
        .length;
    const timers = () => process.getActiveResourcesInfo().filter((t) => t === "Timeout").length;
    // The baseline includes what the runtime itself keeps after a deploy (the editor comms heartbeat).
    await helper.load([registryModule], [{ id: "tab", type: "tab", label: "empty" }]);
    await helper.unload();
    const baseline = timers();

    for (let round = 0; round < 2; round++) {
      const { col, sent } = await load({ interval: 0.2 });
      await waitFor("4/4 online", statusIs(col, { fill: "green", shape: "dot", text: "4/4 online" }));
      assert.ok(timers() >= baseline + DEVICES.length, "one timer per plug while running");
      await helper.unload();
      const after = sent().length;
      await waitFor("no client socket to a plug", () => clientSockets() === 0, 3000);
      await waitFor(`timers back to ${baseline}`, () => timers() <= baseline, 3000);
      // Nothing is sent after close.
      assert.equal(sent().length, after);
    }
  });

  it("the discover admin route rejects a bad broadcast address or probe list with INVALID_REQUEST", async function () {
    await load();
    const res = await helper.request().get("/plugwatch/discover").query({ broadcast: "10.0.0" });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { code: "INVALID_REQUEST", message: "broadcast must be an IPv4 address, got '10.0.0'" });
    const bad = await helper.request().get("/plugwatch/discover").query({ probe: "127.0.0.1:70000" });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { code: "INVALID_REQUEST", message: "probe entries must be ipv4[:port] (port 1-65535), got '127.0.0.1:70000'" });
  });

  it("the discover admin route finds simulated plugs over UDP and drafts registry entries for them", async function () {
    await load({ interval: 3600 });
    const probe = ["ws-1", "mr-a"].map((id) => `127.0.0.1:${plug(id).port}`).join(",");
    const res = await helper.request().get("/plugwatch/discover").query({ broadcast: "127.255.255.255", timeout: "800", probe });
    assert.equal(res.status, 200);
    const body = res.body as { found: { host: string; port: number; alias: string; model: string; mac: string }[]; drafts: Record<string, unknown>[] };
    const found = [...body.found].sort((a, b) => a.alias.localeCompare(b.alias));
    assert.deepEqual(
      found.map((f) => [f.alias, f.host, f.port, f.model]),
      [
        ["Desk 1", "127.0.0.1", plug("ws-1").port, "HS110(EU)"],
        ["Room Alpha", "127.0.0.1", plug("mr-a").port, "HS110(EU)"],
      ],
    );
    const drafts = [...body.drafts].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    assert.deepEqual(drafts, [
      {
        id: "desk-1",
        name: "Desk 1",
        model: "HS110",
        host: "127.0.0.1",
        port: plug("ws-1").port,
        kind: "other",
        location: { building: "unassigned", floor: "unassigned", room: "unassigned" },
      },
      {
        id: "room-alpha",
        name: "Room Alpha",
        model: "HS110",
        host: "127.0.0.1",
        port: plug("mr-a").port,
        kind: "other",
        location: { building: "unassigned", floor: "unassigned", room: "unassigned" },
      },
    ]);
  });
});
