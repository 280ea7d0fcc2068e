// Devices not in the registry yet: the registry's policy for their well-formed readings (reject, hold as pending, accept) and the bounded list an operator approves or rejects.
import { PlugwatchError } from "./contracts/errors";

export const UNKNOWN_DEVICE_POLICIES = ["reject", "pending", "accept"] as const;
/** reject: UNKNOWN_DEVICE (the default); pending: stored with the tag pending=true until approved or rejected; accept: stored with the device tag only. */
export type UnknownDevicePolicy = (typeof UNKNOWN_DEVICE_POLICIES)[number];

export const PENDING_STATES = ["pending", "approved", "rejected"] as const;
export type PendingState = (typeof PENDING_STATES)[number];

/** One device id seen in readings while not in the registry. Times in epoch ms. */
export interface UnknownDevice {
  id: string;
  state: PendingState;
  firstSeen: number;
  lastSeen: number;
  /** Readings of this id admitted (stored) so far. */
  readings: number;
  /** Readings of this id refused because it was rejected. */
  refused: number;
}

/** Where the list is kept between restarts (a JSON file in the user dir in Node-RED); optional. */
export interface UnknownDeviceStore {
  load(): unknown;
  save(devices: UnknownDevice[]): void;
}

export interface UnknownDevicesOptions {
  policy?: UnknownDevicePolicy;
  /** At most this many ids waiting (state pending); readings of further new ids are refused (UNKNOWN_DEVICE). Default 100. */
  maxPending?: number;
  /** At most this many approved + rejected ids are remembered; the oldest decisions are forgotten first. Default 1000. */
  maxDecided?: number;
  now?: () => number;
  store?: UnknownDeviceStore | undefined;
  /** Called (at most once a second by the caller's choice) when the list changed: status, persistence. */
  onChange?: () => void;
}

/** Admission of a well-formed reading of an unregistered id: the tags to store it with, or why it is refused. */
export type Admission = { tags: Record<string, string> } | { refused: string };

export const DEFAULT_MAX_PENDING = 100;
export const DEFAULT_MAX_DECIDED = 1000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseUnknownDevicePolicy(v: unknown): UnknownDevicePolicy {
  if (v === undefined || v === "") return "reject";
  if (typeof v === "string" && (UNKNOWN_DEVICE_POLICIES as readonly string[]).includes(v)) return v as UnknownDevicePolicy;
  throw new Error(`unknown devices: expected one of ${UNKNOWN_DEVICE_POLICIES.join(", ")}, got ${JSON.stringify(v)}`);
}

/**
 * The unknown devices of one registry. Only ids of readings that passed their schema reach `admit` (the encoder
 * validates first), so a malformed or absurd reading never creates an entry; the number of waiting ids is bounded,
 * so a flood of invented ids cannot grow memory or the database beyond `maxPending` series.
 */
export class UnknownDevices {
  readonly policy: UnknownDevicePolicy;
  readonly maxPending: number;
  readonly maxDecided: number;
  private readonly byId = new Map<string, UnknownDevice>();
  private readonly now: () => number;

  constructor(private readonly opts: UnknownDevicesOptions = {}) {
    this.policy = opts.policy ?? "reject";
    this.maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
    this.maxDecided = opts.maxDecided ?? DEFAULT_MAX_DECIDED;
    this.now = opts.now ?? Date.now;
    if (opts.store) this.restore(opts.store.load());
  }

  /** A well-formed reading of `id`, which the registry does not hold: store it (with these tags) or refuse it. */
  admit(id: string): Admission {
    if (this.policy === "accept") return { tags: { device: id } };
    if (this.policy === "reject") return { refused: "not in the registry" };
    const now = this.now();
    let d = this.byId.get(id);
    if (!d) {
      if (this.count("pending") >= this.maxPending) return { refused: `not in the registry, and ${this.maxPending} devices are already pending approval` };
      d = { id, state: "pending", firstSeen: now, lastSeen: now, readings: 0, refused: 0 };
      this.byId.set(id, d);
      this.changed();
    }
    d.lastSeen = now;
    if (d.state === "rejected") {
      d.refused++;
      return { refused: "rejected by an operator (not in the registry)" };
    }
    d.readings++;
    return { tags: d.state === "approved" ? { device: id } : { device: id, pending: "true" } };
  }

  get(id: string): UnknownDevice | undefined {
    const d = this.byId.get(id);
    return d ? { ...d } : undefined;
  }

  /** The listed ids, in the order they were first seen; only one state if given. */
  list(state?: PendingState): UnknownDevice[] {
    return [...this.byId.values()].filter((d) => !state || d.state === state).map((d) => ({ ...d }));
  }

  count(state: PendingState): number {
    let n = 0;
    for (const d of this.byId.values()) if (d.state === state) n++;
    return n;
  }

  /** Its readings are stored without the pending tag from now on (add it to the registry for location tags). */
  approve(id: string): UnknownDevice {
    return this.decide(id, "approved");
  }

  /** Its readings are refused (UNKNOWN_DEVICE) from now on; what was stored while pending stays, tagged pending=true. */
  reject(id: string): UnknownDevice {
    return this.decide(id, "rejected");
  }

  private decide(id: string, state: "approved" | "rejected"): UnknownDevice {
    const d = this.byId.get(id);
    if (!d)
      throw new PlugwatchError("UNKNOWN_DEVICE", `'${id}' is not a pending device (it sent no reading since the list was last cleared, or is registered)`);
    d.state = state;
    // Decided ids move to the end (Map order), so the oldest decisions are the first forgotten.
    this.byId.delete(id);
    this.byId.set(id, d);
    const decided = [...this.byId.values()].filter((x) => x.state !== "pending");
    for (const old of decided.slice(0, Math.max(0, decided.length - this.maxDecided))) this.byId.delete(old.id);
    this.changed();
    return { ...d };
  }

  private changed(): void {
    this.opts.store?.save(this.list());
    this.opts.onChange?.();
  }

  /** A saved list back; anything that does not look like an entry is skipped (a damaged file loses entries, never the node). */
  private restore(saved: unknown): void {
    if (!Array.isArray(saved)) return;
    for (const e of saved) {
      if (!isRecord(e) || typeof e.id !== "string" || !(PENDING_STATES as readonly unknown[]).includes(e.state)) continue;
      const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
      this.byId.set(e.id, {
        id: e.id,
        state: e.state as PendingState,
        firstSeen: num(e.firstSeen),
        lastSeen: num(e.lastSeen),
        readings: num(e.readings),
        refused: num(e.refused),
      });
    }
    const pending = this.list("pending");
    for (const extra of pending.slice(this.maxPending)) this.byId.delete(extra.id);
  }
}
