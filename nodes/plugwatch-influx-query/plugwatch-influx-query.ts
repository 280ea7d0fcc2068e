// plugwatch-influx-query node: answers query requests from MQTT with replies for an mqtt-out node; the logic is lib/influx/query-service.
import type { NodeAPI, NodeMessageInFlow } from "node-red";
import { PlugwatchError, asPlugwatchError } from "../../lib/contracts/errors";
import { coalesce } from "../../lib/influx/coalesce";
import { influxRunner, QueryService, type StatementRunner } from "../../lib/influx/query-service";
import { Limiter } from "../../lib/limiter";
import { rollupSettings } from "../../lib/influx/resolution";
import type { InfluxConfigLike } from "./types";
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
      const run: StatementRunner =
        influx?.settings && influx.http
          ? coalesce(
              influxRunner({ settings: influx.settings, http: influx.http }, { database: config.database, timeoutMs: config.timeoutMs, signal: abort.signal }),
            )
          : () => Promise.reject(new PlugwatchError("STORAGE_UNAVAILABLE", kit.t("errors.noConfigNode", { type: "plugwatch-influx" })));
      const replyTopics = replyTopicGuardFromSettings({ plugwatch: kit.setting("plugwatch") }, DEFAULT_ROOT);
      const service = new QueryService({
        run,
        registry: () => kit.configNode("plugwatch-registry", config.registry).require(),
        limits: config.limits,
        replyTopics,
        // The rollup tiers as the config node keeps them (its `rollups` property); none = raw readings only.
        rollups: rollupSettings(influx && "rollups" in influx ? (influx as Pick<InfluxConfigLike, "rollups">).rollups : undefined),
        tariffs: config.tariff ? () => kit.configNode("plugwatch-tariff", config.tariff).require() : undefined,
      });
      const limiter = new Limiter({ concurrency: config.concurrency, maxWaiting: MAX_WAITING, clock: kit.clock });
      if (!influx) kit.status.show("error", "status.noInflux");
      else if (config.tariff && !kit.findConfigNode("plugwatch-tariff", config.tariff)?.book) kit.status.text("error", "TARIFF_INVALID");
      else kit.status.show("idle", "status.ready");

      /** A request with a forbidden reply topic: not run, not answered; counted, logged at a limited rate, in status. */
      const refusedReply = (err: ReplyTopicRefused, done: Done): void => {
        const total = service.replyTopics.refusedTotal;
        kit.warnLimited(`replyTo:${err.problem}`, kit.t("errors.replyRefused", { problem: err.problem, why: err.details?.[0]?.message ?? err.message, total }));
        kit.status.text("warn", `replyTo refused: ${total}`);
        done();
      };
      const refusing = (done: Done) => (err: unknown) => {
        if (err instanceof ReplyTopicRefused) return refusedReply(err, done);
        throw err;
      };

      /** The reply to a request that is not run (closing, queue full); done(err) for the storage's own failures. */
      const refuse = (msg: NodeMessageInFlow, send: Send, done: Done, error: PlugwatchError): void => {
        let answer;
        try {
          answer = service.refuse(msg.payload, error, msg.topic);
        } catch (err) {
          return refusing(done)(err);
        }
        const { replyTo, reply } = answer;
        send({ topic: replyTo, payload: reply, qos: 1, retain: false });
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
        const code = reply.error?.code;
        observeQuery(type, reply.ok ? "ok" : (code ?? "error"), kit.clock.now() - started);
        if (reply.ok) kit.status.text("ok", `${type} ${kit.clock.now() - started} ms`);
        else kit.status.text(code && SERVER_SIDE.has(code) ? "error" : "warn", `${type}: ${code ?? "error"}`);
        done(code && SERVER_SIDE.has(code) ? new PlugwatchError(code, reply.error?.message ?? code) : undefined);
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
        // Queued requests never run: each is answered. Running ones are aborted and answer STORAGE_UNAVAILABLE.
        limiter.cancelWaiting(new PlugwatchError("STORAGE_UNAVAILABLE", CLOSED_BEFORE_RUN));
        abort.abort(new PlugwatchError("STORAGE_UNAVAILABLE", CLOSING));
      });
    },
    { closeGraceMs: CLOSE_GRACE_MS },
  );
