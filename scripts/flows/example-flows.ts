// Derives the palette examples from the shipped flow (scripts/flows/plugwatch-flow.ts), so they cannot drift from it:
// examples/core-pipeline.json (this package + an external broker + InfluxDB 1.x), examples/addon-dashboard.json
// (@flowfuse/node-red-dashboard) and examples/addon-embedded-broker.json (this package's plugwatch-broker). Each is one tab
// whose environment variables replace the shipped flow's process-wide ${PLUGWATCH_*}, so an import needs no setup.
import { nodeHeight, nodeWidth, type FlowNode } from "./layout";
import { COLLECTOR_IDENTITY_NOTE, IDS } from "./plugwatch-flow";

/** The shipped runtime's broker node; the examples have only this one (their collector publishes through it). */
const SHIPPED_BROKER = IDS.broker;

/** The registry an imported example starts with: one plug on this machine (the user edits host or adds plugs). */
export const EXAMPLE_REGISTRY = {
  devices: [
    { id: "plug-1", name: "My plug", model: "HS110", host: "127.0.0.1", kind: "other", location: { building: "home", floor: "0", room: "living-room" } },
  ],
};

/** The shipped tabs the core pipeline keeps, in order (Broker, Backup and Dashboard stay out: add-ons or extra tools). */
const CORE_TABS = ["pw-tab-agents", "pw-tab-hook", "pw-tab-component", "pw-tab-api", "pw-tab-alerts", "pw-tab-schedules"] as const;
/** Wired to the Backup tab only. */
const CORE_DROP = new Set(["pw-alert-backup-in"]);
const REF_KEYS = ["g", "registry", "broker", "connection", "influx", "server", "group", "ui", "page", "theme", "tariff", "schedule"] as const;

const tabLabel = (t: FlowNode | undefined) => (typeof t?.label === "string" ? t.label : undefined);
const env = (pairs: [string, string][]) => pairs.map(([name, value]) => ({ name, value, type: "str" }));
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Renames ids (pw-x → <prefix>.x) in the node and its wires and config references. */
function renamed(n: FlowNode, prefix: string, drop: Set<string> = new Set()): FlowNode {
  const id = (i: string) => (i.startsWith("pw-") ? `${prefix}.${i.slice(3)}` : i);
  const c = clone(n);
  c.id = id(c.id);
  if (c.wires) c.wires = c.wires.map((port) => port.filter((w) => !drop.has(w)).map(id));
  for (const k of REF_KEYS) if (typeof c[k] === "string") c[k] = id(c[k]);
  if (c.type === "group") c.nodes = (c.nodes as string[]).map(id);
  delete c.credentials;
  return c;
}

/** The request/reply connection (plugwatch-mqtt) of the shipped flow on the example's MQTT_HOST:MQTT_PORT. */
function connectionFor(shipped: FlowNode[], prefix: string, z: string): FlowNode {
  const c = shipped.find((n) => n.id === IDS.connection);
  if (!c) throw new Error("the shipped flow has no plugwatch-mqtt connection");
  return { ...renamed(c, prefix), z, name: "request/reply (MQTT_HOST:MQTT_PORT)", broker: "${MQTT_HOST}", port: "${MQTT_PORT}" };
}

function brokerFor(shipped: FlowNode[], prefix: string, z: string): FlowNode {
  const b = shipped.find((n) => n.id === SHIPPED_BROKER);
  if (!b) throw new Error("the shipped flow has no mqtt-broker");
  return { ...renamed(b, prefix), z, name: "MQTT (MQTT_HOST:MQTT_PORT)", broker: "${MQTT_HOST}", port: "${MQTT_PORT}" };
}

const TEXT: [string, string][] = [
  [COLLECTOR_IDENTITY_NOTE, "the MQTT broker config node"],
  ["`${PLUGWATCH_REGISTRY}`", "the **my plugs** registry"],
  ["`${PLUGWATCH_POLL_INTERVAL}`", "10"],
  ["`${PLUGWATCH_INFLUX_URL}`", "`INFLUX_URL`"],
  ["`${PLUGWATCH_INFLUX_FLAVOUR}`", "1.x"],
  ["`${PLUGWATCH_API_TOKENS}`", "the Tokens field"],
  ["`${PLUGWATCH_MQTT_HOST}`", "`MQTT_HOST`"],
  ["`${PLUGWATCH_MQTT_PORT}`", "`MQTT_PORT`"],
  ["`${PLUGWATCH_INFLUX_DB}`", "`INFLUX_DB`"],
];
const rewordEnv = (s: string) => TEXT.reduce((acc, [from, to]) => acc.split(from).join(to), s);

const CORE_INFO =
  "The Plugwatch pipeline with nothing but this package, an MQTT broker and InfluxDB 1.x: collector and control\n" +
  "agents, the InfluxDB hook, the query component, the REST API (`/api/v1`), alert rules and the scheduler, one group per\n" +
  "role. Cost (`/api/v1/cost`) is priced with an EXAMPLE tariff (replace its prices); every schedule rule is disabled.\n" +
  "All parts talk to each other over MQTT (`plugwatch/...`), exactly as in the shipped `flows/plugwatch.json`.\n\n" +
  "Needs: this package (`@plugwatch/node-red-plugwatch`), an external MQTT broker, InfluxDB 1.x. No other package.\n" +
  "Add-ons: `examples/addon-dashboard.json` (needs `@flowfuse/node-red-dashboard`) and `examples/addon-embedded-broker.json`\n" +
  "(this package's `plugwatch-broker`, no other package).\n\n" +
  "Settings are this flow's **environment variables** (double-click the tab): `MQTT_HOST`, `MQTT_PORT`, `INFLUX_URL`,\n" +
  "`INFLUX_DB`. Your plugs: open the **my plugs** registry node and list them (set `host` of `plug-1` to your plug's IP\n" +
  "address), or switch it to a registry file (`schemas/registry.schema.json`).\n" +
  "The REST API refuses every request until you add tokens (lines `TOKEN read,control`) in its **Tokens** field.";

/** A tab's label, or `fallback` when it has none. */

/** examples/core-pipeline.json: the shipped Agents, Hook, Component, API and Alerts tabs stacked on one tab, a group each. */
export function corePipelineExample(shipped: FlowNode[]): FlowNode[] {
  const P = "core";
  const TAB = `${P}.tab`;
  const tabs = new Map(shipped.filter((n) => n.type === "tab").map((t) => [t.id, t]));
  const out: FlowNode[] = [
    {
      id: TAB,
      type: "tab",
      label: "Plugwatch: core pipeline",
      disabled: false,
      info: CORE_INFO,
      env: env([
        ["MQTT_HOST", "localhost"],
        ["MQTT_PORT", "1883"],
        ["INFLUX_URL", "http://localhost:8086"],
        ["INFLUX_DB", "plugwatch"],
      ]),
    },
  ];
  for (const n of shipped) {
    // One broker node: the examples' collector shares it (no collector identity, see COLLECTOR_IDENTITY_NOTE).
    if (n.id === SHIPPED_BROKER) out.push(brokerFor(shipped, P, TAB));
    else if (n.id === IDS.connection) out.push(connectionFor(shipped, P, TAB));
    else if (n.type === "plugwatch-registry")
      out.push({
        id: `${P}.registry`,
        type: "plugwatch-registry",
        z: TAB,
        name: "my plugs",
        source: "json",
        file: "",
        json: JSON.stringify(EXAMPLE_REGISTRY, null, 2),
      });
    else if (n.type === "plugwatch-influx")
      out.push({
        ...renamed(n, P),
        z: TAB,
        name: "InfluxDB (INFLUX_URL)",
        url: "${INFLUX_URL}",
        database: "${INFLUX_DB}",
        flavour: "1.x",
        org: "",
        bucket: "",
      });
    // The EXAMPLE tariff and the all-disabled schedule document, inline as in the shipped flow.
    else if (n.type === "plugwatch-tariff" || n.type === "plugwatch-schedule") out.push({ ...renamed(n, P), z: TAB });
  }
  const groups: FlowNode[] = [];
  let top = 0;
  for (const t of CORE_TABS) {
    // One group per shipped tab: the tab's own groups (one per role) are merged into it.
    const nodes = shipped.filter((n) => n.z === t && n.type !== "group" && !CORE_DROP.has(n.id));
    const ys = nodes.map((n) => n.y as number);
    const shift = top - Math.min(...ys) + 60;
    const gid = `${P}.g-${t.slice("pw-tab-".length)}`;
    const members = nodes.map((n) => {
      const c = renamed(n, P, CORE_DROP);
      c.z = TAB;
      c.g = gid;
      c.y = (n.y as number) + shift;
      if (c.type === "plugwatch-collector") Object.assign(c, { interval: 10, broker: `${P}.${SHIPPED_BROKER.slice(3)}` });
      // Each role had its own tab and its own Catch; on one tab a Catch keeps to its group (Node-RED >= 3).
      if (c.type === "catch") c.scope = "group";
      for (const k of ["info", "name"]) if (typeof c[k] === "string") c[k] = rewordEnv(c[k]);
      return c;
    });
    groups.push({
      id: gid,
      type: "group",
      z: TAB,
      name: tabLabel(tabs.get(t)) ?? t,
      style: { label: true },
      nodes: members.map((m) => m.id),
      x: 0,
      y: 0,
      w: 0,
      h: 0,
    });
    out.push(...members);
    top = Math.max(...ys) + shift + 40;
  }
  // Group boxes around their nodes (20 px margin, 20 px more on top for the label), then everything right of x = 20.
  const byId = new Map(out.map((n) => [n.id, n]));
  for (const g of groups) {
    const ms = (g.nodes as string[]).map((i) => byId.get(i) as FlowNode);
    const left = Math.min(...ms.map((m) => (m.x as number) - nodeWidth(m) / 2));
    const right = Math.max(...ms.map((m) => (m.x as number) + nodeWidth(m) / 2));
    const upper = Math.min(...ms.map((m) => (m.y as number) - nodeHeight(m) / 2));
    const lower = Math.max(...ms.map((m) => (m.y as number) + nodeHeight(m) / 2));
    Object.assign(g, { x: Math.trunc(left - 20), y: Math.trunc(upper - 40), w: Math.trunc(right - left + 40), h: Math.trunc(lower - upper + 60) });
  }
  const dx = 20 - Math.min(...groups.map((g) => g.x as number));
  for (const n of [...out, ...groups]) if (typeof n.x === "number") n.x += dx;
  // Groups go before their members (the editor's export order).
  return [...out.filter((n) => n.g === undefined), ...groups.flatMap((g) => [g, ...out.filter((n) => n.g === g.id)])];
}

const BROKER_INFO =
  "An embedded MQTT broker for trying Plugwatch without Mosquitto: this package's **plugwatch-broker** (aedes) listens on\n" +
  "`BROKER_HOST` (`loopback`: 127.0.0.1 and ::1) port `BROKER_PORT` (1883), MQTT 3.1.1. Anonymous clients may only read\n" +
  "(readings, availability, alerts); the runtime user `MQTT_USER` may publish and subscribe everything under `plugwatch/`.\n" +
  "Set `MQTT_PASSWORD` here and the same user and password in the other examples' MQTT broker node (Security tab), and\n" +
  "point their `MQTT_HOST`/`MQTT_PORT` at it (`localhost`, `1883`). Any non-loopback address needs a mosquitto_passwd\n" +
  "file in the node's password file field, else the broker refuses to start.\n" +
  "For production use Mosquitto with a password file, ACL and TLS (docs/deployment.md) and delete this tab.\n\n" +
  "Needs: nothing but `@plugwatch/node-red-plugwatch` (no other package).\n\n" +
  "Settings are this flow's **environment variables** (double-click the tab): `BROKER_HOST`, `BROKER_PORT`, `MQTT_USER`, `MQTT_PASSWORD`.";

/** examples/addon-embedded-broker.json: the shipped Broker tab (plugwatch-broker), its settings from the tab's env. */
export function embeddedBrokerExample(shipped: FlowNode[]): FlowNode[] {
  const TAB = "broker.tab";
  const nodes = shipped
    .filter((n) => n.z === "pw-tab-broker")
    .map((n) => {
      const c: FlowNode = { ...renamed(n, "broker"), z: TAB };
      if (c.type === "plugwatch-broker") {
        // Standalone: no registry on this tab, and the other examples' collector shares the runtime user (role runtime).
        Object.assign(c, {
          port: "${BROKER_PORT}",
          hosts: "${BROKER_HOST}",
          passwd: "",
          registry: "",
          runtimeUser: "${MQTT_USER}",
          runtimePassword: "${MQTT_PASSWORD}",
          collectorUser: "",
          collectorPassword: "",
        });
      }
      if (c.type === "comment") c.info = BROKER_INFO;
      return c;
    });
  const tabEnv = env([
    ["BROKER_HOST", "loopback"],
    ["BROKER_PORT", "1883"],
    ["MQTT_USER", "plugwatch"],
    ["MQTT_PASSWORD", ""],
  ]);
  return [{ id: TAB, type: "tab", label: "Plugwatch add-on: embedded broker", disabled: false, info: BROKER_INFO, env: tabEnv }, ...nodes];
}

const DASHBOARD_INFO =
  "The live dashboard at `/dashboard` (power per device and room, switches, active alerts, today's kWh) on top of\n" +
  "`examples/core-pipeline.json`: it only talks MQTT (`plugwatch/...` readings, alerts, command and query requests), so\n" +
  "the core pipeline must run (here or in another Node-RED on the same broker).\n\n" +
  "Needs: `@flowfuse/node-red-dashboard` (Manage palette → Install), besides `@plugwatch/node-red-plugwatch`.\n\n" +
  "Settings are this flow's **environment variables** (double-click the tab): `MQTT_HOST`, `MQTT_PORT`.";

/** examples/addon-dashboard.json: the shipped Dashboard tab with its ui-* config nodes and its own broker node. */
export function dashboardExample(shipped: FlowNode[]): FlowNode[] {
  const P = "dash";
  const TAB = `${P}.tab`;
  const out: FlowNode[] = [
    {
      id: TAB,
      type: "tab",
      label: "Plugwatch add-on: dashboard",
      disabled: false,
      info: DASHBOARD_INFO,
      env: env([
        ["MQTT_HOST", "localhost"],
        ["MQTT_PORT", "1883"],
      ]),
    },
  ];
  for (const n of shipped) {
    // One broker node: the examples' collector shares it (no collector identity, see COLLECTOR_IDENTITY_NOTE).
    if (n.id === SHIPPED_BROKER) out.push(brokerFor(shipped, P, TAB));
    else if (n.type.startsWith("ui-") && n.z === undefined) out.push(renamed(n, P));
    else if (n.z === "pw-tab-dashboard") out.push({ ...renamed(n, P), z: TAB });
  }
  return out;
}

/** examples/<name>.json → its content, for write-flows.ts and the up-to-date test. */
export function derivedExamples(shipped: FlowNode[]): Record<string, FlowNode[]> {
  return {
    "core-pipeline": corePipelineExample(shipped),
    "addon-dashboard": dashboardExample(shipped),
    "addon-embedded-broker": embeddedBrokerExample(shipped),
  };
}
