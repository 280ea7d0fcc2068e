// plugwatch-control: glue between Node-RED messages and lib/control.ts (command in, per-device reply out).
import type { NodeAPI } from "node-red";
import { CommandQueue } from "../../lib/command-queue";
import { queueFileOf, queueFileStore } from "../../lib/command-queue-file";
import { Controller } from "../../lib/control";
import { auditMessage, replyMessage, replyOutcome, shouldReply } from "../../lib/control-reply";
import { ReplyTopicRefused, replyTopicGuardFromSettings } from "../../lib/contracts/reply-topic";
import { lookupMessage, onlineDevice, QueuedControl } from "../../lib/queued-control";
import { DEFAULT_ROOT } from "../../lib/topics";
import { PlugTransports } from "../../lib/transports/plug-transports";
import { ConfigError, defineNode } from "../shared/kit";
import { parseControlConfig } from "./config";

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-control", parseControlConfig, (node, config, kit) => {
    const registryNode = kit.configNode("plugwatch-registry", config.registry);
    const account = kit.findConfigNode("plugwatch-tplink-account", config.account);
    let replyTopics;
    try {
      replyTopics = replyTopicGuardFromSettings({ plugwatch: kit.setting("plugwatch") }, DEFAULT_ROOT);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
    const transports = new PlugTransports({ timeoutMs: config.timeoutMs, credentials: () => account?.account() });
    const controller = new Controller({
      registry: () => registryNode.require(),
      client: transports,
      concurrency: config.concurrency,
      timeoutMs: config.timeoutMs,
      clock: kit.clock,
      replyTopics,
    });
    // Commands for plugs that do not answer wait in a bounded queue, kept in the user dir (lib/queued-control.ts).
    const file = kit.userDir ? queueFileOf(kit.userDir, node.id) : undefined;
    const queue = new CommandQueue({ max: config.queueSize, store: file ? queueFileStore(file, (m) => kit.warnLimited("queue-file", m)) : undefined });
    const onDelivery = (result: Parameters<typeof auditMessage>[1], topic: string | undefined): void => {
      const audit = auditMessage(topic, result);
      if (audit && !kit.closing) node.send(audit);
    };
    const agent = new QueuedControl({ controller, queue, clock: kit.clock, onDelivery });
    const deliver = (): void => void kit.track(agent.deliver());
    kit.setInterval(deliver, config.queueRetryMs);
    if (queue.waiting > 0) deliver();
    try {
      kit.status.show("idle", "status.ready", { count: registryNode.require().size });
    } catch {
      kit.status.text("error", "REGISTRY_INVALID");
    }
    /** A forbidden reply topic: neither run nor answered; counted, logged at a limited rate (lib/contracts/reply-topic.ts). */
    const refused = (problem: string, why: string): void => {
      const total = controller.replyTopics.refusedTotal;
      kit.warnLimited(`replyTo:${problem}`, kit.t("errors.reply-refused", { problem, why, total }));
      kit.status.text("warn", `replyTo refused: ${total}`);
    };

    kit.onInput(async (msg, send, done) => {
      // An availability message (wired from the collector's topics) saying a plug is back: deliver what waits for it now.
      const back = onlineDevice(msg.topic, msg.payload);
      if (back !== undefined) return (queue.isWaiting(back) && deliver(), done());
      // A retained command is stale by definition: the broker replays it on every start and every reconnect.
      // It switches nothing and gets no reply (its sender is long gone); a rate-limited warning says why.
      if (msg.retain === true) {
        kit.warnLimited("retained", kit.t("errors.retained", { topic: String(msg.topic ?? "") }));
        kit.status.show("warn", "status.retained");
        return done();
      }
      const v5 = (msg as { responseTopic?: unknown }).responseTopic;
      const checked = v5 === undefined ? undefined : controller.replyTopics.check(v5, msg.topic);
      if (checked && !checked.ok) return (refused(checked.problem, checked.message), done());
      kit.status.show("busy", "status.busy", { count: controller.busy + 1 });
      const result = await agent.handle(msg.payload, msg.topic).catch((err: unknown) => {
        if (err instanceof ReplyTopicRefused) return refused(err.problem, err.details?.[0]?.message ?? err.message);
        throw err;
      });
      if (!result) return done();
      if ("lookup" in result) return (send(lookupMessage(msg, result)), kit.status.show("ok", "status.lookup"), done());
      if (shouldReply(msg, result)) send(replyMessage(msg, result));
      const audit = auditMessage(msg.topic, result);
      if (audit) send(audit);
      const { ok, summary, catchError, warning } = replyOutcome(result);
      if (summary.code) kit.status.show("error", "status.refused", { verb: summary.verb, code: summary.code });
      else kit.status.show(ok ? "ok" : "error", "status.result", { verb: summary.verb, ok: summary.ok ?? 0, total: summary.total ?? 0 });
      if (warning) kit.warnLimited(warning.key, kit.t(`errors.${warning.kind}`, { id: warning.id, verb: warning.verb, detail: warning.detail }));
      done(catchError);
    });

    kit.onClose(() =>
      agent
        .stop()
        .then(() => controller.stop(kit.closeGraceMs))
        .finally(() => transports.close()),
    );
  });
