// The environment variables the shipped flow (flows/plugwatch.json) reads as ${NAME}, with the demo's defaults: one list for start.ts, tests and docs.

/** Every variable the shipped flow references, its demo default and what it sets. */
export const FLOW_ENV = {
  PLUGWATCH_REGISTRY: { default: "flows/registry/office-mixed.json", what: "device registry file (absolute, or relative to the repository for npm start)" },
  PLUGWATCH_MQTT_HOST: { default: "127.0.0.1", what: "MQTT broker host the flow connects to" },
  PLUGWATCH_MQTT_PORT: { default: "1883", what: "MQTT broker port the flow connects to" },
  PLUGWATCH_MQTT_USER: { default: "", what: "MQTT user name (credential; empty = anonymous)" },
  PLUGWATCH_MQTT_PASSWORD: { default: "", what: "MQTT password (credential)" },
  PLUGWATCH_COLLECTOR_USER: {
    default: "",
    what: "MQTT user name the collector publishes under (credential; role collector; empty = anonymous, which the embedded broker refuses to let publish)",
  },
  PLUGWATCH_COLLECTOR_PASSWORD: { default: "", what: "the collector's MQTT password (credential)" },
  PLUGWATCH_BROKER_PORT: { default: "1883", what: "port of the embedded broker (Broker tab, plugwatch-broker)" },
  PLUGWATCH_BROKER_HOST: {
    default: "loopback",
    what: "addresses the embedded broker listens on: loopback (127.0.0.1 and ::1) or a list; any other address needs PLUGWATCH_BROKER_PASSWD",
  },
  PLUGWATCH_BROKER_PASSWD: {
    default: "",
    what: "mosquitto_passwd file of the embedded broker's identities (empty: anonymous clients are read-only, loopback only)",
  },
  PLUGWATCH_POLL_INTERVAL: { default: "2", what: "collector poll interval in s" },
  PLUGWATCH_INFLUX_URL: { default: "http://127.0.0.1:8086", what: "InfluxDB base URL" },
  PLUGWATCH_INFLUX_FLAVOUR: { default: "1.x", what: "InfluxDB API: 1.x, 2.x or 3.x" },
  PLUGWATCH_INFLUX_RPC: { default: "127.0.0.1:8088", what: "host:port of influxd's RPC service, for plugwatch-influx-backup (1.x)" },
  PLUGWATCH_INFLUX_DB: { default: "plugwatch", what: "database (1.x, 3.x)" },
  PLUGWATCH_INFLUX_ORG: { default: "", what: "organisation (2.x)" },
  PLUGWATCH_INFLUX_BUCKET: { default: "", what: "bucket (2.x)" },
  PLUGWATCH_INFLUX_USER: { default: "", what: "InfluxDB 1.x user (credential; empty = no auth)" },
  PLUGWATCH_INFLUX_PASSWORD: { default: "", what: "InfluxDB 1.x password (credential)" },
  PLUGWATCH_INFLUX_TOKEN: { default: "", what: "InfluxDB 2.x/3.x token (credential)" },
  PLUGWATCH_API_TOKENS: { default: "", what: "REST API bearer tokens (credential): lines 'TOKEN read,control' or JSON [{token,scopes}]" },
} as const;

export type FlowEnvName = keyof typeof FLOW_ENV;
export const FLOW_ENV_NAMES = Object.keys(FLOW_ENV) as FlowEnvName[];

/**
 * The full set of flow variables: `overrides`, then the process environment (when `fromProcess`), then the defaults.
 * Node-RED leaves an unset `${NAME}` in place as literal text, so the runtime must always get every one of them.
 */
export function flowEnv(overrides: Partial<Record<FlowEnvName, string>> = {}, fromProcess = false): Record<FlowEnvName, string> {
  const out = {} as Record<FlowEnvName, string>;
  for (const name of FLOW_ENV_NAMES) {
    const given = overrides[name];
    const proc = fromProcess ? process.env[name] : undefined;
    out[name] = given ?? (proc !== undefined ? proc : FLOW_ENV[name].default);
  }
  return out;
}

/** `${NAME}` references in any string of a flow (whole-property values only are substituted by Node-RED). */
export function envReferences(flow: unknown): Set<string> {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      const m = /^\$\{(\S+)\}$/.exec(v);
      if (m?.[1]) found.add(m[1]);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(flow);
  return found;
}
