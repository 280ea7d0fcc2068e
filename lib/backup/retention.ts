// Retention: which backups to delete so that only the newest N remain (folders that are not backups are never chosen).
import { sortBackupNames } from "./naming";

export const MAX_KEEP = 10_000;

/** Checks a retention count: an integer 1..10000 (0 would delete the backup just made). */
export function checkKeep(value: unknown): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_KEEP) {
    throw new RangeError(`keep must be a whole number of backups between 1 and ${MAX_KEEP}, got '${String(value)}'`);
  }
  return n;
}

/** The backup names to delete, oldest first, so that the newest `keep` backups remain. */
export function selectExpired(names: readonly string[], keep: number): string[] {
  const sorted = sortBackupNames(names);
  return sorted.slice(0, Math.max(0, sorted.length - checkKeep(keep)));
}

export interface RetentionEntry {
  name: string;
  /** True when the folder holds a readable manifest (a usable backup). */
  complete: boolean;
}

/**
 * Like selectExpired, but only complete backups count towards `keep`, so a crashed run can never push a good
 * backup out. Incomplete folders older than the oldest kept backup are deleted too; newer ones are left alone
 * (another tool may still be writing them).
 */
export function selectExpiredBackups(entries: readonly RetentionEntry[], keep: number): string[] {
  const complete = new Set(entries.filter((e) => e.complete).map((e) => e.name));
  const sorted = sortBackupNames(entries.map((e) => e.name));
  const good = sorted.filter((n) => complete.has(n));
  const kept = good.slice(Math.max(0, good.length - checkKeep(keep)));
  const oldestKept = kept[0];
  const cut = oldestKept === undefined ? -1 : sorted.indexOf(oldestKept);
  // Everything before the oldest kept backup goes (complete or not); nothing after it.
  return cut < 0 ? [] : sorted.slice(0, cut);
}
