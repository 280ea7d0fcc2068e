// Savings of automatic offs: one off stretch per device from a confirmed automatic off to the next on, valued at the
// device's standby power (W) measured just before the off; reported per room and local calendar month (kWh, cost).
import { calendarPeriods, zonedParts } from "../tz";
import type { SavingsReport, SavingsRow } from "./contract";

/** Where a stretch's standby power comes from. */
export type WattsSource = "measured" | "idleWatts" | "estimate" | "none";

export interface OffStretch {
  device: string;
  building: string;
  floor: string;
  room: string;
  /** IANA zone of the building (months are local). */
  zone: string;
  /** Start (the automatic off), epoch ms. */
  from: number;
  /** End (the next on), epoch ms; absent while the device is still off. */
  to?: number;
  /** Standby power avoided, W. */
  watts: number;
  source: WattsSource;
  /** Who switched it off (schedule:<name> or cutoff:<name>). */
  by: string;
}

/** Prices the energy of one piece of a stretch; undefined when no price is known (cost null). */
export type PriceFn = (q: {
  device: string;
  building: string;
  from: number;
  to: number;
  watts: number;
  kWh: number;
}) => { cost: number; currency: string } | undefined;

/** A flat price per kWh as a PriceFn. */
export const flatPrice =
  (perKWh: number, currency: string): PriceFn =>
  (q) => ({ cost: q.kWh * perKWh, currency });

/** Most stretches kept (oldest closed ones are dropped first). */
export const MAX_STRETCHES = 20_000;
const HOUR_MS = 3_600_000;
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

export class SavingsLedger {
  private stretches: OffStretch[] = [];

  constructor(private readonly max = MAX_STRETCHES) {}

  get size(): number {
    return this.stretches.length;
  }

  /** The open stretch of a device, if any. */
  openOf(device: string): OffStretch | undefined {
    return this.stretches.find((s) => s.device === device && s.to === undefined);
  }

  /** Opens a stretch; a device already off keeps its earlier stretch (an off while off saves nothing more). */
  open(s: Omit<OffStretch, "to">): boolean {
    if (this.openOf(s.device)) return false;
    this.stretches.push({ ...s });
    if (this.stretches.length > this.max) {
      const i = this.stretches.findIndex((x) => x.to !== undefined);
      this.stretches.splice(i >= 0 ? i : 0, 1);
    }
    return true;
  }

  /** Closes the device's open stretch at `at` (not before its start); false when none was open. */
  close(device: string, at: number): boolean {
    const s = this.openOf(device);
    if (!s) return false;
    s.to = Math.max(s.from, at);
    return true;
  }

  all(): readonly OffStretch[] {
    return this.stretches;
  }

  /** Persistable copy. */
  snapshot(): OffStretch[] {
    return this.stretches.map((s) => ({ ...s }));
  }

  /** Replaces the content with a snapshot (entries that do not look like stretches are dropped). */
  restore(list: unknown): number {
    if (!Array.isArray(list)) return 0;
    this.stretches = list.filter(isStretch).slice(-this.max);
    return this.stretches.length;
  }

  /**
   * kWh and cost avoided per room and local month: every stretch (open ones up to `now`) split at local month
   * boundaries of its building's zone. kWh = W × hours / 1000.
   */
  report(now: number, opts: { month?: string; building?: string; price?: PriceFn } = {}): SavingsReport {
    const rows = new Map<string, SavingsRow & { priced: boolean }>();
    for (const s of this.stretches) {
      if (opts.building && s.building !== opts.building) continue;
      const end = s.to ?? Math.max(s.from, now);
      if (end <= s.from) continue;
      for (const p of calendarPeriods(s.zone, s.from, end, "month", 1200)) {
        const a = Math.max(p.start, s.from);
        const b = Math.min(p.end, end);
        if (b <= a) continue;
        const z = zonedParts(s.zone, p.start);
        const month = `${z.year}-${String(z.month).padStart(2, "0")}`;
        if (opts.month && month !== opts.month) continue;
        const hours = (b - a) / HOUR_MS;
        const kWh = (s.watts * hours) / 1000;
        const priced = opts.price?.({ device: s.device, building: s.building, from: a, to: b, watts: s.watts, kWh });
        const key = JSON.stringify([month, s.building, s.floor, s.room]);
        let row = rows.get(key);
        if (!row) {
          row = { month, building: s.building, floor: s.floor, room: s.room, offs: 0, hoursOff: 0, kWh: 0, cost: 0, currency: null, priced: true };
          rows.set(key, row);
        }
        row.offs++;
        row.hoursOff += hours;
        row.kWh += kWh;
        if (priced && (row.currency === null || row.currency === priced.currency)) {
          row.cost = (row.cost ?? 0) + priced.cost;
          row.currency = priced.currency;
        } else row.priced = false;
      }
    }
    const out = [...rows.values()]
      .map(({ priced, ...r }) => ({
        ...r,
        hoursOff: round6(r.hoursOff),
        kWh: round6(r.kWh),
        cost: priced && r.cost !== null ? round6(r.cost) : null,
        currency: priced ? r.currency : null,
      }))
      .sort((x, y) => (x.month + x.building + x.floor + x.room < y.month + y.building + y.floor + y.room ? -1 : 1));
    return { ts: Math.round(now), rows: out, totalKWh: round6(out.reduce((t, r) => t + r.kWh, 0)) };
  }
}

function isStretch(v: unknown): v is OffStretch {
  if (typeof v !== "object" || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    ["device", "building", "floor", "room", "zone", "by", "source"].every((k) => typeof s[k] === "string") &&
    typeof s.from === "number" &&
    typeof s.watts === "number" &&
    (s.to === undefined || typeof s.to === "number")
  );
}
