// What plugwatch-scheduler does with its inputs: readings and audit records feed the engine, API requests on
// {root}/api/request/schedule are answered (list, replace, savings), and due commands leave for the control agent.
import type { TimeSource } from "../clock";
import { AuditRecord, auditTopic } from "../contracts/command";
import { CONTRACT_VERSION } from "../contracts/common";
import { PlugwatchError, toErrorBody, type ErrorBody } from "../contracts/errors";
import { Reading } from "../contracts/reading";
import type { ReplyTopicGuard } from "../contracts/reply-topic";
import { decodePayload, validate } from "../contracts/validate";
import type { Registry } from "../registry";
import { commandRequestTopic, parseDeviceTopic } from "../topics";
import { checkScheduleDocument, parseScheduleText, type ScheduleConfig } from "./config";
import { ScheduleRequest, scheduleRequestTopic, type ScheduleReply, type ScheduleState } from "./contract";
import { ScheduleEngine, type ScheduleCommand } from "./engine";
import type { PriceFn } from "./savings";
import type { ScheduleStore } from "./store";

export interface OutMessage {
  [key: string]: unknown;
  topic: string;
  payload: unknown;
  qos: 1;
  retain: false;
}

export interface ServiceOptions {
  root: string;
  registry: () => Registry;
  store: ScheduleStore;
  clock: Pick<TimeSource, "now">;
  /** Reply topics of API requests are checked like the control agent's (lib/contracts/reply-topic.ts). */
  guard: ReplyTopicGuard;
  /** Reads holiday ICS files named by the document, relative to `baseDir` (the user directory). */
  readFile: (file: string) => string;
  baseDir?: string | undefined;
  price?: PriceFn;
  newId?: () => string;
  /** Keeps the savings ledger between restarts (a JSON file in the user directory). */
  savingsStore?: { load(): unknown; save(snapshot: unknown): void };
}

/** What one input produced: messages to publish, and a problem worth a (rate-limited) warning. */
export interface InputResult {
  out: OutMessage[];
  kind: "reading" | "audit" | "request" | "ignored";
  warning?: { key: string; text: string };
}

const message = (topic: string, payload: unknown): OutMessage => ({ topic, payload, qos: 1, retain: false });

export class ScheduleService {
  readonly engine: ScheduleEngine;
  private outbox: ScheduleCommand[] = [];
  private label: string;
  private updatedAt: number | null = null;
  private updatedBy: string | null = null;

  /** Loads the document (throws ScheduleError/INVALID_SCHEDULE with file, path and reason). */
  constructor(private readonly o: ServiceOptions) {
    const { text, label } = o.store.read();
    this.label = label;
    const config = parseScheduleText(text, this.parseOptions(label));
    this.engine = new ScheduleEngine(config, {
      registry: o.registry,
      clock: o.clock,
      send: (c) => this.outbox.push(c),
      ...(o.newId ? { newId: o.newId } : {}),
      ...(o.price ? { price: o.price } : {}),
    });
    if (o.savingsStore) this.engine.savings.restore(o.savingsStore.load());
  }

  /** Rules in force, for the status. */
  get counts(): { schedules: number; standby: number } {
    const d = this.engine.document;
    return { schedules: d.schedules?.length ?? 0, standby: d.standby?.length ?? 0 };
  }

  /** Runs what is due now. */
  tick(now = this.o.clock.now()): OutMessage[] {
    this.engine.tick(now);
    return this.drain();
  }

  /** One input message (MQTT topic + payload). Never throws: bad input is ignored with a warning. */
  input(topic: unknown, payload: unknown): InputResult {
    const root = this.o.root;
    const t = typeof topic === "string" ? topic : "";
    try {
      if (t === scheduleRequestTopic(root)) return { kind: "request", out: this.request(payload, t) };
      if (t === auditTopic(root)) {
        const r = validate(AuditRecord, decodePayload(payload));
        if (!r.ok) return { kind: "ignored", out: [], warning: { key: "audit", text: `invalid audit record on ${t}: ${r.issues[0]?.message ?? ""}` } };
        const before = this.engine.savings.size;
        const open = this.engine.savings.all().filter((s) => s.to === undefined).length;
        this.engine.onAudit(r.value);
        if (this.engine.savings.size !== before || this.engine.savings.all().filter((s) => s.to === undefined).length !== open) this.saveSavings();
        return { kind: "audit", out: this.drain() };
      }
      const dt = parseDeviceTopic(root, t);
      if (dt?.stream === "reading") {
        const r = validate(Reading, decodePayload(payload));
        if (!r.ok) return { kind: "ignored", out: [] }; // the collector's contract: the hook and the alert node report these
        const closedBefore = this.engine.savings.all().filter((s) => s.to === undefined).length;
        this.engine.onReading(r.value.device, r.value.power, r.value.relay);
        if (this.engine.savings.all().filter((s) => s.to === undefined).length !== closedBefore) this.saveSavings();
        return { kind: "reading", out: this.drain() };
      }
      if (dt?.stream === "availability") return { kind: "ignored", out: [] };
      return {
        kind: "ignored",
        out: [],
        warning: { key: `topic:${t}`, text: `ignored a message on '${t}': expected readings, audit records or schedule requests under '${root}'` },
      };
    } catch (err) {
      const e = toErrorBody(err);
      return { kind: "ignored", out: [], warning: { key: e.code, text: `${e.code}: ${e.message}` } };
    }
  }

  private drain(): OutMessage[] {
    const cmds = this.outbox;
    this.outbox = [];
    // The plain command form of the control agent; no replyTo: the audit record is the confirmation.
    return cmds.map((c) => message(commandRequestTopic(this.o.root), { id: c.id, action: c.action, target: c.target, by: c.by }));
  }

  private saveSavings(): void {
    this.o.savingsStore?.save(this.engine.savings.snapshot());
  }

  private parseOptions(label: string) {
    return { file: label, registry: this.o.registry(), readFile: this.o.readFile, ...(this.o.baseDir ? { baseDir: this.o.baseDir } : {}) };
  }

  /** An API request: answered on its (checked) replyTo; a request without a valid id or replyTo is refused unanswered. */
  private request(payload: unknown, topic: string): OutMessage[] {
    const body = decodePayload(payload);
    const id = typeof body === "object" && body !== null ? (body as { id?: unknown }).id : undefined;
    const replyTo = typeof body === "object" && body !== null ? (body as { replyTo?: unknown }).replyTo : undefined;
    const checked = this.o.guard.check(replyTo, topic);
    if (!checked.ok) throw new PlugwatchError("INVALID_REQUEST", `schedule request refused, not answered: $.replyTo: ${checked.message}`);
    if (typeof id !== "string" || !id) throw new PlugwatchError("INVALID_REQUEST", "schedule request without an id: not answered");
    const reply = (r: Omit<ScheduleReply, "v" | "id">): OutMessage[] => [message(checked.topic, { v: CONTRACT_VERSION, id, ...r })];
    const fail = (error: ErrorBody): OutMessage[] => reply({ ok: false, error });
    const r = validate(ScheduleRequest, body);
    if (!r.ok) return fail({ code: "INVALID_REQUEST", message: `${r.issues[0]?.path}: ${r.issues[0]?.message}`, details: r.issues });
    const req = r.value;
    switch (req.op) {
      case "list":
        return reply({ ok: true, schedules: this.state() });
      case "savings":
        return reply({
          ok: true,
          savings: this.engine.report({ ...(req.month ? { month: req.month } : {}), ...(req.building ? { building: req.building } : {}) }),
        });
      case "put": {
        let config: ScheduleConfig;
        try {
          config = checkScheduleDocument(req.document, this.parseOptions("$.document"));
        } catch (err) {
          return fail(toErrorBody(err));
        }
        try {
          this.label = this.o.store.write(config.document);
        } catch (err) {
          return fail({ code: "INTERNAL", message: `cannot save the schedules: ${err instanceof Error ? err.message : String(err)}` });
        }
        this.engine.setConfig(config);
        this.updatedAt = Math.round(this.o.clock.now());
        this.updatedBy = req.by ?? null;
        return reply({ ok: true, schedules: this.state() });
      }
    }
  }

  private state(): ScheduleState {
    return { document: this.engine.document, source: this.label, updatedAt: this.updatedAt, updatedBy: this.updatedBy };
  }
}
