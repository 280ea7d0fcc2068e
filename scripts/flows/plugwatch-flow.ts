// Builds the shipped pipeline flow (flows/plugwatch.json): one tab per role, env-driven config nodes, the live dashboard.
// `node <build>/scripts/flows/write-flows.js` writes the file; test/e2e/pipeline-flow-file.test.ts checks it is up to date.
import { CONFIG_DEFAULTS } from "../../lib/api/config";
import { commandRequestTopic, DEFAULT_ROOT, queryRequestTopic, subscriptions } from "../../lib/topics";
import { cell as at, group, layoutTab, type FlowNode } from "./layout";

export type { FlowNode } from "./layout";

/** The topic root of the shipped flow (mqtt in topics cannot take it from an env var: substitution is whole-property only). */
export const ROOT = DEFAULT_ROOT;
/** Reply topics of the dashboard's own requests (the dashboard is a client of the agent and the component, like the API). */
export const DASHBOARD_COMMAND_REPLY = `${ROOT}/api/reply/dashboard/command`;
export const DASHBOARD_ENERGY_REPLY = `${ROOT}/api/reply/dashboard/energy`;

/** Stable ids of the nodes tests and docs refer to. */
export const IDS = {
  broker: "pw-mqtt-broker",
  registry: "pw-registry",
  influx: "pw-influx",
  aedes: "pw-aedes",
  collector: "pw-collector",
  control: "pw-control",
  hook: "pw-hook",
  query: "pw-query",
  api: "pw-api",
  alert: "pw-alert",
  uiBase: "pw-ui-base",
  uiPage: "pw-ui-page",
  devicesTemplate: "pw-ui-devices",
  backup: "pw-backup",
} as const;

/** Alert rules of the shipped flow (offline after the collector's N misses, stale data, overload, waste outside office hours). */
export const ALERT_RULES = [
  { id: "offline", type: "offline", severity: "critical" },
  { id: "stale", type: "stale", afterSeconds: 120, severity: "warning" },
  { id: "overload", type: "threshold", field: "power", op: "above", value: 2000, forSeconds: 30, hysteresis: 100, severity: "critical" },
  {
    id: "waste",
    type: "waste",
    kinds: ["printer", "meeting-room"],
    watts: 20,
    severity: "warning",
    schedule: { mon: [["07:00", "20:00"]], tue: [["07:00", "20:00"]], wed: [["07:00", "20:00"]], thu: [["07:00", "20:00"]], fri: [["07:00", "20:00"]] },
  },
];

function tab(id: string, label: string, info: string): FlowNode {
  return { id, type: "tab", label, disabled: false, info, env: [] };
}

function comment(z: string, id: string, name: string, info: string, col = 0, row = -1): FlowNode {
  return { id, type: "comment", z, name, info, ...at(col, row), wires: [] };
}

/**
 * mqtt in. `rh` is the MQTT v5 retain handling: 0 sends retained messages on subscribe; request topics use 2 (never),
 * because a request once published retained would otherwise re-run on every start and every broker reconnect.
 */
function mqttIn(z: string, id: string, name: string, topic: string, datatype: "json" | "auto-detect", wires: string[], col: number, row: number, rh: 0 | 2 = 0): FlowNode {
  return { id, type: "mqtt in", z, name, topic, qos: "1", datatype, broker: IDS.broker, nl: false, rap: true, rh, inputs: 0, ...at(col, row), wires: [wires] };
}

/** mqtt out that takes topic, QoS and retain from the message (every Plugwatch node sets them). */
function mqttOut(z: string, id: string, name: string, col: number, row: number): FlowNode {
  return { id, type: "mqtt out", z, name, topic: "", qos: "", retain: "", respTopic: "", contentType: "", userProps: "", correl: "", expiry: "", broker: IDS.broker, ...at(col, row), wires: [] };
}

function fn(z: string, id: string, name: string, func: string, outputs: number, wires: string[][], col: number, row: number): FlowNode {
  return { id, type: "function", z, name, func, outputs, timeout: 0, noerr: 0, initialize: "", finalize: "", libs: [], ...at(col, row), wires };
}

function inject(z: string, id: string, name: string, repeat: string, once: boolean, wires: string[], col: number, row: number, payload = ""): FlowNode {
  return {
    id,
    type: "inject",
    z,
    name,
    props: [{ p: "payload" }],
    repeat,
    crontab: "",
    once,
    onceDelay: once ? 3 : 0.1,
    topic: "",
    payload,
    payloadType: "str",
    ...at(col, row),
    wires: [wires],
  };
}

function debug(z: string, id: string, name: string, col: number, row: number, active = true): FlowNode {
  return { id, type: "debug", z, name, active, tosidebar: true, console: false, tostatus: false, complete: "true", targetType: "full", statusVal: "", statusType: "auto", ...at(col, row), wires: [] };
}

function catchAll(z: string, id: string, wires: string[], col: number, row: number): FlowNode {
  return { id, type: "catch", z, name: "errors of this tab", scope: null, uncaught: false, ...at(col, row), wires: [wires] };
}

// ---------------------------------------------------------------------------------------------------------------
// Config nodes: everything environment-specific is ${PLUGWATCH_*} (whole-property substitution) or a credential
// that is itself an ${ENV} reference — no secret in the flow file.

function configNodes(): FlowNode[] {
  return [
    {
      id: IDS.broker,
      type: "mqtt-broker",
      name: "Plugwatch MQTT (${PLUGWATCH_MQTT_HOST})",
      broker: "${PLUGWATCH_MQTT_HOST}",
      port: "${PLUGWATCH_MQTT_PORT}",
      clientid: "",
      autoConnect: true,
      usetls: false,
      protocolVersion: "4",
      keepalive: "60",
      cleansession: true,
      autoUnsubscribe: true,
      birthTopic: "",
      birthQos: "0",
      birthRetain: "false",
      birthPayload: "",
      birthMsg: {},
      closeTopic: "",
      closeQos: "0",
      closeRetain: "false",
      closePayload: "",
      closeMsg: {},
      willTopic: "",
      willQos: "0",
      willRetain: "false",
      willPayload: "",
      willMsg: {},
      userProps: "",
      sessionExpiry: "",
      credentials: { user: "${PLUGWATCH_MQTT_USER}", password: "${PLUGWATCH_MQTT_PASSWORD}" },
    },
    { id: IDS.registry, type: "plugwatch-registry", name: "office registry", source: "file", file: "${PLUGWATCH_REGISTRY}", json: '{"devices": []}', unknownDevices: "pending" },
    {
      id: IDS.influx,
      type: "plugwatch-influx",
      name: "InfluxDB",
      url: "${PLUGWATCH_INFLUX_URL}",
      flavour: "${PLUGWATCH_INFLUX_FLAVOUR}",
      database: "${PLUGWATCH_INFLUX_DB}",
      retentionPolicy: "",
      org: "${PLUGWATCH_INFLUX_ORG}",
      bucket: "${PLUGWATCH_INFLUX_BUCKET}",
      timeout: 10000,
      gzip: true,
      rejectUnauthorized: true,
      caFile: "",
      credentials: { username: "${PLUGWATCH_INFLUX_USER}", password: "${PLUGWATCH_INFLUX_PASSWORD}", token: "${PLUGWATCH_INFLUX_TOKEN}" },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------

function brokerTab(): FlowNode[] {
  const z = "pw-tab-broker";
  return [
    tab(z, "Broker", "Embedded MQTT broker (aedes) for the zero-setup case."),
    ...group(z, "pw-g-broker", "Embedded broker", [
    comment(
      z,
      "pw-c-broker",
      "Embedded MQTT broker (zero setup)",
      "**plugwatch-broker** (aedes) listens on `${PLUGWATCH_BROKER_HOST}` (default loopback: 127.0.0.1 and ::1) port `${PLUGWATCH_BROKER_PORT}`, MQTT 3.1.1, so the demo needs no Mosquitto.\n\n" +
        "Anonymous clients are read-only (readings, availability, alerts). This runtime connects as `${PLUGWATCH_MQTT_USER}` (role runtime; `npm start` generates its password). " +
        "Any other listen address needs a password file `${PLUGWATCH_BROKER_PASSWD}` (mosquitto_passwd), else the broker refuses to start. " +
        "Packets over 256 KiB close the connection. In production point the flow at Mosquitto (docs/deployment.md, Security model) and **disable this tab**.",
    ),
    {
      id: IDS.aedes,
      type: "plugwatch-broker",
      z,
      name: "embedded broker",
      port: "${PLUGWATCH_BROKER_PORT}",
      hosts: "${PLUGWATCH_BROKER_HOST}",
      passwd: "${PLUGWATCH_BROKER_PASSWD}",
      roles: "",
      root: ROOT,
      maxPacketBytes: "262144",
      runtimeUser: "${PLUGWATCH_MQTT_USER}",
      runtimePassword: "${PLUGWATCH_MQTT_PASSWORD}",
      ...at(0, 0),
    },
    ]),
  ];
}

function agentsTab(): FlowNode[] {
  const z = "pw-tab-agents";
  return [
    tab(z, "Agents", "The collecting agent polls every plug; the controlling agent switches plugs on command requests."),
    ...group(z, "pw-g-collection", "Collection", [
    comment(
      z,
      "pw-c-collector",
      "Collecting agent: plugs → MQTT",
      "**plugwatch-collector** polls every device of the registry (`${PLUGWATCH_REGISTRY}`) every `${PLUGWATCH_POLL_INTERVAL}` s over the HS110 protocol " +
        "and emits one message per reading on `plugwatch/{building}/{floor}/{room}/{device}/reading` (QoS 1) and availability changes on `…/availability` (retained). " +
        "The mqtt out node publishes them with the topic, QoS and retain flag each message carries.",
    ),
    {
      id: IDS.collector,
      type: "plugwatch-collector",
      z,
      name: "collector",
      registry: IDS.registry,
      root: ROOT,
      kind: "",
      building: "",
      floor: "",
      room: "",
      interval: "${PLUGWATCH_POLL_INTERVAL}",
      timeout: 3000,
      concurrency: 64,
      offlineAfter: 3,
      ...at(0, 0),
      wires: [["pw-agents-out"]],
    },
    mqttOut(z, "pw-agents-out", "readings + availability", 1, 0),
    ]),
    ...group(z, "pw-g-control", "Control", [
    comment(
      z,
      "pw-c-control",
      "Controlling agent: command requests → plugs → reply",
      "**plugwatch-control** takes command requests from `plugwatch/api/request/command` " +
        '(`{"v":1,"id","replyTo","action":"on|off|toggle|status","target":{…}}`), switches the target (one device, a room, a kind), reads the relay back ' +
        "and publishes the reply on the request's `replyTo`. The REST API and the dashboard both send their switch commands this way.",
    ),
    mqttIn(z, "pw-control-in", "command requests", commandRequestTopic(ROOT), "json", [IDS.control], 0, 0, 2),
    { id: IDS.control, type: "plugwatch-control", z, name: "control", registry: IDS.registry, concurrency: 16, timeout: 3000, ...at(1, 0), wires: [["pw-control-out"]] },
    mqttOut(z, "pw-control-out", "replies (to replyTo)", 2, 0),
    ]),
    ...group(z, "pw-g-agent-errors", "Agent errors", [catchAll(z, "pw-agents-catch", ["pw-agents-debug"], 0, 0), debug(z, "pw-agents-debug", "agent errors", 1, 0)]),
  ];
}

function hookTab(): FlowNode[] {
  const z = "pw-tab-hook";
  return [
    tab(z, "Hook", "The hook stores every reading in InfluxDB, durably."),
    ...group(z, "pw-g-hook", "Storage hook", [
    comment(
      z,
      "pw-c-hook",
      "Hook: MQTT readings → InfluxDB",
      "Subscribes to every reading (`plugwatch/+/+/+/+/reading`) and writes it with **plugwatch-influx-hook**: tags from the registry, batched, gzip, retries. " +
        "Accepted readings go to a disk spool in the user directory first, so an InfluxDB outage or a Node-RED restart loses nothing. " +
        "Every 10 s its output sends its status (`{v, component, ts, backlog, …}`: rate, backlog, last error; see docs/contracts.md) on `plugwatch/status/influx-hook`, which the API's `/health` reports. " +
        "The InfluxDB connection is the `InfluxDB` config node: `${PLUGWATCH_INFLUX_URL}`, flavour `${PLUGWATCH_INFLUX_FLAVOUR}`, credentials from env.",
    ),
    mqttIn(z, "pw-hook-in", "all readings", subscriptions.allReadings(ROOT), "json", [IDS.hook], 0, 0),
    {
      id: IDS.hook,
      type: "plugwatch-influx-hook",
      z,
      name: "store readings",
      influx: IDS.influx,
      registry: IDS.registry,
      measurement: "plug",
      batchSize: 5000,
      flushInterval: 1000,
      maxSpoolMB: 512,
      spoolPolicy: "reject",
      acceptUnknown: false,
      maxInFlight: 1,
      createDatabase: true,
      statsInterval: 10,
      topicRoot: ROOT,
      spoolDir: "",
      ...at(1, 0),
      wires: [["pw-hook-status-out", "pw-hook-stats"]],
    },
    mqttOut(z, "pw-hook-status-out", "plugwatch/status/influx-hook", 2, 0),
    debug(z, "pw-hook-stats", "hook stats (every 10 s)", 2, 1, false),
    catchAll(z, "pw-hook-catch", ["pw-hook-debug"], 0, 2),
    debug(z, "pw-hook-debug", "hook errors", 1, 2),
    ]),
  ];
}

function componentTab(): FlowNode[] {
  const z = "pw-tab-component";
  return [
    tab(z, "Component", "The query component answers structured data queries from MQTT."),
    ...group(z, "pw-g-query", "Query component", [
    comment(
      z,
      "pw-c-query",
      "Component: query requests → InfluxDB → reply",
      "**plugwatch-influx-query** answers query requests on `plugwatch/api/request/query` (`range`, `latest`, `latestN`, `energy`; no query text from clients) " +
        "and publishes the reply on the request's `replyTo`. When InfluxDB is down the reply is `ok:false` with `STORAGE_UNAVAILABLE`, which the API turns into 503.",
    ),
    mqttIn(z, "pw-query-in", "query requests", queryRequestTopic(ROOT), "json", [IDS.query], 0, 0, 2),
    {
      id: IDS.query,
      type: "plugwatch-influx-query",
      z,
      name: "query",
      influx: IDS.influx,
      registry: IDS.registry,
      database: "",
      maxSpanDays: 366,
      maxRawSpanDays: 31,
      maxRows: 100000,
      timeout: 30000,
      concurrency: 8,
      ...at(1, 0),
      wires: [["pw-query-out"]],
    },
    mqttOut(z, "pw-query-out", "replies (to replyTo)", 2, 0),
    catchAll(z, "pw-query-catch", ["pw-query-debug"], 0, 1),
    debug(z, "pw-query-debug", "query errors", 1, 1),
    ]),
  ];
}

function apiTab(): FlowNode[] {
  const z = "pw-tab-api";
  return [
    tab(z, "API", "REST API over MQTT request/reply."),
    ...group(z, "pw-g-api", "REST API", [
    comment(
      z,
      "pw-c-api",
      "REST API (/api/v1) over MQTT request/reply",
      "**plugwatch-http-api** serves `/api/v1` (OpenAPI at `/api/v1/openapi.json`) on Node-RED's HTTP server. It never touches InfluxDB or a plug: " +
        "each data request becomes a query request, each power request a command request on MQTT, answered by the Component and the Agents tabs. " +
        "Bearer tokens come from the credential `${PLUGWATCH_API_TOKENS}` (lines `TOKEN read,control`).",
    ),
    {
      id: IDS.api,
      type: "plugwatch-http-api",
      z,
      name: "REST API",
      version: 1,
      broker: IDS.broker,
      registry: IDS.registry,
      // The node's own defaults (base path, timeouts, token auth, open /health and /openapi.json).
      ...CONFIG_DEFAULTS,
      root: ROOT,
      credentials: { tokens: "${PLUGWATCH_API_TOKENS}" },
      ...at(0, 0),
      wires: [],
    },
    catchAll(z, "pw-api-catch", ["pw-api-debug"], 0, 1),
    debug(z, "pw-api-debug", "API errors", 1, 1),
    ]),
  ];
}

const NOTIFY = `// Example notification: one line per raised critical alert and per cleared one.
// Replace the debug node with an e-mail, Telegram, Teams... node; msg.payload is the alert event.
const a = msg.payload;
if (!a || typeof a !== "object" || (a.state === "raised" && a.severity !== "critical")) return null;
msg.topic = "[Plugwatch] " + a.severity + " " + a.state + ": " + a.rule + " on " + a.device;
msg.payload = msg.topic + "\\n" + (a.message || "") + "\\n" + new Date(a.ts).toISOString();
return msg;`;

function alertsTab(): FlowNode[] {
  const z = "pw-tab-alerts";
  return [
    tab(z, "Alerts", "Alerts from readings and availability, published retained; a notification example."),
    ...group(z, "pw-g-alerts", "Alerts", [
    comment(
      z,
      "pw-c-alert",
      "Alerts: readings + availability → alert events",
      "The **alert** node watches every reading and availability message and raises/clears alerts once (offline, stale data, overload, power waste " +
        "outside office hours). Events go to `plugwatch/alerts/{device}/{rule}`: raised is retained, cleared removes the retained message, so the API " +
        "(`GET /api/v1/alerts`) and the dashboard see the active set. Active alerts survive a restart (context store `file`).",
    ),
    mqttIn(z, "pw-alert-in", "readings + availability", `${ROOT}/+/+/+/+/+`, "json", [IDS.alert], 0, 0),
    mqttIn(z, "pw-alert-backup-in", "backup health", `${ROOT}/backup/+/availability`, "json", [IDS.alert], 0, 1),
    {
      id: IDS.alert,
      type: "plugwatch-alert",
      z,
      name: "alert rules",
      root: ROOT,
      registry: IDS.registry,
      rules: JSON.stringify(ALERT_RULES, null, 2),
      tickInterval: 1,
      persist: true,
      ...at(1, 0),
      wires: [["pw-alert-out", "pw-alert-notify"], []],
    },
    mqttOut(z, "pw-alert-out", "alert events (retained)", 2, 0),
    catchAll(z, "pw-alert-catch", ["pw-alert-debug"], 0, 2),
    debug(z, "pw-alert-debug", "alert errors", 1, 2),
    ]),
    ...group(z, "pw-g-notify", "Notification example", [
    comment(z, "pw-c-notify", "Notification example", "Critical alerts and clears as a text message: swap the debug node for a mail/chat node.", 2, 0),
    fn(z, "pw-alert-notify", "format notification", NOTIFY, 1, [["pw-alert-notify-debug"]], 2, 1),
    debug(z, "pw-alert-notify-debug", "notify (replace me)", 3, 1),
    ]),
  ];
}

function backupTab(hasBackupNode: boolean): FlowNode[] {
  const z = "pw-tab-backup";
  const nodes: FlowNode[] = [
    comment(
      z,
      "pw-c-backup",
      "Backup of the stored data",
      "InfluxDB 1.x: `influxd backup -portable -host 127.0.0.1:8088 <dir>` against the RPC port, keeping the last N backups; restore with " +
        "`influxd restore -portable -db plugwatch -newdb plugwatch_restored <dir>`. 2.x: `influx backup`; 3.x: object-store snapshots " +
        "(see docs/deployment.md). **plugwatch-influx-backup** runs `influxd backup -portable` every night at 02:30 against `${PLUGWATCH_INFLUX_RPC}` into " +
        "`<user dir>/backups`, keeps the last 7, and publishes its health on `plugwatch/backup/backup-<db>/availability` (retained): a failed backup is an " +
        "offline availability, which the Alerts tab turns into an `offline` alert. The inject runs a backup now.",
    ),
  ];
  if (hasBackupNode) {
    nodes.push(
      {
        id: IDS.backup,
        type: "plugwatch-influx-backup",
        z,
        name: "nightly backup",
        influxd: "influxd",
        host: "${PLUGWATCH_INFLUX_RPC}",
        database: "${PLUGWATCH_INFLUX_DB}",
        dir: "backups",
        keep: 7,
        schedule: "daily",
        interval: 60,
        at: "02:30",
        timezone: "",
        timeout: 600,
        root: ROOT,
        ...at(1, 0),
        wires: [["pw-backup-out", "pw-backup-debug"]],
      },
      inject(z, "pw-backup-now", "back up now", "", false, [IDS.backup], 0, 0, "backup"),
      mqttOut(z, "pw-backup-out", "backup health (retained)", 2, 0),
      debug(z, "pw-backup-debug", "backup result", 2, 1, false),
    );
  } else {
    nodes.push(
      { ...inject(z, "pw-backup-tick", "nightly 02:30", "", false, ["pw-backup-todo"], 0, 0, "backup"), crontab: "30 02 * * *" },
      fn(z, "pw-backup-todo", "backup (plugwatch-influx-backup node pending)", 'node.warn("no plugwatch-influx-backup node in this flow yet: run the backup command from docs/deployment.md");\nreturn null;', 1, [[]], 1, 0),
    );
  }
  return [tab(z, "Backup", "Scheduled backup of the stored data."), ...group(z, "pw-g-backup", "Backup", nodes)];
}

// --- Dashboard --------------------------------------------------------------------------------------------------

const REMEMBER = `// Keeps the latest state of every device (flow context "devices") from readings and availability messages.
// Topic: plugwatch/{building}/{floor}/{room}/{device}/{reading|availability}
const parts = String(msg.topic || "").split("/");
if (parts.length !== 6 || !msg.payload || typeof msg.payload !== "object") return null;
const [, building, floor, room, device, stream] = parts;
const devices = flow.get("devices") || {};
const d = devices[device] || { id: device, building, floor, room, power: 0, relay: false, online: true, ts: 0 };
if (stream === "reading" && typeof msg.payload.power === "number") {
    d.power = msg.payload.power;
    d.relay = msg.payload.relay === true;
    d.energy = msg.payload.energy;
    d.ts = msg.payload.ts;
    d.online = true;
} else if (stream === "availability" && typeof msg.payload.online === "boolean") {
    d.online = msg.payload.online;
    if (!d.online) d.power = 0;
} else {
    return null;
}
devices[device] = d;
flow.set("devices", devices);
return null;`;

const SNAPSHOT = `// Every second: the device list for the table and the power per room (output 1), one chart point per room (output 2).
const devices = Object.values(flow.get("devices") || {}).sort((a, b) => a.id.localeCompare(b.id));
const rooms = {};
for (const d of devices) {
    const key = d.building + "/" + d.floor + "/" + d.room;
    rooms[key] = (rooms[key] || 0) + (d.online ? d.power : 0);
}
const now = Date.now();
const roomList = Object.keys(rooms).sort().map((k) => ({ room: k, power: Math.round(rooms[k] * 10) / 10 }));
const total = Math.round(roomList.reduce((s, r) => s + r.power, 0) * 10) / 10;
return [
    { payload: { devices, rooms: roomList, total, ts: now } },
    roomList.map((r) => ({ topic: r.room, payload: r.power, timestamp: now })),
];`;

const COMMAND = `// A switch flipped on the dashboard → a command request for the controlling agent (the same path as the REST API).
const p = msg.payload;
if (!p || typeof p !== "object" || typeof p.device !== "string" || !/^[a-z0-9][a-z0-9_-]*$/.test(p.device) || !["on", "off", "toggle"].includes(p.state)) {
    node.warn("ignored dashboard input: " + JSON.stringify(p));
    return null;
}
const id = "dash-" + Date.now().toString(36) + "-" + Math.floor(Math.random() * 1e9).toString(36);
return {
    topic: "${commandRequestTopic(ROOT)}",
    qos: 1,
    retain: false,
    payload: { v: 1, id, replyTo: "${DASHBOARD_COMMAND_REPLY}", action: p.state, target: { device: p.device } },
};`;

const COMMAND_REPLY = `// Command replies: apply the confirmed relay state at once (the next reading confirms it again); failures to the sidebar.
const r = msg.payload;
if (!r || !Array.isArray(r.results)) return null;
const devices = flow.get("devices") || {};
for (const res of r.results) {
    if (res.ok && devices[res.device] && typeof res.relay === "boolean") {
        devices[res.device].relay = res.relay;
        if (!res.relay) devices[res.device].power = 0;
    } else if (!res.ok) {
        node.warn("switching " + res.device + " failed: " + (res.error ? res.error.code + " " + res.error.message : "unknown error"));
    }
}
flow.set("devices", devices);
return null;`;

const ALERTS = `// Active alerts from the retained alert topics plugwatch/alerts/{device}/{rule}: raised adds, cleared or "" removes.
const alerts = flow.get("alerts") || {};
const p = msg.payload;
// mqtt in (auto-detect) hands the zero-length retained delete over as "" (or an empty buffer from older runtimes).
const empty = p === "" || p === null || p === undefined || (typeof p === "object" && typeof p.length === "number" && p.length === 0);
if (empty || (p && p.state === "cleared")) delete alerts[msg.topic];
else if (p && typeof p === "object" && p.state === "raised") alerts[msg.topic] = p;
else return null;
flow.set("alerts", alerts);
msg.payload = Object.values(alerts)
    .sort((a, b) => b.ts - a.ts)
    .map((a) => ({ device: a.device, rule: a.rule, severity: a.severity, since: new Date(a.ts).toLocaleString(), message: a.message || "" }));
if (msg.payload.length === 0) msg.payload = [{ device: "-", rule: "no active alerts", severity: "", since: "", message: "" }];
return msg;`;

const ENERGY_REQUEST = `// Today's kWh by room and by kind: two energy queries to the query component over MQTT.
const start = new Date();
start.setHours(0, 0, 0, 0);
const from = start.getTime();
const to = Date.now();
const req = (groupBy) => ({
    topic: "${queryRequestTopic(ROOT)}",
    qos: 1,
    retain: false,
    payload: { v: 1, id: "dash-energy-" + groupBy + "-" + to, replyTo: "${DASHBOARD_ENERGY_REPLY}", query: { type: "energy", groupBy, from, to, interval: "1h" } },
});
return [[req("room"), req("kind")]];`;

const ENERGY_REPLY = `// Energy replies → rows for the "by room" (output 1) and "by kind" (output 2) tables.
const r = msg.payload;
if (!r || typeof r !== "object") return null;
const by = typeof r.id === "string" && r.id.startsWith("dash-energy-kind-") ? "kind" : "room";
let rows;
if (!r.ok || !r.data || !Array.isArray(r.data.rows)) {
    const e = r.error || {};
    rows = [{ [by]: "unavailable", kWh: "", note: (e.code || "ERROR") + ": " + (e.message || "no data") }];
} else {
    const sum = {};
    for (const row of r.data.rows) sum[row.group] = (sum[row.group] || 0) + row.kWh;
    rows = Object.keys(sum).sort().map((g) => ({ [by]: g, kWh: Math.round(sum[g] * 1000) / 1000 }));
    if (rows.length === 0) rows = [{ [by]: "no data yet", kWh: 0 }];
}
return by === "room" ? [{ payload: rows }, null] : [null, { payload: rows }];`;

export const DEVICES_TEMPLATE = `<template>
  <div class="pw-live" data-testid="pw-live">
    <div class="pw-total">Total <b data-testid="pw-total">{{ (msg?.payload?.total ?? 0).toFixed(1) }}</b> W</div>
    <div class="pw-rooms">
      <div v-for="r in (msg?.payload?.rooms || [])" :key="r.room" class="pw-room" :data-room="r.room">
        <div class="pw-room-name">{{ r.room }}</div>
        <div class="pw-room-power" data-testid="pw-room-power">{{ r.power.toFixed(1) }} W</div>
      </div>
    </div>
    <table class="pw-table">
      <thead><tr><th>Device</th><th>Room</th><th class="pw-num">Power (W)</th><th>Online</th><th>Relay</th></tr></thead>
      <tbody>
        <tr v-for="d in (msg?.payload?.devices || [])" :key="d.id" :data-device="d.id" :data-relay="d.relay ? 'on' : 'off'">
          <td>{{ d.id }}</td>
          <td>{{ d.floor }} / {{ d.room }}</td>
          <td class="pw-num" data-testid="pw-power">{{ d.power.toFixed(1) }}</td>
          <td :class="d.online ? 'pw-on' : 'pw-off'">{{ d.online ? "online" : "offline" }}</td>
          <td>
            <button type="button" class="pw-switch" :class="{ 'pw-switch-on': d.relay }" data-testid="pw-switch"
                    :aria-pressed="d.relay ? 'true' : 'false'" @click="flip(d)">{{ d.relay ? "ON" : "OFF" }}</button>
          </td>
        </tr>
      </tbody>
    </table>
  </div>
</template>

<script>
export default {
  methods: {
    // Asks the controlling agent (via MQTT) to switch; the table follows the confirmed state.
    flip(d) {
      this.send({ payload: { device: d.id, state: d.relay ? "off" : "on" } });
    },
  },
};
</script>

<style>
.pw-live { width: 100%; }
.pw-total { font-size: 1.2em; margin-bottom: 8px; }
.pw-rooms { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 12px; }
.pw-room { border: 1px solid #d9d9e0; border-radius: 4px; padding: 6px 10px; min-width: 150px; }
.pw-room-name { font-size: 0.8em; color: #666; }
.pw-room-power { font-size: 1.3em; font-weight: 600; }
.pw-table { width: 100%; border-collapse: collapse; font-size: 0.9em; }
.pw-table th, .pw-table td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; }
.pw-num { text-align: right !important; font-variant-numeric: tabular-nums; }
.pw-on { color: #2e7d32; }
.pw-off { color: #c62828; font-weight: 600; }
.pw-switch { min-width: 52px; padding: 2px 8px; border-radius: 12px; border: 1px solid #999; background: #eee; color: #333; cursor: pointer; }
.pw-switch-on { background: #0d74ce; border-color: #0d74ce; color: #fff; }
</style>
`;

function dashboardTab(): FlowNode[] {
  const z = "pw-tab-dashboard";
  const uiGroup = (id: string, name: string, width: number, order: number): FlowNode => ({
    id,
    type: "ui-group",
    name,
    page: IDS.uiPage,
    width: String(width),
    height: "1",
    order,
    showTitle: true,
    className: "",
    visible: "true",
    disabled: "false",
    groupType: "default",
  });
  const table = (id: string, groupId: string, name: string, col: number, row: number): FlowNode => ({
    id,
    type: "ui-table",
    z,
    group: groupId,
    name,
    label: name,
    order: 1,
    width: 0,
    height: 0,
    maxrows: 0,
    passthru: false,
    autocols: true,
    showSearch: false,
    deselect: true,
    selectionType: "none",
    columns: [],
    mobileBreakpoint: "sm",
    mobileBreakpointType: "defaults",
    action: "replace",
    className: "",
    ...at(col, row),
    wires: [],
  });
  const DEVICES_NODE: FlowNode = {
    id: IDS.devicesTemplate,
    type: "ui-template",
    z,
    group: "pw-ui-g-live",
    page: "",
    ui: "",
    name: "devices (power + relay)",
    order: 1,
    width: 0,
    height: 0,
    head: "",
    format: DEVICES_TEMPLATE,
    storeOutMessages: true,
    passthru: false,
    resendOnRefresh: true,
    templateScope: "local",
    className: "",
    ...at(2, 1),
    wires: [["pw-dash-command"]],
  };
  const ROOM_CHART_NODE: FlowNode = {
    id: "pw-ui-room-chart",
    type: "ui-chart",
    z,
    group: "pw-ui-g-rooms",
    name: "power per room",
    label: "W per room (last 15 min)",
    order: 1,
    chartType: "line",
    category: "topic",
    categoryType: "msg",
    xAxisLabel: "",
    xAxisProperty: "",
    xAxisPropertyType: "timestamp",
    xAxisType: "time",
    xAxisFormat: "",
    xAxisFormatType: "auto",
    xmin: "",
    xmax: "",
    yAxisLabel: "W",
    yAxisProperty: "payload",
    yAxisPropertyType: "msg",
    ymin: "",
    ymax: "",
    bins: 10,
    action: "append",
    stackSeries: false,
    pointShape: "false",
    pointRadius: 4,
    showLegend: true,
    removeOlder: "15",
    removeOlderUnit: "60",
    removeOlderPoints: "",
    colors: ["#0095ff", "#ff0000", "#ff7f0e", "#2ca02c", "#a347e1", "#d62728", "#ff9896", "#9467bd", "#c5b0d5"],
    textColor: ["#666666"],
    textColorDefault: true,
    gridColor: ["#e5e5e5"],
    gridColorDefault: true,
    width: 0,
    height: 8,
    className: "",
    interpolation: "linear",
    ...at(2, 2),
    wires: [[]],
  };
  return [
    tab(z, "Dashboard", "Live dashboard (Dashboard 2.0) at /dashboard."),
    ...group(z, "pw-g-dash-live", "Live power and switches", [
    comment(
      z,
      "pw-c-dashboard",
      "Live dashboard at /dashboard",
      "Built with @flowfuse/node-red-dashboard (Dashboard 2.0). Live power per device and per room from the MQTT readings; " +
        "the relay buttons send a command request on MQTT (`plugwatch/api/request/command`) that the controlling agent executes — the real control path, " +
        "like the REST API; active alerts from the retained alert topics; today's kWh by room and kind from the query component.",
    ),
    mqttIn(z, "pw-dash-in", "readings + availability", `${ROOT}/+/+/+/+/+`, "json", ["pw-dash-remember"], 0, 0),
    fn(z, "pw-dash-remember", "remember device state", REMEMBER, 1, [[]], 1, 0),
    inject(z, "pw-dash-tick", "every second", "1", true, ["pw-dash-snapshot"], 0, 1),
    fn(z, "pw-dash-snapshot", "devices + rooms", SNAPSHOT, 2, [[IDS.devicesTemplate], ["pw-ui-room-chart"]], 1, 1),
    DEVICES_NODE,
    ROOM_CHART_NODE,
    fn(z, "pw-dash-command", "switch → command request", COMMAND, 1, [["pw-dash-command-out"]], 3, 1),
    mqttOut(z, "pw-dash-command-out", "command request", 4, 1),
    mqttIn(z, "pw-dash-reply-in", "command replies", DASHBOARD_COMMAND_REPLY, "json", ["pw-dash-reply"], 0, 3),
    fn(z, "pw-dash-reply", "apply confirmed relay", COMMAND_REPLY, 1, [[]], 1, 3),
    ]),
    ...group(z, "pw-g-dash-alerts", "Active alerts", [
    mqttIn(z, "pw-dash-alerts-in", "alert topics", subscriptions.alerts(ROOT), "auto-detect", ["pw-dash-alerts"], 0, 0),
    inject(z, "pw-dash-alerts-init", "show the list at start", "", true, ["pw-dash-alerts"], 0, 1),
    fn(z, "pw-dash-alerts", "active alerts", ALERTS, 1, [["pw-ui-alerts"]], 1, 0),
    table("pw-ui-alerts", "pw-ui-g-alerts", "active alerts", 2, 0),
    ]),
    ...group(z, "pw-g-dash-energy", "Today's kWh", [
    inject(z, "pw-dash-energy-tick", "every minute", "60", true, ["pw-dash-energy-req"], 0, 0),
    fn(z, "pw-dash-energy-req", "energy queries (today)", ENERGY_REQUEST, 1, [["pw-dash-energy-out"]], 1, 0),
    mqttOut(z, "pw-dash-energy-out", "query request", 2, 0),
    mqttIn(z, "pw-dash-energy-in", "energy replies", DASHBOARD_ENERGY_REPLY, "json", ["pw-dash-energy"], 0, 1),
    fn(z, "pw-dash-energy", "kWh by room / kind", ENERGY_REPLY, 2, [["pw-ui-kwh-room"], ["pw-ui-kwh-kind"]], 1, 1),
    table("pw-ui-kwh-room", "pw-ui-g-kwh-room", "kWh by room", 2, 1),
    table("pw-ui-kwh-kind", "pw-ui-g-kwh-kind", "kWh by kind", 2, 2),
    ]),
    { id: IDS.uiBase, type: "ui-base", name: "Plugwatch", path: "/dashboard", appIcon: "", includeClientData: true, acceptsClientConfig: ["ui-notification", "ui-control"], showPathInSidebar: false, headerContent: "page", navigationStyle: "default", titleBarStyle: "default", showReconnectNotification: true, notificationDisplayTime: 1, showDisconnectNotification: true, allowInstall: false },
    { id: "pw-ui-theme", type: "ui-theme", name: "Plugwatch theme", colors: { surface: "#fcfcfd", primary: "#0d74ce", bgPage: "#f9f9fb", groupBg: "#ffffff", groupOutline: "#d9d9e0" }, sizes: { density: "default", pagePadding: "12px", groupGap: "12px", groupBorderRadius: "4px", widgetGap: "12px" } },
    {
      id: IDS.uiPage,
      type: "ui-page",
      name: "Office",
      ui: IDS.uiBase,
      path: "/office",
      icon: "flash",
      layout: "grid",
      theme: "pw-ui-theme",
      breakpoints: [
        { name: "Default", px: "0", cols: "3" },
        { name: "Tablet", px: "576", cols: "6" },
        { name: "Small Desktop", px: "768", cols: "9" },
        { name: "Desktop", px: "1024", cols: "12" },
      ],
      order: 1,
      className: "",
      visible: "true",
      disabled: "false",
    },
    uiGroup("pw-ui-g-live", "Live power", 7, 1),
    uiGroup("pw-ui-g-rooms", "Power per room (W)", 5, 2),
    uiGroup("pw-ui-g-alerts", "Active alerts", 6, 3),
    uiGroup("pw-ui-g-kwh-room", "Today's kWh by room", 3, 4),
    uiGroup("pw-ui-g-kwh-kind", "Today's kWh by kind", 3, 5),
  ];
}

export interface BuildOptions {
  /** Wire the plugwatch-influx-backup node (when the package provides it). */
  backupNode?: boolean;
}

/** The whole shipped flow: tabs first (editor order), then config nodes, then each tab's nodes. */
export function plugwatchFlow(opts: BuildOptions = {}): FlowNode[] {
  const tabs = [brokerTab(), agentsTab(), hookTab(), componentTab(), apiTab(), alertsTab(), backupTab(opts.backupNode === true), dashboardTab()];
  for (const t of tabs) layoutTab(t.filter((n) => n.z === t[0].id));
  const tabNodes = tabs.map((t) => t[0]);
  const rest = tabs.flatMap((t) => t.slice(1));
  const dashboardConfig = rest.filter((n) => n.z === undefined);
  const onTabs = rest.filter((n) => n.z !== undefined);
  return [...tabNodes, ...configNodes(), ...dashboardConfig, ...onTabs];
}
