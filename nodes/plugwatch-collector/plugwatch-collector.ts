// plugwatch-collector: glue between lib/collector.ts and Node-RED (registry → poller → reading/availability messages).
import type { NodeAPI } from "node-red";
import { Collector, type CollectorView } from "../../lib/collector";
import { checkFleetCapacity } from "../../lib/fleet-capacity";
import { PlugwatchError } from "../../lib/contracts/errors";
import { identityFile } from "../../lib/identity-file";
import { Outbox } from "../../lib/outbox";
import { PlugTransports } from "../../lib/transports/plug-transports";
import { brokerUser, outboxPort } from "../shared/broker";
import { pipeline } from "../../lib/metrics/hub";
import { forgetCollector, observePoll } from "../../lib/metrics/observe";
import { defineNode } from "../shared/kit";
import { metricLabel } from "../shared/metrics";
import { parseCollectorConfig, parseCommand } from "./config";
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
      // Above the measured fleet capacity (lib/fleet-capacity.ts): a warning naming the limit, and a yellow status.
      const capacity = checkFleetCapacity(devices.length, config.intervalMs);
      if (capacity) node.warn(kit.t("errors.capacity", { ...capacity, interval: config.intervalMs / 1000, limitInterval: capacity.limitIntervalMs / 1000 }));
      const show = ({ state, ...subs }: CollectorView): void =>
        capacity && state === "online" ? kit.status.show("warn", "status.capacity", subs) : kit.status.show(VIEW[state][0], VIEW[state][1], subs);
      // With a broker selected, readings and availability go through a durable outbox (lib/outbox.ts): published
      // directly while connected, kept on disk in order while the connection is down, replayed after it is back.
      const out = config.outbox ? openOutbox(config.outbox) : undefined;
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
        const { period, year, month } = cmd;
        const list = await collector.stats(device, period, year, month);
        send({ ...msg, payload: list, device: device.id, period, year, ...(month !== undefined ? { month } : {}) });
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

      function openOutbox(o: { broker: string; dir: string; maxBytes: number }) {
        const broker = kit.findConfigNode("mqtt-broker", o.broker);
        if (!broker) return undefined;
        const early: Parameters<Outbox["send"]>[0][] = [];
        let box: Outbox | undefined;
        let lastFull = -Infinity;
        const send = (m: Parameters<Outbox["send"]>[0]): void => {
          if (!box) return void early.push(m);
          box.send(m).catch((err: Error) => {
            if (kit.clock.now() - lastFull < ERROR_EVERY_MS) return;
            lastFull = kit.clock.now();
            node.warn(kit.t("errors.outbox", { message: err.message }));
          });
        };
        const user = brokerUser(broker, `${node.id}:outbox`, () => void box?.resume());
        const opening = kit.track(
          Outbox.open({ dir: o.dir, maxBytes: o.maxBytes, flushMs: 0, port: outboxPort(broker), log: (m) => node.log(m) }).then((b) => {
            box = b;
            for (const m of early.splice(0)) send(m);
            if (broker.connected) void b.resume();
          }),
        );
        return {
          send,
          close: async (removed: boolean) => {
            await opening.catch(() => undefined);
            await box?.close();
            await user.release(removed);
          },
        };
      }
    },
    { statusEveryMs: STATUS_EVERY_MS },
  );
  serveDiscovery(RED);
};
