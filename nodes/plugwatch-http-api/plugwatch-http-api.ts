// plugwatch-http-api node: mounts the REST API on RED.httpNode and talks to the query component and control agent through the core mqtt-broker node.
import { randomBytes } from "node:crypto";
import type { NodeAPI } from "node-red";
import { Authenticator, parseTokens } from "../../lib/api/auth";
import { parseApiConfig, replyTopicOf } from "../../lib/api/config";
import { Correlator } from "../../lib/api/correlator";
import { createHttpHandler, type CorsOptions } from "../../lib/api/http";
import { apiInbox } from "../../lib/api/inbox";
import { metricsEndpoint, type MetricsEndpoint } from "../../lib/api/metrics-endpoint";
import { observeApiRequest } from "../../lib/metrics/observe";
import { scrape } from "../../lib/metrics/registry";
import { apiRoute, middlewareList } from "../../lib/api/route";
import { ApiService } from "../../lib/api/service";
import { ApiState } from "../../lib/api/state";
import { ConfigError, defineNode } from "../shared/kit";
import { brokerPort } from "../shared/broker";
import { mountHandler } from "../shared/http-mount";
import { applyHttpLimits, parseHttpLimits } from "../../lib/http-limits";
import { processMetricsFromSettings, watchBrokers } from "../shared/metrics";
import type { PlugwatchHttpApiCredentials, PlugwatchHttpApiNode, PlugwatchHttpApiNodeDef } from "./types";

const httpNodeRoot = (v: unknown): string => (typeof v === "string" ? v : "/").replace(/\/+$/, "");
const parse = (def: PlugwatchHttpApiNodeDef) => ({ ...parseApiConfig(def), broker: def.broker, registry: def.registry });

export = (RED: NodeAPI) =>
  defineNode<PlugwatchHttpApiNodeDef, ReturnType<typeof parse>, PlugwatchHttpApiCredentials, PlugwatchHttpApiNode>(
    RED,
    "plugwatch-http-api",
    parse,
    (node, config, kit) => {
      let auth: Authenticator;
      let metrics: MetricsEndpoint;
      try {
        auth = new Authenticator(config.auth === "tokens" ? parseTokens(node.credentials?.tokens ?? "") : [], config.auth === "tokens");
        metrics = metricsEndpoint({ token: node.credentials?.metricsToken, scrape });
      } catch (err) {
        // The message never contains a token.
        throw new ConfigError(kit.t("errors.config", { message: err instanceof Error ? err.message : String(err) }));
      }
      const broker = kit.findConfigNode("mqtt-broker", config.broker);
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
        onAuthFailure: (e) =>
          kit.warnLimited(
            "auth-failures",
            kit.t(e.limited ? "errors.authFailuresLimited" : "errors.authFailures", { total: e.total, remote: e.remote ?? "?" }),
          ),
        metrics,
      });
      if (!broker) {
        node.error(kit.t("errors.no-broker"));
        kit.status.show("error", "status.no-broker");
      }
      if (config.auth === "tokens" && auth.tokenCount === 0) node.warn(kit.t("errors.no-tokens"));
      // Idle and trickling sockets on the shared HTTP server are closed (settings.js plugwatch.httpServer).
      const limits = parseHttpLimits(RED.settings);
      if (limits && RED.server && applyHttpLimits(RED.server, limits)) node.log(kit.t("log.httpLimits", { ...limits }));
      // The idle timer also runs while a request waits for its MQTT reply: it must outlast the API's timeout.
      if (limits && limits.idleTimeoutMs > 0 && limits.idleTimeoutMs <= config.timeoutMs)
        node.warn(kit.t("errors.idleBelowTimeout", { idle: limits.idleTimeoutMs, timeout: config.timeoutMs }));

      // MQTT: replies on our own topic, plus availability/readings/alerts/status for the state the API serves.
      const topics = [replyTopic, ...state.subscriptions()];
      broker?.register(node);
      const inbox = apiInbox(service, state, replyTopic);
      for (const t of topics) {
        broker?.subscribe(
          t,
          { qos: 1 },
          (topic, payload) => {
            const w = inbox(t, topic, payload);
            if (w) kit.warnLimited(w.key, kit.t(`errors.${w.kind}`, w.subs));
          },
          node.id,
        );
      }

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
      let unmount = (): void => undefined;
      try {
        unmount = mountHandler(RED.httpNode, config.basePath, apiRoute(api, middlewareList(kit.setting("httpNodeMiddleware"))));
        node.log(kit.t("log.serving", { path: config.basePath, topic: replyTopic }));
      } catch (err) {
        node.error(kit.t("errors.config", { message: err instanceof Error ? err.message : String(err) }));
        kit.status.show("error", "status.badConfig");
      }

      kit.onClose((removed) => {
        unmount();
        unwatch();
        correlator.close();
        if (!broker) return;
        // The reply topic is unique to this instance: always drop it; the shared topics follow mqtt-in's rule.
        for (const t of topics) broker.unsubscribe(t, node.id, t === replyTopic ? true : removed);
        return new Promise<void>((resolve) => broker.deregister(node, resolve, removed));
      });
    },
    { credentials: { tokens: { type: "password" }, metricsToken: { type: "password" } } },
  );
