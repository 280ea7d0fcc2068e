// The control agent with a command queue in front of lib/control.ts: `queue` on a command, lookups of queued commands, and delivery when a plug answers again.
import { randomUUID } from "node:crypto";
import type { TimeSource } from "./clock";
import type { CommandResult } from "./contracts/command";
import { CONTRACT_VERSION, RequestId } from "./contracts/common";
import type { ErrorBody } from "./contracts/errors";
import { toErrorBody } from "./contracts/errors";
import { CommandLookupRequest, type CommandLookupReply } from "./contracts/queued-command";
import { ReplyTopicRefused } from "./contracts/reply-topic";
import { decodePayload, validate } from "./contracts/validate";
import { CommandQueue, parseQueueDuration } from "./command-queue";
import type { Controller, HandleResult } from "./control";

/** Default pause between two delivery rounds for waiting commands (ms). */
export const DEFAULT_QUEUE_RETRY_MS = 30_000;
export const QUEUE_RETRY_LIMITS = { min: 100, max: 3_600_000 } as const;

/** The answer to a lookup request (`{v, id, replyTo, command}`): a reply for replyTo, never an audit record. */
export interface LookupResult {
  lookup: true;
  reply: CommandLookupReply;
  replyTo?: string;
}

export interface QueuedControlOptions {
  controller: Controller;
  queue: CommandQueue;
  clock: TimeSource;
  /** Called with the result of every delivery (its audit record goes to {root}/audit/command) and the root's request topic. */
  onDelivery: (result: HandleResult, requestTopic: string | undefined) => void;
  newId?: () => string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const SWITCHING = new Set(["on", "off", "toggle"]);

export class QueuedControl {
  private readonly c: Controller;
  readonly queue: CommandQueue;
  private readonly clock: TimeSource;
  private round: Promise<void> | undefined;

  constructor(private readonly o: QueuedControlOptions) {
    this.c = o.controller;
    this.queue = o.queue;
    this.clock = o.clock;
  }

  /**
   * A command (`queue` optional) or a lookup. Throws like Controller.handle when the request cannot be answered at all.
   */
  async handle(request: unknown, requestTopic?: unknown): Promise<HandleResult | LookupResult> {
    const body = decodePayload(request);
    if (!isObject(body) || body.action !== undefined || body.command === undefined) {
      if (!isObject(body) || body.queue === undefined) return this.afterCommand(await this.c.handle(body, requestTopic));
      return this.queued(body, requestTopic);
    }
    return this.lookup(body, requestTopic);
  }

  /** Any accepted switching command replaces what still waits for its devices (the latest intent wins). */
  private afterCommand(result: HandleResult): HandleResult {
    if (result.action && SWITCHING.has(result.action) && !result.reply.error) {
      for (const r of result.reply.results) this.queue.supersede(r.device, result.reply.id, this.clock.now());
    }
    return result;
  }

  private async queued(body: Record<string, unknown>, requestTopic: unknown): Promise<HandleResult> {
    const { queue, ...command } = body;
    let ms: number | undefined;
    let problem: ErrorBody | undefined;
    try {
      ms = parseQueueDuration(queue);
      if (command.action !== "on" && command.action !== "off") {
        problem = {
          code: "INVALID_REQUEST",
          message: `queue applies to on and off only (a toggle delivered later would depend on a state nobody saw), got action ${JSON.stringify(command.action)}`,
          details: [{ path: "$.queue", message: "only with action on or off" }],
        };
      } else if (this.queue.room === 0) {
        problem = { code: "QUEUE_FULL", message: `${this.queue.max} device commands already wait for their plugs; nothing was switched or queued` };
      }
    } catch (err) {
      problem = toErrorBody(err);
    }
    if (problem) return this.refuse(command, requestTopic, problem);
    const at = this.clock.now();
    const result = this.afterCommand(await this.c.handle(command, requestTopic));
    const { reply } = result;
    if (reply.error || (result.action !== "on" && result.action !== "off")) return result;
    const results = this.queue.record({
      id: reply.id,
      action: result.action,
      ...(typeof command.by === "string" ? { by: command.by } : {}),
      at,
      expiresAt: at + (ms as number),
      results: reply.results,
      ...(typeof requestTopic === "string" ? { topic: requestTopic } : {}),
    });
    const expiresAt = results.some((r) => r.queued) ? { expiresAt: Math.round(at + (ms as number)) } : {};
    return { ...result, reply: { ...reply, results, ...expiresAt } };
  }

  /** A command refused before anything was switched, answered in the controller's reply shape. */
  private refuse(command: Record<string, unknown>, requestTopic: unknown, error: ErrorBody): HandleResult {
    const id = validate(RequestId, command.id).ok ? (command.id as string) : (this.o.newId ?? randomUUID)();
    let replyTo: string | undefined;
    if (command.replyTo !== undefined) {
      const r = this.c.replyTopics.check(command.replyTo, requestTopic);
      if (!r.ok) throw new ReplyTopicRefused(r.problem, r.message);
      replyTo = r.topic;
    }
    const action =
      command.action === "on" || command.action === "off" || command.action === "toggle" || command.action === "status" ? command.action : undefined;
    return {
      reply: { v: CONTRACT_VERSION, id, ok: false, results: [], error },
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(action ? { action } : {}),
    };
  }

  private lookup(body: Record<string, unknown>, requestTopic: unknown): LookupResult {
    const r = this.c.replyTopics.check(body.replyTo, requestTopic);
    if (!r.ok) throw new ReplyTopicRefused(r.problem, r.message);
    const id = validate(RequestId, body.id).ok ? (body.id as string) : (this.o.newId ?? randomUUID)();
    const answer = (reply: Omit<CommandLookupReply, "v" | "id">): LookupResult => ({
      lookup: true,
      reply: { v: CONTRACT_VERSION, id, ...reply },
      replyTo: r.topic,
    });
    const v = validate(CommandLookupRequest, body);
    if (!v.ok) {
      const first = v.issues[0];
      return answer({
        ok: false,
        error: { code: "INVALID_REQUEST", message: first ? `${first.path}: ${first.message}` : "invalid lookup", details: v.issues },
      });
    }
    const command = this.queue.get(v.value.command, this.clock.now());
    if (!command) return answer({ ok: false, error: { code: "UNKNOWN_COMMAND", message: `no queued command '${v.value.command}'` } });
    return answer({ ok: true, command });
  }

  /**
   * One delivery round: expires what ran out, then for each waiting device asks the plug for its relay (a status read,
   * never audited); a plug that answers gets its command through the normal control path (audited, id and `by` of the
   * original command). Rounds never overlap: a call during a round returns that round.
   */
  deliver(): Promise<void> {
    this.round ??= this.runRound().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  private async runRound(): Promise<void> {
    const due = this.queue.due(this.clock.now());
    await Promise.all(
      due.map(async (job) => {
        const probe = await this.c.handle({ action: "status", device: job.device }).catch(() => undefined);
        const answered = probe?.reply.results[0]?.ok === true;
        if (!answered) return void this.queue.settle(job.id, job.device, this.clock.now(), failedProbe(probe));
        if (!this.queue.stillDue(job.id, job.device, this.clock.now())) return;
        const result = await this.c.handle({ action: job.action, device: job.device, id: job.id, ...(job.by !== undefined ? { by: job.by } : {}) });
        const outcome: CommandResult = result.reply.results[0] ?? {
          device: job.device,
          ok: false,
          error: result.reply.error ?? { code: "INTERNAL", message: "no result" },
        };
        this.queue.settle(job.id, job.device, this.clock.now(), outcome);
        this.o.onDelivery(result, job.topic);
      }),
    );
  }

  /** Waits for a round in progress. */
  async stop(): Promise<void> {
    await this.round;
  }
}

/** A probe that did not reach the plug: no result to record (the attempt is counted); a registry problem is recorded as the error. */
function failedProbe(probe: HandleResult | undefined): CommandResult | undefined {
  const err = probe?.reply.error;
  if (!err) return undefined;
  return { device: "", ok: false, error: err };
}

/** The device of an availability message saying it is online (the collector's {root}/…/{device}/availability), else undefined. */
export function onlineDevice(topic: unknown, payload: unknown): string | undefined {
  if (typeof topic !== "string" || !topic.endsWith("/availability")) return undefined;
  let p: unknown;
  try {
    p = decodePayload(payload);
  } catch {
    return undefined;
  }
  return isObject(p) && p.online === true && typeof p.device === "string" ? p.device : undefined;
}

/** The reply message of a lookup: on replyTo, QoS 1, never retained (the request's other properties kept, like command replies). */
export function lookupMessage(msg: Readonly<Record<string, unknown>>, result: LookupResult): Record<string, unknown> {
  const { topic: _topic, ...rest } = msg;
  return { ...rest, payload: result.reply, ...(result.replyTo !== undefined ? { topic: result.replyTo } : {}), qos: 1, retain: false };
}
