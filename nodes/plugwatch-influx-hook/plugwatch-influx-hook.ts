// plugwatch-influx-hook node: readings in → validated line protocol → durable spool → batched InfluxDB writes. Glue only; logic in lib/.
import type { NodeAPI } from "node-red";
import { delay } from "../../lib/clock";
import { PlugwatchError } from "../../lib/contracts/errors";
import { alertMessages } from "../../lib/alerts/messages";
import { encodeAuditPayload, isAuditTopic } from "../../lib/influx/audit-points";
import { combineErrors, countRejected, hookHealth, oldestUnsentTs } from "../../lib/influx/hook-health";
import { HOOK_COMPONENT, hookStatus } from "../../lib/influx/hook-status";
import { LineEncoder, encodePayload, fairShareKey } from "../../lib/influx/points";
import { SpoolFullAlarm } from "../../lib/influx/spool-alarm";
import { rollupNotifyingSink } from "../../lib/influx/retention-manager";
import { InfluxWriter, influxSink } from "../../lib/influx/writer";
import { pipeline } from "../../lib/metrics/hub";
import { forgetHook, observeWrite } from "../../lib/metrics/observe";
import { observeSink } from "../../lib/metrics/observed-sink";
import { hookSource } from "../../lib/metrics/sources";
import { Spool } from "../../lib/spool";
import { componentStatusTopic, parseDeviceTopic } from "../../lib/topics";
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
    const counters = { invalidInputs: 0, invalidElements: 0, spoolFullRefusals: 0, rejectedReadings: {} as Record<string, number> };
    const alarm = new SpoolFullAlarm({ component: HOOK_COMPONENT });
    const sendAlert = (e: ReturnType<SpoolFullAlarm["check"]>): void => {
      if (e) node.send([alertMessages(opts.root, [e])]);
    };
    const events = { lastFullAt: 0, lastInvalid: { at: 0, code: "" } };
    let writer: InfluxWriter | undefined;
    let spool: Spool | undefined;
    let startError: Error | undefined;
    const label = metricLabel(node);
    let unregister = (): void => undefined;

    const updateStatus = (): void => {
      if (startError) return kit.status.text("error", errorText(startError));
      if (!writer) return kit.status.show("busy", "status.starting");
      const h = hookHealth(writer.stats(), events, opts.batchSize, kit.clock.now());
      kit.status.text(h.kind, h.text);
    };

    const start = async (): Promise<void> => {
      spool = await Spool.open({ dir: opts.spoolDir, maxBytes: opts.maxBytes, policy: opts.policy, log: (m) => node.warn(m) });
      if (kit.closing) return spool.close();
      if (spool.backlogLines > 0) node.log(kit.t("log.recovered", { lines: spool.backlogLines, dir: opts.spoolDir }));
      // The first retention apply makes plugwatch_raw the DEFAULT RP: wait for it (5 s at most) so no batch lands in autogen.
      const wait = delay(kit.clock, 5000);
      await Promise.race([influx.retention?.firstApply(), wait.promise]);
      wait.cancel();
      if (kit.closing) return spool.close();
      const sink = observeSink(influxSink(http, settings, { createDatabase: opts.createDatabase }), () => kit.clock.now(), {
        written: (ms, ok) => observeWrite(label, ms, ok),
      });
      const w = new InfluxWriter({
        spool,
        // Late writes (replay, backfill) are re-aggregated into the rollups by the config node (docs/retention.md).
        sink: rollupNotifyingSink(sink, influx.retention),
        batchSize: opts.batchSize,
        flushIntervalMs: opts.flushIntervalMs,
        maxInFlight: opts.maxInFlight,
        // Keyed by the kind of message (e.g. refused-400), not its text: counts and server details change every batch.
        log: (m, key) => kit.warnLimited(key, m),
      });
      writer = w;
      w.onChange = updateStatus;
      const sp0 = spool;
      unregister = pipeline.hooks.add(
        node.id,
        label,
        hookSource(
          w,
          sink,
          () => counters.spoolFullRefusals,
          () => oldestUnsentTs(sp0),
        ),
      );
      kit.setInterval(() => {
        updateStatus();
        const st = w.stats();
        sendAlert(alarm.check(kit.clock.now(), st.backlogBytes / st.spool.maxBytes));
      }, 1000);
      const topic = componentStatusTopic(opts.root, HOOK_COMPONENT);
      const sp = spool;
      const stats = (oldestTs: number | undefined) =>
        hookStatus(w.stats(), counters, { node: node.id, name: node.name }, kit.clock.now(), {
          spoolFull: alarm.active,
          oldestTs,
          retention: influx.retention?.status(),
        });
      const report = async (): Promise<void> => {
        const oldest = await oldestUnsentTs(sp);
        if (!kit.closing) node.send({ topic, payload: stats(oldest) });
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
      if (!writer && !startError) await ready;
      if (!writer) throw startError ?? new PlugwatchError("INTERNAL", kit.t("errors.notRunning"));
      const topic = String(msg.topic ?? "");
      // The control agent's audit trail is stored beside the readings (measurement `audit`).
      const { lines, errors } = isAuditTopic(topic)
        ? encodeAuditPayload(msg.payload)
        : encodePayload(encoder, msg.payload, parseDeviceTopic(opts.root, topic)?.device);
      const invalid = (): void => {
        counters.invalidInputs++;
        counters.invalidElements += errors.length;
        countRejected(counters.rejectedReadings, errors);
        const err = combineErrors(errors);
        events.lastInvalid = { at: kit.clock.now(), code: err.code };
        updateStatus();
        done(err);
      };
      if (lines.length === 0) return invalid();
      writer.accept(
        lines,
        (err) => {
          if (err instanceof PlugwatchError && err.code === "SPOOL_FULL") {
            counters.spoolFullRefusals++;
            events.lastFullAt = kit.clock.now();
            // Loud: a warning in the log (one per minute, with the count of suppressed ones) and an alert raised once.
            kit.warnLimited("spool-full", err.message);
            sendAlert(alarm.refused(events.lastFullAt, err.message));
          }
          if (!err) return errors.length ? invalid() : done();
          updateStatus();
          done(err);
        },
        fairShareKey(lines[0]),
      );
    });

    kit.onClose(async (removed) => {
      await ready;
      unregister();
      if (removed) forgetHook(label);
      if (!writer) return;
      try {
        await writer.close(5000);
        const left = writer.stats().backlogLines;
        if (left > 0) node.log(kit.t("log.left", { lines: left, dir: opts.spoolDir }));
        // Only the spool's own files: the directory may be shared with other files (a user-set Spool dir).
        else if (removed) await spool?.removeFiles();
      } catch (err) {
        node.error(kit.t("errors.close", { message: err instanceof Error ? err.message : String(err) }));
      }
    });
  });
