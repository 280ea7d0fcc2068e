// plugwatch-control: glue between Node-RED messages and lib/control.ts (command in, per-device reply out).
import type { NodeAPI, NodeMessage, NodeMessageInFlow } from "node-red";
import { checkControllerOptions, Controller, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS } from "../../lib/control";
import { PlugwatchError, type ErrorCode } from "../../lib/contracts/errors";
import { PlugTransports } from "../../lib/transports/plug-transports";
import type { PlugwatchTplinkAccountNode } from "../plugwatch-tplink-account/types";
import { fail, RateLimitedLog, status } from "../shared/node-kit";
import type { PlugwatchRegistryNode } from "../plugwatch-registry/types";
import type { PlugwatchControlNode, PlugwatchControlNodeDef } from "./types";
import { installMqttNoDelay } from "../shared/mqtt-nodelay";
import { ReplyTopicRefused, replyTopicGuardFromSettings, requestRoot } from "../../lib/contracts/reply-topic";
import { auditTopic } from "../../lib/contracts/command";
import { DEFAULT_ROOT } from "../../lib/topics";

/** Reply errors caused by this side (not by the request): the reply is still sent, and Catch nodes hear about it. */
const SERVER_ERRORS = new Set<ErrorCode>(["REGISTRY_INVALID", "INTERNAL"]);
/** How long close() waits for commands in flight (Node-RED allows 15 s). */
const CLOSE_GRACE_MS = 10_000;

const numberOr = (v: unknown, fallback: number): number => (v === undefined || v === null || v === "" ? fallback : Number(v));

export = (RED: NodeAPI) => {
  // Request/reply over MQTT: no Nagle delay on the broker connections (nodes/shared/mqtt-nodelay.ts).
  installMqttNoDelay(RED);
  function SmartplugControl(this: PlugwatchControlNode, def: PlugwatchControlNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const concurrency = numberOr(def.concurrency, DEFAULT_CONCURRENCY);
    const timeoutMs = numberOr(def.timeout, DEFAULT_TIMEOUT_MS);
    const registryNode = RED.nodes.getNode(def.registry) as PlugwatchRegistryNode | null;
    const warnings = new RateLimitedLog((m) => node.warn(m), 60_000);

    let replyTopics: ReturnType<typeof replyTopicGuardFromSettings> | undefined;
    let guardProblem: string | undefined;
    try {
      replyTopics = replyTopicGuardFromSettings(RED.settings, DEFAULT_ROOT);
    } catch (err) {
      guardProblem = (err as Error).message;
    }
    const configProblem =
      checkControllerOptions(concurrency, timeoutMs) ?? guardProblem ?? (registryNode ? undefined : RED._("plugwatch-control.errors.no-registry"));
    let controller: Controller | undefined;
    let transports: PlugTransports | undefined;
    if (configProblem) {
      node.error(RED._("plugwatch-control.errors.config", { problem: configProblem }));
      node.status(status.error(RED._("plugwatch-control.status.bad-config")));
    } else if (registryNode) {
      const account = def.account ? (RED.nodes.getNode(def.account) as PlugwatchTplinkAccountNode | null) : null;
      transports = new PlugTransports({ timeoutMs, credentials: () => account?.account() });
      controller = new Controller({ registry: () => registryNode.require(), client: transports, concurrency, timeoutMs, replyTopics });
      try {
        const size = registryNode.require().size;
        node.status(status.idle(RED._("plugwatch-control.status.ready", { count: size })));
      } catch {
        node.status(status.error("REGISTRY_INVALID"));
      }
    }

    // After close, a command that was still running completes into nothing: no send, status or done on a closed node.
    let closed = false;

    node.on("input", (msg: NodeMessageInFlow, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      // A retained command is stale by definition: the broker replays it on every start and every reconnect.
      // It switches nothing and gets no reply (its sender is long gone); a rate-limited warning says why.
      if ((msg as { retain?: unknown }).retain === true) {
        warnings.write("retained", RED._("plugwatch-control.errors.retained", { topic: String(msg.topic ?? "") }));
        node.status(status.warn(RED._("plugwatch-control.status.retained")));
        done();
        return;
      }
      if (!controller) {
        fail(node, new Error(RED._("plugwatch-control.errors.config", { problem: configProblem ?? "" })), done);
        return;
      }
      node.status(status.busy(RED._("plugwatch-control.status.busy", { count: controller.busy + 1 })));
      // A reply leaves only with a checked topic: replyTo, or an MQTT v5 response topic under the same rule
      // (lib/contracts/reply-topic.ts). A refused one is neither run nor answered.
      const v5 = (msg as { responseTopic?: unknown }).responseTopic;
      if (v5 !== undefined) {
        const r = controller.replyTopics.check(v5, msg.topic);
        if (!r.ok) {
          refused(r.problem, r.message);
          done();
          return;
        }
      }
      // A request from MQTT (mqtt in sets msg.qos) without any reply topic is run but not answered, so nothing
      // without a topic reaches an mqtt out node; from elsewhere (inject, dashboard) the reply goes out without topic.
      const fromMqtt = typeof (msg as { qos?: unknown }).qos === "number";
      controller.handle(msg.payload, msg.topic).then(
        ({ reply, replyTo, action, audit }) => {
          if (closed) return;
          const out: NodeMessage & Record<string, unknown> = { ...msg, payload: reply, qos: 1, retain: false };
          if (replyTo !== undefined) {
            out.topic = replyTo;
            delete out.responseTopic;
          } else {
            // Never echo the request topic (an mqtt out would publish the reply as a new request).
            // A checked MQTT v5 response topic stays in msg.responseTopic, which mqtt out uses when topic is unset.
            delete out.topic;
          }
          if (replyTo !== undefined || v5 !== undefined || !fromMqtt) send(out);
          // The audit trail: every switching action, who asked (the API's token name), on {root}/audit/command.
          if (audit) send({ topic: auditTopic(requestRoot(msg.topic) ?? DEFAULT_ROOT), payload: audit, qos: 1, retain: false } as NodeMessage);
          const verb = action ?? "command";
          if (reply.error) {
            node.status(status.error(`${verb}: ${reply.error.code}`));
            if (SERVER_ERRORS.has(reply.error.code)) {
              done(new PlugwatchError(reply.error.code, reply.error.message, reply.error.details));
            } else {
              warnings.write(reply.error.code, `${reply.id}: ${reply.error.code}: ${reply.error.message}`);
              done();
            }
            return;
          }
          const okCount = reply.results.filter((r) => r.ok).length;
          const text = `${verb} ${okCount}/${reply.results.length} ok`;
          if (reply.ok) {
            node.status(status.ok(text));
          } else {
            node.status(status.error(text));
            const failed = reply.results.filter((r) => !r.ok);
            const codes = [...new Set(failed.map((r) => r.error?.code ?? "INTERNAL"))].sort().join(",");
            warnings.write(`results:${codes}`, `${reply.id}: ${verb} failed on ${failed.map((r) => `${r.device} (${r.error?.code ?? "?"}: ${r.error?.message ?? ""})`).join(", ")}`);
          }
          done();
        },
        (err: unknown) => {
          if (closed) return;
          if (err instanceof ReplyTopicRefused) {
            // Hostile or broken reply topic: never answered, never run; counted, logged at a limited rate.
            refused(err.problem, err.details?.[0]?.message ?? err.message);
            done();
          } else fail(node, err, done);
        },
      );
    });

    function refused(problem: string, why: string): void {
      const total = replyTopics?.refusedTotal ?? 0;
      warnings.write(`replyTo:${problem}`, RED._("plugwatch-control.errors.reply-refused", { problem, why, total }));
      node.status(status.warn(`replyTo refused: ${total}`));
    }

    node.on("close", (_removed: boolean, done: () => void) => {
      const stopping = controller ? controller.stop(CLOSE_GRACE_MS) : Promise.resolve(true);
      stopping.then(
        (finished) => {
          if (!finished) node.warn(RED._("plugwatch-control.errors.close-timeout", { ms: CLOSE_GRACE_MS }));
          closed = true;
          transports?.close();
          node.status(status.clear());
          done();
        },
        () => {
          closed = true;
          transports?.close();
          done();
        },
      );
    });
  }
  RED.nodes.registerType("plugwatch-control", SmartplugControl);
};
