// plugwatch-influx-query node: answers query requests from MQTT with replies for an mqtt-out node; the logic is lib/influx/query-service.
import type { NodeAPI, NodeMessageInFlow } from "node-red";
import { PlugwatchError, asPlugwatchError } from "../../lib/contracts/errors";
import { QueryService } from "../../lib/influx/query-service";
import { DayEnergyCache } from "../../lib/influx/day-energy-cache";
import { queryOutcome } from "../../lib/influx/query-outcome";
import { queryStorage } from "../../lib/influx/query-storage";
import { Limiter } from "../../lib/limiter";
import { observeQuery } from "../../lib/metrics/observe";
import { ReplyTopicRefused, replyTopicGuardFromSettings } from "../../lib/contracts/reply-topic";
import { DEFAULT_ROOT } from "../../lib/topics";
import { defineNode, type Done, type Send } from "../shared/kit";
import { CLOSE_GRACE_MS, CLOSED_BEFORE_RUN, CLOSING, MAX_WAITING, parseQueryNodeConfig, SERVER_SIDE } from "./config";

export = (RED: NodeAPI) =>
  defineNode(
    RED,
    "plugwatch-influx-query",
    parseQueryNodeConfig,
    (_node, config, kit) => {
      const influx = kit.findConfigNode("plugwatch-influx", config.influx);
      // Aborted on close: running queries end at once with STORAGE_UNAVAILABLE instead of running into their timeout.
      const abort = new AbortController();
      const storage = queryStorage(influx, { database: config.database ?? "", timeoutMs: config.timeoutMs, signal: abort.signal }, () =>
        kit.t("errors.noConfigNode", { type: "plugwatch-influx" }),
      );
      // Kept kWh of closed days (docs/queries.md): only with rollups, whose late data this runtime's config node reports.
      const dayCache = storage.rollups.enabled ? new DayEnergyCache({ now: () => kit.clock.now() }) : undefined;
      const unwatch = dayCache && influx?.retention?.onChange((change) => dayCache.onStorageChange(change));
      const service = new QueryService({
        run: storage.run,
        registry: () => kit.configNode("plugwatch-registry", config.registry).require(),
        limits: config.limits,
        replyTopics: replyTopicGuardFromSettings({ plugwatch: kit.setting("plugwatch") }, DEFAULT_ROOT),
        rollups: storage.rollups,
        ...(config.tariff && { tariffs: () => kit.configNode("plugwatch-tariff", config.tariff).require() }),
        ...(dayCache ? { dayCache } : {}),
      });
      const limiter = new Limiter({ concurrency: config.concurrency, maxWaiting: MAX_WAITING, clock: kit.clock });
      if (!influx) kit.status.show("error", "status.noInflux");
      else if (config.tariff && !kit.findConfigNode("plugwatch-tariff", config.tariff)?.book) kit.status.text("error", "TARIFF_INVALID");
      else kit.status.show("idle", "status.ready");

      /** A request with a forbidden reply topic: not run, not answered; counted, logged at a limited rate, in status. */
      const refusing = (done: Done) => (err: unknown) => {
        if (!(err instanceof ReplyTopicRefused)) throw err;
        const total = service.replyTopics.refusedTotal;
        kit.warnLimited(`replyTo:${err.problem}`, kit.t("errors.replyRefused", { problem: err.problem, why: err.details?.[0]?.message ?? err.message, total }));
        kit.status.text("warn", `replyTo refused: ${total}`);
        done();
      };

      /** The reply to a request that is not run (closing, queue full); done(err) for the storage's own failures. */
      const refuse = (msg: NodeMessageInFlow, send: Send, done: Done, error: PlugwatchError): void => {
        try {
          const { replyTo, reply } = service.refuse(msg.payload, error, msg.topic);
          send({ topic: replyTo, payload: reply, qos: 1, retain: false });
        } catch (err) {
          return refusing(done)(err);
        }
        done(SERVER_SIDE.has(error.code) ? error : undefined);
      };

      const answer = async (msg: NodeMessageInFlow, send: Send, done: Done): Promise<void> => {
        const started = kit.clock.now();
        kit.status.show("busy", "status.running");
        // No readable id/replyTo throws: nobody to answer, so the kit sends the error to Catch nodes.
        const answered = await service.handle(msg.payload, msg.topic).catch(refusing(done));
        if (!answered) return;
        const { replyTo, reply, type = "query" } = answered;
        send({ topic: replyTo, payload: reply, qos: 1, retain: false });
        const ms = kit.clock.now() - started;
        const out = queryOutcome(type, reply, ms);
        observeQuery(type, out.result, ms);
        kit.status.text(out.kind, out.text);
        done(out.error);
      };

      kit.onInput(async (msg, send, done) => {
        if (kit.closing) return refuse(msg, send, done, new PlugwatchError("STORAGE_UNAVAILABLE", CLOSING));
        if (limiter.full) {
          kit.status.show("warn", "status.queueFull");
          return refuse(msg, send, done, new PlugwatchError("LIMIT_EXCEEDED", `too many queries waiting (${MAX_WAITING}): try again later`));
        }
        let started = false;
        const task = (): Promise<void> => {
          started = true;
          return answer(msg, send, done);
        };
        await limiter.run(task).catch((err: unknown) => {
          // Cancelled while waiting (close): the requester still waits on replyTo, so tell it now.
          if (started) throw err;
          refuse(msg, send, done, asPlugwatchError(err, "STORAGE_UNAVAILABLE"));
        });
      });

      kit.onClose(() => {
        unwatch?.();
        // Queued requests never run: each is answered. Running ones are aborted and answer STORAGE_UNAVAILABLE.
        limiter.cancelWaiting(new PlugwatchError("STORAGE_UNAVAILABLE", CLOSED_BEFORE_RUN));
        abort.abort(new PlugwatchError("STORAGE_UNAVAILABLE", CLOSING));
      });
    },
    { closeGraceMs: CLOSE_GRACE_MS },
  );
