// plugwatch-influx-hook node: readings in → validated line protocol → durable spool → batched InfluxDB writes. Glue only; logic in lib/.
import type { NodeAPI } from "node-red";
import { PlugwatchError } from "../../lib/contracts/errors";
import { combineErrors, hookHealth } from "../../lib/influx/hook-health";
import { HOOK_COMPONENT, hookStatus } from "../../lib/influx/hook-status";
import { LineEncoder, encodePayload } from "../../lib/influx/points";
import { InfluxWriter, influxSink } from "../../lib/influx/writer";
import { Spool } from "../../lib/spool";
import { componentStatusTopic } from "../../lib/topics";
import { defineNode, errorText } from "../shared/kit";
import { parseHookConfig } from "./config";

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-influx-hook", parseHookConfig, (node, opts, kit) => {
    const { settings, http } = kit.configNode("plugwatch-influx", opts.influx).require();
    if (!opts.registry && !opts.acceptUnknown) throw new PlugwatchError("REGISTRY_INVALID", kit.t("errors.noRegistry"));
    const encoder = new LineEncoder(opts.registry ? kit.loadRegistry(opts.registry) : undefined, {
      measurement: opts.measurement,
      acceptUnknown: opts.acceptUnknown,
    });
    const counters = { invalidInputs: 0, invalidElements: 0, spoolFullRefusals: 0 };
    const events = { lastFullAt: 0, lastInvalid: { at: 0, code: "" } };
    let writer: InfluxWriter | undefined;
    let spool: Spool | undefined;
    let startError: Error | undefined;

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
      const w = new InfluxWriter({
        spool,
        sink: influxSink(http, settings, { createDatabase: opts.createDatabase }),
        batchSize: opts.batchSize,
        flushIntervalMs: opts.flushIntervalMs,
        maxInFlight: opts.maxInFlight,
        // Keyed by the kind of message (e.g. refused-400), not its text: counts and server details change every batch.
        log: (m, key) => kit.warnLimited(key, m),
      });
      writer = w;
      w.onChange = updateStatus;
      kit.setInterval(updateStatus, 1000);
      const topic = componentStatusTopic(opts.root, HOOK_COMPONENT);
      const stats = () => hookStatus(w.stats(), counters, { node: node.id, name: node.name }, kit.clock.now());
      if (opts.statsIntervalMs > 0) kit.setInterval(() => node.send({ topic, payload: stats() }), opts.statsIntervalMs);
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
      const { lines, errors } = encodePayload(encoder, msg.payload);
      const invalid = (): void => {
        counters.invalidInputs++;
        counters.invalidElements += errors.length;
        const err = combineErrors(errors);
        events.lastInvalid = { at: kit.clock.now(), code: err.code };
        updateStatus();
        done(err);
      };
      if (lines.length === 0) return invalid();
      writer.accept(lines, (err) => {
        if (err instanceof PlugwatchError && err.code === "SPOOL_FULL") {
          counters.spoolFullRefusals++;
          events.lastFullAt = kit.clock.now();
        }
        if (!err) return errors.length ? invalid() : done();
        updateStatus();
        done(err);
      });
    });

    kit.onClose(async (removed) => {
      await ready;
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
