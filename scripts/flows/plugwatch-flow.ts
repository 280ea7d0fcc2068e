// Builds the shipped pipeline flow (flows/plugwatch.json): one tab per role, env-driven config nodes, the live dashboard.
// `node <build>/scripts/flows/write-flows.js` writes the file; test/e2e/pipeline-flow-file.test.ts checks it is up to date.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { CONFIG_DEFAULTS } from "../../lib/api/config";
import { scheduleRequestTopic } from "../../lib/schedule/contract";
import { commandRequestTopic, DEFAULT_ROOT, queryRequestTopic, subscriptions } from "../../lib/topics";
import { dashboardComponent, flowTexts, functionBody, type FlowText } from "./function-source";
import { cell as at, group, layoutTab, type FlowNode } from "./layout";
import { projectRoot } from "../services/repo-root";

export type { FlowNode } from "./layout";

/** The topic root of the shipped flow (mqtt in topics cannot take it from an env var: substitution is whole-property only). */
export const ROOT = DEFAULT_ROOT;
/** Reply topics of the dashboard's own requests (the dashboard is a client of the agent and the component, like the API). */
export const DASHBOARD_COMMAND_REPLY = `${ROOT}/api/reply/dashboard/command`;
export const DASHBOARD_ENERGY_REPLY = `${ROOT}/api/reply/dashboard/energy`;
export const DASHBOARD_COST_REPLY = `${ROOT}/api/reply/dashboard/cost`;
export const DASHBOARD_SAVINGS_REPLY = `${ROOT}/api/reply/dashboard/savings`;

/**
 * The example tariff (EXAMPLE prices, not a real offer) and the safe default schedule (holidays only, every rule
 * disabled: nothing is switched until the user enables a rule), kept as files and copied inline into their config
 * nodes, so the flow needs no extra file or setting (docs/cost.md, "The shipped flow").
 */
export const TARIFF_FILE = "flows/tariff/example-tariff.json";
export const SCHEDULE_FILE = "flows/schedule/example-schedule.json";
const inlineJson = (file: string): string => JSON.stringify(JSON.parse(readFileSync(path.join(projectRoot(), file), "utf8")), null, 2);

/** How the shipped collector publishes (its comment); the examples, whose collector shares one broker node, reword it. */
export const COLLECTOR_IDENTITY_NOTE =
  "its own MQTT broker config node, authenticated as `${PLUGWATCH_COLLECTOR_USER}` (role collector: the broker accepts readings and availability of the registry's devices only)";

/** Stable ids of the nodes tests and docs refer to. */
export const IDS = {
  broker: "pw-mqtt-broker",
  collectorBroker: "pw-mqtt-collector",
  connection: "pw-mqtt-connection",
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
  tariff: "pw-tariff",
  schedule: "pw-schedule",
  scheduler: "pw-scheduler",
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

let texts: Map<string, FlowText> | undefined;
/** The sections of scripts/flows/notes.md, read once. */
const notes = (): Map<string, FlowText> => (texts ??= flowTexts({ COLLECTOR_IDENTITY_NOTE }));

/** The label and description of a tab, or the name and text of a comment, from scripts/flows/notes.md. */
function flowText(id: string): FlowText {
  const text = notes().get(id);
  if (!text) throw new Error(`scripts/flows/notes.md has no section for ${id}`);
  return text;
}

/** The ids of notes.md's sections (a test checks that the flow uses each one). */
export const flowTextIds = (): string[] => [...notes().keys()];

/** A tab, labelled and described by its section of notes.md. */
function tab(id: string): FlowNode {
  const { title, info } = flowText(id);
  return { id, type: "tab", label: title, disabled: false, info, env: [] };
}

/** Where a node goes: its tab, id and label, and its grid cell [column, row] in its group (scripts/flows/layout.ts). */
interface Place {
  z: string;
  id: string;
  name: string;
  at: [col: number, row: number];
}

/** A comment with its name and text from its section of notes.md; by default on the row above its group's first row of nodes. */
function comment(o: Omit<Place, "at" | "name"> & { at?: Place["at"] }): FlowNode {
  const { title, info } = flowText(o.id);
  return { id: o.id, type: "comment", z: o.z, name: title, info, ...at(...(o.at ?? [0, -1])), wires: [] };
}

/**
 * mqtt in. `rh` is the MQTT v5 retain handling: 0 sends retained messages on subscribe; request topics use 2 (never),
 * because a request once published retained would otherwise re-run on every start and every broker reconnect.
 */
function mqttIn(o: Place & { topic: string; datatype: "json" | "auto-detect"; to: string[]; rh?: 0 | 2 }): FlowNode {
  const { id, z, name, topic, datatype } = o;
  return {
    id,
    type: "mqtt in",
    z,
    name,
    topic,
    qos: "1",
    datatype,
    broker: IDS.broker,
    nl: false,
    rap: true,
    rh: o.rh ?? 0,
    inputs: 0,
    ...at(...o.at),
    wires: [o.to],
  };
}

/** mqtt out that takes topic, QoS and retain from the message (every Plugwatch node sets them). */
function mqttOut(o: Place): FlowNode {
  const { id, z, name } = o;
  return {
    id,
    type: "mqtt out",
    z,
    name,
    topic: "",
    qos: "",
    retain: "",
    respTopic: "",
    contentType: "",
    userProps: "",
    correl: "",
    expiry: "",
    broker: IDS.broker,
    ...at(...o.at),
    wires: [],
  };
}

/**
 * A Function node running scripts/flows/functions/<source>.js (its body; `"{{NAME}}"` strings replaced by `constants`),
 * with one output per entry of `wires`.
 */
function fn(o: Place & { source: string; constants?: Record<string, string>; wires: string[][] }): FlowNode {
  const { id, z, name, wires } = o;
  const func = functionBody(o.source, o.constants);
  return { id, type: "function", z, name, func, outputs: wires.length, timeout: 0, noerr: 0, initialize: "", finalize: "", libs: [], ...at(...o.at), wires };
}

/** An inject of a string payload: every `repeat` seconds, by `crontab`, once at start (after 3 s), or by hand. */
function inject(o: Place & { to: string[]; repeat?: string; crontab?: string; once?: boolean; payload?: string }): FlowNode {
  const { id, z, name } = o;
  const once = o.once ?? false;
  return {
    id,
    type: "inject",
    z,
    name,
    props: [{ p: "payload" }],
    repeat: o.repeat ?? "",
    crontab: o.crontab ?? "",
    once,
    onceDelay: once ? 3 : 0.1,
    topic: "",
    payload: o.payload ?? "",
    payloadType: "str",
    ...at(...o.at),
    wires: [o.to],
  };
}

function debug(o: Place & { active?: boolean }): FlowNode {
  const { id, z, name } = o;
  return {
    id,
    type: "debug",
    z,
    name,
    active: o.active ?? true,
    tosidebar: true,
    console: false,
    tostatus: false,
    complete: "true",
    targetType: "full",
    statusVal: "",
    statusType: "auto",
    ...at(...o.at),
    wires: [],
  };
}

/** A Catch of every node of its tab, named so. */
function catchAll(o: Omit<Place, "name"> & { to: string[] }): FlowNode {
  return { id: o.id, type: "catch", z: o.z, name: "errors of this tab", scope: null, uncaught: false, ...at(...o.at), wires: [o.to] };
}

/** A tab's catch-all and the debug node it feeds ("<what> errors"), side by side in grid row `row` of its group. */
function errorSink(z: string, key: string, what: string, row: number): FlowNode[] {
  return [
    catchAll({ z, id: `pw-${key}-catch`, to: [`pw-${key}-debug`], at: [0, row] }),
    debug({ z, id: `pw-${key}-debug`, name: `${what} errors`, at: [1, row] }),
  ];
}

/**
 * A tab (id pw-tab-`tab`) holding one group (pw-g-`group`, named `name`) that opens with its explanatory comment
 * (pw-c-`group`) followed by `nodes`, which are built for the tab's id; texts from notes.md.
 */
function singleGroupTab(o: { tab: string; group: string; name: string; nodes: (z: string) => FlowNode[] }): FlowNode[] {
  const z = `pw-tab-${o.tab}`;
  return [tab(z), ...group(z, `pw-g-${o.group}`, o.name, [comment({ z, id: `pw-c-${o.group}` }), ...o.nodes(z)])];
}

// ---------------------------------------------------------------------------------------------------------------
// Config nodes: everything environment-specific is ${PLUGWATCH_*} (whole-property substitution) or a credential
// that is itself an ${ENV} reference — no secret in the flow file.

/** An mqtt-broker config node on ${PLUGWATCH_MQTT_HOST}:${PLUGWATCH_MQTT_PORT} authenticated as `user` (credentials). */
function mqttBroker(id: string, name: string, user: string, password: string): FlowNode {
  return {
    id,
    type: "mqtt-broker",
    name,
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
    credentials: { user, password },
  };
}

/**
 * The request/reply connection of the API and the query component: a plugwatch-mqtt node (its own socket, TCP_NODELAY)
 * on the same broker and identity as the runtime's mqtt-broker node (docs/mqtt-connection.md).
 */
function mqttConnection(): FlowNode {
  return {
    id: IDS.connection,
    type: "plugwatch-mqtt",
    name: "Plugwatch request/reply (${PLUGWATCH_MQTT_HOST})",
    broker: "${PLUGWATCH_MQTT_HOST}",
    port: "${PLUGWATCH_MQTT_PORT}",
    clientid: "",
    usetls: false,
    keepalive: "60",
    protocolVersion: "4",
    credentials: { user: "${PLUGWATCH_MQTT_USER}", password: "${PLUGWATCH_MQTT_PASSWORD}" },
  };
}

function configNodes(): FlowNode[] {
  return [
    mqttBroker(IDS.broker, "Plugwatch MQTT (${PLUGWATCH_MQTT_HOST})", "${PLUGWATCH_MQTT_USER}", "${PLUGWATCH_MQTT_PASSWORD}"),
    mqttConnection(),
    // The collector publishes under its own identity (role collector, narrowed to the registry's devices by the broker's
    // ACL); the runtime's identity above may then publish no reading or availability (role agents).
    mqttBroker(IDS.collectorBroker, "Plugwatch MQTT collector (${PLUGWATCH_COLLECTOR_USER})", "${PLUGWATCH_COLLECTOR_USER}", "${PLUGWATCH_COLLECTOR_PASSWORD}"),
    {
      id: IDS.registry,
      type: "plugwatch-registry",
      name: "office registry",
      source: "file",
      file: "${PLUGWATCH_REGISTRY}",
      json: '{"devices": []}',
      unknownDevices: "pending",
    },
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
      // Retention tiers and rollups (docs/retention.md): raw 30 days, 1-minute rollups 2 years, hourly forever.
      rollups: true,
      rawRetention: "30d",
      rollup1mRetention: "730d",
      rollup1hRetention: "inf",
      credentials: { username: "${PLUGWATCH_INFLUX_USER}", password: "${PLUGWATCH_INFLUX_PASSWORD}", token: "${PLUGWATCH_INFLUX_TOKEN}" },
    },
    {
      id: IDS.tariff,
      type: "plugwatch-tariff",
      name: "EXAMPLE tariff (replace the prices)",
      source: "json",
      file: "",
      schedule: IDS.schedule,
      json: inlineJson(TARIFF_FILE),
    },
    {
      id: IDS.schedule,
      type: "plugwatch-schedule",
      name: "office schedules (all rules disabled)",
      source: "json",
      file: "",
      json: inlineJson(SCHEDULE_FILE),
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------

function brokerTab(): FlowNode[] {
  return singleGroupTab({
    tab: "broker",
    group: "broker",
    name: "Embedded broker",
    nodes: (z) => [
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
        registry: IDS.registry,
        runtimeUser: "${PLUGWATCH_MQTT_USER}",
        runtimePassword: "${PLUGWATCH_MQTT_PASSWORD}",
        collectorUser: "${PLUGWATCH_COLLECTOR_USER}",
        collectorPassword: "${PLUGWATCH_COLLECTOR_PASSWORD}",
        ...at(0, 0),
      },
    ],
  });
}

function agentsTab(): FlowNode[] {
  const z = "pw-tab-agents";
  return [
    tab(z),
    ...group(z, "pw-g-collection", "Collection", [
      comment({ z, id: "pw-c-collector" }),
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
        broker: IDS.collectorBroker,
        outboxSize: 64,
        ...at(0, 0),
        wires: [[]],
      },
    ]),
    ...group(z, "pw-g-control", "Control", [
      comment({ z, id: "pw-c-control" }),
      mqttIn({ z, id: "pw-control-in", name: "command requests", topic: commandRequestTopic(ROOT), datatype: "json", to: [IDS.control], at: [0, 0], rh: 2 }),
      {
        id: IDS.control,
        type: "plugwatch-control",
        z,
        name: "control",
        registry: IDS.registry,
        concurrency: 16,
        timeout: 3000,
        ...at(1, 0),
        wires: [["pw-control-out"]],
      },
      mqttOut({ z, id: "pw-control-out", name: "replies (to replyTo)", at: [2, 0] }),
    ]),
    ...group(z, "pw-g-agent-errors", "Agent errors", [...errorSink(z, "agents", "agent", 0)]),
  ];
}

function hookTab(): FlowNode[] {
  return singleGroupTab({
    tab: "hook",
    group: "hook",
    name: "Storage hook",
    nodes: (z) => [
      mqttIn({ z, id: "pw-hook-in", name: "all readings", topic: subscriptions.allReadings(ROOT), datatype: "json", to: [IDS.hook], at: [0, 0] }),
      mqttIn({ z, id: "pw-hook-audit-in", name: "audit trail", topic: `${ROOT}/audit/command`, datatype: "json", to: [IDS.hook], at: [0, 1] }),
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
      mqttOut({ z, id: "pw-hook-status-out", name: "plugwatch/status/influx-hook", at: [2, 0] }),
      debug({ z, id: "pw-hook-stats", name: "hook stats (every 10 s)", at: [2, 1], active: false }),
      ...errorSink(z, "hook", "hook", 2),
    ],
  });
}

function componentTab(): FlowNode[] {
  return singleGroupTab({
    tab: "component",
    group: "query",
    name: "Query component",
    nodes: (z) => [
      // The query node reads its requests and publishes its replies on the request/reply connection itself.
      {
        id: IDS.query,
        type: "plugwatch-influx-query",
        z,
        name: "query",
        influx: IDS.influx,
        registry: IDS.registry,
        tariff: IDS.tariff,
        database: "",
        maxSpanDays: 366,
        maxRawSpanDays: 31,
        maxRows: 100000,
        timeout: 30000,
        concurrency: 8,
        connection: IDS.connection,
        topic: queryRequestTopic(ROOT),
        ...at(0, 0),
        wires: [[]],
      },
      ...errorSink(z, "query", "query", 1),
    ],
  });
}

function apiTab(): FlowNode[] {
  return singleGroupTab({
    tab: "api",
    group: "api",
    name: "REST API",
    nodes: (z) => [
      {
        id: IDS.api,
        type: "plugwatch-http-api",
        z,
        name: "REST API",
        version: 1,
        broker: IDS.broker,
        connection: IDS.connection,
        registry: IDS.registry,
        // The node's own defaults (base path, timeouts, token auth, open /health and /openapi.json).
        ...CONFIG_DEFAULTS,
        root: ROOT,
        credentials: { tokens: "${PLUGWATCH_API_TOKENS}" },
        ...at(0, 0),
        wires: [],
      },
      ...errorSink(z, "api", "API", 1),
    ],
  });
}

function alertsTab(): FlowNode[] {
  const z = "pw-tab-alerts";
  return [
    tab(z),
    ...group(z, "pw-g-alerts", "Alerts", [
      comment({ z, id: "pw-c-alert" }),
      mqttIn({ z, id: "pw-alert-in", name: "readings + availability", topic: `${ROOT}/+/+/+/+/+`, datatype: "json", to: [IDS.alert], at: [0, 0] }),
      mqttIn({ z, id: "pw-alert-backup-in", name: "backup health", topic: `${ROOT}/backup/+/availability`, datatype: "json", to: [IDS.alert], at: [0, 1] }),
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
      mqttOut({ z, id: "pw-alert-out", name: "alert events (retained)", at: [2, 0] }),
      ...errorSink(z, "alert", "alert", 2),
    ]),
    ...group(z, "pw-g-notify", "Notification example", [
      comment({ z, id: "pw-c-notify", at: [2, 0] }),
      fn({ z, id: "pw-alert-notify", name: "format notification", source: "notify-alert", wires: [["pw-alert-notify-debug"]], at: [2, 1] }),
      debug({ z, id: "pw-alert-notify-debug", name: "notify (replace me)", at: [3, 1] }),
    ]),
  ];
}

function schedulesTab(): FlowNode[] {
  return singleGroupTab({
    tab: "schedules",
    group: "scheduler",
    name: "Scheduler",
    nodes: (z) => [
      mqttIn({
        z,
        id: "pw-scheduler-readings-in",
        name: "all readings",
        topic: subscriptions.allReadings(ROOT),
        datatype: "json",
        to: [IDS.scheduler],
        at: [0, 0],
      }),
      mqttIn({ z, id: "pw-scheduler-audit-in", name: "audit trail", topic: `${ROOT}/audit/command`, datatype: "json", to: [IDS.scheduler], at: [0, 1] }),
      mqttIn({
        z,
        id: "pw-scheduler-request-in",
        name: "schedule requests",
        topic: scheduleRequestTopic(ROOT),
        datatype: "json",
        to: [IDS.scheduler],
        at: [0, 2],
        rh: 2,
      }),
      {
        id: IDS.scheduler,
        type: "plugwatch-scheduler",
        z,
        name: "scheduler",
        registry: IDS.registry,
        schedule: IDS.schedule,
        tariff: IDS.tariff,
        root: ROOT,
        clock: "system",
        tick: 15,
        ...at(1, 1),
        wires: [["pw-scheduler-out"]],
      },
      mqttOut({ z, id: "pw-scheduler-out", name: "commands + replies", at: [2, 1] }),
      ...errorSink(z, "scheduler", "scheduler", 3),
    ],
  });
}

function backupTab(hasBackupNode: boolean): FlowNode[] {
  const z = "pw-tab-backup";
  const nodes: FlowNode[] = [comment({ z, id: "pw-c-backup" })];
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
      inject({ z, id: "pw-backup-now", name: "back up now", to: [IDS.backup], payload: "backup", at: [0, 0] }),
      mqttOut({ z, id: "pw-backup-out", name: "backup health (retained)", at: [2, 0] }),
      debug({ z, id: "pw-backup-debug", name: "backup result", at: [2, 1], active: false }),
    );
  } else {
    nodes.push(
      inject({ z, id: "pw-backup-tick", name: "nightly 02:30", crontab: "30 02 * * *", to: ["pw-backup-todo"], payload: "backup", at: [0, 0] }),
      fn({ z, id: "pw-backup-todo", name: "backup (plugwatch-influx-backup node pending)", source: "backup-pending", wires: [[]], at: [1, 0] }),
    );
  }
  return [tab(z), ...group(z, "pw-g-backup", "Backup", nodes)];
}

// --- Dashboard --------------------------------------------------------------------------------------------------

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
  /** A Dashboard 2.0 table in the dashboard group `uiGroup` (a ui-group, not an editor group). */
  const table = ({ id, uiGroup: groupId, name, at: [col, row] }: Omit<Place, "z"> & { uiGroup: string }): FlowNode => ({
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
    format: dashboardComponent("devices"),
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
    // One message per update, an array of { room, power } (scripts/flows/functions/snapshot.js): the series is each
    // point's room, y its power, x the time it arrived.
    category: "room",
    categoryType: "property",
    xAxisLabel: "",
    xAxisProperty: "",
    xAxisPropertyType: "timestamp",
    xAxisType: "time",
    xAxisFormat: "",
    xAxisFormatType: "auto",
    xmin: "",
    xmax: "",
    yAxisLabel: "W",
    yAxisProperty: "power",
    yAxisPropertyType: "property",
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
    tab(z),
    ...group(z, "pw-g-dash-live", "Live power and switches", [
      comment({ z, id: "pw-c-dashboard" }),
      mqttIn({ z, id: "pw-dash-in", name: "readings + availability", topic: `${ROOT}/+/+/+/+/+`, datatype: "json", to: ["pw-dash-remember"], at: [0, 0] }),
      fn({ z, id: "pw-dash-remember", name: "remember device state", source: "remember-device-state", wires: [[]], at: [1, 0] }),
      inject({ z, id: "pw-dash-tick", name: "every second", repeat: "1", once: true, to: ["pw-dash-snapshot"], at: [0, 1] }),
      fn({ z, id: "pw-dash-snapshot", name: "devices + rooms", source: "snapshot", wires: [[IDS.devicesTemplate], ["pw-ui-room-chart"]], at: [1, 1] }),
      DEVICES_NODE,
      ROOM_CHART_NODE,
      fn({
        z,
        id: "pw-dash-command",
        name: "switch → command request",
        source: "switch-command",
        constants: { COMMAND_REQUEST_TOPIC: commandRequestTopic(ROOT), DASHBOARD_COMMAND_REPLY },
        wires: [["pw-dash-command-out"]],
        at: [3, 1],
      }),
      mqttOut({ z, id: "pw-dash-command-out", name: "command request", at: [4, 1] }),
      mqttIn({ z, id: "pw-dash-reply-in", name: "command replies", topic: DASHBOARD_COMMAND_REPLY, datatype: "json", to: ["pw-dash-reply"], at: [0, 3] }),
      fn({ z, id: "pw-dash-reply", name: "apply confirmed relay", source: "command-reply", wires: [[]], at: [1, 3] }),
    ]),
    ...group(z, "pw-g-dash-alerts", "Active alerts", [
      mqttIn({
        z,
        id: "pw-dash-alerts-in",
        name: "alert topics",
        topic: subscriptions.alerts(ROOT),
        datatype: "auto-detect",
        to: ["pw-dash-alerts"],
        at: [0, 0],
      }),
      inject({ z, id: "pw-dash-alerts-init", name: "every second", repeat: "1", once: true, payload: "render", to: ["pw-dash-alerts"], at: [0, 1] }),
      fn({ z, id: "pw-dash-alerts", name: "active alerts", source: "active-alerts", wires: [["pw-ui-alerts"]], at: [1, 0] }),
      table({ id: "pw-ui-alerts", uiGroup: "pw-ui-g-alerts", name: "active alerts", at: [2, 0] }),
    ]),
    ...group(z, "pw-g-dash-energy", "Today's kWh", [
      inject({ z, id: "pw-dash-energy-tick", name: "every minute", repeat: "60", once: true, to: ["pw-dash-energy-req"], at: [0, 0] }),
      fn({
        z,
        id: "pw-dash-energy-req",
        name: "energy queries (today)",
        source: "energy-request",
        constants: { QUERY_REQUEST_TOPIC: queryRequestTopic(ROOT), DASHBOARD_ENERGY_REPLY },
        wires: [["pw-dash-energy-out"]],
        at: [1, 0],
      }),
      mqttOut({ z, id: "pw-dash-energy-out", name: "query request", at: [2, 0] }),
      mqttIn({ z, id: "pw-dash-energy-in", name: "energy replies", topic: DASHBOARD_ENERGY_REPLY, datatype: "json", to: ["pw-dash-energy"], at: [0, 1] }),
      fn({ z, id: "pw-dash-energy", name: "kWh by room / kind", source: "energy-reply", wires: [["pw-ui-kwh-room"], ["pw-ui-kwh-kind"]], at: [1, 1] }),
      table({ id: "pw-ui-kwh-room", uiGroup: "pw-ui-g-kwh-room", name: "kWh by room", at: [2, 1] }),
      table({ id: "pw-ui-kwh-kind", uiGroup: "pw-ui-g-kwh-kind", name: "kWh by kind", at: [2, 2] }),
    ]),
    ...group(z, "pw-g-dash-cost", "Cost and savings", [
      inject({ z, id: "pw-dash-cost-tick", name: "every 5 minutes", repeat: "300", once: true, to: ["pw-dash-cost-req"], at: [0, 0] }),
      fn({
        z,
        id: "pw-dash-cost-req",
        name: "cost + savings queries (this month)",
        source: "cost-request",
        constants: {
          QUERY_REQUEST_TOPIC: queryRequestTopic(ROOT),
          SCHEDULE_REQUEST_TOPIC: scheduleRequestTopic(ROOT),
          DASHBOARD_COST_REPLY,
          DASHBOARD_SAVINGS_REPLY,
        },
        wires: [["pw-dash-cost-out"]],
        at: [1, 0],
      }),
      mqttOut({ z, id: "pw-dash-cost-out", name: "query + schedule requests", at: [2, 0] }),
      mqttIn({ z, id: "pw-dash-cost-in", name: "cost replies", topic: DASHBOARD_COST_REPLY, datatype: "json", to: ["pw-dash-cost"], at: [0, 1] }),
      fn({ z, id: "pw-dash-cost", name: "cost by room / kind", source: "cost-reply", wires: [["pw-ui-cost-room"], ["pw-ui-cost-kind"]], at: [1, 1] }),
      table({ id: "pw-ui-cost-room", uiGroup: "pw-ui-g-cost-room", name: "cost by room", at: [2, 1] }),
      table({ id: "pw-ui-cost-kind", uiGroup: "pw-ui-g-cost-kind", name: "cost by kind", at: [2, 2] }),
      mqttIn({ z, id: "pw-dash-savings-in", name: "savings replies", topic: DASHBOARD_SAVINGS_REPLY, datatype: "json", to: ["pw-dash-savings"], at: [0, 3] }),
      fn({ z, id: "pw-dash-savings", name: "savings per room", source: "savings-reply", wires: [["pw-ui-savings"]], at: [1, 3] }),
      table({ id: "pw-ui-savings", uiGroup: "pw-ui-g-savings", name: "savings per room", at: [2, 3] }),
    ]),
    {
      id: IDS.uiBase,
      type: "ui-base",
      name: "Plugwatch",
      path: "/dashboard",
      appIcon: "",
      includeClientData: true,
      acceptsClientConfig: ["ui-notification", "ui-control"],
      showPathInSidebar: false,
      headerContent: "page",
      navigationStyle: "default",
      titleBarStyle: "default",
      showReconnectNotification: true,
      notificationDisplayTime: 1,
      showDisconnectNotification: true,
      allowInstall: false,
    },
    {
      id: "pw-ui-theme",
      type: "ui-theme",
      name: "Plugwatch theme",
      colors: { surface: "#fcfcfd", primary: "#0d74ce", bgPage: "#f9f9fb", groupBg: "#ffffff", groupOutline: "#d9d9e0" },
      sizes: { density: "default", pagePadding: "12px", groupGap: "12px", groupBorderRadius: "4px", widgetGap: "12px" },
    },
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
    uiGroup("pw-ui-g-cost-room", "Cost by room (today, this month)", 6, 6),
    uiGroup("pw-ui-g-cost-kind", "Cost by kind (today, this month)", 6, 7),
    uiGroup("pw-ui-g-savings", "Savings per room this month", 6, 8),
  ];
}

export interface BuildOptions {
  /** Wire the plugwatch-influx-backup node (when the package provides it). */
  backupNode?: boolean;
}

/** The whole shipped flow: tabs first (editor order), then config nodes, then each tab's nodes. */
export function plugwatchFlow(opts: BuildOptions = {}): FlowNode[] {
  const tabs = [
    brokerTab(),
    agentsTab(),
    hookTab(),
    componentTab(),
    apiTab(),
    alertsTab(),
    schedulesTab(),
    backupTab(opts.backupNode === true),
    dashboardTab(),
  ].map(([head, ...nodes]) => {
    if (head?.type !== "tab") throw new Error("a tab builder returns its tab first");
    return { head, nodes };
  });
  for (const { head, nodes } of tabs) layoutTab(nodes.filter((n) => n.z === head.id));
  const rest = tabs.flatMap((t) => t.nodes);
  const dashboardConfig = rest.filter((n) => n.z === undefined);
  const onTabs = rest.filter((n) => n.z !== undefined);
  return [...tabs.map((t) => t.head), ...configNodes(), ...dashboardConfig, ...onTabs];
}
