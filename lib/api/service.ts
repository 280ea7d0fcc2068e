// The REST API's behaviour without HTTP plumbing: route → auth → validate → MQTT request/reply → response body or problem.
import { checkReplyTopic, replyTopicPolicy } from "../contracts/reply-topic";
import { CommandReply, CommandRequest, type Action } from "../contracts/command";
import { CONTRACT_VERSION } from "../contracts/common";
import type { Device, Target } from "../contracts/device";
import { PlugwatchError } from "../contracts/errors";
import { QueryReply, QueryRequest, type QueryBody, type QueryData } from "../contracts/query";
import { CommandLookupReply, CommandLookupRequest, type QueuedCommand } from "../contracts/queued-command";
import { parseQueueDuration } from "../command-queue";
import { decodePayload, validate } from "../contracts/validate";
import type { Registry } from "../registry";
import { SingleFlight } from "../single-flight";
import { commandRequestTopic, queryRequestTopic } from "../topics";
import type { Access, Authenticator, Principal } from "./auth";
import { DEFAULT_FAILURE_LIMIT, DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitOptions } from "./rate-limit";
import type { Correlator } from "./correlator";
import { buildOpenApi } from "./openapi";
import {
  checkKnown,
  DEFAULT_LIMITS,
  FILTER_PARAMS,
  parseAlertParams,
  parseAuditParams,
  parseBulkPowerBody,
  parseEnergyParams,
  parseFilter,
  parseLatestNParams,
  parseLatestParams,
  parsePowerBody,
  parseRangeParams,
  parseSlug,
  queryParamsOf,
  single,
  type ApiLimits,
  type QueryParams,
} from "./params";
import { parseCostParams } from "./cost-params";
import { ApiError, fromReplyError, HTTP_STATUS, toProblem } from "./problem";
import type { AlertList, CommandOutcome, DeviceList, DeviceView, Health, UnknownDeviceList } from "./schemas";
import { matchRoute, type AccessClass, type Operation } from "./spec";
import type { ApiState } from "./state";
import { storageProblem } from "../influx/spool-alarm";
import type { MetricsEndpoint } from "./metrics-endpoint";
import { parseSavingsParams, scheduleResult, type ScheduleAsk } from "./schedules";
import { scheduleRequestTopic } from "../schedule/contract";

/** The broker as the API needs it (the glue adapts the core mqtt-broker config node). */
export interface BrokerPort {
  connected(): boolean;
  /** Publishes at QoS 1; resolves when the broker accepted it. */
  publish(topic: string, payload: string): Promise<void>;
}

export interface ApiRequest {
  method: string;
  /** Path relative to the base path, e.g. `/devices/ws-1`. */
  path: string;
  search: URLSearchParams;
  authorization?: string | undefined;
  contentType?: string | undefined;
  /** Raw body (already bounded by the HTTP layer), or undefined when there was none. */
  body?: Buffer | undefined;
  /** Full request path, used as the problem's `instance`. */
  instance: string;
  /** The client's address (for the log of refused tokens). */
  remote?: string | undefined;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface ApiServiceOptions {
  root: string;
  basePath: string;
  registry: () => Registry;
  broker: BrokerPort;
  correlator: Correlator;
  state: ApiState;
  auth: Authenticator;
  /** Topic replies come back on (subscribed by the glue); correlation by `id`. */
  replyTopic: string;
  inactiveAfterDays: number;
  /** `/health` and `/openapi.json` without a token. */
  openHealth: boolean;
  openSpec: boolean;
  /** Timeout of a health probe, ms. */
  healthProbeMs?: number;
  /** A reply younger than this counts as "answering" without a probe, ms. */
  healthFreshMs?: number;
  limits?: ApiLimits;
  now?: () => number;
  version?: string;
  /** Requests per token (default DEFAULT_RATE_LIMIT) and failed token checks of all callers (DEFAULT_FAILURE_LIMIT). */
  rateLimit?: Omit<RateLimitOptions, "now">;
  failureLimit?: Omit<RateLimitOptions, "now">;
  /**
   * Called for every request refused for an unknown or missing-but-required token, with the running count and whether
   * it was slowed (429). For a rate-limited log line: never given the token, nor which part of it was wrong.
   */
  onAuthFailure?: (e: { total: number; limited: boolean; remote?: string }) => void;
  /** GET /metrics (lib/api/metrics-endpoint.ts); without it the route answers 404. */
  metrics?: MetricsEndpoint;
}

type Peer = "query" | "command" | "schedule";

const JSON_TYPE = "application/json";

export class ApiService {
  private readonly now: () => number;
  private readonly limits: ApiLimits;
  private readonly lastReply: Record<Peer, number | null> = { query: null, command: null, schedule: null };
  private readonly probes: Partial<Record<Peer, Promise<boolean>>> = {};
  /** Identical data queries in flight share one MQTT request (see query()). */
  private readonly queries = new SingleFlight<QueryData>();
  readonly openapi: object;
  private readonly perToken: RateLimiter;
  private readonly failures: RateLimiter;
  /** Requests refused for an unknown token since start. */
  private authFailures = 0;

  constructor(private readonly o: ApiServiceOptions) {
    this.now = o.now ?? Date.now;
    this.perToken = new RateLimiter({ ...(o.rateLimit ?? DEFAULT_RATE_LIMIT), now: this.now });
    this.failures = new RateLimiter({ ...(o.failureLimit ?? DEFAULT_FAILURE_LIMIT), now: this.now });
    this.limits = o.limits ?? DEFAULT_LIMITS;
    this.openapi = buildOpenApi({
      basePath: o.basePath,
      openHealth: o.openHealth,
      openSpec: o.openSpec,
      tokens: o.auth.enabled,
      metricsToken: o.metrics?.guarded,
      version: o.version,
    });
    // The agents refuse any other reply topic: the API's own must pass the same check (lib/contracts/reply-topic.ts).
    const r = checkReplyTopic(o.replyTopic, replyTopicPolicy(o.root, { clientPrefixes: [] }));
    if (!r.ok) throw new Error(`the API's reply topic '${o.replyTopic}' is not a valid reply topic: ${r.message}`);
  }

  /** Handles one request; never throws (every failure becomes a problem+json response). */
  async handle(req: ApiRequest): Promise<ApiResponse> {
    try {
      const match = matchRoute(req.method, req.path);
      if (!match) throw new ApiError("NOT_FOUND", `no endpoint ${req.method} ${req.instance}`);
      if ("allowed" in match) {
        throw new ApiError("METHOD_NOT_ALLOWED", `${req.method} is not allowed here (allowed: ${match.allowed.join(", ")})`, {
          headers: { Allow: match.allowed.join(", ") },
        });
      }
      // Unknown tokens share one bucket: a brute force gets 429s, with the same answer whatever part was wrong.
      const slow = (): void => {
        const f = this.failures.take("unknown-token");
        this.authFailures++;
        this.o.onAuthFailure?.({ total: this.authFailures, limited: !f.ok, ...(req.remote ? { remote: req.remote } : {}) });
        if (!f.ok)
          throw new ApiError("TOO_MANY_REQUESTS", "too many requests with unknown tokens; retry later", { headers: { "Retry-After": String(f.retryAfterS) } });
      };
      if (match.op.access === "metrics") {
        if (!this.o.metrics) throw new ApiError("NOT_FOUND", `no endpoint ${req.method} ${req.instance}`);
        return await this.o.metrics.serve(req.authorization, slow);
      }
      const who = this.o.auth.check(req.authorization, this.accessOf(match.op.access), slow);
      if (who) {
        const t = this.perToken.take(who.name);
        if (!t.ok)
          throw new ApiError("TOO_MANY_REQUESTS", `too many requests for token '${who.name}'; retry after ${t.retryAfterS} s`, {
            headers: { "Retry-After": String(t.retryAfterS) },
          });
      }
      const q = queryParamsOf(req.search);
      const { status, body } = await this.dispatch(match.op, match.params, q, req, who);
      return { status, headers: { "Content-Type": JSON_TYPE }, body };
    } catch (err) {
      const { problem, headers } = toProblem(err, req.instance);
      if (problem.code === "BROKER_UNAVAILABLE") headers["Retry-After"] = "5";
      return { status: problem.status, headers: { ...headers, "Content-Type": "application/problem+json" }, body: problem };
    }
  }

  private accessOf(c: Exclude<AccessClass, "metrics">): Access {
    if (c === "health") return this.o.openHealth ? "open" : "read";
    if (c === "spec") return this.o.openSpec ? "open" : "read";
    return c;
  }

  private async dispatch(
    op: Operation,
    params: Record<string, string>,
    q: QueryParams,
    req: ApiRequest,
    who?: Principal,
  ): Promise<{ status: number; body: unknown }> {
    const ok = (body: unknown) => ({ status: 200, body });
    const now = this.now();
    switch (op.id) {
      case "listDevices":
        return ok((single(q, "state") ?? "registered") !== "registered" ? this.listUnknown(q) : this.listDevices(q));
      case "approveDevice":
      case "rejectDevice": {
        checkKnown(q, []);
        const id = parseSlug(params.id ?? "", "id");
        const unknown = this.registry().unknown;
        if (this.registry().get(id))
          throw new ApiError("INVALID_REQUEST", `'${id}' is in the registry already`, { details: [{ path: "$.path.id", message: "registered device" }] });
        return ok(op.id === "approveDevice" ? unknown.approve(id) : unknown.reject(id));
      }
      case "getDevice":
        checkKnown(q, []);
        return ok(this.view(this.device(params.id)));
      case "getDevicePower":
        checkKnown(q, []);
        return this.command("status", { device: this.device(params.id).id }, true);
      case "setDevicePower": {
        checkKnown(q, ["queue"]);
        const device = this.device(params.id);
        const body = parsePowerBody(this.jsonBody(req));
        return this.command(body.state, { device: device.id }, true, who, queueParam(q));
      }
      case "setPowerBulk": {
        checkKnown(q, ["queue"]);
        const { action, target } = parseBulkPowerBody(this.jsonBody(req));
        this.registry().select(target); // UNKNOWN_DEVICE / EMPTY_TARGET before anything is sent
        return this.command(action, target, false, who, queueParam(q));
      }
      case "getCommand":
        checkKnown(q, []);
        return ok(await this.lookupCommand(params.id ?? ""));
      case "getMeasurements": {
        const device = this.device(params.id);
        return ok(await this.query(parseRangeParams(device.id, q, now, this.limits), collapseKey(op, device.id, req.search)));
      }
      case "getLatestMeasurementsOfDevice": {
        const device = this.device(params.id);
        return ok(await this.query(parseLatestNParams(device.id, q, this.limits), collapseKey(op, device.id, req.search)));
      }
      case "getLatestMeasurements":
        return ok(await this.query(parseLatestParams(q, this.o.inactiveAfterDays), collapseKey(op, "", req.search)));
      case "getEnergy":
        return ok(await this.query(parseEnergyParams(q, now, this.limits), collapseKey(op, "", req.search)));
      case "getCost":
        return ok(await this.query(parseCostParams(q, now, this.limits), collapseKey(op, "", req.search)));
      case "listAlerts":
        return ok(this.alerts(q, now));
      case "listAudit": {
        const records = this.o.state.audit(parseAuditParams(q, now));
        return ok({ count: records.length, records, historySize: this.o.state.historySize });
      }
      case "getHealth": {
        checkKnown(q, []);
        const health = await this.health();
        return { status: health.status === "down" ? 503 : 200, body: health };
      }
      case "getOpenApi":
        checkKnown(q, []);
        return ok(this.openapi);
      case "getMetrics": // answered in handle(), before the API's token check
        throw new ApiError("NOT_FOUND", `no endpoint ${req.method} ${req.instance}`);
      case "listSchedules":
        checkKnown(q, []);
        return ok(await this.schedule({ op: "list" }));
      case "putSchedules":
        checkKnown(q, []);
        return ok(await this.schedule({ op: "put", document: this.jsonBody(req), ...(who ? { by: who.name } : {}) }));
      case "getSavings":
        return ok(await this.schedule(parseSavingsParams(q)));
    }
  }

  // ---- registry-backed endpoints ----

  private registry(): Registry {
    try {
      return this.o.registry();
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new ApiError("REGISTRY_INVALID", `the device registry is not loaded: ${detail}`);
    }
  }

  private device(rawId: string | undefined): Device {
    const id = parseSlug(rawId ?? "", "id");
    const d = this.registry().get(id);
    if (!d) throw new ApiError("UNKNOWN_DEVICE", `unknown device '${id}'`);
    return d;
  }

  private view(d: Device): DeviceView {
    const s = this.o.state.device(d.id);
    return { ...d, online: s.online, since: s.since, reason: s.reason, lastSeen: s.lastSeen };
  }

  /** GET /devices?state=pending|approved|rejected: the registry's unknown devices (lib/pending.ts). */
  private listUnknown(q: QueryParams): UnknownDeviceList {
    checkKnown(q, ["state"]);
    const state = single(q, "state");
    if (state !== "pending" && state !== "approved" && state !== "rejected") {
      throw new ApiError("INVALID_REQUEST", `state: expected registered, pending, approved or rejected, got '${String(state)}'`, {
        details: [{ path: "$.query.state", message: "bad value" }],
      });
    }
    const unknown = this.registry().unknown;
    const devices = unknown.list(state);
    return { state, policy: unknown.policy, count: devices.length, devices };
  }

  private listDevices(q: QueryParams): DeviceList {
    const { state: _registered, ...filters } = q;
    q = filters;
    checkKnown(q, FILTER_PARAMS);
    const f = parseFilter(q);
    const devices = this.registry()
      .filter(f)
      .map((d) => this.view(d));
    return { count: devices.length, devices };
  }

  private alerts(q: QueryParams, now: number): AlertList {
    const p = parseAlertParams(q, now);
    const alerts = p.state === "active" ? this.o.state.alerts(p.device) : this.o.state.alertHistory(p.from, p.device);
    return { state: p.state, count: alerts.length, alerts, historySize: this.o.state.historySize };
  }

  private jsonBody(req: ApiRequest): unknown {
    const type = (req.contentType ?? "").split(";")[0]?.trim().toLowerCase();
    if (!req.body || req.body.length === 0)
      throw new ApiError("INVALID_REQUEST", "a JSON body is required", { details: [{ path: "$", message: "missing body" }] });
    if (type !== JSON_TYPE && !/^application\/[a-z0-9.+-]*\+json$/.test(type ?? "")) {
      throw new ApiError("UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/json (got '${type || "none"}')`);
    }
    try {
      return JSON.parse(req.body.toString("utf8"));
    } catch (err) {
      throw new ApiError("INVALID_REQUEST", `body is not valid JSON: ${(err as Error).message}`, { details: [{ path: "$", message: "not JSON" }] });
    }
  }

  // ---- MQTT request/reply ----

  /** Publishes a request and waits for its reply (validated against `schema`). */
  private async ask(peer: Peer, build: (id: string) => unknown, timeoutMs?: number): Promise<{ id: string; reply: unknown }> {
    if (!this.o.broker.connected()) throw new ApiError("BROKER_UNAVAILABLE", "the MQTT broker is not connected");
    const { id, reply } = this.o.correlator.open(peer, timeoutMs);
    const message = build(id);
    const topic =
      peer === "query" ? queryRequestTopic(this.o.root) : peer === "schedule" ? scheduleRequestTopic(this.o.root) : commandRequestTopic(this.o.root);
    this.o.broker.publish(topic, JSON.stringify(message)).catch((err: unknown) => {
      this.o.correlator.fail(
        id,
        new ApiError("BROKER_UNAVAILABLE", `publish failed: ${err instanceof Error ? err.message : String(err)}`, { extra: { requestId: id } }),
      );
    });
    const raw = await reply;
    this.lastReply[peer] = this.now();
    return { id, reply: raw };
  }

  /**
   * A data query. Reads are collapsed: a request with the same `key` (endpoint, device and query string as sent,
   * see collapseKey) as one already waiting for its reply joins that request instead of publishing another (many
   * dashboards polling the same panel cost one MQTT round trip and one serialisation). The key uses the times as
   * written, so `from=-24h` asked twice a few ms apart is one query: the joiner gets the window of the request it
   * joined, which started at most one round trip earlier. Nothing is cached — once the reply is in, the next
   * request asks again — so an answer is never older than a query that started before the request arrived.
   * Errors are shared the same way.
   */
  private query(body: QueryBody, key: string): Promise<QueryData> {
    return this.queries.run(key, () => this.askQuery(body));
  }

  private async askQuery(body: QueryBody): Promise<QueryData> {
    const { id, reply } = await this.ask("query", (id) => this.conform(QueryRequest, { v: CONTRACT_VERSION, id, replyTo: this.o.replyTopic, query: body }));
    const r = validate(QueryReply, reply);
    if (!r.ok) throw badReply("query component", id, r.issues);
    if (!r.value.ok) throw fromReplyError(r.value.error ?? { code: "INTERNAL", message: "query failed without an error" }, id);
    if (!r.value.data || r.value.data.type !== body.type) {
      throw new ApiError("BAD_REPLY", `the query component answered a '${body.type}' query without '${body.type}' data`, { extra: { requestId: id } });
    }
    return r.value.data;
  }

  /** Sends a command. A single-device failure maps to its error code's status (502 for device errors); a bulk is 200. */
  private async command(action: Action, target: Target, single: boolean, who?: Principal, queue?: string): Promise<{ status: number; body: CommandOutcome }> {
    // The token's name (never the token) travels with the command into the agent's audit trail.
    const by = who ? { by: who.name } : {};
    const queued = queue !== undefined ? { queue } : {};
    const { id, reply } = await this.ask("command", (id) =>
      this.conform(CommandRequest, { v: CONTRACT_VERSION, id, replyTo: this.o.replyTopic, action, target, ...by, ...queued }),
    );
    const r = validate(CommandReply, reply);
    if (!r.ok) throw badReply("control agent", id, r.issues);
    const rep = r.value;
    if (rep.error) throw fromReplyError(rep.error, id);
    const outcome: CommandOutcome = {
      ok: rep.ok,
      action,
      requestId: id,
      results: rep.results,
      ...(rep.expiresAt !== undefined ? { expiresAt: rep.expiresAt } : {}),
    };
    // A single plug that did not answer, with its command queued: accepted, not failed.
    if (single && rep.results.length === 1 && rep.results[0]?.queued) return { status: 202, body: outcome };
    if (single) {
      const failed = rep.results.find((x) => !x.ok);
      if (failed || !rep.ok || rep.results.length === 0) {
        const code = failed?.error?.code ?? "DEVICE_ERROR";
        throw new ApiError(code, failed?.error?.message ?? "the command failed", {
          status: HTTP_STATUS[code] < 500 ? 502 : HTTP_STATUS[code],
          extra: { requestId: id, results: rep.results },
        });
      }
    }
    return { status: 200, body: outcome };
  }

  /** GET /commands/{id}: the control agent's record of a command sent with a queue time. */
  private async lookupCommand(command: string): Promise<QueuedCommand> {
    if (!validate(CommandLookupRequest.properties.command, command).ok) {
      throw new ApiError("INVALID_REQUEST", "id must be 1-128 printable ASCII characters without spaces", {
        details: [{ path: "$.path.id", message: "bad id" }],
      });
    }
    const { id, reply } = await this.ask("command", (id) =>
      this.conform(CommandLookupRequest, { v: CONTRACT_VERSION, id, replyTo: this.o.replyTopic, command }),
    );
    const r = validate(CommandLookupReply, reply);
    if (!r.ok) throw badReply("control agent", id, r.issues);
    if (r.value.error) throw fromReplyError(r.value.error, id);
    if (!r.value.command) throw new ApiError("BAD_REPLY", "the control agent answered a lookup without the command", { extra: { requestId: id } });
    return r.value.command;
  }

  /** A schedule request to the plugwatch-scheduler node (lib/api/schedules.ts). */
  private async schedule(body: ScheduleAsk) {
    const { id, reply } = await this.ask("schedule", (id) => ({ v: CONTRACT_VERSION, id, replyTo: this.o.replyTopic, ...body }));
    return scheduleResult(reply, id, body.op);
  }

  private conform<T>(schema: Parameters<typeof validate>[0], msg: T): T {
    const r = validate(schema, msg);
    if (!r.ok) throw new PlugwatchError("INVALID_REQUEST", r.issues.map((i) => `${i.path}: ${i.message}`).join("; "), r.issues);
    return msg;
  }

  // ---- health ----

  private async health(): Promise<Health> {
    const connected = this.o.broker.connected();
    let registry: Registry | undefined;
    try {
      registry = this.o.registry();
    } catch {
      registry = undefined;
    }
    const [query, control] = connected
      ? await Promise.all([this.peer("query", registry), this.peer("command", registry)])
      : [this.idlePeer("query"), this.idlePeer("command")];
    const components = this.o.state.storageStatus();
    const backlog = components.length ? components.reduce((s, c) => s + c.backlog, 0) : null;
    let problem: string | null = null;
    let oldestAgeMs: number | null = null;
    for (const c of components) {
      problem ??= storageProblem(c) ?? null;
      if (c.oldestAgeMs !== undefined) oldestAgeMs = Math.max(oldestAgeMs ?? 0, c.oldestAgeMs);
    }
    const status = !connected ? "down" : query.answering && control.answering && registry && problem === null ? "ok" : "degraded";
    const st = this.o.correlator.stats;
    return {
      status,
      ts: this.now(),
      broker: { connected },
      registry: { loaded: registry !== undefined, devices: registry?.size ?? 0 },
      query,
      control,
      storage: { backlog, components, problem, oldestAgeMs },
      api: {
        pending: this.o.correlator.size,
        delivered: st.delivered,
        timedOut: st.timedOut,
        dropped: st.dropped,
        invalidMessages: this.o.state.invalid,
        collapsed: this.queries.joined,
      },
    };
  }

  private idlePeer(peer: Peer): Health["query"] {
    return { answering: false, lastReplyAt: this.lastReply[peer], probed: false };
  }

  /** Fresh reply → answering; otherwise one shared probe: any valid reply (even an error reply) proves the peer answers. */
  private async peer(peer: Peer, registry: Registry | undefined): Promise<Health["query"]> {
    const fresh = this.o.healthFreshMs ?? 60_000;
    const last = this.lastReply[peer];
    if (last !== null && this.now() - last < fresh) return { answering: true, lastReplyAt: last, probed: false };
    const probe = (this.probes[peer] ??= this.probe(peer, registry).finally(() => delete this.probes[peer]));
    const answering = await probe;
    return { answering, lastReplyAt: this.lastReply[peer], probed: true };
  }

  private async probe(peer: Peer, registry: Registry | undefined): Promise<boolean> {
    const device = registry?.devices[0]?.id ?? "health-probe";
    const timeout = this.o.healthProbeMs ?? 2000;
    try {
      await this.ask(
        peer,
        (id) =>
          peer === "query"
            ? { v: CONTRACT_VERSION, id, replyTo: this.o.replyTopic, query: { type: "latestN", device, limit: 1 } }
            : { v: CONTRACT_VERSION, id, replyTo: this.o.replyTopic, action: "status", target: { device } },
        timeout,
      );
      return true;
    } catch {
      return false;
    }
  }

  // ---- replies ----

  /** Called for every message on the reply topic. Unknown or late ids are dropped (counted), never an error. */
  onReply(payload: unknown): "delivered" | "dropped" | "invalid" {
    let msg: unknown;
    try {
      msg = decodePayload(payload);
    } catch {
      return "invalid";
    }
    const id = typeof msg === "object" && msg !== null ? (msg as { id?: unknown }).id : undefined;
    if (typeof id !== "string") return "invalid";
    return this.o.correlator.deliver(id, msg) ? "delivered" : "dropped";
  }
}

/** The `queue` query parameter, checked here so a bad one is a 400 before anything is sent. */
function queueParam(q: QueryParams): string | undefined {
  const v = single(q, "queue");
  if (v === undefined) return undefined;
  try {
    parseQueueDuration(v);
  } catch (err) {
    throw new ApiError("INVALID_REQUEST", (err as Error).message, { details: [{ path: "$.query.queue", message: "ISO 8601 duration from PT1S to P7D" }] });
  }
  return v;
}

/**
 * What makes two data requests the same: the operation, the device and the query parameters as written (sorted by name;
 * relative times such as `-24h` and `now` stay relative, so they match however many ms apart they arrive). Only
 * called after the request validated, so both requests have the same meaning for the same key.
 */
function collapseKey(op: Operation, device: string, search: URLSearchParams): string {
  // Stable sort by name only: repeated parameters (fields=a&fields=b) keep their order.
  const params = [...search.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([op.id, device, params]);
}

function badReply(who: string, id: string, issues: { path: string; message: string }[]): ApiError {
  const first = issues[0];
  return new ApiError("BAD_REPLY", `the ${who} sent a reply that breaks its contract${first ? ` (${first.path}: ${first.message})` : ""}`, {
    details: issues,
    extra: { requestId: id },
  });
}
