// Home Assistant's MQTT discovery schema for switches and sensors, as its documentation states it (switch.mqtt, sensor.mqtt, mqtt#discovery,
// sensor device classes): required keys, allowed keys, value types, device_class/state_class/unit pairs, topic and id rules. Written from the docs,
// not from Plugwatch's code, so the tests compare two independent descriptions. Plus a tiny evaluator for the two template forms Plugwatch uses.

const ID = /^[a-zA-Z0-9_-]+$/;

/** Keys both platforms accept (abbreviations are not used by Plugwatch and would be rejected here on purpose). */
const COMMON = [
  "availability",
  "availability_mode",
  "availability_template",
  "availability_topic",
  "default_entity_id",
  "device",
  "enabled_by_default",
  "encoding",
  "entity_category",
  "entity_picture",
  "icon",
  "json_attributes_template",
  "json_attributes_topic",
  "name",
  "object_id",
  "origin",
  "payload_available",
  "payload_not_available",
  "platform",
  "qos",
  "unique_id",
  "value_template",
];
const ALLOWED: Record<"switch" | "sensor", Set<string>> = {
  switch: new Set([
    ...COMMON,
    "command_template",
    "command_topic",
    "device_class",
    "optimistic",
    "payload_off",
    "payload_on",
    "retain",
    "state_off",
    "state_on",
    "state_topic",
  ]),
  sensor: new Set([
    ...COMMON,
    "device_class",
    "expire_after",
    "force_update",
    "last_reset_value_template",
    "options",
    "state_class",
    "state_topic",
    "suggested_display_precision",
    "unit_of_measurement",
  ]),
};
const REQUIRED: Record<"switch" | "sensor", string[]> = { switch: ["command_topic"], sensor: ["state_topic"] };
const DEVICE_KEYS = new Set([
  "configuration_url",
  "connections",
  "hw_version",
  "identifiers",
  "manufacturer",
  "model",
  "model_id",
  "name",
  "serial_number",
  "suggested_area",
  "sw_version",
  "via_device",
]);
const AVAILABILITY_KEYS = new Set(["payload_available", "payload_not_available", "topic", "value_template"]);
const ORIGIN_KEYS = new Set(["name", "sw_version", "support_url"]);
const SWITCH_CLASSES = new Set(["outlet", "switch"]);
const STATE_CLASSES = new Set(["measurement", "measurement_angle", "total", "total_increasing"]);

/** Sensor device classes Plugwatch may use: the units and state classes Home Assistant accepts for them. */
export const SENSOR_CLASS_RULES: Record<string, { units: string[]; stateClasses: string[] }> = {
  power: { units: ["mW", "W", "kW", "MW", "GW", "TW", "BTU/h"], stateClasses: ["measurement"] },
  energy: {
    units: ["J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal", "Gcal"],
    stateClasses: ["total", "total_increasing"],
  },
  voltage: { units: ["µV", "mV", "V", "kV", "MV"], stateClasses: ["measurement"] },
  current: { units: ["mA", "A"], stateClasses: ["measurement"] },
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isTopic = (v: unknown): boolean => typeof v === "string" && v.length > 0 && !/[+#]/.test(v) && !v.includes("\u0000");

export interface DiscoveryTopic {
  component: "switch" | "sensor";
  nodeId?: string;
  objectId: string;
}

/** Parses `<prefix>/<component>/[<node_id>/]<object_id>/config` (HA: node_id and object_id match [a-zA-Z0-9_-]+). */
export function parseDiscoveryTopic(prefix: string, topic: string): DiscoveryTopic | undefined {
  if (!topic.startsWith(`${prefix}/`)) return undefined;
  const parts = topic.slice(prefix.length + 1).split("/");
  if (parts.at(-1) !== "config" || (parts.length !== 3 && parts.length !== 4)) return undefined;
  const component = parts[0];
  if (component !== "switch" && component !== "sensor") return undefined;
  const ids = parts.slice(1, -1);
  if (!ids.every((x) => ID.test(x))) return undefined;
  const [first = "", second = ""] = ids;
  return parts.length === 4 ? { component, nodeId: first, objectId: second } : { component, objectId: first };
}

/** Problems of one config payload for `component` (empty = valid). */
export function checkDiscoveryConfig(component: "switch" | "sensor", config: unknown): string[] {
  const problems: string[] = [];
  const p = (m: string) => problems.push(`${component}: ${m}`);
  if (!isObject(config)) return [`${component}: payload is not a JSON object`];
  for (const k of Object.keys(config)) if (!ALLOWED[component].has(k)) p(`unknown key '${k}'`);
  for (const k of REQUIRED[component]) if (config[k] === undefined) p(`missing required '${k}'`);
  for (const k of ["command_topic", "state_topic", "availability_topic", "json_attributes_topic"])
    if (config[k] !== undefined && !isTopic(config[k])) p(`${k} is not a publishable topic`);
  if (config.name !== undefined && config.name !== null && typeof config.name !== "string") p("name must be a string or null");
  if (config.qos !== undefined && ![0, 1, 2].includes(config.qos as number)) p("qos must be 0, 1 or 2");
  // The device registry entry needs unique_id; the device needs identifiers or connections.
  if (config.device !== undefined) {
    if (typeof config.unique_id !== "string" || config.unique_id === "") p("device info needs a unique_id");
    const d = config.device;
    if (!isObject(d)) p("device must be an object");
    else {
      for (const k of Object.keys(d)) if (!DEVICE_KEYS.has(k)) p(`unknown device key '${k}'`);
      const ids = d.identifiers;
      if (!(Array.isArray(ids) && ids.length > 0 && ids.every((x) => typeof x === "string" && x)) && !Array.isArray(d.connections))
        p("device needs identifiers (non-empty strings) or connections");
      for (const k of ["name", "manufacturer", "model", "suggested_area"])
        if (d[k] !== undefined && typeof d[k] !== "string") p(`device.${k} must be a string`);
    }
  }
  if (config.availability !== undefined) {
    if (config.availability_topic !== undefined) p("availability and availability_topic must not be used together");
    if (!Array.isArray(config.availability) || config.availability.length === 0) p("availability must be a non-empty list");
    else
      for (const a of config.availability) {
        if (!isObject(a) || !isTopic(a.topic)) p("availability entry needs a topic");
        else for (const k of Object.keys(a)) if (!AVAILABILITY_KEYS.has(k)) p(`unknown availability key '${k}'`);
      }
  }
  if (config.origin !== undefined) {
    if (!isObject(config.origin) || typeof config.origin.name !== "string") p("origin needs a name");
    else for (const k of Object.keys(config.origin)) if (!ORIGIN_KEYS.has(k)) p(`unknown origin key '${k}'`);
  }
  if (component === "switch") {
    if (config.device_class !== undefined && !SWITCH_CLASSES.has(config.device_class as string))
      p(`switch device_class ${JSON.stringify(config.device_class)}`);
    for (const k of ["payload_on", "payload_off", "state_on", "state_off"])
      if (config[k] !== undefined && typeof config[k] !== "string") p(`${k} must be a string`);
  } else {
    const dc = config.device_class as string | undefined;
    const sc = config.state_class as string | undefined;
    const unit = config.unit_of_measurement as string | undefined;
    if (sc !== undefined && !STATE_CLASSES.has(sc)) p(`state_class '${sc}'`);
    if (dc !== undefined) {
      const rule = SENSOR_CLASS_RULES[dc];
      if (!rule) p(`device_class '${dc}' not covered by this check`);
      else {
        if (unit === undefined || !rule.units.includes(unit)) p(`device_class ${dc} does not accept unit '${String(unit)}'`);
        if (sc !== undefined && !rule.stateClasses.includes(sc)) p(`device_class ${dc} does not accept state_class '${sc}'`);
      }
    }
  }
  return problems;
}

/**
 * Renders the two Jinja forms Plugwatch's configs use against a JSON payload: `{{ value_json.<field> }}` and
 * `{{ 'A' if value_json.<field> else 'B' }}`. Anything else throws (the test then fails rather than guessing).
 */
export function renderTemplate(template: string, payload: unknown): string {
  const json = payload as Record<string, unknown>;
  const field = /^\{\{ value_json\.([a-z_]+) \}\}$/.exec(template);
  if (field) return String(json[field[1] ?? ""]);
  const choice = /^\{\{ '([^']*)' if value_json\.([a-z_]+) else '([^']*)' \}\}$/.exec(template);
  if (choice) return json[choice[2] ?? ""] ? (choice[1] ?? "") : (choice[3] ?? "");
  throw new Error(`template form not supported by the test evaluator: ${template}`);
}
