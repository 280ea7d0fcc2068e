// plugwatch-http-api node: mounts the REST API on RED.httpNode and talks to the query component and control agent through the core mqtt-broker node.
import { randomBytes } from "node:crypto";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { NodeAPI } from "node-red";
import { Authenticator, parseTokens } from "../../lib/api/auth";
import { parseApiConfig, replyTopicOf, type ApiConfig } from "../../lib/api/config";
import { Correlator } from "../../lib/api/correlator";
import { createHttpHandler, type CorsOptions } from "../../lib/api/http";
import { ApiService } from "../../lib/api/service";
import { ApiState } from "../../lib/api/state";
import type { Registry } from "../../lib/registry";
import { RateLimitedLog, status } from "../shared/node-kit";
import type { PlugwatchRegistryNode } from "../plugwatch-registry/types";
import type { PlugwatchHttpApiCredentials, PlugwatchHttpApiNode, PlugwatchHttpApiNodeDef, MqttBrokerNode } from "./types";
import { installMqttNoDelay } from "../shared/mqtt-nodelay";
import { mountHandler } from "../shared/http-mount";

export = (RED: NodeAPI) => {
  // Request/reply over MQTT: no Nagle delay on the broker connections (nodes/shared/mqtt-nodelay.ts).
  installMqttNoDelay(RED);
  function HttpApi(this: PlugwatchHttpApiNode, def: PlugwatchHttpApiNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;

    let config: ApiConfig;
    let auth: Authenticator;
    try {
      config = parseApiConfig(def as unknown as Record<string, unknown>);
      const tokens = config.auth === "tokens" ? parseTokens(node.credentials?.tokens ?? "") : [];
      auth = new Authenticator(tokens, config.auth === "tokens");
    } catch (err) {
      // Bad editor config: report it, serve nothing, never crash (the message never contains a token).
      node.error(RED._("plugwatch-http-api.errors.config", { message: (err as Error).message }));
      node.status(status.error(RED._("plugwatch-http-api.status.config")));
      node.on("close", (_removed: boolean, done: () => void) => done());
      return;
    }

    const broker = RED.nodes.getNode(def.broker) as MqttBrokerNode | null;
    const registryNode = RED.nodes.getNode(def.registry) as PlugwatchRegistryNode | null;
    const registry = (): Registry => {
      if (!registryNode) throw new Error("no plugwatch-registry configured on the plugwatch-http-api node");
      return registryNode.require();
    };

    const instanceId = `${node.id.replace(/[^A-Za-z0-9_-]/g, "_")}-${randomBytes(4).toString("hex")}`;
    const replyTopic = replyTopicOf(config.root, instanceId);
    const correlator = new Correlator({ timeoutMs: config.timeoutMs });
    const state = new ApiState({ root: config.root, historySize: config.historySize });
    const warnings = new RateLimitedLog((m) => node.warn(m));

    const service = new ApiService({
      root: config.root,
      basePath: `${String(RED.settings.httpNodeRoot ?? "/").replace(/\/+$/, "")}${config.basePath}`,
      registry,
      broker: {
        connected: () => broker?.connected === true,
        publish: (topic, payload) =>
          new Promise<void>((resolve, reject) => {
            if (!broker?.connected) return reject(new Error("not connected"));
            broker.publish({ topic, payload, qos: 1, retain: false }, (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
          }),
      },
      correlator,
      state,
      auth,
      replyTopic,
      inactiveAfterDays: config.inactiveAfterDays,
      openHealth: config.openHealth,
      openSpec: config.openSpec,
      healthProbeMs: Math.min(2000, config.timeoutMs),
    });

    if (!broker) {
      node.error(RED._("plugwatch-http-api.errors.no-broker"));
      node.status(status.error(RED._("plugwatch-http-api.status.no-broker")));
    }
    if (config.auth === "tokens" && auth.tokenCount === 0) node.warn(RED._("plugwatch-http-api.errors.no-tokens"));

    // MQTT: replies on our own topic, plus availability/readings/alerts/status for the state the API serves.
    const topics: string[] = [];
    if (broker) {
      broker.register(node);
      broker.subscribe(replyTopic, { qos: 1 }, (_topic, payload) => {
        if (service.onReply(payload) === "invalid") warnings.write("reply", RED._("plugwatch-http-api.errors.bad-reply", { topic: replyTopic }));
      }, node.id);
      topics.push(replyTopic);
      for (const t of state.subscriptions()) {
        broker.subscribe(t, { qos: 1 }, (topic, payload) => {
          const result = state.ingest(topic, payload);
          if (result === "invalid") warnings.write(`invalid:${t}`, RED._("plugwatch-http-api.errors.bad-message", { topic }));
          else if (result === "overflow")
            warnings.write("overflow", RED._("plugwatch-http-api.errors.overflow", { topic, devices: state.overflow, alerts: state.alertOverflow, components: state.statusOverflow }));
        }, node.id);
        topics.push(t);
      }
    }

    // HTTP: one middleware layer under the base path (so RED.httpNode's auth, https and CORS setup apply), removed on close.
    const cors = RED.settings.httpNodeCors as CorsOptions | undefined;
    const apiHandler = createHttpHandler(service, {
      cors,
      onDone: (code) => {
        if (code >= 500 && code !== 503) node.status(status.warn(`${code}`));
      },
    });
    const extra = RED.settings.httpNodeMiddleware as RequestHandler | RequestHandler[] | undefined;
    const middleware: RequestHandler[] = typeof extra === "function" ? [extra] : Array.isArray(extra) ? extra : [];
    const mounted = (req: Request, res: Response, next: NextFunction): void => {
      let i = 0;
      const step = (err?: unknown): void => {
        if (err) return next(err);
        const mw = middleware[i++];
        if (mw) {
          mw(req, res, step);
          return;
        }
        apiHandler(req, res).catch((e: unknown) => next(e));
      };
      step();
    };
    // When the editor shares the server (httpAdminRoot = httpNodeRoot), the admin app's JSON body parser runs
    // first and hands a malformed body to express as an error: answer it as a problem, not an HTML page.
    const parseErrors = (err: unknown, req: Request, res: Response, next: NextFunction): void => {
      const e = err as { type?: string; status?: number } | undefined;
      if (e?.type === "entity.parse.failed" || e?.type === "entity.too.large" || e?.type === "encoding.unsupported") {
        apiHandler.reject(req, res, e.type === "entity.too.large" ? "PAYLOAD_TOO_LARGE" : "INVALID_REQUEST", (err as Error).message).catch((x: unknown) => next(x));
        return;
      }
      next(err);
    };
    const unmounts: (() => void)[] = [];
    try {
      unmounts.push(mountHandler(RED.httpNode, config.basePath, (req, res, next) => mounted(req, res, (err?: unknown) => (err ? parseErrors(err, req, res, next) : next()))));
    } catch (err) {
      node.error(RED._("plugwatch-http-api.errors.config", { message: (err as Error).message }));
      node.status(status.error(RED._("plugwatch-http-api.status.config")));
    }
    node.log(RED._("plugwatch-http-api.log.serving", { path: config.basePath, topic: replyTopic }));

    node.on("close", (removed: boolean, done: () => void) => {
      for (const unmount of unmounts) unmount();
      correlator.close();
      if (!broker) return done();
      // The reply topic is unique to this instance: always drop it; the shared topics follow mqtt-in's rule.
      for (const t of topics) broker.unsubscribe(t, node.id, t === replyTopic ? true : removed);
      broker.deregister(node, done, removed);
    });
  }

  RED.nodes.registerType<PlugwatchHttpApiNode, PlugwatchHttpApiNodeDef, Record<string, never>, PlugwatchHttpApiCredentials>("plugwatch-http-api", HttpApi, {
    credentials: { tokens: { type: "password" } },
  });
};
