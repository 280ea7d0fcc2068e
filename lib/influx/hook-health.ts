// plugwatch-influx-hook's state as one status: spool full, retrying, recent invalid input, falling behind, or fine.
import { PlugwatchError } from "../contracts/errors";
import type { Spool } from "../spool";
import { reasonOf } from "./reading-guard";
import { lineTimestampMs } from "./spool-alarm";
import type { WriterStats } from "./writer";

/** How long an invalid input or a SPOOL_FULL stays visible in the status (ms). */
export const STATUS_HOLD_MS = 10_000;

export interface HookEvents {
  /** When the spool last refused lines (epoch ms, 0 = never). */
  lastFullAt: number;
  /** When and with which code an input was last invalid. */
  lastInvalid: { at: number; code: string };
}

export interface HookHealth {
  kind: "ok" | "busy" | "warn" | "error";
  text: string;
}

/** The status for writer stats `st` at `now`; `batchSize` decides when a growing backlog is worth a warning. */
export function hookHealth(st: WriterStats, ev: HookEvents, batchSize: number, now: number): HookHealth {
  const base = `${st.acceptedPerSec}/s, backlog ${st.backlogLines}`;
  if (now - ev.lastFullAt < STATUS_HOLD_MS) return { kind: "error", text: `SPOOL_FULL, backlog ${st.backlogLines}` };
  if (st.retrying) return { kind: "busy", text: `retrying: ${st.lastError?.code ?? "STORAGE_UNAVAILABLE"}` };
  if (now - ev.lastInvalid.at < STATUS_HOLD_MS) return { kind: "warn", text: `${base}, ${ev.lastInvalid.code}` };
  if (st.backlogLines > 2 * batchSize && st.writtenPerSec < st.acceptedPerSec) return { kind: "warn", text: base };
  return { kind: "ok", text: base };
}

/** One error for a message whose elements failed: the first one's code and message, plus how many more. */
export function combineErrors(errors: readonly PlugwatchError[]): PlugwatchError {
  const first = errors[0];
  if (!first) return new PlugwatchError("INVALID_READING", "no valid element");
  if (errors.length === 1) return first;
  const details = errors.flatMap((e) => e.details ?? [{ path: "$", message: e.message }]).slice(0, 50);
  return new PlugwatchError(first.code, `${first.message} (and ${errors.length - 1} more invalid element(s))`, details);
}

/** Counts each rejected element by its reason (lib/influx/reading-guard.ts) into `into`. */
export function countRejected(into: Record<string, number>, errors: readonly PlugwatchError[]): void {
  for (const e of errors) into[reasonOf(e)] = (into[reasonOf(e)] ?? 0) + 1;
}

/** Timestamp (epoch ms) of the oldest unsent reading in the spool, or undefined when the spool is empty or unreadable. */
export async function oldestUnsentTs(spool: Pick<Spool, "peek" | "headSeq">): Promise<number | undefined> {
  try {
    const head = await spool.peek(spool.headSeq, 1);
    return head ? lineTimestampMs(head.body.toString("utf8").trimEnd()) : undefined;
  } catch {
    return undefined;
  }
}
