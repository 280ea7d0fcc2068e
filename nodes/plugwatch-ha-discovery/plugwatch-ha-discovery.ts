// plugwatch-ha-discovery: glue between the core mqtt-broker node and lib/ha-publisher.ts (Home Assistant MQTT discovery and HA's switch commands).
import type { NodeAPI } from "node-red";
import { haCommandSubscription, haConfigSubscription, haStatusTopic } from "../../lib/ha-discovery";
import { HaPublisher } from "../../lib/ha-publisher";
import { defineNode } from "../shared/kit";
import { parseHaDiscoveryConfig } from "./config";

/** How often the node looks at the broker's connection to announce after every (re)connect, ms. */
const WATCH_MS = 1000;

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-ha-discovery", parseHaDiscoveryConfig, (node, config, kit) => {
    const broker = kit.configNode("mqtt-broker", config.broker);
    const publisher = new HaPublisher({
      ...config,
      devices: () => kit.loadRegistry(config.registry).devices,
      warn: (key, text) => kit.warnLimited(key, text),
      broker: {
        connected: () => broker.connected === true,
        publish: (topic, payload, retain) =>
          new Promise<void>((resolve, reject) =>
            broker.publish({ topic, payload, qos: 1, retain }, (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve())),
          ),
      },
    });
    const run = (p: Promise<unknown>): void =>
      void kit.track(p.catch((err: unknown) => kit.warnLimited("publish", kit.t("errors.publish", { message: String(err) }))));
    const show = (): void => kit.status.show("ok", "status.announced", { count: publisher.stats.devices, commands: publisher.stats.commands });

    broker.register(node);
    const subscriptions: [string, (topic: string, payload: Buffer, retained: boolean) => Promise<unknown>][] = [
      [haConfigSubscription(config.prefix, config.nodeId), (topic, payload) => publisher.onConfig(topic, payload)],
      [haStatusTopic(config.prefix), (_topic, payload) => publisher.onHaStatus(payload).then(show)],
      [haCommandSubscription(config.root), (topic, payload, retained) => publisher.onCommand(topic, payload, retained).then(show)],
    ];
    for (const [filter, handle] of subscriptions) {
      broker.subscribe(filter, { qos: 1 }, (topic, payload, packet) => run(handle(topic, payload, packet?.retain === true)), node.id);
    }
    kit.setInterval(() => run(publisher.tick().then(show)), WATCH_MS);

    kit.onClose(async (removed) => {
      // Deleted from the flow: Home Assistant forgets its entities; a redeploy or restart keeps them.
      if (removed) await publisher.removeAll().catch(() => 0);
      for (const [filter] of subscriptions) broker.unsubscribe(filter, node.id, removed);
      await new Promise<void>((resolve) => broker.deregister(node, resolve, removed));
    });
  });
