// plugwatch-influx-hook node: readings in → validated line protocol → durable spool → batched InfluxDB writes. Glue only; logic in lib/influx/hook-runtime.ts.
import type { NodeAPI } from "node-red";
import { PlugwatchError } from "../../lib/contracts/errors";
import { alertMessages } from "../../lib/alerts/messages";
import { encodeAuditPayload, isAuditTopic } from "../../lib/influx/audit-points";
import { HookRuntime } from "../../lib/influx/hook-runtime";
import { componentStatusTopic, parseDeviceTopic } from "../../lib/topics";
import { HOOK_COMPONENT } from "../../lib/influx/hook-status";
import { LineEncoder, encodePayload, fairShareKey } from "../../lib/influx/points";
import { influxSink } from "../../lib/influx/writer";
import { pipeline } from "../../lib/metrics/hub";
import { forgetHook, observeWrite } from "../../lib/metrics/observe";
import { observeSink } from "../../lib/metrics/observed-sink";
import { defineNode, errorText } from "../shared/kit";
import { metricLabel } from "../shared/metrics";
import { parseHookConfig } from "./config";

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-influx-hook", parseHookConfig, (node, opts, kit) => {
    const influx = kit.configNode("plugwatch-influx", opts.influx);
    const { settings, http } = influx.require();
    if (!opts.registry && !opts.acceptUnknown) throw new PlugwatchError("REGISTRY_INVALID", kit.t("errors.noRegistry"));
    const encoder = new LineEncoder(opts.registry ? kit.loadRegistry(opts.registry) : undefined, {
      measurement: opts.measurement,
      acceptUnknown: opts.acceptUnknown,
    });
    const label = metricLabel(node);
    const sink = observeSink(influxSink(http, settings, { createDatabase: opts.createDatabase }), () => kit.clock.now(), {
      written: (ms, ok) => observeWrite(label, ms, ok),
    });
    let startError: Error | undefined;
    let unregister = (): void => undefined;
    const updateStatus = (): void => {
      if (startError) return kit.status.text("error", errorText(startError));
      const h = hook.health(opts.batchSize);
      if (!h) return kit.status.show("busy", "status.starting");
      kit.status.text(h.kind, h.text);
    };
    const hook: HookRuntime = new HookRuntime(opts, {
      clock: kit.clock,
      sink,
      retention: influx.retention,
      closing: () => kit.closing,
      warn: (m) => node.warn(m),
      warnLimited: (key, m) => kit.warnLimited(key, m),
      changed: updateStatus,
      alert: (e) => node.send([alertMessages(opts.root, [e])]),
    });

    const start = async (): Promise<void> => {
      if (!(await hook.start((lines) => node.log(kit.t("log.recovered", { lines, dir: opts.spoolDir }))))) return;
      const source = hook.source();
      if (source) unregister = pipeline.hooks.add(node.id, label, source);
      kit.setInterval(() => {
        updateStatus();
        hook.tick();
      }, 1000);
      const topic = componentStatusTopic(opts.root, HOOK_COMPONENT);
      const report = async (): Promise<void> => {
        const payload = await hook.stats({ node: node.id, name: node.name });
        if (payload && !kit.closing) node.send({ topic, payload });
      };
      if (opts.statsIntervalMs > 0) kit.setInterval(() => void kit.track(report()), opts.statsIntervalMs);
    };
    const ready = kit.track(
      start().then(updateStatus, (err: unknown) => {
        startError = err instanceof Error ? err : new Error(String(err));
        node.error(startError.message);
        updateStatus();
      }),
    );

    kit.onInput(async (msg, _send, done) => {
      if (!hook.writer && !startError) await ready;
      if (!hook.writer) throw startError ?? new PlugwatchError("INTERNAL", kit.t("errors.notRunning"));
      const topic = String(msg.topic ?? "");
      // The control agent's audit trail is stored beside the readings (measurement `audit`).
      const { lines, errors } = isAuditTopic(topic)
        ? encodeAuditPayload(msg.payload)
        : encodePayload(encoder, msg.payload, parseDeviceTopic(opts.root, topic)?.device);
      hook.store(lines, errors, lines[0] === undefined ? undefined : fairShareKey(lines[0]), done);
    });

    kit.onClose(async (removed) => {
      await ready;
      unregister();
      if (removed) forgetHook(label);
      try {
        const left = await hook.close(removed);
        if (left > 0) node.log(kit.t("log.left", { lines: left, dir: opts.spoolDir }));
      } catch (err) {
        node.error(kit.t("errors.close", { message: err instanceof Error ? err.message : String(err) }));
      }
    });
  });
