// Turns the plugwatch-influx-hook's writer stats and input counters into its ComponentStatus message (lib/contracts/status.ts).
import { CONTRACT_VERSION } from "../contracts/common";
import type { ComponentStatus } from "../contracts/status";
import type { WriterStats } from "./writer";
import type { RetentionStatus } from "./retention-manager";

export const HOOK_COMPONENT = "influx-hook";

/** Input counters kept by the node (messages refused before they reach the writer). */
export interface HookCounters {
  invalidInputs: number;
  invalidElements: number;
  spoolFullRefusals: number;
  /** Readings never stored, per reason (lib/influx/reading-guard REJECT_REASONS). */
  rejectedReadings?: Record<string, number>;
}

/** The stats message: `backlog` is the spool backlog in lines; every counter of the writer is kept as it was. */
export function hookStatus(
  stats: WriterStats,
  counters: HookCounters,
  who: { node: string; name?: string | undefined },
  now: number,
  storage: { spoolFull?: boolean; oldestTs?: number | undefined; retention?: RetentionStatus | undefined } = {},
): ComponentStatus {
  const msg: ComponentStatus = { v: CONTRACT_VERSION, component: HOOK_COMPONENT, ts: now, backlog: stats.backlogLines, node: who.node, ...counters };
  msg.spoolFull = storage.spoolFull === true;
  if (stats.spool.maxBytes > 0) msg.fill = Math.round((stats.backlogBytes / stats.spool.maxBytes) * 1e6) / 1e6;
  if (stats.backlogLines > 0 && storage.oldestTs !== undefined) msg.oldestAgeMs = Math.max(0, Math.round(now - storage.oldestTs));
  msg.writeErrors = stats.retries;
  // Reported once the config node manages retention (not for the default "off", so older flows see the same message).
  if (storage.retention && storage.retention.state !== "off") msg.retention = storage.retention;
  if (who.name) msg.name = who.name;
  const { lastError, ...rest } = stats;
  Object.assign(msg, rest);
  if (lastError) msg.lastError = { ...lastError, message: lastError.message.slice(0, 2048) };
  return msg;
}
