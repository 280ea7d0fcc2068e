// MQTT identities and their ACL, derived from the topic contracts: one source for the embedded aedes broker (authorize
// hooks) and for Mosquitto (the generated deploy/mosquitto/acl).
import type { Device } from "../contracts/device";
import { deviceTopic, parseDeviceTopic, STREAMS, subscriptions } from "../topics";
import { DEFAULT_DISCOVERY_PREFIX, haCommandSubscription, haConfigSubscription, haStatusTopic } from "../ha-discovery";

/**
 * Roles. A split deployment gives each agent its own identity. A single runtime whose collector publishes under its
 * own `collector` identity (the shipped flow) uses `agents`: every agent role but the collector's, so it cannot publish
 * a reading or an availability. `runtime` (the union of all agent roles, collector included) is for flows whose
 * collector shares the runtime's one connection (the examples).
 */
export const ROLES = [
  "collector",
  "control",
  "hook",
  "component",
  "api",
  "dashboard",
  "alert",
  "backup",
  "ha-discovery",
  "homeassistant",
  "client",
  "device",
  "readonly",
  "runtime",
  "agents",
] as const;
export type Role = (typeof ROLES)[number];

export interface Rule {
  /** MQTT topic filter; `%u` is replaced by the user name (Mosquitto `pattern` semantics). */
  filter: string;
  access: "read" | "write" | "readwrite";
}

/** What a device grant needs of a registry device: its id and location (they make its topics). */
export type GrantedDevice = Pick<Device, "id" | "location">;

export interface AclOptions {
  /**
   * The registry's devices: the `collector` role may publish the reading and availability topic of each of them and
   * nothing else. Absent: every device topic under the root (no registry configured). `runtime` is not narrowed.
   */
  collectorDevices?: readonly GrantedDevice[] | undefined;
}

/** The exact topics a collector with this registry may publish: `{root}/{building}/{floor}/{room}/{id}/{stream}`. */
export function collectorTopics(devices: readonly GrantedDevice[], root: string): string[] {
  return devices.flatMap((d) => STREAMS.map((stream) => deviceTopic(root, d, stream)));
}

/** The rules of one role under a topic root. */
export function rulesOf(role: Role, root: string, options: AclOptions = {}): Rule[] {
  const readings = subscriptions.allReadings(root);
  const availability = subscriptions.allAvailability(root);
  const alerts = subscriptions.alerts(root);
  const status = `${root}/status/+`;
  const command = `${root}/api/request/command`;
  const query = `${root}/api/request/query`;
  // Schedule and savings requests (plugwatch-scheduler): the API and the dashboard ask, the shipped runtime answers.
  const schedule = `${root}/api/request/schedule`;
  const replies = [`${root}/api/reply/#`, "clients/+/#"];
  const r = (filter: string): Rule => ({ filter, access: "read" });
  const w = (filter: string): Rule => ({ filter, access: "write" });
  switch (role) {
    case "collector":
      return options.collectorDevices ? collectorTopics(options.collectorDevices, root).map(w) : [w(readings), w(availability)];
    case "control":
      return [r(command), ...replies.map(w), w(`${root}/audit/#`)];
    case "hook":
      return [r(readings), r(`${root}/batch/#`), w(`${root}/status/influx-hook`)];
    case "component":
      return [r(query), ...replies.map(w)];
    case "api":
      return [w(command), w(query), w(schedule), r(`${root}/api/reply/#`), r(readings), r(availability), r(alerts), r(status), r(`${root}/audit/#`)];
    case "dashboard":
      // The shipped dashboard subscribes {root}/+/+/+/+/+ (readings and availability in one subscription).
      return [w(command), w(query), w(schedule), r(`${root}/api/reply/dashboard/#`), r(`${root}/+/+/+/+/+`), r(alerts), r(status)];
    case "alert":
      return [r(`${root}/+/+/+/+/+`), r(`${root}/backup/+/availability`), w(alerts), r(alerts)];
    case "backup":
      return [w(`${root}/backup/+/availability`)];
    case "ha-discovery": {
      // plugwatch-ha-discovery: writes (and reads back, to clear stale ones) its retained configs, hears HA's birth
      // message and switch commands, and turns them into commands for the control agent.
      const configs = haConfigSubscription(DEFAULT_DISCOVERY_PREFIX, "+");
      return [w(configs), r(configs), r(haStatusTopic(DEFAULT_DISCOVERY_PREFIX)), r(haCommandSubscription(root)), w(command)];
    }
    case "homeassistant":
      // Home Assistant itself: discovery configs, states and availability in; its birth message and ON/OFF out.
      // Commands only through {root}/ha/+/set: plugwatch-ha-discovery forwards them (by "homeassistant", audited).
      return [r(`${DEFAULT_DISCOVERY_PREFIX}/#`), w(haStatusTopic(DEFAULT_DISCOVERY_PREFIX)), r(readings), r(availability), w(haCommandSubscription(root))];
    case "client":
      // A requester named in the role map: sends requests, reads replies under its own per-identity prefixes only.
      return [w(command), w(query), r("clients/%u/#"), r(`${root}/api/reply/%u/#`)];
    case "device":
      // Every other authenticated user (Mosquitto `pattern` lines apply to all users): a foreign device whose user
      // name is its device id publishes its own reading and availability, in any location.
      return [w(`${root}/+/+/+/%u/reading`), w(`${root}/+/+/+/%u/availability`)];
    case "readonly":
      return [r(readings), r(availability), r(alerts)];
    case "runtime":
    case "agents": {
      const agents = ["control", "hook", "component", "api", "dashboard", "alert", "backup", "ha-discovery"] as const;
      const all = (role === "runtime" ? (["collector", ...agents] as const) : agents).flatMap((x) => rulesOf(x, root));
      // The scheduler runs in the shipped runtime: it reads readings and the audit trail (above) and schedule requests.
      all.push(r(schedule));
      const seen = new Set<string>();
      return all.filter((x) => (seen.has(`${x.access} ${x.filter}`) ? false : (seen.add(`${x.access} ${x.filter}`), true)));
    }
  }
}

/** True when the topic filter `filter` matches the concrete topic `topic` (never matches `$` topics with a wildcard first level). */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True when every topic the subscription `sub` can match is matched by the rule filter `allowed` (sub ⊆ allowed). */
export function filterCovers(allowed: string, sub: string): boolean {
  const a = allowed.split("/");
  const s = sub.split("/");
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "#") return true;
    if (i >= s.length) return false;
    if (s[i] === "#") return false;
    if (a[i] === "+") continue;
    if (s[i] === "+" || s[i] !== a[i]) return false;
  }
  return a.length === s.length;
}

const subst = (filter: string, user: string): string => filter.replace(/%u/g, user);

/** One role's rules, compiled: wildcard-free write filters in a set (a registry's 2 × N collector topics), the rest scanned. */
interface CompiledRole {
  exactWrites: ReadonlySet<string>;
  writes: readonly string[];
  reads: readonly string[];
}

function compile(rules: readonly Rule[]): CompiledRole {
  const exactWrites = new Set<string>();
  const writes: string[] = [];
  const reads: string[] = [];
  for (const rule of rules) {
    if (rule.access !== "read") {
      if (/[+#]|%u/.test(rule.filter)) writes.push(rule.filter);
      else exactWrites.add(rule.filter);
    }
    if (rule.access !== "write") reads.push(rule.filter);
  }
  return { exactWrites, writes, reads };
}

/** Why a publish was refused: a stable code when it is about a device, and a sentence for the log. */
export interface Refusal {
  code?: "UNKNOWN_DEVICE";
  reason: string;
}

/**
 * The ACL of one broker: a topic root and, optionally, the registry that narrows the collector role. Rules are
 * compiled once per role, so a publish check is a set lookup plus a few wildcard filters (however large the registry).
 */
export class AclPolicy {
  private readonly compiled = new Map<Role, CompiledRole>();
  private readonly registered: ReadonlySet<string> | undefined;

  constructor(
    readonly root: string,
    readonly options: AclOptions = {},
  ) {
    this.registered = options.collectorDevices ? new Set(options.collectorDevices.map((d) => d.id)) : undefined;
  }

  private rules(role: Role): CompiledRole {
    let c = this.compiled.get(role);
    if (!c) this.compiled.set(role, (c = compile(rulesOf(role, this.root, this.options))));
    return c;
  }

  /** May `user` (with `role`, or anonymous = readonly) publish to `topic`? Never to `$` topics or with wildcards. */
  mayPublish(role: Role, user: string, topic: string): boolean {
    // eslint-disable-next-line no-control-regex -- NUL is deliberately matched: MQTT forbids it in topic names
    if (!topic || topic.startsWith("$") || /[+#\u0000]/.test(topic)) return false;
    const c = this.rules(role);
    return c.exactWrites.has(topic) || c.writes.some((f) => filterMatches(subst(f, user), topic));
  }

  /** May `user` subscribe to `filter`? Only to filters inside what its role may read. */
  maySubscribe(role: Role, user: string, filter: string): boolean {
    if (!filter || filter.startsWith("$")) return false;
    return this.rules(role).reads.some((f) => filterCovers(subst(f, user), filter));
  }

  /** For a publish that mayPublish refused: UNKNOWN_DEVICE when a registry-bound collector names an unregistered device. */
  explainRefusedPublish(role: Role, user: string, topic: string): Refusal {
    const who = `${user || "anonymous"} (${role})`;
    const shown = topic.slice(0, 200);
    const device = role === "collector" && this.registered ? parseDeviceTopic(this.root, topic) : undefined;
    if (device && !this.registered!.has(device.device)) {
      return { code: "UNKNOWN_DEVICE", reason: `${who} may not publish to ${shown}: device '${device.device.slice(0, 64)}' is not in the broker's registry` };
    }
    if (device) return { reason: `${who} may not publish to ${shown}: not the registered location of device '${device.device}'` };
    return { reason: `${who} may not publish to ${shown}` };
  }
}

/** May `user` (with `role`, or anonymous = readonly) publish to `topic`? Never to `$` topics or with wildcards. */
export function mayPublish(role: Role, user: string, topic: string, root: string, options: AclOptions = {}): boolean {
  return new AclPolicy(root, options).mayPublish(role, user, topic);
}

/** May `user` subscribe to `filter`? Only to filters inside what its role may read. */
export function maySubscribe(role: Role, user: string, filter: string, root: string, options: AclOptions = {}): boolean {
  return new AclPolicy(root, options).maySubscribe(role, user, filter);
}

/** Role of an authenticated user: the explicit map, else the name itself when it is a role ("collector", "api", …), else `device`. */
export function roleOf(user: string, explicit: Readonly<Record<string, Role>> = {}): Role {
  const own = Object.prototype.hasOwnProperty.call(explicit, user) ? explicit[user] : undefined;
  if (own !== undefined) return own;
  return (ROLES as readonly string[]).includes(user) && user !== "client" ? (user as Role) : "device";
}

/** Parses `name=role,name=role` (settings/env) into a role map; throws naming the bad entry. */
export function parseRoleMap(text: string): Record<string, Role> {
  const out: Record<string, Role> = {};
  for (const part of text
    .split(/[,\n]/)
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [, name, role] = /^([^=\s]+)\s*=\s*([a-z]+)$/.exec(part) ?? [];
    if (name === undefined || role === undefined || !(ROLES as readonly string[]).includes(role))
      throw new Error(`role map entry '${part}' must be name=role with a role of ${ROLES.join(", ")}`);
    out[name] = role as Role;
  }
  return out;
}

/**
 * Identities of deploy/mosquitto/acl: the shipped flow's runtime (agents) and its collector (collector, narrowed to the
 * registry), a reader and a client.
 */
export const DEPLOY_USERS: Readonly<Record<string, Role>> = {
  "plugwatch-nodered": "agents",
  "plugwatch-collector": "collector",
  "plugwatch-reader": "readonly",
  "plugwatch-client": "client",
};

/** Options of the generated Mosquitto ACL: the registry that narrows the collector role, and its name for the header. */
export interface MosquittoAclOptions extends AclOptions {
  /** Shown in the header (e.g. the registry file's path relative to the repository). */
  registryLabel?: string;
}

/**
 * The Mosquitto ACL file for a root: one `user` block per role-named identity and per mapped user, and the `device`
 * rules as `pattern` lines (they apply to every user, so they only ever grant topics named after the user).
 * Anonymous clients (if allowed at all) get the readonly rules. With a registry, each collector user gets one
 * `topic write` line per registered device and stream, so the file must be regenerated when the registry changes.
 */
export function mosquittoAcl(root: string, extraUsers: Readonly<Record<string, Role>> = DEPLOY_USERS, options: MosquittoAclOptions = {}): string {
  const devices = options.collectorDevices;
  const lines = [
    "# Generated from lib/broker/acl.ts (node dist/scripts/write-acl.js [registry.json]); do not edit by hand: the",
    `# embedded broker enforces the same rules. Topic root: ${root}. Passwords: mosquitto_passwd deploy/mosquitto/passwd <user>.`,
    devices
      ? `# Collector users may write the topics of the ${devices.length} devices of ${options.registryLabel ?? "the registry"} only: regenerate after every registry change.`
      : "# No registry given: collector users may write every device's reading and availability.",
    "# Access not granted here is denied.",
    "",
    "# anonymous clients (only when allow_anonymous is true): read-only",
  ];
  const block = (role: Role, user: string) => rulesOf(role, root, options).map((r) => `topic ${r.access} ${subst(r.filter, user)}`);
  lines.push(...block("readonly", ""), "");
  const named = ROLES.filter((r) => r !== "client" && r !== "device");
  const users: [string, Role][] = [...named.map((r): [string, Role] => [r, r]), ...Object.entries(extraUsers)];
  for (const [user, role] of users) lines.push(`# role ${role}`, `user ${user}`, ...block(role, user), "");
  lines.push(
    "# every user: a foreign device whose user name is its device id writes its own reading and availability",
    ...rulesOf("device", root).map((r) => `pattern ${r.access} ${r.filter}`),
    "",
  );
  return lines.join("\n");
}
