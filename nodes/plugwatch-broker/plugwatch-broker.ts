// plugwatch-broker: the embedded MQTT broker of the zero-setup demo, private by default; the logic is lib/broker/embedded.ts.
import type { NodeAPI } from "node-red";
import { startEmbeddedBroker } from "../../lib/broker/embedded";
import { defineNode } from "../shared/kit";
import { parseBrokerConfig } from "./types";

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-broker", parseBrokerConfig, (node, config, kit) => {
    const { users } = config;
    const starting = kit.track(
      startEmbeddedBroker({
        ...config,
        onRefused: (what, detail) => {
          kit.warnLimited(what, kit.t("refused", { what, detail }));
          kit.status.show("warn", "status.refused", { what });
        },
      }).then(
        (broker) => {
          node.log(kit.t("listening", { hosts: broker.hosts.join(", "), port: config.port, auth: users.size ? `${users.size} users` : "anonymous read-only" }));
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
