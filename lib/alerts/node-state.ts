// What the alert node decides besides the engine: which devices get alert state, its status, when to save, what to re-publish.
import type { AlertEvent, Severity } from "../contracts/alert";
import type { Device } from "../contracts/device";
import type { DeviceInfo, InputMeta } from "./types";

/** At most one save per this many ms while only counters/timers change (events are saved at once). */
export const SAVE_EVERY_MS = 10_000;
/** Saves after alert events at most this often: 9000 plugs going offline must not write 9000 snapshots (issue 18). */
export const SAVE_GAP_MS = 1000;

/**
 * The engine's scope: with registry devices, only they (and backup health, `{root}/backup/{id}/availability`) get
 * alert state; without a registry (undefined), every valid input does.
 */
export function alertScope(root: string, registry: readonly Device[] | undefined): { devices: DeviceInfo[]; admit?: (id: string, meta: InputMeta) => boolean } {
  if (!registry) return { devices: [] };
  const backups = `${root}/backup/`;
  return {
    devices: registry.map(({ id, kind, location, idleWatts }) => ({ id, kind, location, idleWatts })),
    admit: (_id, meta) => meta.source?.startsWith(backups) === true,
  };
}

/** The node status: colour by the highest active severity, the active count and the count of refused inputs. */
export function alertStatus(
  severity: Severity | undefined,
  count: number,
  badInputs: number,
): { kind: "critical" | "warn" | "ok"; key: string; subs: Record<string, number> } {
  const kind = severity === "critical" ? "critical" : severity === "warning" ? "warn" : "ok";
  return badInputs ? { kind, key: "status.activeBad", subs: { count, bad: badInputs } } : { kind, key: "status.active", subs: { count } };
}

/** The restored alerts that are still active now, in their restored order (re-published once, unchanged). */
export function stillActive(restored: readonly AlertEvent[], active: readonly AlertEvent[]): AlertEvent[] {
  const ids = new Set(active.map((a) => a.id));
  return restored.filter((a) => ids.has(a.id));
}

/**
 * Decides when the state is saved: a changed (dirty) state at most once per `everyMs`; after alert events at once,
 * or, within `gapMs` of the last save, once at the end of the gap (one pending save at most).
 */
export class SaveSchedule {
  dirty = false;
  private lastSave = 0;
  private pending = false;
  constructor(
    private readonly everyMs = SAVE_EVERY_MS,
    private readonly gapMs = SAVE_GAP_MS,
  ) {}
  saved(now: number): void {
    this.dirty = false;
    this.pending = false;
    this.lastSave = now;
  }
  due(now: number): boolean {
    return this.dirty && now - this.lastSave >= this.everyMs;
  }
  /** After alert events: 0 = save now, n > 0 = save once in n ms, undefined = a save is already pending. */
  afterEvents(now: number): number | undefined {
    if (this.pending) return undefined;
    const wait = this.lastSave + this.gapMs - now;
    if (wait <= 0) return 0;
    this.pending = true;
    return wait;
  }
}
