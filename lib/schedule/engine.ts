// The schedule engine: which switching commands are due (weekly on/off times in each building's zone, skipped on
// holidays; standby cut-offs), and the savings of the automatic offs the control agent confirmed. Pure: time comes
// from an injected clock, commands leave through `send`, confirmations arrive as audit records.
import { randomUUID } from "node:crypto";
import type { TimeSource } from "../clock";
import type { AuditRecord } from "../contracts/command";
import type { Device } from "../contracts/device";
import { WEEKDAYS } from "../contracts/alert";
import { isAutomatic } from "../critical";
import type { Registry } from "../registry";
import { itemAt } from "../arrays";
import { dateOf, dateParts, dayNumber } from "../calendar";
import { localDate, zonedTime } from "../tz";
import type { ScheduleConfig } from "./config";
import type { ScheduleRule, ScheduleTarget, StandbyRule } from "./contract";
import { flatPrice, SavingsLedger, type PriceFn, type WattsSource } from "./savings";

/** A command for the control agent ({root}/api/request/command), audited as `by`. */
export interface ScheduleCommand {
  id: string;
  action: "on" | "off";
  target: { devices: string[] } | { device: string };
  by: string;
  /** The instant it was due (engine time), epoch ms. */
  at: number;
}

export interface EngineOptions {
  registry: () => Registry;
  clock: Pick<TimeSource, "now">;
  send: (cmd: ScheduleCommand) => void;
  newId?: () => string;
  /** Prices savings (e.g. the tariff module); default: the document's flat `price`, else none (cost null). */
  price?: PriceFn;
  /** A reading older than this (ms, engine time) does not count as the power "just before the off". Default 15 min. */
  measuredMaxAgeMs?: number;
}

const MINUTE = 60_000;
/** Missed fixed times are caught up over at most this long (a restart after a week off replays nothing older). */
export const MAX_CATCH_UP_MS = 8 * 24 * 60 * MINUTE;

interface IdleState {
  /** Engine time the device was first seen below the threshold with its relay on, in this stretch. */
  belowSince?: number | undefined;
  /** Fired in this idle stretch: no second off until re-armed. */
  fired: boolean;
  /** Last relay state seen. */
  relay?: boolean;
}

const minutesOf = (hhmm: string): [number, number] => [Number(hhmm.slice(0, 2)), Number(hhmm.slice(3, 5))];

/** ISO weekday name of a local date (1970-01-01 was a Thursday; the double modulo keeps days before 1970 in 0..6). */
const weekdayOf = (date: string): (typeof WEEKDAYS)[number] => itemAt(WEEKDAYS, ((((dayNumber(date) as number) + 3) % 7) + 7) % 7);

export class ScheduleEngine {
  private config: ScheduleConfig;
  private last: number;
  private readonly idle = new Map<string, IdleState>();
  private readonly power = new Map<string, { w: number; at: number; relay: boolean }>();
  private readonly pending = new Map<string, { cmd: ScheduleCommand; watts: Map<string, { w: number; source: WattsSource }> }>();
  private readonly nextAt = new Map<string, number>();
  readonly savings = new SavingsLedger();
  /** Commands sent, by `by` (for status and tests). */
  readonly sent = new Map<string, number>();

  constructor(
    config: ScheduleConfig,
    private readonly o: EngineOptions,
  ) {
    this.config = config;
    this.last = o.clock.now();
  }

  get document(): ScheduleConfig["document"] {
    return this.config.document;
  }

  get calendar(): ScheduleConfig["calendar"] {
    return this.config.calendar;
  }

  /** Replaces the rules; idle stretches of devices no longer watched are forgotten. */
  setConfig(config: ScheduleConfig): void {
    this.config = config;
    this.nextAt.clear();
    for (const id of [...this.idle.keys()]) if (!this.standbyRuleOf(this.o.registry().get(id))) this.idle.delete(id);
  }

  /** The price used for savings. */
  private price(): PriceFn | undefined {
    return this.o.price ?? (this.config.price ? flatPrice(this.config.price.perKWh, this.config.price.currency) : undefined);
  }

  /** Runs what is due in (last tick, now]: fixed times (the latest per rule and zone) and idle cut-offs. */
  tick(now = this.o.clock.now()): ScheduleCommand[] {
    const out: ScheduleCommand[] = [];
    if (now < this.last) {
      // The clock went back (set by hand, an external clock restarted): resynchronise without replaying anything.
      this.last = now;
      this.nextAt.clear();
      // Idle stretches and reading ages were measured on the old time line: they restart now.
      for (const st of this.idle.values()) if (st.belowSince !== undefined) st.belowSince = now;
      for (const p of this.power.values()) p.at = now;
    }
    if (now > this.last) {
      const from = Math.max(this.last, now - MAX_CATCH_UP_MS);
      for (const rule of this.config.schedules) out.push(...this.due(rule, from, now));
      this.last = now;
    }
    for (const [id, st] of this.idle) {
      const cmd = this.cutoff(id, st, now);
      if (cmd) out.push(cmd);
    }
    return out;
  }

  /** A reading of a device: power (W) and relay; may fire its standby cut-off. */
  onReading(device: string, powerW: number, relay: boolean, now = this.o.clock.now()): ScheduleCommand | undefined {
    const prev = this.power.get(device);
    this.power.set(device, { w: powerW, at: now, relay });
    // Switched on by anyone (button, app, operator): an open off stretch ends here.
    if (relay && prev && !prev.relay) this.savings.close(device, now);
    const d = this.o.registry().get(device);
    const rule = this.standbyRuleOf(d);
    if (!rule) return undefined;
    const st = this.idle.get(device) ?? { fired: false };
    this.idle.set(device, st);
    const wasOn = st.relay;
    st.relay = relay;
    if (!relay) {
      st.belowSince = undefined;
      return undefined;
    }
    // Re-armed when the device is switched on again, or draws the threshold or more.
    if (wasOn === false) st.fired = false;
    if (powerW >= rule.belowW) {
      st.belowSince = undefined;
      st.fired = false;
      return undefined;
    }
    st.belowSince ??= now;
    return this.cutoff(device, st, now);
  }

  /** The control agent's audit record: confirmed automatic offs open savings stretches, confirmed ons close them. */
  onAudit(record: AuditRecord, now = this.o.clock.now()): void {
    const mine = this.pending.get(record.id);
    if (mine) this.pending.delete(record.id);
    for (const r of record.results) {
      if (r.relay === true) this.savings.close(r.device, mine ? mine.cmd.at : now);
      if (!mine || record.action !== "off" || !r.ok || r.skipped || r.relay !== false || !isAutomatic(record.by)) continue;
      const d = this.o.registry().get(r.device);
      if (!d) continue;
      const w = mine.watts.get(r.device) ?? { w: 0, source: "none" as const };
      this.savings.open({
        device: d.id,
        ...d.location,
        zone: this.o.registry().timeZoneOf(d.location.building),
        from: mine.cmd.at,
        watts: w.w,
        source: w.source,
        by: mine.cmd.by,
      });
    }
  }

  /** Savings per room and month (open stretches up to now). */
  report(opts: { month?: string; building?: string } = {}, now = this.o.clock.now()) {
    const price = this.price();
    return this.savings.report(now, { ...opts, ...(price ? { price } : {}) });
  }

  /** Commands sent and still waiting for their audit record (bounded by forgetting the oldest). */
  get awaiting(): number {
    return this.pending.size;
  }

  // ---- internals ----

  private standbyRuleOf(d: Device | undefined): StandbyRule | undefined {
    if (!d || d.critical === true || this.config.neverOff.has(d.id)) return undefined;
    return this.config.standby.find((r) => r.kind === d.kind);
  }

  private cutoff(device: string, st: IdleState, now: number): ScheduleCommand | undefined {
    const rule = this.standbyRuleOf(this.o.registry().get(device));
    if (!rule || st.fired || st.belowSince === undefined || now - st.belowSince < rule.minutes * MINUTE) return undefined;
    st.fired = true;
    return this.issue("off", [device], `cutoff:${rule.name}`, now, true);
  }

  /** Devices a schedule target selects (tags: all given tags match). */
  private select(target: ScheduleTarget): Device[] {
    const reg = this.o.registry();
    if ("tags" in target) return reg.devices.filter((d) => Object.entries(target.tags).every(([k, v]) => d.tags?.[k] === v));
    try {
      return reg.select(target);
    } catch {
      return []; // unknown ids were refused when the document was loaded; an empty group simply does nothing
    }
  }

  /** The latest on/off of `rule` in (from, now] for each time zone of its devices. */
  private due(rule: ScheduleRule, from: number, now: number): ScheduleCommand[] {
    const byZone = new Map<string, Device[]>();
    for (const d of this.select(rule.target)) {
      const z = this.o.registry().timeZoneOf(d.location.building);
      byZone.set(z, [...(byZone.get(z) ?? []), d]);
    }
    const out: ScheduleCommand[] = [];
    for (const [zone, devices] of byZone) {
      // The next instant is cached per rule and zone: a tick between two instants costs no zone arithmetic.
      const key = `${rule.name}\u0000${zone}`;
      const next = this.nextAt.get(key);
      if (next !== undefined && next > now) continue;
      let latest: { action: "on" | "off"; at: number } | undefined;
      for (const o of this.occurrences(rule, zone, from, now)) if (o.at > from && o.at <= now && (!latest || o.at >= latest.at)) latest = o;
      const upcoming = this.occurrences(rule, zone, now, now + 8 * 24 * 60 * MINUTE).filter((o) => o.at > now);
      this.nextAt.set(key, upcoming.length ? Math.min(...upcoming.map((o) => o.at)) : now + 24 * 60 * MINUTE);
      if (!latest) continue;
      const action = latest.action;
      const ids = devices.filter((d) => action === "on" || !this.config.neverOff.has(d.id)).map((d) => d.id);
      if (ids.length) out.push(this.issue(action, ids, `schedule:${rule.name}`, latest.at, false));
    }
    return out;
  }

  /** The rule's on/off instants on the local days from `from`'s date to `to`'s date in `zone` (holidays and weekdays applied). */
  private occurrences(rule: ScheduleRule, zone: string, from: number, to: number): { action: "on" | "off"; at: number }[] {
    const out: { action: "on" | "off"; at: number }[] = [];
    const first = dayNumber(localDate(zone, from)) as number;
    const last = dayNumber(localDate(zone, to)) as number;
    for (let day = first; day <= last; day++) {
      const date = dateOf(day);
      if (rule.days && !rule.days.includes(weekdayOf(date))) continue;
      if (rule.skipHolidays !== false && this.config.calendar.isHoliday(date)) continue;
      const [y, m, dd] = dateParts(date);
      for (const action of ["on", "off"] as const) {
        const hhmm = rule[action];
        if (hhmm === undefined) continue;
        const [h, mi] = minutesOf(hhmm);
        // zonedTime: a time in the spring gap runs at the first instant after it, a repeated time once (its first).
        out.push({ action, at: zonedTime(zone, y, m, dd, h, mi) });
      }
    }
    return out;
  }

  private issue(action: "on" | "off", ids: string[], by: string, at: number, single: boolean): ScheduleCommand {
    const [only] = ids;
    const cmd: ScheduleCommand = {
      id: (this.o.newId ?? randomUUID)(),
      action,
      target: single && ids.length === 1 && only !== undefined ? { device: only } : { devices: ids },
      by,
      at,
    };
    const watts = new Map<string, { w: number; source: WattsSource }>();
    if (action === "off") for (const id of ids) watts.set(id, this.standbyWatts(id, at));
    this.pending.set(cmd.id, { cmd, watts });
    // Audit records that never come (agent down) must not pile up.
    if (this.pending.size > 1000) this.pending.delete(this.pending.keys().next().value as string);
    this.sent.set(by, (this.sent.get(by) ?? 0) + 1);
    this.o.send(cmd);
    return cmd;
  }

  /** Standby power just before an off: the last reading (relay on, recent), else idleWatts, else the kind's estimate, else 0. */
  private standbyWatts(id: string, at: number): { w: number; source: WattsSource } {
    const p = this.power.get(id);
    if (p && p.relay && at - p.at <= (this.o.measuredMaxAgeMs ?? 15 * MINUTE)) return { w: p.w, source: "measured" };
    const d = this.o.registry().get(id);
    if (d?.idleWatts !== undefined) return { w: d.idleWatts, source: "idleWatts" };
    const e = d ? this.config.standbyEstimateW[d.kind] : undefined;
    if (e !== undefined) return { w: e, source: "estimate" };
    return { w: 0, source: "none" };
  }
}
