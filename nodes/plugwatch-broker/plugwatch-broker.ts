// plugwatch-broker: the embedded MQTT broker of the zero-setup demo, private by default; the logic is lib/broker/embedded.ts.
import type { NodeAPI } from "node-red";
import type { GrantedDevice } from "../../lib/broker/acl";
import { startEmbeddedBroker } from "../../lib/broker/embedded";
import { defineNode } from "../shared/kit";
import { parseBrokerConfig } from "./types";

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-broker", parseBrokerConfig, (node, config, kit) => {
    const { users } = config;
    // With a registry, the collector role publishes its devices only; a registry that did not load grants none (fail
    // closed). A registry change redeploys this node (Node-RED restarts the users of a changed config node).
    let collectorDevices: readonly GrantedDevice[] | undefined;
    if (config.registry) {
      try {
        collectorDevices = kit.loadRegistry(config.registry).devices;
      } catch (err) {
        collectorDevices = [];
        node.error(kit.t("registryFailed", { message: err instanceof Error ? err.message : String(err) }));
      }
    }
    const starting = kit.track(
      startEmbeddedBroker({
        ...config,
        collectorDevices,
        onRefused: (what, detail, code) => {
          kit.warnLimited(code ? `${what}:${code}` : what, code ? `[${code}] ${kit.t("refused", { what, detail })}` : kit.t("refused", { what, detail }));
          kit.status.show("warn", "status.refused", { what });
        },
      }).then(
        (broker) => {
          node.log(kit.t("listening", { hosts: broker.hosts.join(", "), port: config.port, auth: users.size ? `${users.size} users` : "anonymous read-only" }));
          if (collectorDevices) node.log(kit.t("collectorGrant", { count: collectorDevices.length }));
          kit.status.text("ok", `${broker.hosts.join(",")}:${config.port}`);
          return broker;
        },
        (err: Error) => {
          node.error(kit.t("failed", { message: err.message }));
          kit.status.show("error", "status.notStarted");
          return undefined;
        },
      ),
    );
    kit.onClose(() => starting.then((broker) => broker?.close()));
  });
