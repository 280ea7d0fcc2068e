// plugwatch-control: glue between Node-RED messages and lib/control.ts (command in, per-device reply out).
import type { NodeAPI } from "node-red";
import { Controller } from "../../lib/control";
import { replyMessage, replyOutcome } from "../../lib/control-reply";
import { PlugTransports } from "../../lib/transports/plug-transports";
import { defineNode } from "../shared/kit";
import { parseControlConfig } from "./config";

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-control", parseControlConfig, (_node, config, kit) => {
    const registryNode = kit.configNode("plugwatch-registry", config.registry);
    const account = kit.findConfigNode("plugwatch-tplink-account", config.account);
    const transports = new PlugTransports({ timeoutMs: config.timeoutMs, credentials: () => account?.account() });
    const controller = new Controller({
      registry: () => registryNode.require(),
      client: transports,
      concurrency: config.concurrency,
      timeoutMs: config.timeoutMs,
      clock: kit.clock,
    });
    try {
      kit.status.show("idle", "status.ready", { count: registryNode.require().size });
    } catch {
      kit.status.text("error", "REGISTRY_INVALID");
    }

    kit.onInput(async (msg, send, done) => {
      // A retained command is stale by definition: the broker replays it on every start and every reconnect.
      // It switches nothing and gets no reply (its sender is long gone); a rate-limited warning says why.
      if (msg.retain === true) {
        kit.warnLimited("retained", kit.t("errors.retained", { topic: String(msg.topic ?? "") }));
        kit.status.show("warn", "status.retained");
        return done();
      }
      kit.status.show("busy", "status.busy", { count: controller.busy + 1 });
      const result = await controller.handle(msg.payload);
      send(replyMessage(msg, result));
      const { ok, summary, catchError, warning } = replyOutcome(result);
      if (summary.code) kit.status.show("error", "status.refused", { verb: summary.verb, code: summary.code });
      else kit.status.show(ok ? "ok" : "error", "status.result", { verb: summary.verb, ok: summary.ok ?? 0, total: summary.total ?? 0 });
      if (warning) kit.warnLimited(warning.key, kit.t(`errors.${warning.kind}`, { id: warning.id, verb: warning.verb, detail: warning.detail }));
      done(catchError);
    });

    kit.onClose(() => controller.stop(kit.closeGraceMs).finally(() => transports.close()));
  });
