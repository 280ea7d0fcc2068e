// plugwatch-collector: glue between lib/poller.ts and Node-RED (registry → poller → reading/availability messages).
import type { NodeAPI, NodeMessage, NodeMessageInFlow } from "node-red";
import { toAvailability } from "../../lib/availability";
import type { Device } from "../../lib/contracts/device";
import { PlugwatchError } from "../../lib/contracts/errors";
import { Reading } from "../../lib/contracts/reading";
import { validate } from "../../lib/contracts/validate";
import { discover, parseDiscoveryQuery, toRegistryDrafts, type DiscoveryQuery } from "../../lib/discovery";
import { toReading } from "../../lib/plug-client";
import { PlugTransports } from "../../lib/transports/plug-transports";
import type { PlugwatchTplinkAccountNode } from "../plugwatch-tplink-account/types";
import { Poller } from "../../lib/poller";
import { IdentityGuard, sampleCheck } from "../../lib/plausibility";
import { deviceTopic } from "../../lib/topics";
import { errorText, fail, RateLimitedLog, status } from "../shared/node-kit";
import type { PlugwatchRegistryNode } from "../plugwatch-registry/types";
import { parseCommand, parseConfig, type CollectorConfig } from "./config";
import type { PlugwatchCollectorNode, PlugwatchCollectorNodeDef } from "./types";

/** The poller's own guard fires this long after the socket timeout, so the socket's own error normally wins. */
const GUARD_GRACE_MS = 500;
/** Status updates at most this often (1000 plugs coming online must not send 1000 status events). */
const STATUS_EVERY_MS = 500;
/** The same error of the same device reaches the log and Catch nodes at most once per this period. */
const ERROR_EVERY_MS = 60_000;

type Send = (msg: NodeMessage | NodeMessage[]) => void;

export = (RED: NodeAPI) => {
  function SmartplugCollector(this: PlugwatchCollectorNode, def: PlugwatchCollectorNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let cfg: CollectorConfig | undefined;
    let poller: Poller<Device> | undefined;
    let client: PlugTransports | undefined;
    /** Devices whose last failure was AUTH_FAILED (cleared by a successful poll). */
    const authFailed = new Set<string>();
    let setupError: Error | undefined;
    let devices: Device[] = [];
    let lookup: (id: string) => Device | undefined = () => undefined;
    /** Devices whose last failure was UNSUPPORTED_FIRMWARE (cleared by a successful poll). */
    const firmware = new Set<string>();
    /** Identity first seen per device (IDENTITY_CHANGED); `accept-identity` forgets it. */
    const identities = new IdentityGuard();
    const pending = new Set<Promise<unknown>>();
    let statusTimer: NodeJS.Timeout | undefined;
    let statusDirty = false;
    let closing = false;

    // RateLimitedLog writes a string; the msg for Catch nodes is handed over through this slot (write() is synchronous).
    let errorMsg: NodeMessage | undefined;
    const errors = new RateLimitedLog((text) => node.error(text, errorMsg), ERROR_EVERY_MS);

    const applyStatus = () => {
      statusDirty = false;
      if (!poller) return;
      if (authFailed.size > 0) {
        node.status(status.error(RED._("plugwatch-collector.status.auth", { device: [...authFailed][0] ?? "", count: authFailed.size })));
        return;
      }
      if (firmware.size > 0) {
        node.status(status.error(RED._("plugwatch-collector.status.firmware")));
        return;
      }
      const c = poller.tracker.counts();
      if (c.online + c.offline === 0) node.status(status.busy(RED._("plugwatch-collector.status.starting", { total: devices.length })));
      else node.status(status.ok(RED._("plugwatch-collector.status.online", { online: c.online, total: devices.length })));
    };
    const updateStatus = () => {
      if (closing) return;
      if (statusTimer) {
        statusDirty = true;
        return;
      }
      applyStatus();
      statusTimer = setTimeout(function flushStatus() {
        statusTimer = undefined;
        if (statusDirty && !closing) updateStatus();
      }, STATUS_EVERY_MS);
    };

    const reportError = (device: Device, code: string, message: string, ts: number) => {
      errorMsg = { topic: cfg ? deviceTopic(cfg.root, device, "availability") : device.id, payload: { device: device.id, code, message, ts: Math.round(ts) } } as NodeMessage;
      errors.write(`${device.id}:${code}`, RED._("plugwatch-collector.errors.poll", { device: device.id, address: `${device.host}:${device.port}`, code, message }));
      errorMsg = undefined;
    };

    try {
      cfg = parseConfig(def);
    } catch (err) {
      setupError = err as Error;
      node.error(setupError.message);
      node.status(status.error(RED._("plugwatch-collector.status.bad-config")));
    }

    if (cfg) {
      const config = cfg;
      try {
        const registryNode = RED.nodes.getNode(def.registry) as PlugwatchRegistryNode | null;
        if (!registryNode) throw new PlugwatchError("REGISTRY_INVALID", RED._("plugwatch-collector.errors.no-registry"));
        const registry = registryNode.require();
        lookup = (id) => registry.get(id);
        devices = registry.filter(config.filter);
      } catch (err) {
        setupError = err as Error;
        node.error(RED._("plugwatch-collector.errors.registry", { message: setupError.message }));
        node.status(status.error(errorText(err)));
      }
      if (!setupError) {
        // Keep-alive: one socket per plug between polls (see lib/plug-connection.ts); closed in on("close").
        // KLAP/Tapo plugs use the account config node's credentials (lib/transports/plug-transports.ts).
        const account = def.account ? (RED.nodes.getNode(def.account) as PlugwatchTplinkAccountNode | null) : null;
        const plugs = new PlugTransports({ timeoutMs: config.timeoutMs, keepAlive: true, credentials: () => account?.account() });
        client = plugs;
        poller = new Poller<Device>({
          devices,
          poll: (d) => plugs.poll(d, config.timeoutMs),
          intervalMs: config.intervalMs,
          timeoutMs: config.timeoutMs + GUARD_GRACE_MS,
          concurrency: config.concurrency,
          offlineAfter: config.offlineAfter,
          statsIntervalMs: 0,
          check: sampleCheck(identities),
          on: {
            reading: (device, sample, ts) => {
              if (firmware.delete(device.id)) updateStatus();
              if (authFailed.delete(device.id)) updateStatus();
              const reading = toReading(device, sample, Math.round(ts));
              const checked = validate(Reading, reading);
              if (!checked.ok) {
                const first = checked.issues[0];
                reportError(device, "INVALID_READING", `${first?.path ?? "$"}: ${first?.message ?? "invalid"} (${JSON.stringify(sample)})`, ts);
                return;
              }
              node.send({ topic: deviceTopic(config.root, device, "reading"), payload: reading, qos: 1, retain: false } as NodeMessage);
            },
            availability: (change, device) => {
              node.send({ topic: deviceTopic(config.root, device, "availability"), payload: toAvailability(change), qos: 1, retain: true } as NodeMessage);
              updateStatus();
            },
            error: (device, failure, ts) => {
              if (failure.code === "AUTH_FAILED" && !authFailed.has(device.id)) {
                authFailed.add(device.id);
                node.warn(RED._("plugwatch-collector.errors.auth", { device: device.id, address: `${device.host}:${device.port}` }));
                updateStatus();
              }
              if (failure.code === "UNSUPPORTED_FIRMWARE" && !firmware.has(device.id)) {
                firmware.add(device.id);
                node.warn(RED._("plugwatch-collector.errors.firmware", { device: device.id, address: `${device.host}:${device.port}` }));
                updateStatus();
              }
              reportError(device, failure.code, failure.message, ts);
            },
          },
        });
        if (devices.length === 0) {
          node.warn(RED._("plugwatch-collector.errors.no-devices", { filter: JSON.stringify(config.filter) }));
          node.status(status.idle(RED._("plugwatch-collector.status.no-devices")));
        } else {
          node.status(status.busy(RED._("plugwatch-collector.status.starting", { total: devices.length })));
        }
        poller.start();
      }
    }

    const track = <T>(p: Promise<T>): Promise<T> => {
      pending.add(p);
      const forget = () => pending.delete(p);
      p.then(forget, forget);
      return p;
    };

    node.on("input", (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
      if (!poller || !client || closing) {
        fail(node, setupError ?? new PlugwatchError("INTERNAL", "collector is not running"), done);
        return;
      }
      let cmd;
      try {
        cmd = parseCommand(msg.payload, new Date());
      } catch (err) {
        fail(node, err, done);
        return;
      }
      if (cmd.action === "accept-identity") {
        identities.accept(cmd.device);
        done();
        return;
      }
      if (cmd.action === "poll") {
        track(poller.pollNow()).then(
          () => done(),
          (err: unknown) => fail(node, err, done),
        );
        return;
      }
      const device = lookup(cmd.device);
      if (!device) {
        fail(node, new PlugwatchError("UNKNOWN_DEVICE", `unknown device '${cmd.device}'`), done);
        return;
      }
      const { period, year } = cmd;
      track(client.stats(device, period, year, cmd.month)).then(
        (list) => {
          const out = { ...msg, payload: list, device: device.id, period, year } as NodeMessage & Record<string, unknown>;
          if (cmd.month !== undefined) out.month = cmd.month;
          send(out);
          done();
        },
        (err: unknown) => fail(node, err, done),
      );
    });

    node.on("close", (removed: boolean, done: () => void) => {
      closing = true;
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      const stopping = poller ? poller.stop() : Promise.resolve();
      Promise.allSettled([stopping, ...pending]).then(() => {
        client?.close();
        if (removed) node.status(status.clear());
        done();
      });
    });
  }

  RED.nodes.registerType("plugwatch-collector", SmartplugCollector);

  // Discovery for the editor's "discover" button: UDP broadcast (plus optional unicast probes) for a few seconds, answers as registry drafts.
  RED.httpAdmin.get("/plugwatch/discover", RED.auth.needsPermission("plugwatch-collector.read"), (req, res) => {
    let query: DiscoveryQuery;
    try {
      query = parseDiscoveryQuery(req.query as { broadcast?: unknown; timeout?: unknown; probe?: unknown });
    } catch (err) {
      const e = err as PlugwatchError;
      res.status(400).json({ code: e.code, message: e.message });
      return;
    }
    discover({ broadcast: query.broadcast, timeoutMs: query.timeoutMs, probe: query.probe }).then(
      (plugs) => res.json({ broadcast: query.broadcast, timeoutMs: query.timeoutMs, found: plugs, drafts: toRegistryDrafts(plugs) }),
      (err: unknown) => {
        const e = err instanceof PlugwatchError ? err : new PlugwatchError("INTERNAL", String(err));
        res.status(502).json({ code: e.code, message: e.message });
      },
    );
  });
};
