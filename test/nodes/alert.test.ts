// alert node in the Node-RED test helper: real time with short durations, topics/retain flags, list action,
// restart with the same context, bad config and bad readings, and the retained delete through a real mqtt out + Mosquitto.
import { coreNodes } from "../../scripts/harness/runtime";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import type { AlertEvent } from "../../lib/contracts/alert";
import { AlertEvent as AlertEventSchema } from "../../lib/contracts/alert";
import { validate } from "../../lib/contracts/validate";
import type { Reading } from "../../lib/contracts/reading";
import { registryConfig } from "../support/config-nodes";
import { startMosquitto, type MosquittoInstance } from "../../scripts/harness/mosquitto";
import { calls, helper, lastStatus, recordStatuses, waitWithin, withMessages } from "../support/node-helper";

import alertModule from "../../nodes/plugwatch-alert/plugwatch-alert";
import registryNode from "../../nodes/plugwatch-registry/plugwatch-registry";
import { nth } from "../support/checked";

const alertNode = withMessages(alertModule, join(__dirname, "..", "..", "nodes", "plugwatch-alert"), "plugwatch-alert");
const mqttNodes = coreNodes("network/10-mqtt.js");

interface OutMsg {
  topic: string;
  payload: AlertEvent | AlertEvent[] | "";
  qos?: number;
  retain?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Every wait here has a budget of 3 s unless it says otherwise. */
const waitFor = waitWithin(3000);

function reading(device: string, power: number, extra: Partial<Reading> = {}): Reading {
  return { v: 1, device, ts: Date.now(), power, voltage: 230, current: power / 230, energy: 1, relay: true, ...extra };
}

/** Flow: alert node → out1 (events), out2 (list), plus a catch node for errors. */
function flow(alert: Record<string, unknown>, extra: Record<string, unknown>[] = []): Record<string, unknown>[] {
  return [
    { id: "f1", type: "tab", label: "alerts" },
    {
      id: "al",
      z: "f1",
      type: "plugwatch-alert",
      name: "",
      root: "plugwatch",
      registry: "",
      rules: "[]",
      tickInterval: 0.05,
      persist: false,
      wires: [["out1"], ["out2"]],
      ...alert,
    },
    { id: "out1", z: "f1", type: "helper" },
    { id: "out2", z: "f1", type: "helper" },
    { id: "caught", z: "f1", type: "catch", scope: null, uncaught: false, wires: [["errs"]] },
    { id: "errs", z: "f1", type: "helper" },
    ...extra,
  ];
}

/** Records messages, statuses and caught errors from the loaded flow. */
function recorder() {
  const events: OutMsg[] = [];
  const lists: OutMsg[] = [];
  const errors: { error: { message: string; source: { id: string } } }[] = [];
  helper.getNode("out1").on("input", (m: OutMsg) => events.push(m));
  helper.getNode("out2").on("input", (m: OutMsg) => lists.push(m));
  helper.getNode("errs").on("input", (m: (typeof errors)[number]) => errors.push(m));
  const statuses = recordStatuses(helper.getNode("al"));
  return { events, lists, errors, statuses };
}

const HOT = JSON.stringify([{ id: "hot", type: "threshold", field: "power", op: "above", value: 2000, forSeconds: 0.2, severity: "critical" }]);
const OFFLINE = JSON.stringify([{ id: "offline", type: "offline", severity: "warning" }]);

describe("alert node", function () {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise((resolve) => helper.stopServer(resolve));
  });

  it("raises after forSeconds on a retained topic, lists it, clears with a retained delete", async function () {
    await helper.load([alertNode], flow({ rules: HOT }));
    const rec = recorder();
    const al = helper.getNode("al");
    const t0 = Date.now();
    al.receive({ topic: "plugwatch/hq/1/lab/heater/reading", payload: JSON.stringify(reading("heater", 2500)) });
    const raised = await waitFor("raised", () => rec.events[0]);
    assert.ok(Date.now() - t0 >= 200, "not before forSeconds");
    assert.equal(raised.topic, "plugwatch/alerts/heater/hot");
    assert.equal(raised.retain, true);
    assert.equal(raised.qos, 1);
    const ev = raised.payload as AlertEvent;
    assert.ok(validate(AlertEventSchema, ev).ok);
    assert.deepEqual([ev.id, ev.state, ev.severity, ev.value], ["hot:heater", "raised", "critical", 2500]);
    await waitFor("red status", () => rec.statuses.find((s) => s.text === "1 active" && s.fill === "red"));

    al.receive({ topic: "plugwatch/hq/1/lab/heater/reading", payload: reading("heater", 2600) });
    al.receive({ payload: { action: "list" }, _reqid: "r1" });
    const list = await waitFor("list", () => rec.lists[0]);
    assert.equal((list as unknown as { _reqid: string })._reqid, "r1");
    assert.deepEqual(
      (list.payload as AlertEvent[]).map((a) => [a.id, a.value]),
      [["hot:heater", 2600]],
    );
    await sleep(150);
    assert.equal(rec.events.length, 1, "no repeat while the condition holds");

    al.receive({ topic: "plugwatch/hq/1/lab/heater/reading", payload: reading("heater", 100) });
    await waitFor("cleared + delete", () => (rec.events.length >= 3 ? true : undefined));
    const [, cleared, del] = rec.events;
    assert.equal(cleared?.topic, "plugwatch/alerts/heater/hot");
    assert.equal(cleared?.retain, false);
    assert.equal((cleared?.payload as AlertEvent).state, "cleared");
    assert.deepEqual([del?.topic, del?.payload, del?.retain], ["plugwatch/alerts/heater/hot", "", true]);
    await waitFor("green status", () => rec.statuses.find((s) => s.fill === "green"));
    assert.deepEqual(rec.errors, []);
  });

  it("generic readings: a threshold on a sensor field raises and clears; a boolean field is warned about once; bad ones go to Catch", async function () {
    const rules = JSON.stringify([
      { id: "too-warm", type: "threshold", measurement: "climate", field: "temperature", unit: "°C", op: "above", value: 30, hysteresis: 1, forSeconds: 0.1 },
      { id: "occupied", type: "threshold", field: "occupied", op: "above", value: 0 },
    ]);
    await helper.load([alertNode], flow({ rules }));
    const rec = recorder();
    const al = helper.getNode("al");
    const topic = "plugwatch/lab/0/bench/th-1/reading";
    const climate = (temperature: number, occupied = false) => ({
      v: 1,
      device: "th-1",
      ts: Date.now(),
      measurement: "climate",
      fields: { temperature, humidity: 40, occupied },
    });
    al.receive({ topic, payload: JSON.stringify(climate(33.5, true)) });
    const raised = await waitFor("raised", () => rec.events[0]);
    assert.equal(raised.topic, "plugwatch/alerts/th-1/too-warm");
    assert.equal(raised.retain, true);
    const ev = raised.payload as AlertEvent;
    assert.ok(validate(AlertEventSchema, ev).ok);
    assert.deepEqual([ev.id, ev.state, ev.value, ev.message], ["too-warm:th-1", "raised", 33.5, "th-1 temperature 33.5 °C above 30 °C for 0.1 s"]);
    al.receive({ topic, payload: climate(29.5, true) }); // inside the hysteresis band: stays raised
    await sleep(200);
    assert.equal(rec.events.length, 1);
    al.receive({ topic, payload: climate(28) });
    await waitFor("cleared + delete", () => (rec.events.length >= 3 ? true : undefined));
    assert.equal((rec.events[1]?.payload as AlertEvent).state, "cleared");
    assert.deepEqual([rec.events[2]?.topic, rec.events[2]?.payload, rec.events[2]?.retain], ["plugwatch/alerts/th-1/too-warm", "", true]);
    // The boolean field: a warning once (the readings themselves are fine, so nothing goes to Catch).
    const warnings = calls(al, "warn").map((a) => String(a[0]));
    assert.deepEqual(warnings, [
      "INVALID_REQUEST: rule 'occupied': field 'occupied' of th-1 (climate) is boolean; threshold rules compare numbers, so it is ignored",
    ]);
    assert.deepEqual(rec.errors, []);
    // An invalid generic reading is reported to Catch once.
    al.receive({ topic, payload: { v: 1, device: "th-1", ts: Date.now(), fields: { temperature: "hot" } } });
    al.receive({ topic, payload: { v: 1, device: "th-1", ts: Date.now(), fields: {} } });
    const caught = await waitFor("catch", () => rec.errors[0]);
    assert.match(caught.error.message, /^th-1: invalid generic reading ignored \(\$\.fields\.temperature: /);
    await sleep(100);
    assert.equal(rec.errors.length, 1);
    assert.equal(rec.events.length, 3, "nothing raised by the bad readings");
  });

  it("with a registry, raises stale for a device that never published", async function () {
    const registry = registryConfig(
      {
        devices: [
          {
            id: "pr-1",
            name: "Printer",
            model: "HS110",
            host: "127.0.0.1",
            port: 10001,
            kind: "printer",
            location: { building: "hq", floor: "1", room: "copy" },
          },
          {
            id: "ws-1",
            name: "Desk",
            model: "HS110",
            host: "127.0.0.1",
            port: 10002,
            kind: "workplace",
            location: { building: "hq", floor: "1", room: "open" },
          },
        ],
      },
      { name: "", file: "" },
    );
    const rules = JSON.stringify([{ id: "stale", type: "stale", afterSeconds: 0.3, kinds: ["printer"] }]);
    await helper.load([registryNode, alertNode], flow({ rules, registry: "reg" }, [registry]));
    const rec = recorder();
    const ev = (await waitFor("stale", () => rec.events[0])).payload as AlertEvent;
    assert.deepEqual([ev.id, ev.state, ev.value], ["stale:pr-1", "raised", null]);
    await sleep(100);
    assert.equal(rec.events.length, 1, "ws-1 is not a printer");
    helper.getNode("al").receive({ topic: "plugwatch/hq/1/copy/pr-1/reading", payload: reading("pr-1", 3, { kind: "printer" }) });
    await waitFor("cleared", () => (rec.events.length === 3 ? true : undefined));
    assert.equal((rec.events[1]?.payload as AlertEvent).state, "cleared");
  });

  it("bad rules config: red status, every problem logged, inputs go to Catch", async function () {
    const rules = JSON.stringify([
      { id: "hot", type: "threshold", field: "power", op: "over", value: 1 },
      { id: "x", type: "nope" },
    ]);
    await helper.load([alertNode], flow({ rules }));
    const rec = recorder();
    const al = helper.getNode("al");
    // status and error were called in the constructor, before any listener: read them from the helper's spies
    assert.deepEqual(lastStatus(al), { fill: "red", shape: "ring", text: "invalid rules" });
    const logged = calls(al, "error").map((a) => String(a[0]));
    assert.ok(
      logged.some((m) => /\$\[0\]\.op/.test(m) && /\$\[1\]\.type: type must be one of/.test(m)),
      logged.join("\n"),
    );

    al.receive({ topic: "plugwatch/hq/1/lab/heater/reading", payload: reading("heater", 2500) });
    const caught = await waitFor("catch", () => rec.errors[0]);
    assert.match(caught.error.message, /alert node configuration: invalid alert rules: \$\[0\]\.op/);
    assert.equal(caught.error.source.id, "al");
    assert.deepEqual(rec.events, []);
  });

  it("bad readings: one INVALID_READING to Catch per device, nothing raised or cleared, counted in the status", async function () {
    await helper.load([alertNode], flow({ rules: OFFLINE }));
    const rec = recorder();
    const al = helper.getNode("al");
    al.receive({ topic: "plugwatch/hq/1/lab/pr-1/availability", payload: { v: 1, device: "pr-1", online: false, ts: Date.now(), reason: "timeout" } });
    await waitFor("raised", () => rec.events[0]);
    al.receive({ topic: "plugwatch/hq/1/lab/pr-1/availability", payload: { v: 1, device: "pr-1", online: "yes", ts: Date.now(), reason: "?" } });
    al.receive({ topic: "plugwatch/hq/1/lab/pr-1/availability", payload: '{"v":1,"device":"pr-1","online":null}' });
    al.receive({ topic: "plugwatch/hq/1/lab/pr-1/reading", payload: "not json" });
    const caught = await waitFor("catch", () => rec.errors[0]);
    // A clean message (no "PlugwatchError: " prefix); the stable code travels as error.code.
    assert.match(caught.error.message, /^pr-1: invalid availability ignored \(\$\.online: /);
    assert.equal((caught.error as { code?: string }).code, "INVALID_READING");
    await waitFor("second catch", () => rec.errors[1]);
    assert.match(rec.errors[1]?.error.message ?? "", /^plugwatch\/hq\/1\/lab\/pr-1\/reading: invalid reading ignored/);
    await sleep(100);
    assert.equal(rec.errors.length, 2, "the repeat from pr-1 is not reported again");
    assert.equal(rec.events.length, 1, "nothing cleared");
    assert.ok(rec.statuses.some((s) => /^\d+ active, \d+ bad$/.test(s.text ?? "")));
  });

  it("restart with a file context store keeps the active set, does not re-raise, still clears", async function () {
    // The same context stores as settings.js (`file` = localfilesystem), in a temp dir. Without a configured store
    // Node-RED deletes a node's context when it stops, exactly as a real restart loses the memory store.
    const dir = mkdtempSync(join(tmpdir(), "plugwatch-alert-ctx-"));
    helper.settings({ contextStorage: { default: { module: "memory" }, file: { module: "localfilesystem", config: { dir, flushInterval: 3600 } } } });
    // The helper awaits a promise returned by a node module, before it starts the flows: load the stores there.
    const loadContextStores = () => helper._context.load();
    try {
      await helper.load([alertNode, loadContextStores], flow({ rules: OFFLINE, persist: true }));
      let rec = recorder();
      const offline = { v: 1, device: "pr-1", online: false, ts: Date.now(), reason: "timeout" };
      helper.getNode("al").receive({ topic: "plugwatch/hq/1/lab/pr-1/availability", payload: offline });
      const raisedBefore = (await waitFor("raised", () => rec.events[0])).payload;

      // Restart: every close handler runs (the node saves its state), the file store flushes to disk and is
      // closed; fresh stores read the files back; the flows start again with the same node ids.
      await helper.clearFlows();
      await helper._context.close();
      const onDisk = readdirSync(join(dir, "context", "f1")).map((f) => readFileSync(join(dir, "context", "f1", f), "utf8"));
      assert.ok(
        onDisk.some((text) => text.includes('"offline:pr-1"')),
        `alert state written to ${dir}/context/f1`,
      );
      helper._context.init(helper.settings());
      await helper._context.load();
      await helper._redNodes.startFlows();
      rec = recorder();
      const al = helper.getNode("al");
      al.receive({ topic: "plugwatch/hq/1/lab/pr-1/availability", payload: offline }); // the retained availability again
      al.receive({ payload: { action: "list" } });
      const list = await waitFor("list", () => rec.lists[0]);
      assert.deepEqual(
        (list.payload as AlertEvent[]).map((a) => a.id),
        ["offline:pr-1"],
      );
      const saved = al.context().get("alerts", "file") as { active: { event: AlertEvent }[] };
      assert.deepEqual(
        saved.active.map((a) => a.event.id),
        ["offline:pr-1"],
      );
      await sleep(150);
      // Re-published once, retained, as the very same event (same ts): the slot is back on an emptied broker,
      // and a consumer that keys on id + ts sees no new raise.
      assert.equal(rec.events.length, 1, "re-published once, not raised again");
      const again = nth(rec.events, 0, "re-published event");
      assert.deepEqual([again.topic, again.retain], ["plugwatch/alerts/pr-1/offline", true]);
      assert.deepEqual(again.payload, raisedBefore, "the same event, not a new raise");
      al.receive({ topic: "plugwatch/hq/1/lab/pr-1/availability", payload: { ...offline, online: true, reason: "poll ok" } });
      await waitFor("cleared", () => (rec.events.length === 3 ? true : undefined));
      assert.equal((rec.events[1]?.payload as AlertEvent).state, "cleared");
      assert.deepEqual([rec.events[2]?.payload, rec.events[2]?.retain], ["", true]);
      // Saves are at most one a second (a burst of events is written once): the clear is saved within that gap.
      const after = await waitFor("the clear saved", () => {
        const v = al.context().get("alerts", "file") as { active: unknown[] };
        return v.active.length === 0 ? v : undefined;
      });
      assert.deepEqual(after.active, [], "the clear is saved too");
    } finally {
      await helper.unload();
      await helper._context.close();
      helper.settings({});
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("without persist, nothing is stored in the context", async function () {
    await helper.load([alertNode], flow({ rules: OFFLINE, persist: false }));
    const rec = recorder();
    const al = helper.getNode("al");
    al.receive({ topic: "plugwatch/hq/1/lab/pr-1/availability", payload: { v: 1, device: "pr-1", online: false, ts: Date.now(), reason: "timeout" } });
    await waitFor("raised", () => rec.events[0]);
    assert.equal(al.context().get("alerts"), undefined);
  });

  describe("through a real mqtt out and Mosquitto", function () {
    let broker: MosquittoInstance;
    before(async function () {
      broker = await startMosquitto();
    });
    after(async function () {
      await broker.stop();
    });

    /** Subscribes late and returns the retained messages under plugwatch/alerts/# (empty payload = none). */
    async function retained(): Promise<Map<string, string>> {
      const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      const seen = new Map<string, string>();
      client.on("message", (topic, payload, packet) => {
        if (packet.retain) seen.set(topic, payload.toString());
      });
      await client.subscribeAsync("plugwatch/alerts/#", { qos: 1 });
      await sleep(200);
      await client.endAsync();
      return seen;
    }

    it("a raised alert is retained on the broker, and the clear deletes it", async function () {
      const mqttFlow = [
        {
          id: "broker",
          type: "mqtt-broker",
          name: "",
          broker: "127.0.0.1",
          port: String(broker.port),
          clientid: "",
          autoConnect: true,
          usetls: false,
          protocolVersion: "4",
          keepalive: "60",
          cleansession: true,
        },
        { id: "mout", z: "f1", type: "mqtt out", name: "", topic: "", qos: "", retain: "", broker: "broker", wires: [] },
      ];
      const f = flow({ rules: OFFLINE, wires: [["out1", "mout"], ["out2"]] }, mqttFlow);
      await helper.load([mqttNodes, alertNode], f);
      const rec = recorder();
      const statuses = recordStatuses(helper.getNode("mout"));
      await waitFor("mqtt out connected", () => statuses.find((s) => s.fill === "green"), 5000);
      const al = helper.getNode("al");
      al.receive({ topic: "plugwatch/hq/1/lab/pr-1/availability", payload: { v: 1, device: "pr-1", online: false, ts: Date.now(), reason: "timeout" } });
      await waitFor("raised", () => rec.events[0]);
      const r1 = await retained();
      assert.equal((JSON.parse(r1.get("plugwatch/alerts/pr-1/offline") ?? "{}") as { state?: string }).state, "raised");
      al.receive({ topic: "plugwatch/hq/1/lab/pr-1/availability", payload: { v: 1, device: "pr-1", online: true, ts: Date.now(), reason: "poll ok" } });
      await waitFor("cleared", () => (rec.events.length === 3 ? true : undefined));
      await sleep(100);
      const r2 = await retained();
      assert.equal(r2.has("plugwatch/alerts/pr-1/offline"), false, "the retained alert is gone");
    });
  });
});
