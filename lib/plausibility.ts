// Plausibility of plug samples: negative, non-finite or beyond-rating values, and a plug answering with another identity.
import type { PollFailure } from "./availability";
import { LARGEST_RATING, ratingOf } from "./model-ratings";

/**
 * Headroom above the model's rating (lib/model-ratings.ts) before a polled value is implausible: inrush, meter
 * tolerance, mains +10 %. Wider than the storage hook's 1.1: the collector sees the plug itself, so only what it
 * cannot measure at all is held back. Unknown models get the largest rating of any supported plug.
 */
export const RATING_MARGIN = 1.25;
/** Largest plausible energy counter (kWh): 3.68 kW for 100 years is ~3.2 GWh… a counter above this is garbage. */
export const MAX_ENERGY_KWH = 1e7;

export interface SampleValues {
  power: number; // W
  voltage: number; // V
  current: number; // A
  energy: number; // kWh
  deviceId?: string;
  mac?: string;
}

/** Why a sample is implausible (every offending field), or undefined when it is plausible. Nothing is clamped. */
export function implausibility(sample: SampleValues, model: string): string | undefined {
  const known = ratingOf(model);
  const rating = known ?? LARGEST_RATING;
  const limits: Array<[keyof SampleValues, number, string]> = [
    ["power", rating.maxPowerW * RATING_MARGIN, "W"],
    ["current", rating.maxCurrentA * RATING_MARGIN, "A"],
    ["voltage", rating.maxVoltageV * RATING_MARGIN, "V"],
    ["energy", MAX_ENERGY_KWH, "kWh"],
  ];
  const problems: string[] = [];
  for (const [field, max, unit] of limits) {
    const v = sample[field] as number;
    if (typeof v !== "number" || !Number.isFinite(v)) problems.push(`${field} ${String(v)} is not a finite number`);
    else if (v < 0) problems.push(`${field} ${v} ${unit} is negative`);
    else if (v > max) problems.push(`${field} ${v} ${unit} is beyond the ${known ? model : "largest"} rating (max ${max} ${unit})`);
  }
  return problems.length ? problems.join("; ") : undefined;
}

const normMac = (mac: string) => mac.toUpperCase().replace(/-/g, ":");

/** The identity of a plug as it answers: its deviceId and MAC (either may be unknown). */
export interface PlugIdentity {
  deviceId?: string | undefined;
  mac?: string | undefined;
}

/** Where first-seen identities outlive a restart (a JSON file in the user directory; see lib/identity-file.ts). */
export interface IdentityStore {
  load(): Record<string, PlugIdentity>;
  save(all: Record<string, PlugIdentity>): void;
}

/**
 * Remembers the identity (deviceId, MAC) first seen for each registry entry (or the MAC the registry pins) and flags
 * a plug that answers with another one, e.g. when DHCP gave the registered address to another plug. With a store,
 * what was first seen survives restarts (a plug swapped while Node-RED was down is still caught).
 */
export class IdentityGuard {
  private readonly seen = new Map<string, PlugIdentity>();

  constructor(private readonly store?: IdentityStore) {
    for (const [device, id] of Object.entries(store?.load() ?? {})) {
      const known: PlugIdentity = {};
      if (typeof id?.deviceId === "string") known.deviceId = id.deviceId;
      if (typeof id?.mac === "string") known.mac = normMac(id.mac);
      this.seen.set(device, known);
    }
  }

  /** Pins the expected MAC of a registry entry (from the registry), before the first poll; it overrides a remembered one. */
  pin(device: string, mac: string): void {
    const before = this.seen.get(device);
    const pinned = normMac(mac);
    // A remembered deviceId belongs to the remembered MAC: a different pinned MAC is a different plug.
    this.seen.set(device, before && before.mac !== undefined && before.mac !== pinned ? { mac: pinned } : { ...before, mac: pinned });
  }

  /** Accepts the identity seen next as the new one (the documented `accept-identity` command). */
  accept(device: string): void {
    if (this.seen.delete(device)) this.save();
  }

  /** A message naming both identities when the sample's differs from the first one, else undefined. */
  check(device: string, sample: Pick<SampleValues, "deviceId" | "mac">): string | undefined {
    const now = { deviceId: sample.deviceId, mac: sample.mac ? normMac(sample.mac) : undefined };
    const first = this.seen.get(device);
    if (!first) {
      this.seen.set(device, now);
      this.save();
      return undefined;
    }
    const idChanged = first.deviceId !== undefined && now.deviceId !== undefined && first.deviceId !== now.deviceId;
    const macChanged = first.mac !== undefined && now.mac !== undefined && first.mac !== now.mac;
    if (!idChanged && !macChanged) {
      let learned = false;
      if (first.deviceId === undefined && now.deviceId !== undefined) learned = Boolean((first.deviceId = now.deviceId));
      if (first.mac === undefined && now.mac !== undefined) learned = Boolean((first.mac = now.mac));
      if (learned) this.save();
      return undefined;
    }
    const show = (i: PlugIdentity) => `deviceId ${i.deviceId ?? "?"}, MAC ${i.mac ?? "?"}`;
    return `${device} answers as another plug: expected ${show(first)}, got ${show(now)}; readings held back (accept the new identity with {action:"accept-identity", device:"${device}"})`;
  }

  private save(): void {
    if (!this.store) return;
    const all: Record<string, PlugIdentity> = {};
    for (const [device, id] of this.seen) {
      const v: PlugIdentity = {};
      if (id.deviceId !== undefined) v.deviceId = id.deviceId;
      if (id.mac !== undefined) v.mac = id.mac;
      all[device] = v;
    }
    this.store.save(all);
  }
}

/** The poller's per-sample check: IDENTITY_CHANGED first (the data belongs to another plug), then IMPLAUSIBLE_READING. */
export function sampleCheck(guard: IdentityGuard): (device: { id: string; model: string }, sample: SampleValues) => PollFailure | undefined {
  return (device, sample) => {
    const identity = guard.check(device.id, sample);
    if (identity) return { code: "IDENTITY_CHANGED", message: identity };
    const why = implausibility(sample, device.model);
    return why ? { code: "IMPLAUSIBLE_READING", message: why } : undefined;
  };
}
