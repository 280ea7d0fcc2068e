// plugwatch-broker: the embedded MQTT broker of the zero-setup demo, private by default; the logic is lib/broker/embedded.ts.
import { readFileSync } from "node:fs";
import type { Node, NodeAPI, NodeDef } from "node-red";
import { parseRoleMap } from "../../lib/broker/acl";
import { parseHosts, startEmbeddedBroker, type EmbeddedBroker } from "../../lib/broker/embedded";
import { hashPassword, parsePasswd } from "../../lib/broker/passwd";
import { DEFAULT_ROOT } from "../../lib/topics";
import { RateLimitedLog, status } from "../shared/node-kit";

interface PlugwatchBrokerNodeDef extends NodeDef {
  port: string | number;
  /** Listen addresses: empty or "loopback" = 127.0.0.1 and ::1; others need a password file. */
  hosts: string;
  /** mosquitto_passwd file (absolute or relative to the user dir); empty = anonymous read-only clients only. */
  passwd: string;
  /** `name=role,…` for users whose name is not a role name. */
  roles: string;
  root: string;
  maxPacketBytes: string | number;
  /** The runtime's own identity (role runtime), e.g. ${PLUGWATCH_MQTT_USER} / ${PLUGWATCH_MQTT_PASSWORD}. */
  runtimeUser: string;
  runtimePassword: string;
}

export = (RED: NodeAPI) => {
  function PlugwatchBroker(this: Node, def: PlugwatchBrokerNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const log = new RateLimitedLog((m) => node.warn(m), 60_000);
    let broker: EmbeddedBroker | undefined;
    const starting = (async () => {
      const users = new Map<string, string>();
      if (def.passwd) {
        const file = def.passwd.startsWith("/") ? def.passwd : `${String(RED.settings.userDir ?? ".")}/${def.passwd}`;
        for (const [u, h] of parsePasswd(readFileSync(file, "utf8"))) users.set(u, h);
      }
      if (def.runtimeUser && def.runtimePassword) users.set(def.runtimeUser, hashPassword(def.runtimePassword, 1000));
      const roles = parseRoleMap(def.roles || "");
      if (def.runtimeUser) roles[def.runtimeUser] ??= "runtime";
      const port = Number(def.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port must be 1-65535 (got '${String(def.port)}')`);
      broker = await startEmbeddedBroker({
        port,
        hosts: parseHosts(def.hosts),
        root: def.root || DEFAULT_ROOT,
        users,
        roles,
        maxPacketBytes: def.maxPacketBytes ? Number(def.maxPacketBytes) : undefined,
        onRefused: (what, detail) => {
          log.write(what, RED._("plugwatch-broker.refused", { what, detail }));
          node.status(status.warn(`refused ${what}`));
        },
      });
      node.log(RED._("plugwatch-broker.listening", { hosts: broker.hosts.join(", "), port, auth: users.size ? `${users.size} users` : "anonymous read-only" }));
      node.status(status.ok(`${broker.hosts.join(",")}:${port}`));
    })().catch((err: Error) => {
      node.error(RED._("plugwatch-broker.failed", { message: err.message }));
      node.status(status.error("not started"));
    });
    node.on("close", (_removed: boolean, done: () => void) => {
      void starting.then(() => broker?.close()).then(
        () => done(),
        () => done(),
      );
    });
  }
  RED.nodes.registerType("plugwatch-broker", PlugwatchBroker);
};
