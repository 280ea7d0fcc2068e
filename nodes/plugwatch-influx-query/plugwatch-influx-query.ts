// plugwatch-influx-query node: answers query requests from MQTT with replies for an mqtt-out node; the logic is lib/influx/query-service.
import type { NodeAPI, NodeMessage, NodeMessageInFlow } from "node-red";
import type { InfluxConfigLike, PlugwatchInfluxQueryNode, PlugwatchInfluxQueryNodeDef } from "./types";
import type { PlugwatchRegistryNode } from "../plugwatch-registry/types";
import { PlugwatchError } from "../../lib/contracts/errors";
import { coalesce } from "../../lib/influx/coalesce";
import { influxRunner, parseQueryOptions, QueryService, type QueryOptions, type StatementRunner } from "../../lib/influx/query-service";
import { errorText, RateLimitedLog, status } from "../shared/node-kit";
import { installMqttNoDelay } from "../shared/mqtt-nodelay";
import { ReplyTopicRefused, replyTopicGuardFromSettings } from "../../lib/contracts/reply-topic";
import { DEFAULT_ROOT } from "../../lib/topics";

/** Codes that mean this node or its storage is failing (Catch nodes hear them), not that the client asked wrongly. */
const CLOSING = "plugwatch-influx-query is closing (redeploy or shutdown): the query was cancelled, try again";
/** done(err) text for requests still queued at close (they are not answered: test/nodes/plugwatch-influx-query.test.ts counts one reply). */
const CLOSED_BEFORE_RUN = "plugwatch-influx-query closed before the query ran";
/** Requests waiting for a free slot beyond `concurrency`; more are answered LIMIT_EXCEEDED at once. */
const MAX_WAITING = 1000;
/** On close, running queries are aborted; this is how long close waits for them to answer before it gives up (ms). */
const CLOSE_GRACE_MS = 5000;
const SERVER_SIDE = new Set(["STORAGE_UNAVAILABLE", "TIMEOUT", "INTERNAL", "REGISTRY_INVALID"]);

export = (RED: NodeAPI) => {
  // Request/reply over MQTT: no Nagle delay on the broker connections (nodes/shared/mqtt-nodelay.ts).
  installMqttNoDelay(RED);
  function InfluxQuery(this: PlugwatchInfluxQueryNode, def: PlugwatchInfluxQueryNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let config: QueryOptions | undefined;
    let configError: Error | undefined;
    let replyTopics: ReturnType<typeof replyTopicGuardFromSettings> | undefined;
    try {
      config = parseQueryOptions(def);
      replyTopics = replyTopicGuardFromSettings(RED.settings, DEFAULT_ROOT);
    } catch (err) {
      configError = new Error(`invalid configuration: ${(err as Error).message}`);
    }
    const influx = RED.nodes.getNode(def.influx) as InfluxConfigLike | null;
    const registryNode = RED.nodes.getNode(def.registry) as PlugwatchRegistryNode | null;
    // Aborted on close: running queries end at once with STORAGE_UNAVAILABLE instead of running into their timeout.
    const abort = new AbortController();
    const run: StatementRunner =
      influx && influx.settings && influx.http
        ? coalesce(influxRunner(influx, { database: def.database || undefined, timeoutMs: config?.timeoutMs, signal: abort.signal }))
        : async () => {
            throw new PlugwatchError("STORAGE_UNAVAILABLE", "no plugwatch-influx config node selected");
          };
    const service = new QueryService({
      run,
      registry: () => {
        if (!registryNode) throw new PlugwatchError("REGISTRY_INVALID", "no plugwatch-registry config node selected");
        return registryNode.require();
      },
      limits: config?.limits,
      ...(replyTopics ? { replyTopics } : {}),
    });
    const warnings = new RateLimitedLog((m) => node.warn(m), 60_000);
    /** A request with a forbidden reply topic: not run, not answered; counted, logged at a limited rate, in status. */
    function refusedReply(err: ReplyTopicRefused, done: (err?: Error) => void): void {
      const total = service.replyTopics.refusedTotal;
      warnings.write(`replyTo:${err.problem}`, RED._("plugwatch-influx-query.errors.replyRefused", { problem: err.problem, why: err.details?.[0]?.message ?? err.message, total }));
      node.status(status.warn(`replyTo refused: ${total}`));
      done();
    }

    if (configError) node.status(status.error(RED._("plugwatch-influx-query.status.badConfig")));
    else if (!influx) node.status(status.error(RED._("plugwatch-influx-query.status.noInflux")));
    else node.status(status.idle(RED._("plugwatch-influx-query.status.ready")));

    const maxRunning = config?.concurrency ?? 1;
    const waiting: { start: () => void; cancel: () => void }[] = [];
    const inFlight = new Set<Promise<void>>();
    let closing = false;
    /** close() has called its done: nothing is sent any more. */
    let closed = false;

    /** Sends the reply to a request that is not run (closing, queue full); done(err) for the storage's own failures. */
    function refuse(msg: NodeMessageInFlow, send: (m: NodeMessage) => void, done: (err?: Error) => void, error: PlugwatchError): void {
      try {
        const { replyTo, reply } = service.refuse(msg.payload, error, msg.topic);
        if (!closed) send({ topic: replyTo, payload: reply, qos: 1, retain: false } as NodeMessage);
        done(SERVER_SIDE.has(error.code) ? error : undefined);
      } catch (err) {
        if (err instanceof ReplyTopicRefused) return refusedReply(err, done);
        done(err instanceof Error ? err : new Error(String(err)));
      }
    }

    // Translated once: the status is set on every query (RED._ per call showed in the API bench's profile).
    const running = status.busy(RED._("plugwatch-influx-query.status.running"));
    async function answer(msg: NodeMessageInFlow, send: (m: NodeMessage) => void, done: (err?: Error) => void): Promise<void> {
      const started = Date.now();
      node.status({ ...running });
      try {
        const { replyTo, reply, type } = await service.handle(msg.payload, msg.topic);
        if (closed) return done(new PlugwatchError("STORAGE_UNAVAILABLE", CLOSING)); // answered too late: the node is gone
        send({ topic: replyTo, payload: reply, qos: 1, retain: false } as NodeMessage);
        const label = `${type ?? "query"} ${Date.now() - started} ms`;
        if (reply.ok) {
          node.status(status.ok(label));
          done();
        } else if (reply.error && SERVER_SIDE.has(reply.error.code)) {
          node.status(status.error(`${type ?? "query"}: ${reply.error.code}`));
          done(new PlugwatchError(reply.error.code, reply.error.message));
        } else {
          node.status(status.warn(`${type ?? "query"}: ${reply.error?.code ?? "error"}`));
          done();
        }
      } catch (err) {
        if (err instanceof ReplyTopicRefused) return refusedReply(err, done);
        // No readable id: nobody to answer, so the error goes to Catch nodes.
        node.status(status.error(errorText(err)));
        done(err instanceof Error ? err : new Error(String(err)));
      }
    }

    function pump(): void {
      while (inFlight.size < maxRunning && waiting.length > 0) waiting.shift()?.start();
    }

    node.on("input", (msg, send, done) => {
      if (configError) {
        node.status(status.error(RED._("plugwatch-influx-query.status.badConfig")));
        done(configError);
        return;
      }
      if (closing) {
        refuse(msg, send, done, new PlugwatchError("STORAGE_UNAVAILABLE", CLOSING));
        return;
      }
      if (inFlight.size >= maxRunning && waiting.length >= MAX_WAITING) {
        node.status(status.warn(RED._("plugwatch-influx-query.status.queueFull")));
        refuse(msg, send, done, new PlugwatchError("LIMIT_EXCEEDED", `too many queries waiting (${MAX_WAITING}): try again later`));
        return;
      }
      waiting.push({
        start: () => {
          const p = answer(msg, send, done).finally(() => {
            inFlight.delete(p);
            if (!closing) pump();
          });
          inFlight.add(p);
        },
        // The requester still waits on replyTo: tell it now rather than let it time out.
        cancel: () => refuse(msg, send, done, new PlugwatchError("STORAGE_UNAVAILABLE", CLOSED_BEFORE_RUN)),
      });
      pump();
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      closing = true;
      // Queued requests never ran: each gets its done(err). Running ones are aborted and
      // answer STORAGE_UNAVAILABLE; close waits for them at most CLOSE_GRACE_MS (Node-RED allows 15 s).
      for (const w of waiting.splice(0)) w.cancel();
      abort.abort(new PlugwatchError("STORAGE_UNAVAILABLE", CLOSING));
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      void Promise.race([Promise.allSettled([...inFlight]), grace]).then(() => {
        clearTimeout(timer);
        closed = true;
        node.status(status.clear());
        done();
      });
    });
  }
  RED.nodes.registerType("plugwatch-influx-query", InfluxQuery);
};
