// Self-alerts: the pipeline watching itself. Storage unreachable, spool filling up or holding old readings, a collector
// missing cycles, an MQTT broker disconnected — each raised once and cleared once, as ordinary alert events that the
// alert node publishes on its normal path. Pure: the caller passes the time and a view of the pipeline hub.
import { CONTRACT_VERSION } from "../contracts/common";
import type { AlertEvent } from "../contracts/alert";
import type { CollectorTotals, HookSnapshot, PipelineHub } from "./hub";

export const SELF_RULES = {
  storage: "storage-unreachable",
  spool: "spool-backlog",
  misses: "collector-misses",
  broker: "broker-disconnected",
} as const;

/** Thresholds, in the units the editor shows (seconds, percent). */
export interface SelfAlertSettings {
  enabled: boolean;
  /** Storage unreachable (every write failing without an answer) for more than this, s. */
  storageDownS: number;
  /** Spool above this share of its cap, %. */
  spoolPercent: number;
  /** …or its oldest reading older than this, s. */
  spoolAgeS: number;
  /** A collector missing more than this share of its cycles… %. */
  missPercent: number;
  /** …over this window, s. */
  missWindowS: number;
  /** A broker disconnected for more than this, s. */
  brokerDownS: number;
}

export const SELF_ALERT_DEFAULTS: SelfAlertSettings = {
  enabled: true,
  storageDownS: 60,
  spoolPercent: 80,
  spoolAgeS: 900,
  missPercent: 50,
  missWindowS: 300,
  brokerDownS: 30,
};

/** Allowed ranges (the editor checks the same). */
export const SELF_ALERT_RANGES: Record<Exclude<keyof SelfAlertSettings, "enabled">, { min: number; max: number }> = {
  storageDownS: { min: 0.1, max: 86_400 },
  spoolPercent: { min: 0.01, max: 100 },
  spoolAgeS: { min: 0.1, max: 31_536_000 },
  missPercent: { min: 0, max: 100 },
  missWindowS: { min: 0.1, max: 86_400 },
  brokerDownS: { min: 0.1, max: 86_400 },
};

/** Editor values (strings or numbers, empty = default) → settings; throws a RangeError naming the bad field. */
export function parseSelfAlertSettings(def: { readonly [K in keyof SelfAlertSettings]?: unknown }): SelfAlertSettings {
  const out = { ...SELF_ALERT_DEFAULTS };
  out.enabled = def.enabled === undefined || def.enabled === "" ? true : def.enabled === true || def.enabled === "true";
  for (const key of Object.keys(SELF_ALERT_RANGES) as (keyof typeof SELF_ALERT_RANGES)[]) {
    const raw = def[key];
    if (raw === undefined || raw === null || raw === "") continue;
    const text = typeof raw === "string" || typeof raw === "number" ? String(raw) : JSON.stringify(raw);
    const n = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw.trim()) : NaN;
    const { min, max } = SELF_ALERT_RANGES[key];
    if (!Number.isFinite(n) || n < min || n > max) throw new RangeError(`${key} must be a number from ${min} to ${max} (got '${text}')`);
    out[key] = n;
  }
  return out;
}

/** What one check looks at: the hub's sources, read once. */
export interface PipelineView {
  hooks: { slug: string; label: string; snap: HookSnapshot; oldestTs?: number | undefined }[];
  collectors: { slug: string; label: string; totals: CollectorTotals }[];
  brokers: { slug: string; label: string; connected: boolean }[];
}

/** Reads the hub (the oldest spooled reading only when the spool holds something). */
export async function viewOf(hub: PipelineHub): Promise<PipelineView> {
  const hooks = await Promise.all(
    hub.hooks.entries().map(async (h) => {
      const snap = h.source.snapshot();
      return { slug: h.slug, label: h.label, snap, oldestTs: snap.backlogLines > 0 ? await h.source.oldestTs() : undefined };
    }),
  );
  return {
    hooks,
    collectors: hub.collectors.entries().map((c) => ({ slug: c.slug, label: c.label, totals: c.source.totals() })),
    brokers: hub.brokers.entries().map((b) => ({ slug: b.slug, label: b.label, connected: b.source.connected() })),
  };
}

/** The spool-backlog alert stays raised this long after the last SPOOL_FULL refusal, ms (as the hook's own SPOOL_FULL alert). */
export const REFUSAL_HOLD_MS = 30_000;

interface Sample {
  t: number;
  cycles: number;
  missed: number;
}

export interface MonitorOptions {
  /** An active alert whose source is gone (node removed) is cleared after this long, ms. Default 30 s. */
  orphanMs?: number;
}

/**
 * Decides. `check` returns the events to publish now. While any watched broker is disconnected, events are held (a
 * publish would be lost) and released in order once every broker is connected again; `active()` is the state now.
 */
export class SelfAlertMonitor {
  private readonly raised = new Map<string, AlertEvent>();
  private readonly held: AlertEvent[] = [];
  private readonly samples = new Map<string, Sample[]>();
  private readonly downSince = new Map<string, number>();
  private readonly missingSince = new Map<string, number>();
  /** Per hook: its SPOOL_FULL refusal count and when it last rose. */
  private readonly refusals = new Map<string, { count: number; at: number }>();
  private readonly orphanMs: number;

  constructor(
    private readonly s: SelfAlertSettings,
    o: MonitorOptions = {},
  ) {
    this.orphanMs = o.orphanMs ?? 30_000;
  }

  /** Alerts raised and not cleared (held ones included). */
  active(): AlertEvent[] {
    return [...this.raised.values()];
  }

  /** Adopts alerts saved before a restart (raised events of the self rules); they are cleared by the next checks if over. */
  restore(events: readonly AlertEvent[]): void {
    const rules = new Set<string>(Object.values(SELF_RULES));
    for (const e of events) if (e.state === "raised" && rules.has(e.rule)) this.raised.set(e.id, e);
  }

  check(now: number, view: PipelineView): AlertEvent[] {
    if (!this.s.enabled) return [];
    const out: AlertEvent[] = [];
    const seen = new Set<string>();
    const decide = (
      rule: string,
      slug: string,
      on: boolean | undefined,
      severity: AlertEvent["severity"],
      value: number | null,
      message: string,
      clearMsg: string,
    ) => {
      const id = `${rule}:${slug}`;
      seen.add(id);
      if (on === undefined) return; // not enough data to decide either way
      const current = this.raised.get(id);
      if (on && !current) {
        const e: AlertEvent = {
          v: CONTRACT_VERSION,
          id,
          device: slug,
          rule,
          severity,
          state: "raised",
          ts: Math.round(now),
          value,
          message: message.slice(0, 512),
        };
        this.raised.set(id, e);
        out.push(e);
      } else if (!on && current) {
        this.raised.delete(id);
        out.push({ ...current, state: "cleared", ts: Math.round(now), value, message: clearMsg.slice(0, 512) });
      }
    };

    for (const h of view.hooks) {
      const since = h.snap.unreachableSince;
      const downS = since === undefined ? 0 : (now - since) / 1000;
      decide(
        SELF_RULES.storage,
        h.slug,
        downS > this.s.storageDownS,
        "critical",
        Math.round(downS),
        `storage unreachable for ${Math.round(downS)} s (hook ${h.label}, ${h.snap.backlogLines} readings spooled)`,
        `storage reachable again (hook ${h.label})`,
      );
      const fill = h.snap.maxBytes > 0 ? (h.snap.backlogBytes * 100) / h.snap.maxBytes : 0;
      const ageS = h.oldestTs === undefined ? 0 : Math.max(0, (now - h.oldestTs) / 1000);
      // A SPOOL_FULL refusal counts as full whatever the fill: with per-device fair shares, N devices fill at most
      // N/(N+1) of the cap (80 % with 4), so the percentage alone may never pass the threshold while readings are lost.
      const refusing = this.refusing(h.slug, now, h.snap.spoolFullRefusals);
      const full = fill > this.s.spoolPercent || refusing;
      const old = ageS > this.s.spoolAgeS;
      decide(
        SELF_RULES.spool,
        h.slug,
        full || old,
        "warning",
        Math.round(fill * 100) / 100,
        `spool of hook ${h.label} ${full ? `at ${fill.toFixed(1)} % of its cap (${refusing ? "refusing readings: SPOOL_FULL" : `over ${this.s.spoolPercent} %`})` : `holds a reading ${Math.round(ageS)} s old (over ${this.s.spoolAgeS} s)`}`,
        `spool of hook ${h.label} back to ${fill.toFixed(1)} %, oldest reading ${Math.round(ageS)} s`,
      );
    }

    for (const c of view.collectors) {
      const ratio = this.missRatio(c.slug, now, c.totals);
      decide(
        SELF_RULES.misses,
        c.slug,
        ratio === undefined ? undefined : ratio * 100 > this.s.missPercent,
        "warning",
        ratio === undefined ? null : Math.round(ratio * 10000) / 100,
        `collector ${c.label} missed ${((ratio ?? 0) * 100).toFixed(1)} % of its cycles in the last ${this.s.missWindowS} s (over ${this.s.missPercent} %)`,
        `collector ${c.label} missed ${((ratio ?? 0) * 100).toFixed(1)} % of its cycles in the last ${this.s.missWindowS} s`,
      );
    }

    let allConnected = true;
    for (const b of view.brokers) {
      if (b.connected) this.downSince.delete(b.slug);
      else {
        allConnected = false;
        if (!this.downSince.has(b.slug)) this.downSince.set(b.slug, now);
      }
      const downS = b.connected ? 0 : (now - (this.downSince.get(b.slug) ?? now)) / 1000;
      decide(
        SELF_RULES.broker,
        b.slug,
        downS > this.s.brokerDownS,
        "critical",
        Math.round(downS),
        `MQTT broker ${b.label} disconnected for ${Math.round(downS)} s`,
        `MQTT broker ${b.label} connected again`,
      );
    }

    // Alerts whose source went away (a removed node): cleared once it has been gone for orphanMs.
    for (const [id, e] of this.raised) {
      if (seen.has(id)) {
        this.missingSince.delete(id);
        continue;
      }
      const since = this.missingSince.get(id) ?? now;
      this.missingSince.set(id, since);
      if (now - since >= this.orphanMs) {
        this.raised.delete(id);
        this.missingSince.delete(id);
        out.push({ ...e, state: "cleared", ts: Math.round(now), value: null, message: "its source is gone (node removed)" });
      }
    }

    this.held.push(...out);
    if (!allConnected) return [];
    return this.held.splice(0);
  }

  /** Has hook `slug` refused readings with SPOOL_FULL in the last REFUSAL_HOLD_MS (refusals counted before the first check do not count)? */
  private refusing(slug: string, now: number, refusals: number): boolean {
    const last = this.refusals.get(slug);
    if (!last) this.refusals.set(slug, { count: refusals, at: -Infinity });
    else if (refusals !== last.count) this.refusals.set(slug, { count: refusals, at: refusals > last.count ? now : last.at });
    return now - (this.refusals.get(slug)?.at ?? -Infinity) < REFUSAL_HOLD_MS;
  }

  /** Missed share of the cycles over the window, or undefined until a full window has been seen (or no cycle came due). */
  private missRatio(slug: string, now: number, t: CollectorTotals): number | undefined {
    const list = this.samples.get(slug) ?? [];
    this.samples.set(slug, list);
    list.push({ t: now, cycles: t.cycles, missed: t.failed + t.overrun + t.backoff });
    const windowMs = this.s.missWindowS * 1000;
    // Keep the newest sample at least one window old as the baseline, drop the older ones.
    for (let second = list[1]; list.length > 2 && second !== undefined && now - second.t >= windowMs; second = list[1]) list.shift();
    const base = list[0];
    if (base === undefined || now - base.t < windowMs) return undefined;
    const cycles = t.cycles - base.cycles;
    if (cycles <= 0) return undefined;
    return Math.min(1, Math.max(0, (t.failed + t.overrun + t.backoff - base.missed) / cycles));
  }
}
