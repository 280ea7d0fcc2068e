// Alerts end to end in a real Node-RED runtime: simulated office → plugwatch-collector → Mosquitto → alert → Mosquitto.
// A printer forced to 50 W outside working hours raises a retained power-waste alert, 0 W clears it (retained slot
// deleted); a stopped plug raises `offline` within a few polls; a Node-RED restart keeps the active set; the plug's
// return clears it. Working hours are a normal office week in a time zone where it is night right now.
import assert from "node:assert/strict";
import mqtt, { type MqttClient } from "mqtt";
import { isWorkingTime, localTime } from "../../lib/alerts/schedule";
import type { Device } from "../../lib/contracts/device";
import { AlertEvent } from "../../lib/contracts/alert";
import { validate } from "../../lib/contracts/validate";
import { SimulatedOffice } from "../../scripts/sim/office";
import { mqttInNode } from "../../scripts/harness/flow-nodes";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { connectClient, startBroker, Teardown, uniqueRoot } from "../../scripts/harness/services";
import type { BrokerInstance } from "../../scripts/harness/mosquitto";

const POLL_S = 0.5;
const OFFLINE_AFTER = 2;
const OFFICE_HOURS = Object.fromEntries(["mon", "tue", "wed", "thu", "fri"].map((d) => [d, [["08:00", "19:00"]]]));

/** An IANA zone where it is between 00:00 and 04:59 now (offsets span 26 h, so one always exists). */
function nightZone(now = Date.now()): string {
  for (const tz of Intl.supportedValuesOf("timeZone")) {
    const { minutes } = localTime(tz, now);
    if (minutes >= 30 && minutes < 4 * 60 + 30) return tz;
  }
  throw new Error("no time zone with night-time now");
}

function devices(): Device[] {
  return [
    { id: "pr-1", name: "Printer", model: "HS110", host: "127.0.0.1", port: 9999, kind: "printer", location: { building: "hq", floor: "2", room: "copy" } },
    { id: "ws-1", name: "Desk", model: "HS110", host: "127.0.0.1", port: 9999, kind: "workplace", location: { building: "hq", floor: "1", room: "open" } },
  ];
}

function alertFlow(root: string, mqttPort: number, registry: Device[], timezone: string): FlowNode[] {
  const tab = "alerts-tab";
  const rules = [
    { id: "waste", type: "waste", kinds: ["printer"], watts: 20, schedule: OFFICE_HOURS, timezone, severity: "warning" },
    { id: "offline", type: "offline", severity: "critical" },
  ];
  return [
    { id: tab, type: "tab", label: "alerts e2e" },
    {
      id: "broker",
      type: "mqtt-broker",
      name: "",
      broker: "127.0.0.1",
      port: String(mqttPort),
      clientid: "",
      autoConnect: true,
      usetls: false,
      protocolVersion: "4",
      keepalive: "15",
      cleansession: true,
      autoUnsubscribe: true,
    },
    { id: "registry", type: "plugwatch-registry", name: "", source: "json", file: "", json: JSON.stringify({ devices: registry }) },
    // Agent: plugs → MQTT (readings QoS 1, availability retained; the mqtt out uses each message's topic/qos/retain)
    {
      id: "collector",
      type: "plugwatch-collector",
      z: tab,
      x: 300,
      y: 60,
      name: "",
      registry: "registry",
      root,
      kind: "",
      building: "",
      floor: "",
      room: "",
      interval: POLL_S,
      timeout: 400,
      concurrency: 8,
      offlineAfter: OFFLINE_AFTER,
      wires: [["agent-out"]],
    },
    { id: "agent-out", type: "mqtt out", z: tab, x: 500, y: 120, name: "", topic: "", qos: "", retain: "", broker: "broker", wires: [] },
    // Alerts: MQTT → alert → MQTT (retained raised events, retained deletes on clear)
    mqttInNode("readings-in", tab, `${root}/+/+/+/+/reading`, "alert", 180, { datatype: "auto-detect", broker: "broker", x: 100 }),
    mqttInNode("avail-in", tab, `${root}/+/+/+/+/availability`, "alert", 240, { datatype: "auto-detect", broker: "broker", x: 300 }),
    mqttInNode("list-in", tab, `${root}/test/list`, "alert", 300, { datatype: "json", broker: "broker", x: 500 }),
    {
      id: "alert",
      type: "plugwatch-alert",
      z: tab,
      x: 100,
      y: 360,
      name: "",
      root,
      registry: "registry",
      rules: JSON.stringify(rules),
      tickInterval: 0.2,
      persist: true,
      wires: [["alerts-out"], ["list-out"]],
    },
    { id: "alerts-out", type: "mqtt out", z: tab, x: 300, y: 420, name: "", topic: "", qos: "", retain: "", broker: "broker", wires: [] },
    {
      id: "list-out",
      type: "mqtt out",
      z: tab,
      x: 500,
      y: 480,
      name: "",
      topic: `${root}/test/list/reply`,
      qos: "1",
      retain: "false",
      broker: "broker",
      wires: [],
    },
  ];
}

interface Seen {
  topic: string;
  event: AlertEvent | "";
  retain: boolean;
  at: number;
}

for (const kind of ["mosquitto", "aedes"] as const)
  describe(`alerts end to end (simulated office, collector, ${kind}, alert node, Node-RED and broker restart)`, function () {
    this.timeout(120_000);
    const td = new Teardown();
    const root = uniqueRoot("pwal");
    let red: NodeRedInstance;
    let office: SimulatedOffice;
    let brokerUrl: string;
    let broker: BrokerInstance;
    let live: MqttClient;
    const seen: Seen[] = [];
    const availability: { device: string; online: boolean; at: number }[] = [];
    const lists: AlertEvent[][] = [];

    async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = probe();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${red?.logTail(30) ?? ""}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    const eventOf = (id: string, state: "raised" | "cleared", after = 0) =>
      seen.find((s) => s.event !== "" && s.event.id === id && s.event.state === state && s.at >= after)?.event as AlertEvent | undefined;

    /** Retained messages under {root}/alerts/#, read by a fresh subscriber; a sentinel marks the end of the retained burst. */
    async function retainedAlerts(): Promise<Map<string, AlertEvent>> {
      const c = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0 });
      try {
        const out = new Map<string, AlertEvent>();
        // Mosquitto queues the retained messages while it handles SUBSCRIBE, so a message published after the SUBACK
        // comes after all of them.
        const sentinel = `${root}/test/sentinel/${Math.random().toString(36).slice(2)}`;
        let done = false;
        c.on("message", (topic, payload, packet) => {
          if (topic === sentinel) done = true;
          else if (packet.retain && payload.length) out.set(topic, JSON.parse(payload.toString()) as AlertEvent);
        });
        await c.subscribeAsync(`${root}/alerts/#`, { qos: 1 });
        await c.subscribeAsync(sentinel, { qos: 1 });
        await c.publishAsync(sentinel, "end", { qos: 1 });
        await until("the retained burst", () => (done ? true : undefined), 5000);
        return out;
      } finally {
        await c.endAsync(true);
      }
    }

    /** The test's own subscriber (connected again after a broker restart). */
    async function connectLive(): Promise<void> {
      live = await connectClient(td, broker.url);
      live.on("message", (topic, payload, packet) => {
        const text = payload.toString();
        if (topic.startsWith(`${root}/alerts/`)) {
          const event = text === "" ? "" : (JSON.parse(text) as AlertEvent);
          seen.push({ topic, event, retain: packet.retain === true, at: Date.now() });
        } else if (topic.endsWith("/availability")) {
          const a = JSON.parse(text) as { device: string; online: boolean };
          availability.push({ device: a.device, online: a.online, at: Date.now() });
        } else if (topic === `${root}/test/list/reply`) lists.push(JSON.parse(text) as AlertEvent[]);
      });
      await live.subscribeAsync([`${root}/alerts/#`, `${root}/+/+/+/+/availability`, `${root}/test/list/reply`], { qos: 1 });
    }

    before(async function () {
      office = td.add(await SimulatedOffice.start(devices(), { portFor: () => 0 }), (o) => o.stop());
      office.plug("pr-1").force({ power: 0 });
      broker = await startBroker(td, kind);
      brokerUrl = broker.url;
      await connectLive();
      red = td.add(await startNodeRed(), (r) => r.stop());
      await red.deploy(alertFlow(root, broker.port, office.registryDevices(), nightZone()));
      await until("both plugs online", () => (["pr-1", "ws-1"].every((d) => availability.some((a) => a.device === d && a.online)) ? true : undefined));
    });

    after(async function () {
      await td.run();
    });

    it("the schedule makes now (and the next hour) out of hours", function () {
      const tz = nightZone();
      for (const t of [Date.now(), Date.now() + 3_600_000])
        assert.equal(isWorkingTime(OFFICE_HOURS, tz, t), false, `${tz} ${JSON.stringify(localTime(tz, t))}`);
    });

    it("printer at 50 W at night: one retained `raised` waste alert; back to 0 W: `cleared` and the retained slot deleted", async function () {
      const topic = `${root}/alerts/pr-1/waste`;
      assert.equal(eventOf("waste:pr-1", "raised"), undefined, "nothing while the printer draws 0 W");
      office.plug("pr-1").force({ power: 50 });
      const raised = await until("waste raised", () => eventOf("waste:pr-1", "raised"));
      assert.ok(validate(AlertEvent, raised).ok, JSON.stringify(raised));
      assert.deepEqual([raised.device, raised.rule, raised.severity, raised.value], ["pr-1", "waste", "warning", 50]);
      assert.match(raised.message, /^pr-1 draws 50 W outside working hours \(limit 20 W\)$/);
      const retained = await retainedAlerts();
      assert.deepEqual(retained.get(topic), raised, "the raised event is retained");

      office.plug("pr-1").force({ power: 0 });
      const cleared = await until("waste cleared", () => eventOf("waste:pr-1", "cleared"));
      assert.ok(validate(AlertEvent, cleared).ok);
      assert.deepEqual([cleared.id, cleared.value], ["waste:pr-1", 0]);
      await until("retained delete", () => (seen.some((s) => s.topic === topic && s.event === "") ? true : undefined));
      assert.equal((await retainedAlerts()).has(topic), false, "no retained waste alert left");
      assert.equal(seen.filter((s) => s.event !== "" && s.event.id === "waste:pr-1" && s.event.state === "raised").length, 1, "raised exactly once");
    });

    it("a stopped plug raises `offline` within a few polls; a restart keeps it active without re-raising; its return clears it", async function () {
      const topic = `${root}/alerts/ws-1/offline`;
      const stoppedAt = Date.now();
      await office.plug("ws-1").stop();
      const raised = await until("offline raised", () => eventOf("offline:ws-1", "raised", stoppedAt));
      assert.ok(validate(AlertEvent, raised).ok);
      assert.equal(raised.severity, "critical");
      assert.match(raised.message, /^ws-1 is offline: DEVICE_UNREACHABLE/);
      // OFFLINE_AFTER failed polls, plus one poll period of phase, plus the per-poll timeout and delivery.
      const bound = (OFFLINE_AFTER + 1) * POLL_S * 1000 + 400 + 2000;
      assert.ok(raised.ts - stoppedAt <= bound, `raised ${raised.ts - stoppedAt} ms after the stop (bound ${bound} ms)`);
      assert.deepEqual((await retainedAlerts()).get(topic), raised);

      // Node-RED restart while the alert is active: the file context store brings the active set back.
      const restartAt = Date.now();
      await red.restart();
      // After the restart the collector reports ws-1 offline again (N failed polls): the engine must not re-raise.
      await until("ws-1 offline again after the restart", () => availability.find((a) => a.device === "ws-1" && !a.online && a.at > restartAt));
      await live.publishAsync(`${root}/test/list`, JSON.stringify({ action: "list" }), { qos: 1 });
      const list = await until("active list after the restart", () => lists.at(-1));
      assert.deepEqual(
        list.map((a) => [a.id, a.state]),
        [["offline:ws-1", "raised"]],
      );
      assert.deepEqual(list[0], { ...raised, value: null }, "the same alert as before the restart");
      const sameAlert = (e: AlertEvent | undefined) => e && { id: e.id, state: e.state, ts: e.ts, severity: e.severity, message: e.message };
      // The restored alert is re-published unchanged (same ts); a new raise would carry a new ts.
      assert.ok(
        seen
          .filter((x) => x.event !== "" && x.event.id === "offline:ws-1" && x.event.state === "raised" && x.at >= restartAt)
          .every((x) => (x.event as AlertEvent).ts === raised.ts),
        "not raised again after the restart",
      );
      assert.deepEqual(sameAlert((await retainedAlerts()).get(topic)), sameAlert(raised), "still retained");

      // The broker restarts empty (as the embedded aedes does with Node-RED), then Node-RED restarts: the alert
      // node re-publishes its restored active set, retained and unchanged, so a new subscriber sees it again.
      await broker.stop();
      broker = await startBroker(td, kind, { port: broker.port });
      await connectLive();
      assert.equal((await retainedAlerts()).has(topic), false, "the new broker starts without retained alerts");
      const secondRestartAt = Date.now();
      await red.restart();
      let back: AlertEvent | undefined;
      for (const deadline = Date.now() + 20_000; !back && Date.now() < deadline;) {
        back = (await retainedAlerts()).get(topic);
        if (!back) await new Promise((r) => setTimeout(r, 200));
      }
      assert.deepEqual(sameAlert(back), sameAlert(raised), "retained again after the restart, the very same event");
      assert.ok(
        seen
          .filter((x) => x.event !== "" && x.event.id === "offline:ws-1" && x.event.state === "raised" && x.at >= secondRestartAt)
          .every((x) => (x.event as AlertEvent).ts === raised.ts),
        "no new raise after the broker and Node-RED restart",
      );

      const backAt = Date.now();
      await office.plug("ws-1").start();
      const cleared = await until("offline cleared", () => eventOf("offline:ws-1", "cleared", backAt));
      assert.ok(validate(AlertEvent, cleared).ok);
      assert.equal(cleared.message, "ws-1 is back online");
      await until("retained delete", () => (seen.some((s) => s.topic === topic && s.event === "" && s.at >= backAt) ? true : undefined));
      assert.equal((await retainedAlerts()).has(topic), false);
    });
  });
