// Home Assistant discovery payloads and commands (lib/ha-discovery.ts, lib/ha-publisher.ts) against HA's documented discovery schema.
import assert from "node:assert/strict";
import { mayPublish, maySubscribe } from "../../lib/broker/acl";
import type { Device } from "../../lib/contracts";
import { checkHaOptions, deviceConfigs, discoveryConfigs, HA_SENSORS, isStaleConfig, parseHaCommand, type HaDiscoveryOptions } from "../../lib/ha-discovery";
import { HaPublisher } from "../../lib/ha-publisher";
import { checkDiscoveryConfig, parseDiscoveryTopic, renderTemplate } from "../support/ha-schema";

const O: HaDiscoveryOptions = { root: "plugwatch", prefix: "homeassistant", nodeId: "plugwatch", version: "0.1.0" };
const dev = (id: string, room = "copy"): Device => ({
  id,
  name: `Printer ${id}`,
  model: "HS110",
  host: "127.0.0.1",
  port: 9999,
  kind: "printer",
  location: { building: "hq", floor: "2", room },
});

describe("Home Assistant discovery", function () {
  it("announces a switch and four sensors per device, each valid against HA's discovery schema", function () {
    const configs = deviceConfigs(dev("pr-1"), O);
    assert.deepEqual(
      configs.map((c) => c.topic),
      [
        "homeassistant/switch/plugwatch/pr-1/config",
        "homeassistant/sensor/plugwatch/pr-1_power/config",
        "homeassistant/sensor/plugwatch/pr-1_energy/config",
        "homeassistant/sensor/plugwatch/pr-1_voltage/config",
        "homeassistant/sensor/plugwatch/pr-1_current/config",
      ],
    );
    for (const c of configs) {
      const t = parseDiscoveryTopic("homeassistant", c.topic);
      assert.ok(t, c.topic);
      assert.equal(t.nodeId, "plugwatch");
      assert.deepEqual(checkDiscoveryConfig(t.component, JSON.parse(JSON.stringify(c.payload))), [], c.topic);
      assert.deepEqual(c.payload.device, {
        identifiers: ["plugwatch_pr-1"],
        name: "Printer pr-1",
        manufacturer: "TP-Link",
        model: "HS110",
        suggested_area: "copy",
      });
      assert.deepEqual(c.payload.availability, [
        {
          topic: "plugwatch/hq/2/copy/pr-1/availability",
          value_template: "{{ 'online' if value_json.online else 'offline' }}",
          payload_available: "online",
          payload_not_available: "offline",
        },
      ]);
      assert.equal(c.payload.state_topic, "plugwatch/hq/2/copy/pr-1/reading");
    }
    const sw = configs[0]?.payload ?? {};
    assert.equal(sw.command_topic, "plugwatch/ha/pr-1/set");
    assert.equal(sw.unique_id, "plugwatch_pr-1_relay");
    const pairs = configs.slice(1).map((c) => [c.payload.device_class, c.payload.state_class, c.payload.unit_of_measurement]);
    assert.deepEqual(pairs, [
      ["power", "measurement", "W"],
      ["energy", "total_increasing", "kWh"],
      ["voltage", "measurement", "V"],
      ["current", "measurement", "A"],
    ]);
  });

  it("the schema check catches what HA would refuse (so the test above can fail)", function () {
    const good = deviceConfigs(dev("pr-1"), O)[2]?.payload ?? {};
    assert.match(checkDiscoveryConfig("sensor", { ...good, state_class: "measurement" }).join(), /does not accept state_class 'measurement'/);
    assert.match(checkDiscoveryConfig("sensor", { ...good, unit_of_measurement: "W" }).join(), /does not accept unit 'W'/);
    assert.match(checkDiscoveryConfig("sensor", { ...good, unique_id: undefined }).join(), /needs a unique_id/);
    assert.match(checkDiscoveryConfig("sensor", { ...good, state_topic: undefined }).join(), /missing required 'state_topic'/);
    assert.match(checkDiscoveryConfig("switch", { ...good, command_topic: "a/+/b" }).join(), /unknown key 'state_class'.*|command_topic/);
    assert.match(checkDiscoveryConfig("sensor", { ...good, device: { name: "x" } }).join(), /identifiers/);
    assert.equal(parseDiscoveryTopic("homeassistant", "homeassistant/sensor/plug watch/x/config"), undefined);
  });

  it("templates give HA the reading's values and states", function () {
    const reading = { v: 1, device: "pr-1", ts: 1_764_000_000_000, power: 12.5, voltage: 231.2, current: 0.08, energy: 3.25, relay: true };
    const configs = deviceConfigs(dev("pr-1"), O);
    const rendered = configs.map((c) => renderTemplate(c.payload.value_template as string, reading));
    assert.deepEqual(rendered, ["ON", "12.5", "3.25", "231.2", "0.08"]);
    assert.equal(renderTemplate(configs[0]?.payload.value_template as string, { ...reading, relay: false }), "OFF");
    const avail = (configs[0]?.payload.availability as { value_template: string }[])[0]?.value_template ?? "";
    assert.equal(renderTemplate(avail, { online: true }), "online");
    assert.equal(renderTemplate(avail, { online: false }), "offline");
  });

  it("unique_id and identifiers depend only on the node id and the device id (stable across restarts)", function () {
    const a = discoveryConfigs([dev("pr-1"), dev("ws-2")], O).map((c) => [c.topic, c.payload.unique_id]);
    const moved = discoveryConfigs([{ ...dev("pr-1", "lobby"), name: "Renamed" }, dev("ws-2")], O).map((c) => [c.topic, c.payload.unique_id]);
    assert.deepEqual(moved, a);
    const ids = a.map(([, id]) => id);
    assert.equal(new Set(ids).size, ids.length, "unique_ids are unique");
    assert.equal(HA_SENSORS.length, 4);
  });

  it("checks its options", function () {
    assert.equal(checkHaOptions(O), undefined);
    assert.match(checkHaOptions({ ...O, nodeId: "plug watch" }) ?? "", /node id/);
    assert.match(checkHaOptions({ ...O, prefix: "home/#" }) ?? "", /prefix/);
    assert.match(checkHaOptions({ ...O, prefix: "a//b" }) ?? "", /prefix/);
  });

  it("turns ON/OFF for a registered device into a plain command by homeassistant, and drops anything else", function () {
    const known = (id: string) => id === "pr-1";
    assert.deepEqual(parseHaCommand("plugwatch", "plugwatch/ha/pr-1/set", Buffer.from("ON"), false, known), {
      command: { action: "on", device: "pr-1", by: "homeassistant" },
    });
    assert.deepEqual(parseHaCommand("plugwatch", "plugwatch/ha/pr-1/set", "OFF", false, known), {
      command: { action: "off", device: "pr-1", by: "homeassistant" },
    });
    for (const [topic, payload, retained] of [
      ["plugwatch/ha/pr-1/set", "TOGGLE", false],
      ["plugwatch/ha/pr-1/set", "ON", true],
      ["plugwatch/ha/nope/set", "ON", false],
      ["plugwatch/ha/pr-1/x", "ON", false],
      ["other/ha/pr-1/set", "ON", false],
    ] as const) {
      assert.ok("problem" in parseHaCommand("plugwatch", topic, payload, retained, known), `${topic} ${payload}`);
    }
  });

  it("finds stale configs only under its own node id", function () {
    const current = new Set(discoveryConfigs([dev("pr-1")], O).map((c) => c.topic));
    assert.equal(isStaleConfig("homeassistant/switch/plugwatch/pr-1/config", current, O), false);
    assert.equal(isStaleConfig("homeassistant/switch/plugwatch/gone/config", current, O), true);
    assert.equal(isStaleConfig("homeassistant/sensor/plugwatch/gone_power/config", current, O), true);
    assert.equal(isStaleConfig("homeassistant/switch/other/gone/config", current, O), false);
    assert.equal(isStaleConfig("homeassistant/light/plugwatch/gone/config", current, O), false);
  });

  it("HaPublisher announces on connect and on HA's birth, clears departed devices, forwards commands", async function () {
    const published: [string, string, boolean][] = [];
    let connected = false;
    let devices = [dev("pr-1")];
    const warnings: string[] = [];
    const pub = new HaPublisher({
      ...O,
      broker: { connected: () => connected, publish: (t, p, r) => Promise.resolve(void published.push([t, p, r])) },
      devices: () => devices,
      warn: (_k, text) => warnings.push(text),
    });
    await pub.tick();
    assert.equal(published.length, 0, "nothing while disconnected");
    connected = true;
    await pub.tick();
    assert.equal(published.length, 5);
    assert.ok(published.every(([, , retain]) => retain));
    await pub.tick();
    assert.equal(published.length, 5, "once per connect");
    await pub.onHaStatus(Buffer.from("online"));
    assert.equal(published.length, 10);
    await pub.onHaStatus(Buffer.from("offline"));
    assert.equal(published.length, 10);
    // A retained config of a device that is not in the registry: cleared; our own, or an empty one: left alone.
    assert.equal(await pub.onConfig("homeassistant/sensor/plugwatch/old_power/config", Buffer.from("{}")), true);
    assert.deepEqual(published.at(-1), ["homeassistant/sensor/plugwatch/old_power/config", "", true]);
    assert.equal(await pub.onConfig("homeassistant/sensor/plugwatch/old_power/config", Buffer.alloc(0)), false);
    assert.equal(await pub.onConfig("homeassistant/switch/plugwatch/pr-1/config", Buffer.from("{}")), false);
    assert.equal(await pub.onCommand("plugwatch/ha/pr-1/set", Buffer.from("OFF"), false), true);
    assert.deepEqual(published.at(-1), ["plugwatch/api/request/command", JSON.stringify({ action: "off", device: "pr-1", by: "homeassistant" }), false]);
    assert.equal(await pub.onCommand("plugwatch/ha/pr-9/set", Buffer.from("OFF"), false), false);
    assert.equal(warnings.length, 1);
    assert.deepEqual(pub.stats, { announced: 5, devices: 1, cleared: 1, commands: 1, dropped: 1 });
    devices = [];
    assert.equal(await pub.removeAll(), 5, "removeAll clears what the registry announced");
  });

  it("the broker ACL lets Home Assistant read discovery and states and write only its command topics; the publisher what it needs", function () {
    const R = "plugwatch";
    assert.equal(maySubscribe("homeassistant", "homeassistant", "homeassistant/#", R), true);
    assert.equal(maySubscribe("homeassistant", "homeassistant", "plugwatch/+/+/+/+/reading", R), true);
    assert.equal(mayPublish("homeassistant", "homeassistant", "plugwatch/ha/pr-1/set", R), true);
    assert.equal(mayPublish("homeassistant", "homeassistant", "homeassistant/status", R), true);
    assert.equal(mayPublish("homeassistant", "homeassistant", "plugwatch/api/request/command", R), false);
    assert.equal(mayPublish("homeassistant", "homeassistant", "homeassistant/switch/plugwatch/pr-1/config", R), false);
    for (const role of ["ha-discovery", "runtime"] as const) {
      assert.equal(mayPublish(role, role, "homeassistant/switch/plugwatch/pr-1/config", R), true, role);
      assert.equal(maySubscribe(role, role, "homeassistant/+/plugwatch/+/config", R), true, role);
      assert.equal(maySubscribe(role, role, "plugwatch/ha/+/set", R), true, role);
      assert.equal(maySubscribe(role, role, "homeassistant/status", R), true, role);
      assert.equal(mayPublish(role, role, "plugwatch/api/request/command", R), true, role);
    }
  });
});
