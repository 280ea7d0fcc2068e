// plugwatch-sse node: serves its input messages as a server-sent events stream on RED.httpNode. Glue only; logic in lib/sse.
import type { NodeAPI } from "node-red";
import { middlewareList } from "../../lib/api/route";
import { eventData, SseHub } from "../../lib/sse/event-hub";
import { sseHandler } from "../../lib/sse/http";
import { contextSlot } from "../shared/context-slot";
import { mountHandler } from "../shared/http-mount";
import { defineNode } from "../shared/kit";
import { parseSseConfig, SSE_RETRY_MS } from "./config";

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-sse", parseSseConfig, (node, config, kit) => {
    let hub: SseHub | undefined = new SseHub({
      clock: kit.clock,
      maxClients: config.maxClients,
      heartbeatMs: config.heartbeatMs,
      historySize: config.historySize,
      retryMs: SSE_RETRY_MS,
    });
    // The snapshot outlives a redeploy (and, with a persistent default context store, a restart) in the node's context.
    const kept = contextSlot(node, "snapshot", undefined);
    const keptFailed = (key: string) => (err: Error) => node.warn(kit.t(key, { message: err.message }));
    void kit.track(
      kept.load().then((saved) => {
        const count = hub?.restore(saved) ?? 0;
        if (count > 0) node.log(kit.t("log.restored", { count }));
      }, keptFailed("errors.snapshotLoad")),
    );
    const clients = (count: number) => kit.status.show(count ? "ok" : "idle", "status.clients", { count, max: config.maxClients });
    // One route under the path (so httpNodeAuth, https and httpNodeMiddleware apply), unplugged on close.
    const unmount = mountHandler(
      RED.httpNode,
      config.path,
      sseHandler(() => hub, { onClients: clients, middleware: middlewareList(kit.setting("httpNodeMiddleware")) }),
    );
    node.log(kit.t("log.serving", { path: config.path }));
    clients(0);
    kit.onInput((msg, _send, done) => {
      const m = msg as typeof msg & { event?: unknown };
      hub?.publish(
        eventData(msg.payload),
        typeof msg.topic === "string" && msg.topic ? msg.topic : undefined,
        typeof m.event === "string" && m.event ? m.event : config.event,
      );
      done();
    });
    kit.onClose(() => {
      unmount();
      const closing = hub;
      hub = undefined; // a request arriving now is told to come back (503 + Retry-After)
      closing?.close();
      return closing && kept.save(closing.snapshotEntries()).catch(keptFailed("errors.snapshotSave"));
    });
  });
