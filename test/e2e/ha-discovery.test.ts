// Home Assistant discovery end to end: plugwatch-ha-discovery, collector and control chain in Node-RED on a real Mosquitto with simulated plugs.
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { AuditRecord, Device } from "../../lib/contracts";
import { SimulatedOffice } from "../../scripts/sim/office";
import { checkDiscoveryConfig, parseDiscoveryTopic, renderTemplate } from "../support/ha-schema";
import { brokerNode, collectorNode, controlChain, registryNode } from "../support/flow-nodes";
import { startNodeRed, type FlowNode } from "../../scripts/harness/nodered";
import { connectClient, startBroker, Teardown, uniqueRoot } from "../../scripts/harness/services";
import { eventually } from "../../scripts/harness/wait";

const device = (id: string, room: string): Device => ({
  id,
  name: `Plug ${id}`,
  model: "HS110",
  host: "127.0.0.1",
  port: 9999,
  kind: "printer",
  location: { building: "hq", floor: "1", room },
});

/** Collector → mqtt out, mqtt in (commands) → control → mqtt out, and the discovery node, all on one broker. */
function flow(root: string, prefix: string, nodeId: string, brokerPort: number, devices: Device[]): FlowNode[] {
  const z = "ha-tab";
  return [
    { id: z, type: "tab", label: "home assistant" },
    brokerNode("b", brokerPort),
    registryNode("reg", { devices }),
    collectorNode("col", z, root, "out", { interval: 0.5, timeout: 1000, concurrency: 4, offlineAfter: 1, x: 100, y: 40 }),
    ...controlChain(z, root),
    { id: "ha", type: "plugwatch-ha-discovery", z, name: "", broker: "b", registry: "reg", root, prefix, nodeId, x: 300, y: 200, wires: [] },
  ];
}

/** Collects every message on `filter` (topic → last payload text; retained flag kept). */
async function collect(client: MqttClient, filter: string): Promise<Map<string, { text: string; retain: boolean }>> {
  const seen = new Map<string, { text: string; retain: boolean }>();
  client.on("message", (topic, payload, packet) => {
    if (topic.startsWith(filter.replace(/#$/, ""))) seen.set(topic, { text: payload.toString(), retain: packet.retain });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return seen;
}

describe("Home Assistant discovery (Mosquitto, simulated plugs, real runtime)", function () {
  this.timeout(120_000);
  const td = new Teardown();
  after(() => td.run());

  it("announces valid configs for every device, switches a plug from the announced command topic, and clears departed devices", async function () {
    const root = uniqueRoot("pwha");
    // Its own discovery prefix, so tests sharing a broker never see each other's retained configs.
    const prefix = `${root}-homeassistant`;
    const nodeId = "plugwatch";
    const broker = await startBroker(td, "mosquitto");
    const office = td.add(
      await SimulatedOffice.start([device("pr-1", "copy"), device("ws-7", "open-space")], { portFor: () => 0, tickMs: 0, relayOn: false }),
      (o) => o.stop(),
    );
    const devices = office.registryDevices();
    const red = td.add(await startNodeRed(), (r) => r.stop());
    await red.deploy(flow(root, prefix, nodeId, broker.port, devices));

    const ha = await connectClient(td, broker.url, { protocolVersion: 5 });
    const configs = await collect(ha, `${prefix}/#`);
    const audits: AuditRecord[] = [];
    ha.on("message", (t, p) => t === `${root}/audit/command` && audits.push(JSON.parse(p.toString()) as AuditRecord));
    await ha.subscribeAsync(`${root}/audit/command`, { qos: 1 });

    const configTopics = () => [...configs.keys()].filter((t) => t.endsWith("/config") && configs.get(t)?.text !== "");
    await eventually("ten configs (two devices, a switch and four sensors each)", configTopics, (t) => t.length === 10, { timeoutMs: 15000, everyMs: 100 });

    // Every config against HA's discovery schema.
    const parsed = new Map<string, Record<string, unknown>>();
    for (const topic of configTopics()) {
      const t = parseDiscoveryTopic(prefix, topic);
      assert.ok(t, `discovery topic format: ${topic}`);
      assert.equal(t.nodeId, nodeId);
      const payload = JSON.parse(configs.get(topic)?.text ?? "") as Record<string, unknown>;
      assert.deepEqual(checkDiscoveryConfig(t.component, payload), [], topic);
      parsed.set(topic, payload);
    }
    const sw = parsed.get(`${prefix}/switch/${nodeId}/pr-1/config`) as Record<string, unknown>;
    assert.ok(sw, "pr-1's switch");
    assert.deepEqual(sw.device, { identifiers: ["plugwatch_pr-1"], name: "Plug pr-1", manufacturer: "TP-Link", model: "HS110", suggested_area: "copy" });
    const units = [...parsed.entries()]
      .filter(([t]) => t.includes("/sensor/") && t.includes("/pr-1_"))
      .map(([, p]) => `${String(p.device_class)}:${String(p.state_class)}:${String(p.unit_of_measurement)}`)
      .sort();
    assert.deepEqual(units, ["current:measurement:A", "energy:total_increasing:kWh", "power:measurement:W", "voltage:measurement:V"]);

    // The announced state and availability topics carry what the templates expect (real collector messages).
    const state = await new Promise<Record<string, unknown>>((resolve) => {
      ha.on("message", (t, p) => t === sw.state_topic && resolve(JSON.parse(p.toString()) as Record<string, unknown>));
      void ha.subscribeAsync(sw.state_topic as string, { qos: 1 });
    });
    assert.equal(renderTemplate(sw.value_template as string, state), "OFF");
    const power = parsed.get(`${prefix}/sensor/${nodeId}/pr-1_power/config`) as Record<string, unknown>;
    assert.equal(Number(renderTemplate(power.value_template as string, state)), state.power);
    const [availability] = sw.availability as [{ topic: string; value_template: string }];
    const avail = await new Promise<Record<string, unknown>>((resolve) => {
      ha.on("message", (t, p) => t === availability.topic && resolve(JSON.parse(p.toString()) as Record<string, unknown>));
      void ha.subscribeAsync(availability.topic, { qos: 1 });
    });
    assert.equal(renderTemplate(availability.value_template, avail), "online");

    // Switch from Home Assistant: ON on the announced command topic reaches the simulator through the control path.
    assert.equal(office.plug("pr-1").relay, false);
    await ha.publishAsync(sw.command_topic as string, sw.payload_on as string, { qos: 1 });
    await eventually(
      "pr-1's relay on at the simulator",
      () => office.plug("pr-1").relay,
      (on) => on === true,
      { timeoutMs: 10000 },
    );
    const audit = await eventually("the audit record of the HA command", () => audits.find((a) => a.by === "homeassistant"), Boolean, { timeoutMs: 5000 });
    assert.deepEqual([audit?.action, audit?.target, audit?.results], ["on", { device: "pr-1" }, [{ device: "pr-1", ok: true, relay: true }]]);
    // A bad payload and an unknown device switch nothing.
    await ha.publishAsync(`${root}/ha/pr-1/set`, "TOGGLE", { qos: 1 });
    await ha.publishAsync(`${root}/ha/nope/set`, "OFF", { qos: 1 });
    await ha.publishAsync(sw.command_topic as string, sw.payload_off as string, { qos: 1 });
    await eventually(
      "pr-1's relay off again",
      () => office.plug("pr-1").relay,
      (on) => on === false,
      { timeoutMs: 10000 },
    );
    const byHa = await eventually(
      "the second audit record",
      () => audits.filter((a) => a.by === "homeassistant"),
      (a) => a.length >= 2,
      { timeoutMs: 5000 },
    );
    assert.deepEqual(
      byHa.map((a) => a.action),
      ["on", "off"],
      "exactly the two valid commands were run",
    );

    // Restart: the same configs again (unique_id stable), retained.
    const before = new Map(parsed);
    configs.clear();
    await red.restart();
    await eventually("configs re-announced after the restart", configTopics, (t) => t.length === 10, { timeoutMs: 20000, everyMs: 100 });
    for (const [topic, payload] of before) assert.deepEqual(JSON.parse(configs.get(topic)?.text ?? "null"), payload, topic);

    // A device leaves the registry: its five retained configs are cleared (empty retained payload), the other's stay.
    configs.clear();
    await red.deploy(
      flow(
        root,
        prefix,
        nodeId,
        broker.port,
        devices.filter((d) => d.id !== "ws-7"),
      ),
    );
    const gone = [...before.keys()].filter((t) => t.includes("/ws-7"));
    assert.equal(gone.length, 5);
    await eventually(
      "ws-7's configs cleared",
      () => gone.map((t) => configs.get(t)?.text),
      (texts) => texts.every((x) => x === ""),
      { timeoutMs: 15000, everyMs: 100 },
    );
    // A fresh subscriber (Home Assistant starting now) gets only pr-1's retained configs.
    const fresh = await connectClient(td, broker.url, { protocolVersion: 5 });
    const retained = await collect(fresh, `${prefix}/#`);
    await eventually(
      "pr-1's five retained configs, nothing of ws-7",
      () => [...retained.entries()].filter(([t, m]) => m.retain && t.endsWith("/config")).map(([t]) => t),
      (t) => t.length === 5 && t.every((x) => x.includes("/pr-1")),
      { timeoutMs: 10000, everyMs: 100 },
    );
  });
});
