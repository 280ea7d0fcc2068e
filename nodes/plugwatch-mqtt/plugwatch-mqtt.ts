// plugwatch-mqtt: an MQTT connection whose socket has TCP_NODELAY (lib/mqtt/connection.ts), usable wherever the core
// mqtt-broker config node is: nodes/shared/broker.ts works with either.
import type { NodeAPI } from "node-red";
import { MqttConnection, unavailableConnection, type MqttPort } from "../../lib/mqtt/connection";
import { ConfigError, defineNode } from "../shared/kit";
import { parseMqttConfig } from "./config";
import type { PlugwatchMqttCredentials, PlugwatchMqttNode, PlugwatchMqttNodeDef, TlsConfigNode } from "./types";

export = (RED: NodeAPI) =>
  defineNode<PlugwatchMqttNodeDef, PlugwatchMqttNodeDef, PlugwatchMqttCredentials, PlugwatchMqttNode>(
    RED,
    "plugwatch-mqtt",
    (def) => def,
    (node, def, kit) => {
      let port: MqttPort;
      let failure: Error | undefined;
      try {
        const config = parseMqttConfig(def, kit);
        const tls: Record<string, unknown> | undefined = config.useTls ? {} : undefined;
        if (tls && config.tlsNode) {
          const tlsNode = RED.nodes.getNode(config.tlsNode) as Partial<TlsConfigNode> | null;
          if (typeof tlsNode?.addTLSOptions !== "function") throw new ConfigError(kit.t("errors.tlsNode", { id: config.tlsNode }));
          tlsNode.addTLSOptions(tls);
        }
        const connection = new MqttConnection({
          ...config,
          tls,
          username: node.credentials?.user,
          password: node.credentials?.password,
          log: { info: (m) => node.log(m), error: (m) => kit.warnLimited(`mqtt:${m}`, m) },
          timers: kit.clock,
        });
        kit.onClose(() => connection.close());
        port = connection;
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
        port = unavailableConnection(failure);
      }
      // The users' interface exists even with a bad config: they get a red status and failed publishes, no crash.
      Object.defineProperty(node, "connected", { get: () => port.connected, enumerable: true, configurable: true });
      node.register = (user) => port.register(user);
      node.deregister = (user, done, autoDisconnect) => port.deregister(user, done, autoDisconnect);
      node.subscribe = (topic, options, callback, ref) => port.subscribe(topic, options, callback, ref);
      node.unsubscribe = (topic, ref) => port.unsubscribe(topic, ref);
      node.publish = (msg, done) => port.publish(msg, done);
      if (failure) throw failure;
    },
    { credentials: { user: { type: "text" }, password: { type: "password" } } },
  );
