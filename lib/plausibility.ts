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

/**
 * Remembers the identity (deviceId, MAC) first seen for each registry entry (or the MAC the registry pins) and flags
 * a plug that answers with another one, e.g. when DHCP gave the registered address to another plug.
 */
export class IdentityGuard {
  private readonly seen = new Map<string, { deviceId?: string; mac?: string }>();

  /** Pins the expected MAC of a registry entry (from the registry), before the first poll. */
  pin(device: string, mac: string): void {
    this.seen.set(device, { ...this.seen.get(device), mac: normMac(mac) });
  }

  /** Accepts the identity seen next as the new one (the documented `accept-identity` command). */
  accept(device: string): void {
    this.seen.delete(device);
  }

  /** A message naming both identities when the sample's differs from the first one, else undefined. */
  check(device: string, sample: Pick<SampleValues, "deviceId" | "mac">): string | undefined {
    const now = { deviceId: sample.deviceId, mac: sample.mac ? normMac(sample.mac) : undefined };
    const first = this.seen.get(device);
    if (!first) {
      this.seen.set(device, now);
      return undefined;
    }
    const idChanged = first.deviceId !== undefined && now.deviceId !== undefined && first.deviceId !== now.deviceId;
    const macChanged = first.mac !== undefined && now.mac !== undefined && first.mac !== now.mac;
    if (!idChanged && !macChanged) {
      if (first.deviceId === undefined && now.deviceId !== undefined) first.deviceId = now.deviceId;
      if (first.mac === undefined && now.mac !== undefined) first.mac = now.mac;
      return undefined;
    }
    const show = (i: { deviceId?: string; mac?: string }) => `deviceId ${i.deviceId ?? "?"}, MAC ${i.mac ?? "?"}`;
    return `${device} answers as another plug: expected ${show(first)}, got ${show(now)}; readings held back (accept the new identity with {action:"accept-identity", device:"${device}"})`;
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
