// plugwatch-collector: glue between lib/collector.ts and Node-RED (registry → poller → reading/availability messages).
import type { NodeAPI } from "node-red";
import { Collector, type CollectorView } from "../../lib/collector";
import { checkFleetCapacity } from "../../lib/fleet-capacity";
import { PlugwatchError } from "../../lib/contracts/errors";
import { identityFile } from "../../lib/identity-file";
import { PlugTransports } from "../../lib/transports/plug-transports";
import { openBrokerOutbox } from "../shared/broker-outbox";
import { pipeline } from "../../lib/metrics/hub";
import { forgetCollector, observePoll } from "../../lib/metrics/observe";
import { defineNode } from "../shared/kit";
import { metricLabel } from "../shared/metrics";
import { parseCommand } from "../../lib/collector-commands";
import { parseCollectorConfig } from "./config";
import { serveDiscovery } from "./discover-endpoint";

/** Status updates at most this often (1000 plugs coming online must not send 1000 status events). */
const STATUS_EVERY_MS = 500;
/** The same error of the same device reaches the log and Catch nodes at most once per this period. */
const ERROR_EVERY_MS = 60_000;

const VIEW = {
  auth: ["error", "status.auth"],
  firmware: ["error", "status.firmware"],
  starting: ["busy", "status.starting"],
  online: ["ok", "status.online"],
  overCapacity: ["warn", "status.capacity"],
} as const;

export = (RED: NodeAPI) => {
  defineNode(
    RED,
    "plugwatch-collector",
    parseCollectorConfig,
    (node, config, kit) => {
      const registry = kit.loadRegistry(config.registry);
      const devices = registry.filter(config.filter);
      const account = kit.findConfigNode("plugwatch-tplink-account", config.account);
      // Keep-alive: one socket per plug between polls (lib/plug-connection.ts); KLAP/Tapo plugs use the account's credentials.
      const plugs = new PlugTransports({ timeoutMs: config.timeoutMs, keepAlive: true, credentials: () => account?.account() });
      const lastError = new Map<string, number>();
      const label = metricLabel(node);
      const capacity = checkFleetCapacity(devices.length, config.intervalMs); // above the measured fleet: warn naming it, yellow status
      if (capacity) node.warn(kit.t("errors.capacity", { ...capacity }));
      const view = (state: CollectorView["state"]) => VIEW[capacity && state === "online" ? "overCapacity" : state];
      const show = ({ state, ...subs }: CollectorView): void => kit.status.show(view(state)[0], view(state)[1], subs);
      // With a broker: a durable outbox (lib/outbox.ts), published while connected, kept on disk in order while down, replayed after.
      const out = config.outbox ? openBrokerOutbox(node, kit, config.outbox) : undefined;
      const identities = identityFile(config.identityFile, (m) => node.warn(m));
      const collector: Collector = new Collector(devices, { ...config, identities }, plugs, {
        message: (msg) => (out ? out.send(msg) : node.send(msg)),
        failure: (device, code, message, msg) => {
          const key = `${device.id}:${code}`;
          if (kit.clock.now() - (lastError.get(key) ?? -Infinity) < ERROR_EVERY_MS) return;
          lastError.set(key, kit.clock.now());
          node.error(kit.t("errors.poll", { device: device.id, address: `${device.host}:${device.port}`, code, message }), msg);
        },
        problem: (device, code) =>
          node.warn(kit.t(code === "AUTH_FAILED" ? "errors.auth" : "errors.firmware", { device: device.id, address: `${device.host}:${device.port}` })),
        changed: () => !kit.closing && show(collector.view()),
        log: (m) => node.warn(m),
        polled: (_device, ms) => observePoll(label, ms),
      });
      const unregister = pipeline.collectors.add(node.id, label, collector);
      if (devices.length === 0) {
        node.warn(kit.t("errors.no-devices", { filter: JSON.stringify(config.filter) }));
        kit.status.show("idle", "status.no-devices");
      } else show(collector.view());
      collector.start();

      kit.onInput(async (msg, send, done) => {
        const cmd = parseCommand(msg.payload, new Date(kit.clock.now()));
        if (cmd.action === "poll") {
          await collector.pollNow();
          return done();
        }
        if (cmd.action === "accept-identity") {
          collector.acceptIdentity(cmd.device);
          return done();
        }
        const device = registry.get(cmd.device);
        if (!device) throw new PlugwatchError("UNKNOWN_DEVICE", kit.t("errors.unknownDevice", { device: cmd.device }));
        const list = await collector.stats(device, cmd.period, cmd.year, cmd.month);
        send({ ...msg, payload: list, device: device.id, period: cmd.period, year: cmd.year, ...(cmd.month !== undefined ? { month: cmd.month } : {}) });
        done();
      });
      kit.onClose((removed) => {
        unregister();
        if (removed) forgetCollector(label);
        return collector
          .stop()
          .finally(() => plugs.close())
          .finally(() => out?.close(removed));
      });
    },
    { statusEveryMs: STATUS_EVERY_MS },
  );
  serveDiscovery(RED);
};
