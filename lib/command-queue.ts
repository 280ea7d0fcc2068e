// Commands waiting for offline plugs: bounded, expiring, superseded by later commands, persisted through a store; no I/O and no timers here.
import type { CommandResult } from "./contracts/command";
import { PlugwatchError, type ErrorBody } from "./contracts/errors";
import { MAX_QUEUE_MS, MIN_QUEUE_MS, QUEUE_DURATION_PATTERN, QueuedCommand, type QueuedDevice, type QueueState } from "./contracts/queued-command";
import { validate } from "./contracts/validate";

/** Most device commands waiting at once (a command for N plugs that did not answer takes N). */
export const DEFAULT_QUEUE_MAX = 1000;
/** Finished queued commands remembered for GET /commands/{id}; the oldest are forgotten first. */
export const DEFAULT_QUEUE_HISTORY = 1000;
export const QUEUE_LIMITS = { max: { min: 1, max: 100_000 }, history: { min: 0, max: 100_000 } } as const;

/** Errors after which the plug is worth trying again later: it did not answer, or the command never got a slot. */
export const RETRYABLE: ReadonlySet<string> = new Set(["DEVICE_UNREACHABLE", "TIMEOUT"]);

/** Parses an ISO 8601 queue time (PT1H, P1DT12H, P1W; no years or months) into ms, between MIN_QUEUE_MS and MAX_QUEUE_MS. */
export function parseQueueDuration(text: unknown): number {
  const m = typeof text === "string" && text.length <= 32 ? new RegExp(QUEUE_DURATION_PATTERN).exec(text) : null;
  if (!m) {
    throw new PlugwatchError(
      "INVALID_REQUEST",
      `queue must be an ISO 8601 duration such as PT30M, PT1H or P1D (no years or months), got ${JSON.stringify(text)}`,
      [{ path: "$.queue", message: "not an ISO 8601 duration" }],
    );
  }
  const n = (s: string | undefined): number => (s ? Number.parseInt(s, 10) : 0);
  const ms = ((((n(m[1]) * 7 + n(m[2])) * 24 + n(m[4])) * 60 + n(m[5])) * 60 + n(m[6])) * 1000;
  if (ms < MIN_QUEUE_MS || ms > MAX_QUEUE_MS) {
    throw new PlugwatchError("INVALID_REQUEST", `queue must be from PT1S to P7D, got ${text as string}`, [{ path: "$.queue", message: "out of range" }]);
  }
  return ms;
}

/** What is saved: the commands, and the request topic each waiting command came on (its audit records go under the same root). */
export interface QueueSnapshot {
  v: 1;
  commands: QueuedCommand[];
  topics: Record<string, string>;
}

/** Where the queue is kept between restarts (a JSON file in Node-RED's user dir, lib/command-queue-file.ts); optional. */
export interface QueueStore {
  load(): unknown;
  save(snapshot: QueueSnapshot): void;
}

export interface CommandQueueOptions {
  max?: number | undefined;
  history?: number | undefined;
  store?: QueueStore | undefined;
}

/** A command about to be queued: the outcome of its first attempt decides which devices wait. */
export interface NewQueuedCommand {
  id: string;
  action: "on" | "off";
  by?: string;
  at: number;
  expiresAt: number;
  results: readonly CommandResult[];
  /** The MQTT topic the request came on, when known. */
  topic?: string;
}

/** One device's command due for another attempt. */
export interface DueDelivery {
  id: string;
  device: string;
  action: "on" | "off";
  by?: string;
  /** The request topic of the command, when known. */
  topic?: string;
}

const overall = (devices: readonly QueuedDevice[]): QueuedCommand["state"] => {
  if (devices.some((d) => d.state === "queued")) return "queued";
  const first = devices[0]?.state ?? "failed";
  return devices.every((d) => d.state === first) ? first : "mixed";
};

export class CommandQueue {
  readonly max: number;
  readonly history: number;
  /** By command id, oldest first. */
  private readonly commands = new Map<string, QueuedCommand>();
  /** Request topic by command id, for commands that still wait. */
  private readonly topics = new Map<string, string>();
  private readonly store: QueueStore | undefined;
  /** Entries the store held that were not valid queued commands (skipped at load). */
  readonly skippedAtLoad: number = 0;

  constructor(opts: CommandQueueOptions = {}) {
    this.max = opts.max ?? DEFAULT_QUEUE_MAX;
    this.history = opts.history ?? DEFAULT_QUEUE_HISTORY;
    if (!Number.isInteger(this.max) || this.max < QUEUE_LIMITS.max.min || this.max > QUEUE_LIMITS.max.max) {
      throw new PlugwatchError("INVALID_REQUEST", `queue size must be an integer from ${QUEUE_LIMITS.max.min} to ${QUEUE_LIMITS.max.max} (got ${this.max})`);
    }
    if (!Number.isInteger(this.history) || this.history < QUEUE_LIMITS.history.min || this.history > QUEUE_LIMITS.history.max) {
      throw new PlugwatchError(
        "INVALID_REQUEST",
        `queue history must be an integer from ${QUEUE_LIMITS.history.min} to ${QUEUE_LIMITS.history.max} (got ${this.history})`,
      );
    }
    this.store = opts.store;
    if (this.store) this.skippedAtLoad = this.restore(this.store.load());
  }

  /** Device commands waiting now. */
  get waiting(): number {
    let n = 0;
    for (const c of this.commands.values()) for (const d of c.devices) if (d.state === "queued") n++;
    return n;
  }

  /** Room for this many more waiting device commands. */
  get room(): number {
    return Math.max(0, this.max - this.waiting);
  }

  /** True when some command waits for `device`. */
  isWaiting(device: string): boolean {
    for (const c of this.commands.values()) if (c.devices.some((d) => d.device === device && d.state === "queued")) return true;
    return false;
  }

  /**
   * Records a command sent with a queue time after its first attempt: devices that succeeded are delivered, devices
   * that did not answer (RETRYABLE) wait while there is room (QUEUE_FULL beyond it), the others failed. Returns the
   * results marked `queued` (or carrying QUEUE_FULL) as the reply should give them.
   */
  record(cmd: NewQueuedCommand): CommandResult[] {
    let room = this.room;
    const out: CommandResult[] = [];
    const devices: QueuedDevice[] = cmd.results.map((r) => {
      const base = { device: r.device, at: Math.round(cmd.at), attempts: 0 };
      if (r.ok) {
        out.push(r);
        return { ...base, state: "delivered", ...(r.relay !== undefined ? { relay: r.relay } : {}) };
      }
      const error: ErrorBody = r.error ?? { code: "INTERNAL", message: "failed without an error" };
      if (!RETRYABLE.has(error.code)) {
        out.push(r);
        return { ...base, state: "failed", error };
      }
      if (room <= 0) {
        const full: ErrorBody = {
          code: "QUEUE_FULL",
          message: `not queued: ${this.max} device commands are already waiting (${error.code}: ${error.message})`,
        };
        out.push({ ...r, error: full });
        return { ...base, state: "failed", error: full };
      }
      room--;
      out.push({ ...r, queued: true });
      return { ...base, state: "queued", error };
    });
    if (devices.length === 0) return out;
    this.commands.delete(cmd.id);
    if (cmd.topic !== undefined && devices.some((d) => d.state === "queued")) this.topics.set(cmd.id, cmd.topic);
    this.commands.set(cmd.id, {
      id: cmd.id,
      action: cmd.action,
      ...(cmd.by !== undefined ? { by: cmd.by } : {}),
      queuedAt: Math.round(cmd.at),
      expiresAt: Math.round(cmd.expiresAt),
      state: overall(devices),
      devices,
    });
    this.changed();
    return out;
  }

  /** A later switching command `by` (its id) for `device`: every earlier one still waiting for it is superseded. */
  supersede(device: string, by: string, now: number): number {
    let n = 0;
    for (const c of this.commands.values()) {
      if (c.id === by) continue;
      for (const d of c.devices) {
        if (d.device !== device || d.state !== "queued") continue;
        this.finish(c, d, "superseded", now, { supersededBy: by });
        n++;
      }
    }
    if (n) this.changed();
    return n;
  }

  /** Marks every waiting device command whose time ran out as expired; returns how many. */
  expire(now: number): number {
    let n = 0;
    for (const c of this.commands.values()) {
      if (now < c.expiresAt) continue;
      for (const d of c.devices) {
        if (d.state !== "queued") continue;
        this.finish(c, d, "expired", now, {});
        n++;
      }
    }
    if (n) this.changed();
    return n;
  }

  /** Device commands to try again now (expired ones are expired first), oldest first; at most one per device. */
  due(now: number): DueDelivery[] {
    this.expire(now);
    const out: DueDelivery[] = [];
    const seen = new Set<string>();
    for (const c of this.commands.values()) {
      for (const d of c.devices) {
        if (d.state !== "queued" || seen.has(d.device)) continue;
        seen.add(d.device);
        const topic = this.topics.get(c.id);
        out.push({ id: c.id, device: d.device, action: c.action, ...(c.by !== undefined ? { by: c.by } : {}), ...(topic !== undefined ? { topic } : {}) });
      }
    }
    return out;
  }

  /** Whether command `id` still waits for `device` at `now` (checked right before it is sent). */
  stillDue(id: string, device: string, now: number): boolean {
    const c = this.commands.get(id);
    return !!c && now < c.expiresAt && c.devices.some((d) => d.device === device && d.state === "queued");
  }

  /**
   * The outcome of one attempt: `result` undefined = the plug still did not answer (another attempt counted);
   * a result = the command was sent: delivered when ok, failed unless its error is RETRYABLE (then it keeps waiting).
   */
  settle(id: string, device: string, now: number, result?: CommandResult): QueueState | undefined {
    const c = this.commands.get(id);
    const d = c?.devices.find((x) => x.device === device);
    if (!c || !d || d.state !== "queued") return d?.state;
    d.attempts++;
    d.at = Math.round(now);
    if (!result || (!result.ok && RETRYABLE.has(result.error?.code ?? ""))) {
      if (result?.error) d.error = result.error;
      this.changed();
      return "queued";
    }
    if (result.ok) {
      delete d.error;
      this.finish(c, d, "delivered", now, result.relay !== undefined ? { relay: result.relay } : {});
    } else {
      this.finish(c, d, "failed", now, { error: result.error ?? { code: "INTERNAL", message: "failed without an error" } });
    }
    this.changed();
    return d.state;
  }

  /** A copy of command `id` (expired first when its time ran out), or undefined. */
  get(id: string, now: number): QueuedCommand | undefined {
    this.expire(now);
    const c = this.commands.get(id);
    return c ? structuredClone(c) : undefined;
  }

  /** Every remembered command, oldest first (copies). */
  list(): QueuedCommand[] {
    return [...this.commands.values()].map((c) => structuredClone(c));
  }

  private finish(c: QueuedCommand, d: QueuedDevice, state: QueueState, now: number, extra: Partial<QueuedDevice>): void {
    d.state = state;
    d.at = Math.round(now);
    Object.assign(d, extra);
    c.state = overall(c.devices);
  }

  /** Saves, after forgetting the oldest finished commands beyond the history bound. */
  private changed(): void {
    const finished = [...this.commands.values()].filter((c) => c.state !== "queued");
    for (const old of finished.slice(0, Math.max(0, finished.length - this.history))) this.commands.delete(old.id);
    for (const id of this.topics.keys()) if (this.commands.get(id)?.state !== "queued") this.topics.delete(id);
    this.store?.save({ v: 1, commands: this.list(), topics: Object.fromEntries(this.topics) });
  }

  /** Loads saved commands; anything that is not a valid queued command is skipped (a damaged file loses entries, never the node). */
  private restore(saved: unknown): number {
    const snapshot = typeof saved === "object" && saved !== null ? (saved as Partial<Record<keyof QueueSnapshot, unknown>>) : {};
    const list = snapshot.commands;
    if (!Array.isArray(list)) return 0;
    const topics = typeof snapshot.topics === "object" && snapshot.topics !== null ? (snapshot.topics as Record<string, unknown>) : {};
    let skipped = 0;
    for (const e of list) {
      const r = validate(QueuedCommand, e);
      if (!r.ok) {
        skipped++;
        continue;
      }
      this.commands.set(r.value.id, r.value);
      const topic = topics[r.value.id];
      if (typeof topic === "string" && topic.length <= 1024) this.topics.set(r.value.id, topic);
    }
    // A smaller bound than the file was written with: the newest waiting commands beyond it are dropped.
    let over = this.waiting - this.max;
    for (const c of [...this.commands.values()].reverse()) {
      if (over <= 0) break;
      for (const d of c.devices) {
        if (over > 0 && d.state === "queued") {
          this.finish(c, d, "failed", d.at, { error: { code: "QUEUE_FULL", message: `dropped at load: the queue holds at most ${this.max}` } });
          over--;
        }
      }
    }
    return skipped;
  }
}
