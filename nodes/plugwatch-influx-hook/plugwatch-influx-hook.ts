// plugwatch-influx-hook node: readings in → validated line protocol → durable spool → batched InfluxDB writes. Glue only; logic in lib/.
import * as os from "node:os";
import * as path from "node:path";
import type { NodeAPI, NodeMessage, NodeStatus } from "node-red";
import { PlugwatchError } from "../../lib/contracts/errors";
import { LineEncoder, encodePayload } from "../../lib/influx/points";
import { InfluxWriter, influxSink, type WriterStats } from "../../lib/influx/writer";
import { Spool } from "../../lib/spool";
import { HOOK_COMPONENT, hookStatus } from "../../lib/influx/hook-status";
import { SpoolFullAlarm, lineTimestampMs } from "../../lib/influx/spool-alarm";
import { alertMessages } from "../../lib/alerts/messages";
import { fairShareKey } from "../../lib/influx/points";
import { componentStatusTopic, parseDeviceTopic } from "../../lib/topics";
import { reasonOf } from "../../lib/influx/reading-guard";
import type { Registry } from "../../lib/registry";
import { RateLimitedLog, errorText, fail, status } from "../shared/node-kit";
import type { PlugwatchInfluxNode } from "../plugwatch-influx/types";
import type { PlugwatchRegistryNode } from "../plugwatch-registry/types";
import type { PlugwatchInfluxHookNode, PlugwatchInfluxHookNodeDef } from "./types";
import { parseHookOptions, type HookOptions } from "./config";

/** How long an invalid input or a SPOOL_FULL stays visible in the status (ms). */
const STATUS_HOLD_MS = 10_000;

/** One error for a message whose elements failed: the first one's code and message, plus how many more. */
function combine(errors: PlugwatchError[]): PlugwatchError {
  const first = errors[0] as PlugwatchError;
  if (errors.length === 1) return first;
  const details = errors.flatMap((e) => e.details ?? [{ path: "$", message: e.message }]).slice(0, 50);
  return new PlugwatchError(first.code, `${first.message} (and ${errors.length - 1} more invalid element(s))`, details);
}

export = (RED: NodeAPI) => {
  function InfluxHook(this: PlugwatchInfluxHookNode, def: PlugwatchInfluxHookNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const warn = new RateLimitedLog((m) => node.warn(m), 60_000);
    const counters = { invalidInputs: 0, invalidElements: 0, spoolFullRefusals: 0, rejectedReadings: {} as Record<string, number> };
    let writer: InfluxWriter | undefined;
    let spool: Spool | undefined;
    let encoder: LineEncoder | undefined;
    let startError: Error | undefined;
    let opts: HookOptions | undefined;
    let closing = false;
    let lastStatus = "";
    let lastInvalid = { at: 0, code: "" };
    let lastFullAt = 0;
    let statusTimer: NodeJS.Timeout | undefined;
    let statsTimer: NodeJS.Timeout | undefined;
    const userDir = (RED.settings as { userDir?: string }).userDir || path.join(os.homedir(), ".node-red");
    const spoolDir = (def.spoolDir ?? "").trim() || path.join(userDir, "plugwatch-spool", node.id);

    const setStatus = (s: NodeStatus) => {
      const key = JSON.stringify(s);
      if (key === lastStatus) return;
      lastStatus = key;
      node.status(s);
    };

    const updateStatus = () => {
      if (startError) return setStatus(status.error(errorText(startError)));
      if (!writer) return setStatus(status.busy(RED._("plugwatch-influx-hook.status.starting")));
      const st = writer.stats();
      const now = Date.now();
      const base = `${st.acceptedPerSec}/s, backlog ${st.backlogLines}`;
      if (now - lastFullAt < STATUS_HOLD_MS) return setStatus(status.error(`SPOOL_FULL, backlog ${st.backlogLines}`));
      if (st.retrying) return setStatus(status.busy(`retrying: ${st.lastError?.code ?? "STORAGE_UNAVAILABLE"}`));
      if (now - lastInvalid.at < STATUS_HOLD_MS) return setStatus(status.warn(`${base}, ${lastInvalid.code}`));
      if (opts && st.backlogLines > 2 * opts.batchSize && st.writtenPerSec < st.acceptedPerSec) return setStatus(status.warn(base));
      setStatus(status.ok(base));
    };

    const alarm = new SpoolFullAlarm({ component: HOOK_COMPONENT });
    /** Timestamp of the oldest unsent reading, refreshed with each stats message. */
    let oldestTs: number | undefined;
    const stats = (s: WriterStats) => hookStatus(s, counters, { node: node.id, name: def.name }, Date.now(), { spoolFull: alarm.active, oldestTs });
    const sendAlert = (e: ReturnType<SpoolFullAlarm["check"]>) => {
      if (e && opts) node.send([alertMessages(opts.root, [e]) as NodeMessage[]]);
    };

    const start = async () => {
      opts = parseHookOptions(def);
      const influx = RED.nodes.getNode(def.influx) as PlugwatchInfluxNode | null;
      if (!influx || typeof influx.require !== "function") throw new PlugwatchError("STORAGE_UNAVAILABLE", "no plugwatch-influx config node selected");
      const { settings, http } = influx.require();
      let registry: Registry | undefined;
      if (def.registry) {
        const rn = RED.nodes.getNode(def.registry) as PlugwatchRegistryNode | null;
        if (!rn) throw new PlugwatchError("REGISTRY_INVALID", "the selected plugwatch-registry config node does not exist");
        registry = rn.require();
      } else if (!opts.acceptUnknown) {
        throw new PlugwatchError("REGISTRY_INVALID", "no plugwatch-registry config node selected (select one, or enable 'accept unknown devices')");
      }
      encoder = new LineEncoder(registry, { measurement: opts.measurement, acceptUnknown: opts.acceptUnknown });
      spool = await Spool.open({ dir: spoolDir, maxBytes: opts.maxBytes, policy: opts.policy, log: (m) => node.warn(m) });
      if (closing) {
        await spool.close();
        return;
      }
      if (spool.backlogLines > 0) node.log(RED._("plugwatch-influx-hook.log.recovered", { lines: spool.backlogLines, dir: spoolDir }));
      writer = new InfluxWriter({
        spool,
        sink: influxSink(http, settings, { createDatabase: opts.createDatabase }),
        batchSize: opts.batchSize,
        flushIntervalMs: opts.flushIntervalMs,
        maxInFlight: opts.maxInFlight,
        // Keyed by the kind of message (e.g. refused-400), not its text: counts and server details change every batch.
        log: (m, key) => warn.write(key, m),
      });
      writer.onChange = updateStatus;
      statusTimer = setInterval(() => {
        updateStatus();
        const st = writer && writer.stats();
        if (st) sendAlert(alarm.check(Date.now(), st.backlogBytes / st.spool.maxBytes));
      }, 1000);
      if (opts.statsIntervalMs > 0) {
        const topic = componentStatusTopic(opts.root, HOOK_COMPONENT);
        statsTimer = setInterval(() => {
          const sp = spool;
          const head = sp ? sp.peek(sp.headSeq, 1) : Promise.resolve(undefined);
          void head
            .then((b) => (oldestTs = b ? lineTimestampMs(b.body.toString("utf8").trimEnd()) : undefined))
            .catch(() => undefined)
            .then(() => writer && !closing && node.send({ topic, payload: stats(writer.stats()) } as NodeMessage));
        }, opts.statsIntervalMs);
      }
    };

    const ready = start().then(
      () => updateStatus(),
      (err: unknown) => {
        startError = err instanceof Error ? err : new Error(String(err));
        node.error(startError.message);
        updateStatus();
      },
    );

    const handle = (msg: NodeMessage, done: (err?: Error) => void) => {
      if (!writer || !encoder) return fail(node, startError ?? new PlugwatchError("INTERNAL", "plugwatch-influx-hook is not running"), done);
      const { lines, errors } = encodePayload(encoder, msg.payload, opts && parseDeviceTopic(opts.root, String(msg.topic ?? ""))?.device);
      const bad = () => {
        counters.invalidInputs++;
        counters.invalidElements += errors.length;
        for (const e of errors) counters.rejectedReadings[reasonOf(e)] = (counters.rejectedReadings[reasonOf(e)] ?? 0) + 1;
        const err = combine(errors);
        lastInvalid = { at: Date.now(), code: err.code };
        updateStatus();
        done(err);
      };
      if (lines.length === 0) return bad();
      writer.accept(lines, (err) => {
        if (err) {
          if (err instanceof PlugwatchError && err.code === "SPOOL_FULL") {
            counters.spoolFullRefusals++;
            lastFullAt = Date.now();
            // Loud: a warning in the log (one per minute, with the count of suppressed ones) and an alert raised once.
            warn.write("spool-full", err.message);
            sendAlert(alarm.refused(lastFullAt, err.message));
          }
          updateStatus();
          done(err);
        } else if (errors.length) bad();
        else done();
      }, fairShareKey(lines[0] as string));
    };

    this.on("input", (msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => {
      if (writer || startError) handle(msg, done);
      else void ready.then(() => handle(msg, done));
    });

    this.on("close", (removed: boolean, done: () => void) => {
      closing = true;
      if (statusTimer) clearInterval(statusTimer);
      if (statsTimer) clearInterval(statsTimer);
      ready
        .then(async () => {
          if (!writer) return;
          await writer.close(5000);
          const left = writer.stats().backlogLines;
          if (left > 0) node.log(RED._("plugwatch-influx-hook.log.left", { lines: left, dir: spoolDir }));
          // Only the spool's own files: the directory may be shared with other files (a user-set Spool dir).
          else if (removed) await spool?.removeFiles();
        })
        .catch((err: unknown) => node.error(`close: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => {
          node.status(status.clear());
          done();
        });
    });
  }
  RED.nodes.registerType("plugwatch-influx-hook", InfluxHook);
};
