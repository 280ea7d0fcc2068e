// Forged or absurd readings never reach storage: the device in the payload must be the device in the topic, generic
// readings may only use the registry's measurements, and values must be plausible for the plug's model.
import type { GenericReading, Reading } from "../contracts/reading";
import { PlugwatchError } from "../contracts/errors";
import { ratingOf } from "../model-ratings";

/** Why a reading was rejected (counted per reason in the hook's status, /health and metrics). */
export const REJECT_REASONS = ["SCHEMA", "TOPIC_MISMATCH", "UNKNOWN_DEVICE", "MEASUREMENT_NOT_ALLOWED", "IMPLAUSIBLE"] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Rated limits of a plug model as stored readings may reach them (W, A, V): the rating × STORAGE_MARGIN. */
export interface ModelBounds {
  powerW: number;
  currentA: number;
  voltageV: number;
}

/**
 * Headroom above the model's rating (lib/model-ratings.ts) for meter error, before a reading is refused for storage.
 * Unknown models get no model bound (the schema's generic limits still apply).
 */
export const STORAGE_MARGIN = 1.1;

/** Bounds for a registry model string ("HS110", "HS110v2", "hs110(EU)"…), or undefined for an unknown model. */
export function boundsFor(model: string | undefined): ModelBounds | undefined {
  const r = ratingOf(model);
  return r && { powerW: r.maxPowerW * STORAGE_MARGIN, currentA: r.maxCurrentA * STORAGE_MARGIN, voltageV: r.maxVoltageV * STORAGE_MARGIN };
}

export function rejected(reason: RejectReason, path: string, message: string): PlugwatchError & { reason: RejectReason } {
  const code = reason === "UNKNOWN_DEVICE" ? "UNKNOWN_DEVICE" : "INVALID_READING";
  return Object.assign(new PlugwatchError(code, `${path}: ${message}`, [{ path, message }]), { reason });
}

/** The reason of a rejection error (SCHEMA when it carries none). */
export function reasonOf(err: unknown): RejectReason {
  const r = (err as { reason?: unknown })?.reason;
  if (typeof r === "string" && (REJECT_REASONS as readonly string[]).includes(r)) return r as RejectReason;
  if (err instanceof PlugwatchError && err.code === "UNKNOWN_DEVICE") return "UNKNOWN_DEVICE";
  return "SCHEMA";
}

/** Throws TOPIC_MISMATCH when the message came on a device topic of another device. */
export function checkTopicDevice(device: string, topicDevice: string | undefined, path: string): void {
  if (topicDevice !== undefined && device !== topicDevice) {
    throw rejected("TOPIC_MISMATCH", `${path}.device`, `device '${device}' published on the topic of device '${topicDevice}'`);
  }
}

/** Throws IMPLAUSIBLE when a plug reading exceeds its model's rated limits. */
export function checkPlugReading(r: Reading, model: string | undefined, path: string): void {
  const b = boundsFor(model);
  if (!b) return;
  const over = (field: string, value: number, max: number, unit: string) => {
    if (value > max)
      throw rejected("IMPLAUSIBLE", `${path}.${field}`, `${value} ${unit} is more than a ${model} can measure (at most ${Math.round(max * 10) / 10} ${unit})`);
  };
  over("power", r.power, b.powerW, "W");
  over("current", r.current, b.currentA, "A");
  over("voltage", r.voltage, b.voltageV, "V");
}

/** Throws MEASUREMENT_NOT_ALLOWED or IMPLAUSIBLE for a generic reading (energy counters are never negative). */
export function checkGenericReading(g: GenericReading, allowed: ReadonlySet<string> | undefined, defaultMeasurement: string, path: string): void {
  const m = g.measurement ?? defaultMeasurement;
  if (allowed && !allowed.has(m)) {
    throw rejected(
      "MEASUREMENT_NOT_ALLOWED",
      `${path}.measurement`,
      `measurement '${m}' is not in the registry's list (${[...allowed].sort().join(", ")}); add it to "measurements" in the registry file`,
    );
  }
  for (const [k, v] of Object.entries(g.fields)) {
    if (typeof v === "number" && /^energy/i.test(k) && v < 0) throw rejected("IMPLAUSIBLE", `${path}.fields.${k}`, `energy counter ${v} is negative`);
  }
}
