// Fleet capacity: the registry size and poll rate bench/fleet measured the collector to hold, and the check against them.
//
// The figures come from docs/performance.md#fleet-benchfleet (documented in docs/operations.md#capacity): a collector
// with more devices, or more device slots per second (devices / interval), than measured gets a LIMIT_EXCEEDED warning
// naming the measured limit. It still polls them all; the warning says its schedule is no longer backed by a measurement.

/** The largest fleet measured to stay on schedule (bench/fleet, 2026-12-04, 2 shared cores). */
export const MEASURED_FLEET = {
  /** Registered devices (90 % of them unreachable in the run). */
  devices: 10_000,
  /** Poll interval of that run, ms. */
  intervalMs: 10_000,
  /** Where the figure comes from. */
  source: "bench/fleet 2026-12-04 (docs/operations.md#capacity)",
} as const;

export interface FleetLimit {
  devices: number;
  intervalMs: number;
  source: string;
}

export interface CapacityWarning {
  code: "LIMIT_EXCEEDED";
  /** The collector's devices and the device slots per second they need. */
  devices: number;
  slotsPerSecond: number;
  /** The measured limit: devices, and device slots per second (devices / interval). */
  limitDevices: number;
  limitSlotsPerSecond: number;
  limitIntervalMs: number;
  /** The collector's interval and the measured one, seconds (for the translated message). */
  interval: number;
  limitInterval: number;
  source: string;
  /** Which bound is exceeded. */
  exceeds: "devices" | "rate";
  /** English text (the node shows a translated one built from the same fields). */
  message: string;
}

/** Device slots per second: each device comes due once per interval. */
export function slotsPerSecond(devices: number, intervalMs: number): number {
  return (devices * 1000) / intervalMs;
}

/**
 * Undefined when `devices` polled every `intervalMs` stay within the measured fleet (no more devices, no more device
 * slots per second); otherwise a LIMIT_EXCEEDED warning that names the limit. Bad numbers are a RangeError.
 */
export function checkFleetCapacity(devices: number, intervalMs: number, limit: FleetLimit = MEASURED_FLEET): CapacityWarning | undefined {
  if (!Number.isInteger(devices) || devices < 0) throw new RangeError(`devices must be an integer >= 0, got ${devices}`);
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError(`intervalMs must be a number > 0, got ${intervalMs}`);
  const rate = slotsPerSecond(devices, intervalMs);
  const limitRate = slotsPerSecond(limit.devices, limit.intervalMs);
  const exceeds = devices > limit.devices ? "devices" : rate > limitRate + 1e-9 ? "rate" : undefined;
  if (!exceeds) return undefined;
  const round = (v: number) => Math.round(v * 10) / 10;
  const message =
    `${devices} devices every ${intervalMs / 1000} s (${round(rate)} polls/s) exceed the measured capacity of ` +
    `${limit.devices} devices every ${limit.intervalMs / 1000} s (${round(limitRate)} polls/s, ${limit.source}): ` +
    (exceeds === "devices" ? "split the registry over several collectors" : "raise the interval or split the registry over several collectors");
  return {
    code: "LIMIT_EXCEEDED",
    devices,
    slotsPerSecond: round(rate),
    limitDevices: limit.devices,
    limitSlotsPerSecond: round(limitRate),
    limitIntervalMs: limit.intervalMs,
    interval: intervalMs / 1000,
    limitInterval: limit.intervalMs / 1000,
    source: limit.source,
    exceeds,
    message,
  };
}
