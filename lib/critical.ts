// Critical devices (servers, fridges, network gear): which commands must leave them alone, and the skipped result they get.
import type { Action, CommandResult } from "./contracts/command";
import type { Device, Target } from "./contracts/device";

/** `by` prefixes of automatic commands (lib/schedule): a schedule (`schedule:<name>`) or a standby cut-off (`cutoff:<name>`). */
export const AUTOMATIC_BY_PREFIXES: readonly string[] = ["schedule:", "cutoff:"];

/** True for a command issued by a schedule or a standby cut-off rather than by a person. */
export const isAutomatic = (by: string | undefined): boolean => by !== undefined && AUTOMATIC_BY_PREFIXES.some((p) => by.startsWith(p));

/** True for a group (bulk) target: anything but one device named explicitly (`{device}`). */
export const isGroupTarget = (target: Target): boolean => !("device" in target);

/**
 * The result of a critical device that this command must not switch, or undefined when it may run. A critical device
 * is never switched by a schedule, a standby cut-off or a group command (devices list, kind, location, all), which
 * answer `{ok: true, skipped: {code: "CRITICAL_DEVICE"}}` for it while the other devices proceed. A single-device
 * command that names it (`{device}`) from an operator is an explicit, audited decision and runs. Reading the relay
 * (`status`) is never refused.
 */
export function criticalSkip(device: Pick<Device, "id" | "critical">, action: Action, target: Target, by: string | undefined): CommandResult | undefined {
  if (device.critical !== true || action === "status") return undefined;
  const automatic = isAutomatic(by);
  if (!automatic && !isGroupTarget(target)) return undefined;
  const why = automatic ? `a ${by?.slice(0, by.indexOf(":"))} command (${by ?? ""})` : "a group command";
  return {
    device: device.id,
    ok: true,
    skipped: { code: "CRITICAL_DEVICE", message: `'${device.id}' is critical: not switched by ${why}; switch it on its own ({device}) if you mean to` },
  };
}
