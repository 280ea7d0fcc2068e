// Types shared by the alert engine and the alert node: device facts the rules need, inputs' side data, outputs.
import type { AlertEvent } from "../contracts/alert";
import type { DeviceKind, Location } from "../contracts/device";

/** What the engine knows about a device: from the registry, the reading's `kind` or the MQTT topic. */
export interface DeviceInfo {
  id: string;
  kind?: DeviceKind;
  location?: Location;
  /** Expected idle draw in W (registry), used by waste rules with `useIdleWatts`. */
  idleWatts?: number | undefined;
}

/** Side data of an input message that is not in the payload (both optional). */
export interface InputMeta {
  /** Location parsed from the MQTT topic ({root}/{building}/{floor}/{room}/{device}/reading). */
  location?: Location;
  /** Where the message came from (the MQTT topic); names the input in warnings when the payload has no device id. */
  source?: string;
}

/**
 * A problem with an input. INVALID_READING: a rejected input (bad reading or availability), reported once per device
 * (at most ReportLimits.perMinute new reports a minute, the rest counted in AlertEngine.rejectedInputs())
 * until that device sends a valid one. INVALID_REQUEST: a valid reading that a rule cannot use (a threshold rule's
 * field is boolean there), reported once per rule and device; the reading is accepted. LIMIT_EXCEEDED: a valid input
 * of a new device refused because the engine tracks its maximum number of devices (reported like INVALID_READING).
 */
export interface InputWarning {
  /** Device id, or the source/topic when the payload carries no usable id. */
  key: string;
  code: "INVALID_READING" | "INVALID_REQUEST" | "LIMIT_EXCEEDED" | "UNKNOWN_DEVICE";
  message: string;
}

export interface EngineOutput {
  events: AlertEvent[];
  /** Newly reported problems (empty when nothing new is to be reported); an accepted input may carry rule problems. */
  warnings: InputWarning[];
  /** False when the input was rejected (whether or not a warning was emitted for it). */
  accepted: boolean;
}
