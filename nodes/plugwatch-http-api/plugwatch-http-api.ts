// plugwatch-http-api node: mounts the REST API on RED.httpNode and talks to the query component and control agent over MQTT:
// through its plugwatch-mqtt connection (TCP_NODELAY) when one is selected, else the core mqtt-broker node.
import { randomBytes } from "node:crypto";
import type { NodeAPI } from "node-red";
import { apiAccess } from "../../lib/api/access";
import { parseApiConfig, replyTopicOf } from "../../lib/api/config";
import { Correlator } from "../../lib/api/correlator";
import { createHttpHandler, type CorsOptions } from "../../lib/api/http";
import { apiInbox } from "../../lib/api/inbox";
import { observeApiRequest } from "../../lib/metrics/observe";
import { apiRoute, middlewareList } from "../../lib/api/route";
import { ApiService } from "../../lib/api/service";
import { ApiState } from "../../lib/api/state";
import { configured, defineNode } from "../shared/kit";
import { brokerPort, subscribeAll } from "../shared/broker";
import { serveRoute } from "../shared/http-mount";
import { applyServerLimits } from "../shared/http-server";
import { processMetricsFromSettings, watchBrokers } from "../shared/metrics";
import type { PlugwatchHttpApiCredentials, PlugwatchHttpApiNode, PlugwatchHttpApiNodeDef } from "./types";

const httpNodeRoot = (v: unknown): string => (typeof v === "string" ? v : "/").replace(/\/+$/, "");
const parse = (def: PlugwatchHttpApiNodeDef) => ({ ...parseApiConfig(def), broker: def.broker, connection: def.connection ?? "", registry: def.registry });

export = (RED: NodeAPI) =>
  defineNode<PlugwatchHttpApiNodeDef, ReturnType<typeof parse>, PlugwatchHttpApiCredentials, PlugwatchHttpApiNode>(
    RED,
    "plugwatch-http-api",
    parse,
    (node, config, kit) => {
      // A bad token list is a configuration error; its message never contains a token.
      const { auth, metrics } = configured(kit.t, () => apiAccess(config.auth, node.credentials));
      const broker = config.connection ? kit.findConfigNode("plugwatch-mqtt", config.connection) : kit.findConfigNode("mqtt-broker", config.broker);
      const replyTopic = replyTopicOf(config.root, `${node.id.replace(/[^A-Za-z0-9_-]/g, "_")}-${randomBytes(4).toString("hex")}`);
      const correlator = new Correlator({ timeoutMs: config.timeoutMs, timers: kit.clock });
      const state = new ApiState({ root: config.root, historySize: config.historySize });
      const service = new ApiService({
        ...config,
        basePath: `${httpNodeRoot(kit.setting("httpNodeRoot"))}${config.basePath}`,
        registry: () => kit.configNode("plugwatch-registry", config.registry).require(),
        broker: brokerPort(broker, () => kit.t("errors.notConnected")),
        correlator,
        state,
        auth,
        replyTopic,
        healthProbeMs: Math.min(2000, config.timeoutMs),
        // Guessing tokens is logged (at most once a minute, with the running count), never the token itself.
        onAuthFailure: (e) => {
          const key = e.limited ? "errors.authFailuresLimited" : "errors.authFailures";
          kit.warnLimited("auth-failures", kit.t(key, { total: e.total, remote: e.remote ?? "?" }));
        },
        metrics,
      });
      if (!broker) {
        node.error(kit.t("errors.no-broker"));
        kit.status.show("error", "status.no-broker");
      }
      if (config.auth === "tokens" && auth.tokenCount === 0) node.warn(kit.t("errors.no-tokens"));
      // Idle and trickling sockets on the shared HTTP server are closed (settings.js plugwatch.httpServer).
      applyServerLimits(RED, node, kit, config.timeoutMs);

      // MQTT: replies on our own topic, plus availability/readings/alerts/status for the state the API serves.
      const inbox = apiInbox(service, state, replyTopic);
      // The reply topic is unique to this instance: always dropped on close; the shared topics follow mqtt-in's rule.
      const unsubscribe = broker
        ? subscribeAll(
            broker,
            node,
            [replyTopic, ...state.subscriptions()],
            (t, topic, payload) => {
              const w = inbox(t, topic, payload);
              if (w) kit.warnLimited(w.key, kit.t(`errors.${w.kind}`, w.subs));
            },
            new Set([replyTopic]),
          )
        : undefined;

      // HTTP: one route under the base path (so RED.httpNode's auth, https and CORS setup apply), unplugged on close.
      const api = createHttpHandler(service, {
        cors: kit.setting("httpNodeCors") as CorsOptions | undefined,
        onDone: (code, ms, req) => {
          observeApiRequest(code, ms, req);
          if (code >= 500 && code !== 503) kit.status.text("warn", `${code}`);
        },
      });
      const unwatch = watchBrokers(RED);
      processMetricsFromSettings(kit.setting("plugwatch"));
      const unmount = serveRoute(RED.httpNode, config.basePath, apiRoute(api, middlewareList(kit.setting("httpNodeMiddleware"))), node, kit);
      if (unmount) node.log(kit.t("log.serving", { path: config.basePath, topic: replyTopic }));

      kit.onClose((removed) => {
        unmount?.();
        unwatch();
        correlator.close();
        return unsubscribe?.(removed);
      });
    },
    { credentials: { tokens: { type: "password" }, metricsToken: { type: "password" } } },
  );
