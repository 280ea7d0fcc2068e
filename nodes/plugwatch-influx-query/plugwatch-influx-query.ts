// plugwatch-influx-query node: answers query requests from MQTT (an mqtt-in wire or its own plugwatch-mqtt connection) with
// replies for an mqtt-out wire or that connection; the logic is lib/influx/query-service.
import type { NodeAPI, NodeMessageInFlow } from "node-red";
import { PlugwatchError, asPlugwatchError } from "../../lib/contracts/errors";
import { queryOutcome } from "../../lib/influx/query-outcome";
import { Limiter } from "../../lib/limiter";
import { observeQuery } from "../../lib/metrics/observe";
import { defineNode, type Done, type Send } from "../shared/kit";
import { ReplyTopicRefused } from "../../lib/contracts/reply-topic";
import { queryNodeService } from "./service";
import { queryRoute } from "./connection";
import { CLOSE_GRACE_MS, CLOSED_BEFORE_RUN, CLOSING, MAX_WAITING, parseQueryNodeConfig, SERVER_SIDE } from "./config";

export = (RED: NodeAPI) =>
  defineNode(
    RED,
    "plugwatch-influx-query",
    parseQueryNodeConfig,
    (node, config, kit) => {
      const abort = new AbortController(); // aborted on close: running queries answer STORAGE_UNAVAILABLE at once
      const { service, influxFound, unwatch } = queryNodeService(kit, config, abort.signal);
      const limiter = new Limiter({ concurrency: config.concurrency, maxWaiting: MAX_WAITING, clock: kit.clock });
      const route = queryRoute(node, kit, kit.findConfigNode("plugwatch-mqtt", config.connection), config.topic);
      if (!influxFound) kit.status.show("error", "status.noInflux");
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

      kit.onInput(async (msg, wire, done) => {
        const send = route.reply(wire);
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

      kit.onClose((removed) => {
        unwatch?.();
        // Queued requests never run: each is answered. Running ones are aborted and answer STORAGE_UNAVAILABLE.
        limiter.cancelWaiting(new PlugwatchError("STORAGE_UNAVAILABLE", CLOSED_BEFORE_RUN));
        abort.abort(new PlugwatchError("STORAGE_UNAVAILABLE", CLOSING));
        return route.release(removed);
      });
    },
    { closeGraceMs: CLOSE_GRACE_MS },
  );
