// plugwatch-broker: what the editor saves (PlugwatchBrokerNodeDef) and its parse into typed broker options.
import { readFileSync } from "node:fs";
import type { NodeDef } from "node-red";
import { parseRoleMap } from "../../lib/broker/acl";
import { parseHosts } from "../../lib/broker/embedded";
import { hashPassword, parsePasswd } from "../../lib/broker/passwd";
import { DEFAULT_ROOT } from "../../lib/topics";
import { ConfigError, type ParseEnv } from "../shared/kit";

export interface PlugwatchBrokerNodeDef extends NodeDef {
  port: string | number;
  /** Listen addresses: empty or "loopback" = 127.0.0.1 and ::1; others need a password file. */
  hosts: string;
  /** mosquitto_passwd file (absolute or relative to the user dir); empty = anonymous read-only clients only. */
  passwd: string;
  /** `name=role,…` for users whose name is not a role name. */
  roles: string;
  root: string;
  /** plugwatch-registry config node id (optional): the collector role may publish only its devices' topics. */
  registry?: string;
  maxPacketBytes: string | number;
  /** The runtime's own identity (role runtime), e.g. ${PLUGWATCH_MQTT_USER} / ${PLUGWATCH_MQTT_PASSWORD}. */
  runtimeUser: string;
  runtimePassword: string;
  /**
   * The collector's own identity (role collector), e.g. ${PLUGWATCH_COLLECTOR_USER} / ${PLUGWATCH_COLLECTOR_PASSWORD}.
   * When set, the runtime identity gets role `agents` (no reading or availability publishes) unless Roles says otherwise.
   */
  collectorUser?: string;
  collectorPassword?: string;
}

export interface BrokerConfig {
  port: number;
  hosts: string[];
  root: string;
  users: Map<string, string>;
  roles: ReturnType<typeof parseRoleMap>;
  maxPacketBytes: number | undefined;
  /** plugwatch-registry node id, or undefined: no registry (the collector role may publish every device topic). */
  registry: string | undefined;
}

export function parseBrokerConfig(def: PlugwatchBrokerNodeDef, env: ParseEnv): BrokerConfig {
  const port = Number(def.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`port must be 1-65535 (got '${String(def.port)}')`);
  const users = new Map<string, string>();
  if (def.passwd) {
    const file = def.passwd.startsWith("/") ? def.passwd : `${env.userDir ?? "."}/${def.passwd}`;
    for (const [u, h] of parsePasswd(readFileSync(file, "utf8"))) users.set(u, h);
  }
  if (def.runtimeUser && def.runtimePassword) users.set(def.runtimeUser, hashPassword(def.runtimePassword, 1000));
  const collectorUser = def.collectorUser ?? "";
  if (collectorUser && collectorUser === def.runtimeUser) throw new ConfigError(`the collector user must differ from the runtime user ('${collectorUser}')`);
  if (collectorUser && def.collectorPassword) users.set(collectorUser, hashPassword(def.collectorPassword, 1000));
  const roles = parseRoleMap(def.roles || "");
  if (collectorUser) roles[collectorUser] ??= "collector";
  // With its own collector identity, the runtime publishes no reading or availability (role agents).
  if (def.runtimeUser) roles[def.runtimeUser] ??= collectorUser ? "agents" : "runtime";
  return {
    port,
    hosts: parseHosts(def.hosts),
    root: def.root || DEFAULT_ROOT,
    users,
    roles,
    maxPacketBytes: def.maxPacketBytes ? Number(def.maxPacketBytes) : undefined,
    registry: def.registry || undefined,
  };
}
