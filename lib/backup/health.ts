// A backup outcome as an availability message, so the alert node's `offline` rule raises/clears a backup alert.
import { CONTRACT_VERSION } from "../contracts/common";
import type { Availability } from "../contracts/reading";

/** The pseudo-device id of a backup job: backup-<database> ("backup-all" for every database), a valid slug. */
export function backupDeviceId(database: string | undefined): string {
  const slug = (database || "all")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "");
  return `backup-${slug || "all"}`.slice(0, 64).replace(/[-_]+$/, "");
}

/** {root}/backup/{device}/availability — ends in /availability, which the alert node reads as an availability. */
export const backupHealthTopic = (root: string, device: string): string => `${root}/backup/${device}/availability`;

/** online=true after a good backup, online=false with the error code and message after a failed one. */
export function backupHealth(device: string, ts: number, error?: { code?: string; message: string }): Availability {
  return {
    v: CONTRACT_VERSION,
    device,
    online: !error,
    ts: Math.round(ts),
    reason: (error ? `${error.code ?? "INTERNAL"}: ${error.message}` : "backup ok").slice(0, 256),
  };
}
