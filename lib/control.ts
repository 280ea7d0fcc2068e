// Command handling for plugwatch-control: validate a request, resolve its target, switch plugs with bounded concurrency, confirm by read-back.
import { systemClock, type TimerHandle, type TimeSource } from "./clock";
import { Limiter } from "./limiter";
import { randomUUID } from "node:crypto";
import { ACTIONS, CommandRequest, type Action, type AuditRecord, type CommandReply, type CommandResult } from "./contracts/command";
import type { Target } from "./contracts/device";
import { CONTRACT_VERSION, RequestId } from "./contracts/common";
import { ReplyTopicGuard, ReplyTopicRefused } from "./contracts/reply-topic";
import { DEFAULT_ROOT } from "./topics";
import type { Device } from "./contracts/device";
import { PlugwatchError, toErrorBody, type ErrorBody } from "./contracts/errors";
import { decodePayload, validate } from "./contracts/validate";
import { explainTarget, friendlyIssues, type Registry } from "./registry";
import { criticalSkip } from "./critical";

/** The part of PlugClient the controller needs (injected so tests can count calls or simulate hangs). */
export interface RelayClient {
  poll(device: Pick<Device, "host" | "port">, timeoutMs?: number): Promise<{ relay: boolean }>;
  setRelay(device: Pick<Device, "host" | "port">, on: boolean, timeoutMs?: number): Promise<void>;
}

/** Time source and timers (injected so tests never sleep): lib/clock.ts's. */
export type Clock = TimeSource;

/** A command whose devices waited longer than their budget for a free slot never switches anything. */
const queueTimeout = (waitedMs: number): PlugwatchError =>
  new PlugwatchError("TIMEOUT", `dropped after waiting ${Math.round(waitedMs)} ms in the command queue (busy plugs ahead of it); nothing was switched`);

export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_TIMEOUT_MS = 3000;
/** Most plug operations waiting for a free slot, across all requests; a request that would exceed it is refused. */
export const DEFAULT_MAX_QUEUED = 1000;
export const LIMITS = { concurrency: { min: 1, max: 1000 }, timeoutMs: { min: 50, max: 60_000 }, maxQueued: { min: 0, max: 100_000 } } as const;

export interface ControllerOptions {
  /** The registry, or a getter (a config node's `require()`), called once per request. */
  registry: Registry | (() => Registry);
  client: RelayClient;
  /** Most plug operations in flight at once, across all requests (default 16). */
  concurrency?: number | undefined;
  /** Budget per device in ms for the whole action: switch plus read-back (default 3000). */
  timeoutMs?: number | undefined;
  /**
   * Most device operations waiting behind the concurrency bound (default 1000). A request whose devices would not
   * fit is answered LIMIT_EXCEEDED as a whole, before any plug is touched.
   */
  maxQueued?: number;
  clock?: Clock;
  newId?: () => string;
  /** Checks and counts reply topics (default: replies under `plugwatch/api/reply/…` or `clients/…`). */
  replyTopics?: ReplyTopicGuard;
}

export interface HandleResult {
  reply: CommandReply;
  /** Topic to publish the reply on; absent for a plain request without replyTo. */
  replyTo?: string;
  /** The action, when it could be read (for status summaries). */
  action?: Action;
  /** What to record on {root}/audit/command: every on/off/toggle that was accepted as a request (not status reads). */
  audit?: AuditRecord;
}

/** Keys a plain request (no `v`) may use: the envelope's keys plus the target's keys at top level. */
const TARGET_KEYS = ["device", "devices", "kind", "building", "floor", "room", "all"] as const;
const PLAIN_KEYS = new Set<string>(["action", "id", "replyTo", "target", "by", ...TARGET_KEYS]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks a config value; returns an error message or undefined. */
export function checkControllerOptions(concurrency: number, timeoutMs: number): string | undefined {
  if (!Number.isInteger(concurrency) || concurrency < LIMITS.concurrency.min || concurrency > LIMITS.concurrency.max) {
    return `concurrency must be an integer from ${LIMITS.concurrency.min} to ${LIMITS.concurrency.max} (got ${String(concurrency)})`;
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs < LIMITS.timeoutMs.min || timeoutMs > LIMITS.timeoutMs.max) {
    return `timeout must be an integer from ${LIMITS.timeoutMs.min} to ${LIMITS.timeoutMs.max} ms (got ${String(timeoutMs)})`;
  }
  return undefined;
}

export class Controller {
  private readonly getRegistry: () => Registry;
  private readonly client: RelayClient;
  private readonly limiter: Limiter;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly maxQueued: number;
  private readonly clock: Clock;
  private readonly newId: () => string;
  private readonly pending = new Set<Promise<unknown>>();
  /** Reply topic check shared with the query component and the API (lib/contracts/reply-topic.ts). */
  readonly replyTopics: ReplyTopicGuard;

  constructor(opts: ControllerOptions) {
    const registry = opts.registry;
    this.getRegistry = typeof registry === "function" ? registry : () => registry;
    this.client = opts.client;
    this.concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const problem = checkControllerOptions(this.concurrency, this.timeoutMs);
    if (problem) throw new PlugwatchError("INVALID_REQUEST", problem);
    this.maxQueued = opts.maxQueued ?? DEFAULT_MAX_QUEUED;
    if (!Number.isInteger(this.maxQueued) || this.maxQueued < LIMITS.maxQueued.min || this.maxQueued > LIMITS.maxQueued.max) {
      throw new PlugwatchError(
        "INVALID_REQUEST",
        `maxQueued must be an integer from ${LIMITS.maxQueued.min} to ${LIMITS.maxQueued.max} (got ${String(this.maxQueued)})`,
      );
    }
    this.clock = opts.clock ?? systemClock;
    this.limiter = new Limiter({ concurrency: this.concurrency, clock: this.clock });
    this.newId = opts.newId ?? randomUUID;
    this.replyTopics = opts.replyTopics ?? new ReplyTopicGuard(DEFAULT_ROOT);
  }

  /** Requests being handled right now. */
  get busy(): number {
    return this.pending.size;
  }

  /**
   * Handles one command request (object, JSON string or Buffer). Request problems become an error reply;
   * device problems become error results. Throws a PlugwatchError (INVALID_REQUEST) only when the input
   * cannot be answered at all: not a JSON object, or an `id`/`replyTo` that is present but invalid; a refused
   * `replyTo` throws ReplyTopicRefused (counted in `replyTopics`) and nothing is switched. `requestTopic` (the
   * MQTT topic the request came on) gives the topic root of the allowed reply prefix.
   */
  handle(request: unknown, requestTopic?: unknown): Promise<HandleResult> {
    const p = this.handleInner(request, requestTopic);
    this.pending.add(p);
    const forget = (): void => {
      this.pending.delete(p);
    };
    p.then(forget, forget);
    return p;
  }

  /** Device operations waiting for a free slot right now. */
  get queued(): number {
    return this.limiter.waiting;
  }

  /** Waits for in-flight requests, at most `graceMs`; resolves true if all finished in time. */
  async stop(graceMs = 10_000): Promise<boolean> {
    if (this.pending.size === 0) return true;
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(false), graceMs);
    });
    const settled = Promise.allSettled([...this.pending]).then(() => true);
    try {
      return await Promise.race([settled, timedOut]);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private async handleInner(request: unknown, requestTopic: unknown): Promise<HandleResult> {
    const body = decodePayload(request);
    if (!isObject(body)) {
      throw new PlugwatchError(
        "INVALID_REQUEST",
        `command must be a JSON object, got ${body === null ? "null" : Array.isArray(body) ? "an array" : typeof body}`,
      );
    }
    const { id, replyTo } = this.correlation(body, requestTopic);
    const answer = (error: ErrorBody, action?: Action): HandleResult => ({
      reply: { v: CONTRACT_VERSION, id, ok: false, results: [], error },
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(action !== undefined ? { action } : {}),
    });

    const parsed = this.parseRequest(body, id, replyTo);
    if ("error" in parsed) return answer(parsed.error, parsed.action);
    const req = parsed.request;

    let devices: Device[];
    try {
      devices = this.getRegistry().select(req.target);
    } catch (err) {
      return answer(toErrorBody(err), req.action);
    }

    const waiting = Math.max(0, devices.length - this.limiter.free);
    if (waiting > 0 && this.limiter.waiting + waiting > this.maxQueued) {
      return answer(
        {
          code: "LIMIT_EXCEEDED",
          message: `command queue full: ${this.limiter.waiting} plug operations already waiting, this request would add ${waiting} (at most ${this.maxQueued}); nothing was switched, retry later`,
        },
        req.action,
      );
    }
    // Time spent waiting counts against the budget: once it is used up the command is dropped, not run late.
    const acceptedAt = this.clock.now();
    const results = await Promise.all(
      devices.map((d) =>
        // A critical device in a group, schedule or cut-off command is skipped with a reason (lib/critical.ts).
        Promise.resolve(criticalSkip(d, req.action, req.target, req.by)).then(
          (skip) =>
            skip ??
            this.limiter
              .run(() => this.runOne(d, req.action), { maxWaitMs: this.timeoutMs - (this.clock.now() - acceptedAt), timeoutError: queueTimeout })
              .catch((err: unknown): CommandResult => ({ device: d.id, ok: false, error: deviceError(err) })),
        ),
      ),
    );
    const reply: CommandReply = { v: CONTRACT_VERSION, id, ok: results.every((r) => r.ok), results };
    const audit = req.action === "status" ? undefined : auditOf(reply, req.action, req.target, req.by, this.clock.now());
    return { reply, ...(replyTo !== undefined ? { replyTo } : {}), action: req.action, ...(audit ? { audit } : {}) };
  }

  /** Reads id and replyTo: absent is fine (an id is generated), present but invalid cannot be answered. */
  private correlation(body: Record<string, unknown>, requestTopic: unknown): { id: string; replyTo?: string } {
    const details: { path: string; message: string }[] = [];
    let id: string | undefined;
    if (body.id !== undefined) {
      const r = validate(RequestId, body.id);
      if (r.ok) id = r.value;
      else details.push({ path: "$.id", message: "id must be 1-128 printable ASCII characters without spaces" });
    }
    let replyTo: string | undefined;
    if (body.replyTo !== undefined) {
      const r = this.replyTopics.check(body.replyTo, requestTopic);
      if (!r.ok) throw new ReplyTopicRefused(r.problem, r.message);
      replyTo = r.topic;
    }
    if (details.length) {
      throw new PlugwatchError("INVALID_REQUEST", `cannot answer: ${details.map((d) => `${d.path}: ${d.message}`).join("; ")}`, details);
    }
    return { id: id ?? this.newId(), ...(replyTo !== undefined ? { replyTo } : {}) };
  }

  /** Turns the envelope or the plain form into a validated CommandRequest, or says why not. */
  private parseRequest(
    body: Record<string, unknown>,
    id: string,
    replyTo: string | undefined,
  ): { request: CommandRequest } | { error: ErrorBody; action?: Action } {
    const envelope = body.v !== undefined;
    if (envelope && body.v !== CONTRACT_VERSION) {
      return { error: { code: "UNSUPPORTED_VERSION", message: `contract version ${JSON.stringify(body.v)} is not supported (expected ${CONTRACT_VERSION})` } };
    }
    if (typeof body.action !== "string" || !(ACTIONS as readonly string[]).includes(body.action)) {
      const got = body.action === undefined ? "no action" : `action ${JSON.stringify(body.action)}`;
      return {
        error: {
          code: "BAD_ACTION",
          message: `${got}: action must be one of ${ACTIONS.join(", ")}`,
          details: [{ path: "$.action", message: `expected one of ${ACTIONS.join(", ")}` }],
        },
      };
    }
    const action = body.action as Action;

    let target: unknown;
    let base: string;
    if (envelope) {
      target = body.target;
      base = "$.target";
    } else {
      const unknownKeys = Object.keys(body).filter((k) => !PLAIN_KEYS.has(k));
      if (unknownKeys.length) {
        return { action, error: invalid(unknownKeys.map((k) => ({ path: `$.${k}`, message: `unknown property '${k}'` }))) };
      }
      const inline = Object.fromEntries(TARGET_KEYS.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]));
      const hasInline = Object.keys(inline).length > 0;
      if (body.target !== undefined && hasInline) {
        return { action, error: invalid([{ path: "$", message: `give either 'target' or ${Object.keys(inline).join("/")}, not both` }]) };
      }
      target = body.target ?? (hasInline ? inline : undefined);
      base = body.target !== undefined ? "$.target" : "$";
    }
    if (target === undefined) {
      return { action, error: invalid([{ path: "$.target", message: "missing target: give device, devices, kind, building[/floor/room] or all:true" }]) };
    }
    const t = explainTarget(target);
    if (t.length) return { action, error: invalid(t.map((i) => ({ path: base === "$" ? i.path : base + i.path.slice(1), message: i.message }))) };
    const candidate = envelope ? body : { v: CONTRACT_VERSION, id, replyTo: replyTo ?? "-", action, target, ...(body.by !== undefined ? { by: body.by } : {}) };
    const r = validate(CommandRequest, candidate);
    if (!r.ok) return { action, error: invalid(friendlyIssues(candidate, r.issues)) };
    // For the plain form the replyTo placeholder only satisfies the schema; the caller uses its own `replyTo`.
    return { request: r.value };
  }

  /** One device: switch and confirm (or read only for status), within the per-device budget. */
  private async runOne(device: Device, action: Action): Promise<CommandResult> {
    const deadline = this.clock.now() + this.timeoutMs;
    const left = (): number => Math.max(1, deadline - this.clock.now());
    let timer: TimerHandle | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(
        () => reject(new PlugwatchError("DEVICE_UNREACHABLE", `no answer from ${device.host}:${device.port} within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    const work = async (): Promise<CommandResult> => {
      if (action === "status") {
        const s = await this.client.poll(device, left());
        return { device: device.id, ok: true, relay: s.relay };
      }
      let wanted: boolean;
      if (action === "toggle") wanted = !(await this.client.poll(device, left())).relay;
      else wanted = action === "on";
      await this.client.setRelay(device, wanted, left());
      const back = await this.client.poll(device, left());
      if (back.relay !== wanted) {
        return {
          device: device.id,
          ok: false,
          relay: back.relay,
          error: { code: "NOT_CONFIRMED", message: `relay reads ${back.relay ? "on" : "off"} after switching ${wanted ? "on" : "off"}` },
        };
      }
      return { device: device.id, ok: true, relay: back.relay };
    };
    const attempt = work();
    // If the guard wins, the late attempt must not raise an unhandled rejection.
    attempt.catch(() => undefined);
    try {
      return await Promise.race([attempt, guard]);
    } catch (err) {
      return { device: device.id, ok: false, error: deviceError(err) };
    } finally {
      this.clock.clearTimeout(timer);
    }
  }
}

function invalid(details: { path: string; message: string }[]): ErrorBody {
  const first = details[0];
  return { code: "INVALID_REQUEST", message: first ? `${first.path}: ${first.message}` : "invalid request", details };
}

function deviceError(err: unknown): ErrorBody {
  const body = toErrorBody(err);
  // Anything the plug library throws that is not already classified means the plug did not answer properly.
  if (body.code === "INTERNAL") return { code: "DEVICE_UNREACHABLE", message: body.message };
  return { code: body.code, message: body.message };
}

/** The audit record of a switching action: who (the request's `by`), what, when, and each device's result. */
export function auditOf(reply: CommandReply, action: Action, target: Target, by: string | undefined, now: number): AuditRecord {
  return {
    v: CONTRACT_VERSION,
    ts: Math.round(now),
    id: reply.id,
    ...(by !== undefined ? { by } : {}),
    action,
    target,
    ok: reply.ok,
    results: reply.results.map((r) => ({
      device: r.device,
      ok: r.ok,
      ...(r.relay !== undefined ? { relay: r.relay } : {}),
      ...(r.error ? { code: r.error.code } : {}),
      ...(r.skipped ? { code: r.skipped.code, skipped: true } : {}),
    })),
    ...(reply.error ? { error: reply.error.code } : {}),
  };
}
