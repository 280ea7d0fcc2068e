// What the caches of the query component do with a change of the stored data (lib/influx/retention-manager.ts
// StorageChange): forget the windows late readings touched, or everything when the tiers changed.

/** A change of the stored data: late readings landed in these windows, or the tiers were recreated. */
export type StorageChange = { kind: "late"; ranges: readonly { startMs: number; endMs: number }[] } | { kind: "tiers" };

/** A cache that can forget a time window or everything. */
export interface ForgettingCache {
  invalidate(from: number, to: number): number;
  clear(): void;
}

/** Applies `change` to `cache`. */
export function forgetChanged(cache: ForgettingCache, change: StorageChange): void {
  if (change.kind === "tiers") cache.clear();
  else for (const r of change.ranges) cache.invalidate(r.startMs, r.endMs);
}
