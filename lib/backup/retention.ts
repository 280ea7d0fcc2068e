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
