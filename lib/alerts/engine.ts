// Alert engine (pure): readings (plug or generic), availability and clock ticks in → raised/cleared alert events out, once per transition.
import { CONTRACT_VERSION } from "../contracts/common";
import type { AlertEvent, AlertRule, BudgetRule, OfflineRule, Severity, StaleRule, ThresholdRule, WasteRule } from "../contracts/alert";
import { Availability, GenericReading, Reading } from "../contracts/reading";
import { PlugwatchError } from "../contracts/errors";
import { validate } from "../contracts/validate";
import { budgetSubject, DEFAULT_SEVERITY, inScope } from "./rules";
import { hostTimeZone, isWorkingTime, localTime } from "./schedule";
import { ReportLimiter, type ReportCounts, type ReportLimits } from "./report-limiter";
import { ENGINE_STATE_VERSION, EngineState } from "./state";
import type { DeviceInfo, EngineOutput, InputMeta, InputWarning } from "./types";

export interface AlertEngineOptions {
  rules: readonly AlertRule[];
  /** Epoch ms; all durations, schedules and event timestamps use it. Default Date.now. */
  clock?: () => number;
  /** Registry devices: stale rules watch them from the start even if they never publish; idleWatts for waste rules. */
  devices?: readonly DeviceInfo[];
  /**
   * Bounds on reporting rejected inputs (MQTT clients choose device ids and topics): keys remembered as reported and
   * new INVALID_READING reports per minute. Default DEFAULT_REPORT_LIMITS.
   */
  reportLimits?: Partial<ReportLimits> | undefined;
  /**
   * Most devices tracked (registry devices plus ids learnt from valid inputs). Inputs of further new ids are refused
   * (LIMIT_EXCEEDED, reported like invalid inputs) so random ids cannot grow memory and the saved state forever.
   * Default DEFAULT_MAX_DEVICES.
   */
  maxDevices?: number;
  /**
   * Which device ids may create alert state (the registry, and e.g. backup health topics). Inputs of other ids are
   * refused (UNKNOWN_DEVICE, reported like invalid inputs, counted) so forged ids never create or persist alerts.
   * Default: every id (up to maxDevices).
   */
  admit?: (id: string, meta: InputMeta) => boolean;
}

export const DEFAULT_MAX_DEVICES = 20_000;
/** Measurements remembered per device (generic readings name them); the oldest is forgotten beyond. */
export const MAX_MEASUREMENTS_PER_DEVICE = 100;

interface ActiveAlert {
  event: AlertEvent;
  raisedAt: number;
  lastEmitAt: number;
}

interface ConditionTimer {
  phase: "raise" | "clear";
  since: number;
}

/** The latest values of one measurement of a device (plug readings are measurement `plug`). */
interface Sample {
  measurement: string;
  values: Readonly<Record<string, number | boolean>>;
  /** Arrival order, so a rule without `measurement` uses the newest sample that has its field. */
  seq: number;
}

interface DayTotal {
  date: string;
  kWh: number;
}

/** What one evaluation found: whether the raise/clear conditions hold now, the value and how to describe it. */
interface Verdict {
  raise: boolean;
  clear: boolean;
  /** ms the condition (raise or clear) must hold before the transition. */
  holdMs: number;
  value: number | null;
  message: (state: "raised" | "cleared") => string;
}

const UNITS: Readonly<Record<string, string>> = { power: "W", voltage: "V", current: "A", energy: "kWh" };
/** Measurement of a generic reading without one, and of plug readings (as plugwatch-influx-hook stores them). */
const DEFAULT_MEASUREMENT = "plug";
const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** Rounds for display and for the event's `value` (avoids float noise such as 0.30000000000000004). */
const num = (n: number): number => Math.round(n * 1000) / 1000;
const fmt = (n: number): string => String(Math.round(n * 100) / 100);

export class AlertEngine {
  private readonly rules: readonly AlertRule[];
  private readonly ruleById: ReadonlyMap<string, AlertRule>;
  private readonly clock: () => number;
  private readonly startedAt: number;
  private readonly devices = new Map<string, DeviceInfo>();
  /** Latest plug reading per device (waste rules). */
  private readonly lastReading = new Map<string, Reading>();
  /** Latest values per device and measurement, plug and generic (threshold rules). */
  private readonly samples = new Map<string, Map<string, Sample>>();
  private seq = 0;
  private readonly lastSeen = new Map<string, number>();
  private readonly availability = new Map<string, Availability>();
  private readonly energy = new Map<string, number>();
  /** key `<rule>|<subject>` */
  private readonly budgets = new Map<string, DayTotal>();
  /** key = alert id `<rule>:<subject>` */
  private readonly active = new Map<string, ActiveAlert>();
  private readonly timers = new Map<string, ConditionTimer>();
  /** Devices (or topics) whose rejected input was reported: bounded, and new reports are rate-limited. */
  private readonly reported: ReportLimiter;
  /** `<rule>|<device>` pairs already told that the rule's field is boolean there (bounded; no rate limit: valid inputs). */
  private readonly booleanReported: ReportLimiter;
  private readonly maxDevices: number;
  /** Valid inputs refused because maxDevices was reached. */
  private devicesRefused = 0;
  private readonly admit: ((id: string, meta: InputMeta) => boolean) | undefined;
  /** Valid inputs refused because their device is not admitted (not registered). */
  private unregisteredRefused = 0;

  constructor(opts: AlertEngineOptions) {
    this.rules = opts.rules;
    this.ruleById = new Map(opts.rules.map((r) => [r.id, r]));
    this.clock = opts.clock ?? Date.now;
    this.startedAt = this.clock();
    this.reported = new ReportLimiter(this.clock, opts.reportLimits);
    this.maxDevices = opts.maxDevices ?? DEFAULT_MAX_DEVICES;
    this.admit = opts.admit;
    this.booleanReported = new ReportLimiter(this.clock, { maxKeys: this.reported.limits.maxKeys, perMinute: Number.POSITIVE_INFINITY });
    for (const d of opts.devices ?? []) this.devices.set(d.id, { ...d });
  }

  // ---- inputs ---------------------------------------------------------------------------------------------------

  /**
   * A reading (unknown: validated here): a plug Reading, or a GenericReading when it has `fields`. Invalid ones
   * change nothing and are reported once per device. Generic readings feed threshold rules (any field, optionally
   * one measurement) and stale rules; waste and budget rules use plug readings only.
   */
  onReading(payload: unknown, meta: InputMeta = {}): EngineOutput {
    const generic = payload !== null && typeof payload === "object" && !Array.isArray(payload) && "fields" in payload;
    if (generic) {
      const g = validate(GenericReading, payload, 3);
      if (!g.ok) return this.reject(payload, meta, "generic reading", g.issues.map((i) => `${i.path}: ${i.message}`).join("; "));
      return this.accept(g.value.device, { measurement: g.value.measurement ?? DEFAULT_MEASUREMENT, values: g.value.fields }, meta);
    }
    const r = validate(Reading, payload, 3);
    if (!r.ok) return this.reject(payload, meta, "reading", r.issues.map((i) => `${i.path}: ${i.message}`).join("; "));
    const { v: _v, device: _d, ts: _ts, kind: _kind, ...values } = r.value;
    return this.accept(r.value.device, { measurement: DEFAULT_MEASUREMENT, values }, meta, r.value);
  }

  /** Applies one valid reading: `reading` is set for plug readings (energy counters, waste rules). */
  private accept(id: string, sample: Omit<Sample, "seq">, meta: InputMeta, reading?: Reading): EngineOutput {
    if (this.admit && !this.devices.has(id) && !this.admit(id, meta)) return this.unregistered(id);
    if (this.full(id)) return this.refuse(id);
    const now = this.clock();
    this.reported.forget(id);
    const info = this.learn(id, { kind: reading?.kind, location: meta.location });
    let perDevice = this.samples.get(id);
    if (!perDevice) {
      perDevice = new Map();
      this.samples.set(id, perDevice);
    }
    if (!perDevice.has(sample.measurement) && perDevice.size >= MAX_MEASUREMENTS_PER_DEVICE) {
      const oldest = perDevice.keys().next();
      if (!oldest.done) perDevice.delete(oldest.value);
    }
    perDevice.set(sample.measurement, { ...sample, seq: ++this.seq });
    this.lastSeen.set(id, now);

    // Energy used since the previous reading; a counter that went down was reset, so its new value is the use since then.
    let delta = 0;
    if (reading) {
      this.lastReading.set(id, reading);
      const previous = this.energy.get(id);
      delta = previous === undefined ? 0 : reading.energy >= previous ? reading.energy - previous : reading.energy;
      this.energy.set(id, reading.energy);
    }

    const events: AlertEvent[] = [];
    const warnings: InputWarning[] = [];
    for (const rule of this.rules) {
      if (!inScope(rule, info)) continue;
      switch (rule.type) {
        case "threshold": {
          const warning = this.booleanField(rule, id, sample);
          if (warning) warnings.push(warning);
          this.apply(rule, id, now, this.threshold(rule, id), events);
          break;
        }
        case "waste":
          if (reading) this.apply(rule, id, now, this.waste(rule, id, now), events);
          break;
        case "stale":
          this.apply(rule, id, now, this.stale(rule, id, now), events);
          break;
        case "budget": {
          if (!reading) break;
          const subject = budgetSubject(rule, info);
          if (subject === undefined) break;
          const total = this.dayTotal(rule, subject, now);
          total.kWh += delta;
          this.apply(rule, subject, now, this.budget(rule, subject, now), events);
          break;
        }
        case "offline":
          break;
      }
    }
    return { events, warnings, accepted: true };
  }

  /**
   * Threshold rules compare numbers: a boolean value of the rule's field is ignored (no raise, no clear) and
   * reported once per rule and device as a configuration problem.
   */
  private booleanField(rule: ThresholdRule, id: string, sample: Omit<Sample, "seq">): InputWarning | undefined {
    if (rule.measurement !== undefined && rule.measurement !== sample.measurement) return undefined;
    if (typeof sample.values[rule.field] !== "boolean") return undefined;
    const key = `${rule.id}|${id}`;
    if (!this.booleanReported.admit(ReportLimiter.key(key))) return undefined;
    return {
      key: id,
      code: "INVALID_REQUEST",
      message: `rule '${rule.id}': field '${rule.field}' of ${id} (${sample.measurement}) is boolean; threshold rules compare numbers, so it is ignored`,
    };
  }

  /** An availability message (unknown: validated here). Offline rules raise on online=false and clear on online=true. */
  onAvailability(payload: unknown, meta: InputMeta = {}): EngineOutput {
    const r = validate(Availability, payload, 3);
    if (!r.ok) return this.reject(payload, meta, "availability", r.issues.map((i) => `${i.path}: ${i.message}`).join("; "));
    const av = r.value;
    if (this.admit && !this.devices.has(av.device) && !this.admit(av.device, meta)) return this.unregistered(av.device);
    if (this.full(av.device)) return this.refuse(av.device);
    const now = this.clock();
    this.reported.forget(av.device);
    const info = this.learn(av.device, { location: meta.location });
    this.availability.set(av.device, av);
    const events: AlertEvent[] = [];
    for (const rule of this.rules) {
      if (rule.type === "offline" && inScope(rule, info)) this.apply(rule, av.device, now, this.offline(rule, av.device), events);
    }
    return { events, warnings: [], accepted: true };
  }

  /** Time-driven transitions: durations that elapsed, silent devices, schedule edges, midnight, reminders. */
  tick(now: number = this.clock()): AlertEvent[] {
    const events: AlertEvent[] = [];
    for (const rule of this.rules) {
      switch (rule.type) {
        case "threshold":
          for (const id of this.samples.keys()) if (this.covers(rule, id)) this.apply(rule, id, now, this.threshold(rule, id), events);
          break;
        case "waste":
          for (const id of this.lastReading.keys()) if (this.covers(rule, id)) this.apply(rule, id, now, this.waste(rule, id, now), events);
          break;
        case "stale":
          for (const id of this.devices.keys()) if (this.covers(rule, id)) this.apply(rule, id, now, this.stale(rule, id, now), events);
          break;
        case "offline":
          for (const id of this.availability.keys()) if (this.covers(rule, id)) this.apply(rule, id, now, this.offline(rule, id), events);
          break;
        case "budget":
          for (const key of this.budgets.keys()) {
            const [ruleId, subject] = key.split("|") as [string, string];
            if (ruleId === rule.id) this.apply(rule, subject, now, this.budget(rule, subject, now), events);
          }
          break;
      }
    }
    for (const a of this.active.values()) {
      const every = (this.ruleById.get(a.event.rule)?.reminderSeconds ?? 0) * 1000;
      if (every > 0 && now - a.lastEmitAt >= every) {
        a.lastEmitAt = now;
        events.push({ ...a.event, ts: Math.round(now) });
      }
    }
    return events;
  }

  // ---- queries and persistence ------------------------------------------------------------------------------------

  /** The active alerts (their raised events, value and message kept current), sorted by id. */
  activeAlerts(): AlertEvent[] {
    return [...this.active.values()].map((a) => ({ ...a.event })).sort((a, b) => a.id.localeCompare(b.id));
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** Highest severity among active alerts, undefined when none is active. */
  highestSeverity(): Severity | undefined {
    let best: Severity | undefined;
    for (const a of this.active.values()) if (!best || SEVERITY_RANK[a.event.severity] > SEVERITY_RANK[best]) best = a.event.severity;
    return best;
  }

  /** Everything needed to resume after a restart without re-raising (JSON-serialisable). */
  snapshot(): EngineState {
    return {
      v: ENGINE_STATE_VERSION,
      savedAt: this.clock(),
      active: [...this.active.values()].map((a) => ({ event: { ...a.event }, raisedAt: a.raisedAt, lastEmitAt: a.lastEmitAt })),
      timers: [...this.timers].map(([id, t]) => ({ id, phase: t.phase, since: t.since })),
      devices: [...this.devices.values()].map((d) => {
        const seen = this.lastSeen.get(d.id);
        return {
          id: d.id,
          ...(d.kind ? { kind: d.kind } : {}),
          ...(d.location ? { location: { ...d.location } } : {}),
          ...(seen !== undefined ? { lastSeen: seen } : {}),
        };
      }),
      energy: Object.fromEntries(this.energy),
      budgets: [...this.budgets].map(([key, t]) => {
        const [rule, subject] = key.split("|") as [string, string];
        return { rule, subject, date: t.date, kWh: t.kWh };
      }),
    };
  }

  /**
   * Resumes from a snapshot: active alerts stay active (no new `raised`), timers keep running, counters continue.
   * Call before feeding inputs. Alerts of rules that no longer exist are dropped and returned as `cleared` events,
   * so their retained messages get deleted. Throws PlugwatchError(INVALID_REQUEST) on a malformed snapshot.
   */
  restore(state: unknown): AlertEvent[] {
    const r = validate(EngineState, state, 3);
    if (!r.ok)
      throw new PlugwatchError("INVALID_REQUEST", `stored alert state is invalid: ${r.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, r.issues);
    const s = r.value;
    const now = this.clock();
    const cleared: AlertEvent[] = [];
    // State saved for devices that are not admitted (any more) is dropped; their alerts are cleared.
    const keep = (id: string): boolean => !this.admit || this.devices.has(id) || this.admit(id, {});
    for (const a of s.active) {
      if (this.active.has(a.event.id)) continue;
      if (!keep(a.event.device)) cleared.push({ ...a.event, state: "cleared", ts: Math.round(now), message: `${a.event.device}: not in the registry` });
      else if (this.ruleById.get(a.event.rule))
        this.active.set(a.event.id, { event: { ...a.event, state: "raised" }, raisedAt: a.raisedAt, lastEmitAt: a.lastEmitAt });
      else cleared.push({ ...a.event, state: "cleared", ts: Math.round(now), message: `${a.event.device}: rule '${a.event.rule}' was removed` });
    }
    for (const t of s.timers) {
      if (!this.timers.has(t.id) && this.ruleById.has(t.id.split(":")[0] ?? "")) this.timers.set(t.id, { phase: t.phase, since: t.since });
    }
    for (const d of s.devices) {
      if (!keep(d.id)) continue;
      const { lastSeen: _seen, ...facts } = d;
      this.devices.set(d.id, { ...facts, ...this.devices.get(d.id) });
      if (d.lastSeen !== undefined && !this.lastSeen.has(d.id)) this.lastSeen.set(d.id, d.lastSeen);
    }
    for (const [id, kWh] of Object.entries(s.energy)) if (!this.energy.has(id)) this.energy.set(id, kWh);
    for (const b of s.budgets) {
      const key = `${b.rule}|${b.subject}`;
      if (this.ruleById.has(b.rule) && !this.budgets.has(key)) this.budgets.set(key, { date: b.date, kWh: b.kWh });
    }
    return cleared;
  }

  // ---- rule evaluation ----------------------------------------------------------------------------------------------

  /**
   * The newest numeric value of the rule's field for a device: from the rule's measurement, or (without one) from
   * the newest sample that has the field. Undefined (nothing to evaluate, state unchanged) when the device has no
   * such field or its value is boolean.
   */
  private fieldValue(rule: ThresholdRule, id: string): number | undefined {
    const perDevice = this.samples.get(id);
    if (!perDevice) return undefined;
    let best: Sample | undefined;
    if (rule.measurement !== undefined) best = perDevice.get(rule.measurement);
    else for (const s of perDevice.values()) if (rule.field in s.values && (!best || s.seq > best.seq)) best = s;
    const value = best?.values[rule.field];
    return typeof value === "number" ? value : undefined;
  }

  private threshold(rule: ThresholdRule, id: string): Verdict | undefined {
    const v = this.fieldValue(rule, id);
    if (v === undefined) return undefined;
    const h = rule.hysteresis ?? 0;
    const above = rule.op === "above";
    const unitText = rule.unit ?? UNITS[rule.field] ?? "";
    const withUnit = (n: number) => (unitText ? `${fmt(n)} ${unitText}` : fmt(n));
    return {
      raise: above ? v > rule.value : v < rule.value,
      clear: above ? v <= rule.value - h : v >= rule.value + h,
      holdMs: (rule.forSeconds ?? 0) * 1000,
      value: num(v),
      message: (state) =>
        state === "raised"
          ? `${id} ${rule.field} ${withUnit(v)} ${rule.op} ${withUnit(rule.value)}${rule.forSeconds ? ` for ${fmt(rule.forSeconds)} s` : ""}`
          : `${id} ${rule.field} back to ${withUnit(v)} (limit ${withUnit(rule.value)})`,
    };
  }

  private waste(rule: WasteRule, id: string, now: number): Verdict | undefined {
    const r = this.lastReading.get(id);
    if (!r) return undefined;
    const idle = rule.useIdleWatts ? this.devices.get(id)?.idleWatts : undefined;
    const limit = idle ?? rule.watts;
    const off = !isWorkingTime(rule.schedule, rule.timezone ?? hostTimeZone(), now);
    return {
      raise: off && r.power > limit,
      clear: !off || r.power <= limit - (rule.hysteresis ?? 0),
      holdMs: (rule.forSeconds ?? 0) * 1000,
      value: num(r.power),
      message: (state) =>
        state === "raised"
          ? `${id} draws ${fmt(r.power)} W outside working hours (limit ${fmt(limit)} W${idle !== undefined ? ", idle level" : ""})`
          : off
            ? `${id} down to ${fmt(r.power)} W (limit ${fmt(limit)} W)`
            : `${id}: working hours started`,
    };
  }

  private stale(rule: StaleRule, id: string, now: number): Verdict {
    const seen = this.lastSeen.get(id);
    const silentMs = now - (seen ?? this.startedAt);
    const silent = silentMs >= rule.afterSeconds * 1000;
    return {
      raise: silent,
      clear: !silent,
      holdMs: 0,
      value: seen === undefined ? null : Math.round(silentMs / 1000),
      message: (state) =>
        state === "cleared"
          ? `${id} publishes again`
          : seen === undefined
            ? `${id} has not published since start (${fmt(silentMs / 1000)} s)`
            : `${id}: no reading for ${fmt(Math.round(silentMs / 1000))} s`,
    };
  }

  private offline(rule: OfflineRule, id: string): Verdict | undefined {
    const av = this.availability.get(id);
    if (!av) return undefined;
    return {
      raise: !av.online,
      clear: av.online,
      holdMs: (rule.forSeconds ?? 0) * 1000,
      value: null,
      message: (state) => (state === "raised" ? `${id} is offline${av.reason ? `: ${av.reason}` : ""}` : `${id} is back online`),
    };
  }

  private budget(rule: BudgetRule, subject: string, now: number): Verdict {
    const total = this.dayTotal(rule, subject, now);
    const over = total.kWh > rule.kWhPerDay;
    const what = (rule.per ?? "device") === "device" ? subject : `${rule.per} ${subject}`;
    return {
      raise: over,
      clear: !over,
      holdMs: 0,
      value: num(total.kWh),
      message: (state) =>
        state === "raised"
          ? `${what} used ${fmt(total.kWh)} kWh today (budget ${fmt(rule.kWhPerDay)} kWh)`
          : `${what}: new day, budget ${fmt(rule.kWhPerDay)} kWh available`,
    };
  }

  /** Today's total for a budget subject; starts a new total at local midnight. */
  private dayTotal(rule: BudgetRule, subject: string, now: number): DayTotal {
    const key = `${rule.id}|${subject}`;
    const today = localTime(rule.timezone ?? hostTimeZone(), now).date;
    let total = this.budgets.get(key);
    if (!total || total.date !== today) {
      total = { date: today, kWh: 0 };
      this.budgets.set(key, total);
    }
    return total;
  }

  // ---- lifecycle ----------------------------------------------------------------------------------------------------

  /**
   * Applies one verdict to the alert `<rule>:<subject>`: a condition must hold for `holdMs` before the alert is raised
   * (or, once active, before it clears); an interruption restarts the wait. Emits at most one event per transition.
   */
  private apply(rule: AlertRule, subject: string, now: number, verdict: Verdict | undefined, out: AlertEvent[]): void {
    if (!verdict) return;
    const id = `${rule.id}:${subject}`;
    const active = this.active.get(id);
    const holds = active ? verdict.clear : verdict.raise;
    const phase = active ? "clear" : "raise";
    if (!holds) {
      this.timers.delete(id);
      if (active) active.event = { ...active.event, value: verdict.value, message: verdict.message("raised") };
      return;
    }
    const timer = this.timers.get(id);
    const since = timer && timer.phase === phase ? timer.since : now;
    if (now - since < verdict.holdMs) {
      this.timers.set(id, { phase, since });
      return;
    }
    this.timers.delete(id);
    const event: AlertEvent = {
      v: CONTRACT_VERSION,
      id,
      device: subject,
      rule: rule.id,
      severity: rule.severity ?? DEFAULT_SEVERITY,
      state: active ? "cleared" : "raised",
      ts: Math.round(now),
      value: verdict.value,
      message: verdict.message(active ? "cleared" : "raised").slice(0, 512),
    };
    if (active) this.active.delete(id);
    else this.active.set(id, { event, raisedAt: now, lastEmitAt: now });
    out.push(event);
  }

  private covers(rule: AlertRule, id: string): boolean {
    const info = this.devices.get(id);
    return info !== undefined && inScope(rule, info);
  }

  /** Records what an input tells about a device (registry facts win over learned ones). */
  private learn(id: string, facts: { kind?: DeviceInfo["kind"]; location?: DeviceInfo["location"] }): DeviceInfo {
    let info = this.devices.get(id);
    if (!info) {
      info = { id };
      this.devices.set(id, info);
    }
    if (!info.kind && facts.kind) info.kind = facts.kind;
    if (!info.location && facts.location) info.location = facts.location;
    return info;
  }

  private reject(payload: unknown, meta: InputMeta, what: string, why: string): EngineOutput {
    const device = payload !== null && typeof payload === "object" ? (payload as { device?: unknown }).device : undefined;
    const key = ReportLimiter.key(typeof device === "string" && device ? device : (meta.source ?? "unknown"));
    const admitted = this.reported.admit(key);
    if (!admitted) return { events: [], warnings: [], accepted: false };
    const warning: InputWarning = {
      key,
      code: "INVALID_READING",
      message: `${`${key}: invalid ${what} ignored (${why})`.slice(0, 400)}${this.more(admitted)}`,
    };
    return { events: [], warnings: [warning], accepted: false };
  }

  /** Tells, with a report, how many rejected inputs the rate limit kept from being reported before it. */
  private more(admitted: { suppressedBefore: number }): string {
    const n = admitted.suppressedBefore;
    return n ? ` [${n} other rejected input(s) not reported: more than ${this.reported.limits.perMinute} new per minute]` : "";
  }

  private full(id: string): boolean {
    return !this.devices.has(id) && this.devices.size >= this.maxDevices;
  }

  /** A valid input of a device that is not admitted: no state at all; reported like invalid inputs (bounded). */
  private unregistered(id: string): EngineOutput {
    this.unregisteredRefused++;
    const admitted = this.reported.admit(ReportLimiter.key(id));
    if (!admitted) return { events: [], warnings: [], accepted: false };
    const message = `${id}: input ignored, the device is not in the registry${this.more(admitted)}`;
    return { events: [], warnings: [{ key: id, code: "UNKNOWN_DEVICE", message }], accepted: false };
  }

  /** Valid inputs refused since start because their device is not registered. */
  get unregisteredInputs(): number {
    return this.unregisteredRefused;
  }

  /** A valid input of a new device while maxDevices are tracked: refused, reported like invalid inputs (bounded). */
  private refuse(id: string): EngineOutput {
    this.devicesRefused++;
    const admitted = this.reported.admit(ReportLimiter.key(id));
    if (!admitted) return { events: [], warnings: [], accepted: false };
    const message = `${id}: input ignored, already tracking ${this.maxDevices} devices (the alert engine's limit)${this.more(admitted)}`;
    return { events: [], warnings: [{ key: id, code: "LIMIT_EXCEEDED", message }], accepted: false };
  }

  /** Devices tracked and valid inputs refused because the device limit was reached. */
  deviceCounts(): { tracked: number; refused: number; max: number } {
    return { tracked: this.devices.size, refused: this.devicesRefused, max: this.maxDevices };
  }

  /** How rejected-input reporting is bounded: keys remembered, reports suppressed by the rate limit, keys forgotten. */
  rejectedInputs(): ReportCounts {
    return this.reported.counts();
  }
}
