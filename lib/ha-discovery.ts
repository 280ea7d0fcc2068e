// Home Assistant MQTT discovery: the retained config of every registry device (a switch and four sensors) and HA's switch commands turned into Plugwatch commands.
import type { Device } from "./contracts/device";
import { deviceTopic } from "./topics";

/** HA's default discovery prefix and the topic its MQTT integration announces itself on ("online" after a start). */
export const DEFAULT_DISCOVERY_PREFIX = "homeassistant";
export const DEFAULT_HA_NODE_ID = "plugwatch";
/** Who a command from Home Assistant is recorded as (`by` in the audit trail). */
export const HA_BY = "homeassistant";
/** HA requires node_id and object_id to match this. */
const HA_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const PREFIX = /^[^+#/$][^+#]{0,63}$/;
const hasNul = (s: string): boolean => s.includes("\u0000");

export const haStatusTopic = (prefix: string): string => `${prefix}/status`;
/** Where Home Assistant publishes ON/OFF for one plug: under Plugwatch's root, so the broker ACL decides who may. */
export const haCommandTopic = (root: string, device: string): string => `${root}/ha/${device}/set`;
export const haCommandSubscription = (root: string): string => `${root}/ha/+/set`;
/** Every config topic this publisher may own (to find and clear configs of devices that left the registry). */
export const haConfigSubscription = (prefix: string, nodeId: string): string => `${prefix}/+/${nodeId}/+/config`;

/** The four sensors of a plug: reading field, HA device_class, state_class and unit (HA's sensor rules: power W measurement, energy kWh total_increasing…). */
export const HA_SENSORS = [
  { field: "power", name: "Power", deviceClass: "power", stateClass: "measurement", unit: "W" },
  { field: "energy", name: "Energy", deviceClass: "energy", stateClass: "total_increasing", unit: "kWh" },
  { field: "voltage", name: "Voltage", deviceClass: "voltage", stateClass: "measurement", unit: "V" },
  { field: "current", name: "Current", deviceClass: "current", stateClass: "measurement", unit: "A" },
] as const;

export interface HaDiscoveryOptions {
  /** Plugwatch's topic root (readings, availability, commands). */
  root: string;
  /** HA's discovery prefix (default homeassistant). */
  prefix: string;
  /** node_id level of the config topics, also the prefix of unique_id and device identifiers (default plugwatch). */
  nodeId: string;
  /** Package version, announced as the origin's sw_version. */
  version?: string;
}

/** Checks the options; returns a problem or undefined. */
export function checkHaOptions(o: HaDiscoveryOptions): string | undefined {
  if (!HA_ID.test(o.nodeId)) return `node id must be 1-64 letters, digits, '_' or '-' (Home Assistant's rule), got '${o.nodeId}'`;
  if (!PREFIX.test(o.prefix) || o.prefix.split("/").some((l) => l === ""))
    return `discovery prefix must be a topic without wildcards or empty levels, got '${o.prefix}'`;
  if (!o.root || /[+#]/.test(o.root) || hasNul(o.root)) return `topic root must have no wildcards, got '${o.root}'`;
  return undefined;
}

export interface RetainedConfig {
  topic: string;
  /** The config object; HA reads it as JSON. */
  payload: Record<string, unknown>;
}

/** Lower-case id made safe for HA's object_id (registry ids are slugs already; this only guards). */
const objectId = (s: string): string => s.replace(/[^a-zA-Z0-9_-]/g, "_");

/** The retained discovery configs of one device: a switch (the relay) and the power, energy, voltage and current sensors. */
export function deviceConfigs(d: Device, o: HaDiscoveryOptions): RetainedConfig[] {
  const reading = deviceTopic(o.root, d, "reading");
  const base = {
    availability: [
      {
        topic: deviceTopic(o.root, d, "availability"),
        value_template: "{{ 'online' if value_json.online else 'offline' }}",
        payload_available: "online",
        payload_not_available: "offline",
      },
    ],
    device: {
      identifiers: [`${o.nodeId}_${d.id}`],
      name: d.name,
      manufacturer: "TP-Link",
      model: d.model,
      suggested_area: d.location.room,
    },
    origin: { name: "Plugwatch", ...(o.version ? { sw_version: o.version } : {}), support_url: "https://github.com/plugwatch/node-red-plugwatch" },
    qos: 1,
  };
  const id = objectId(d.id);
  const configs: RetainedConfig[] = [
    {
      topic: `${o.prefix}/switch/${o.nodeId}/${id}/config`,
      payload: {
        // null: the switch is the device's main feature, so HA names the entity after the device.
        name: null,
        unique_id: `${o.nodeId}_${d.id}_relay`,
        device_class: "outlet",
        command_topic: haCommandTopic(o.root, d.id),
        payload_on: "ON",
        payload_off: "OFF",
        state_topic: reading,
        value_template: "{{ 'ON' if value_json.relay else 'OFF' }}",
        state_on: "ON",
        state_off: "OFF",
        optimistic: false,
        retain: false,
        ...base,
      },
    },
  ];
  for (const s of HA_SENSORS) {
    configs.push({
      topic: `${o.prefix}/sensor/${o.nodeId}/${id}_${s.field}/config`,
      payload: {
        name: s.name,
        unique_id: `${o.nodeId}_${d.id}_${s.field}`,
        device_class: s.deviceClass,
        state_class: s.stateClass,
        unit_of_measurement: s.unit,
        state_topic: reading,
        value_template: `{{ value_json.${s.field} }}`,
        ...base,
      },
    });
  }
  return configs;
}

/** The configs of every device, in registry order. */
export function discoveryConfigs(devices: readonly Device[], o: HaDiscoveryOptions): RetainedConfig[] {
  return devices.flatMap((d) => deviceConfigs(d, o));
}

/** What an HA switch command becomes: a plain Plugwatch command (no replyTo: run, audited, not answered), or why it is dropped. */
export type HaCommand = { command: { action: "on" | "off"; device: string; by: string } } | { problem: string };

/**
 * A message on `{root}/ha/{device}/set`. The device must be in the registry (`known`), the payload ON or OFF
 * (HA's payload_on/payload_off), and the message not retained (a retained command is stale, as for plugwatch-control).
 */
export function parseHaCommand(root: string, topic: string, payload: unknown, retained: boolean, known: (id: string) => boolean): HaCommand {
  const m = topic.startsWith(`${root}/ha/`) ? /^([^/]+)\/set$/.exec(topic.slice(root.length + 4)) : null;
  if (!m || !m[1]) return { problem: `not a command topic: ${topic}` };
  const device = m[1];
  if (retained) return { problem: `ignored a retained command for '${device}' (stale; clear it with mosquitto_pub -r -n -t '${topic}')` };
  if (!known(device)) return { problem: `'${device}' is not in the registry` };
  const text = (Buffer.isBuffer(payload) ? payload.toString("utf8") : String(payload)).trim();
  if (text !== "ON" && text !== "OFF") return { problem: `payload for '${device}' must be ON or OFF, got ${JSON.stringify(text.slice(0, 32))}` };
  return { command: { action: text === "ON" ? "on" : "off", device, by: HA_BY } };
}

/** True when `topic` is a config under this publisher's node id that the current configs do not contain: it must be cleared. */
export function isStaleConfig(topic: string, current: ReadonlySet<string>, o: Pick<HaDiscoveryOptions, "prefix" | "nodeId">): boolean {
  if (current.has(topic) || !topic.startsWith(`${o.prefix}/`)) return false;
  const parts = topic.slice(o.prefix.length + 1).split("/");
  return parts.length === 4 && (parts[0] === "switch" || parts[0] === "sensor") && parts[1] === o.nodeId && parts[3] === "config";
}
