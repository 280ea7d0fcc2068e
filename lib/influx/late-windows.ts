// Rollup windows touched by late writes (spool replay after an outage, backfills): the continuous queries only
// recompute recent windows, so these are re-aggregated from raw by the retention manager. Pure; time is passed in.
import { LATE_AFTER_MS, ROLLUP_TIERS, type RollupTier } from "./rollup-aggregate";
import { TIER_STEP_MS } from "./rollup-schema";

/** Longest range one re-aggregation statement covers, ms (bounds the raw points one SELECT … INTO scans). */
export const MAX_RANGE_MS: Readonly<Record<RollupTier, number>> = { "1m": 3_600_000, "1h": 24 * 3_600_000 };

export interface WindowRange {
  tier: RollupTier;
  /** [startMs, endMs), aligned to the tier's step. */
  startMs: number;
  endMs: number;
}

/** Merged [start, end) intervals, sorted; adding a window next to the last one (replay order) is O(1). */
class Intervals {
  private items: [number, number][] = [];

  add(start: number, end: number): void {
    const last = this.items[this.items.length - 1];
    if (last && start >= last[0]) {
      if (start <= last[1]) last[1] = Math.max(last[1], end);
      else this.items.push([start, end]);
      return;
    }
    // Out of order: insert and merge (rare: backfills of older data after newer).
    this.items.push([start, end]);
    this.items.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const it of this.items) {
      const m = merged[merged.length - 1];
      if (m && it[0] <= m[1]) m[1] = Math.max(m[1], it[1]);
      else merged.push([it[0], it[1]]);
    }
    this.items = merged;
  }

  list(): [number, number][] {
    return this.items.map(([a, b]) => [a, b]);
  }

  take(): [number, number][] {
    const out = this.items;
    this.items = [];
    return out;
  }

  get size(): number {
    return this.items.length;
  }
}

export class LateWindows {
  private readonly pending: Record<RollupTier, Intervals> = { "1m": new Intervals(), "1h": new Intervals() };
  /** Late points noted since the start. */
  latePoints = 0;

  /** Notes written points by timestamp (ms), written at `now`; returns how many were late for some tier. */
  noteTimestamps(timestamps: Iterable<number>, now: number): number {
    let late = 0;
    for (const ts of timestamps) {
      let isLate = false;
      for (const tier of ROLLUP_TIERS) {
        const step = TIER_STEP_MS[tier];
        const start = Math.floor(ts / step) * step;
        if (now - start >= LATE_AFTER_MS[tier]) {
          this.pending[tier].add(start, start + step);
          isLate = true;
        }
      }
      if (isLate) late++;
    }
    this.latePoints += late;
    return late;
  }

  /** Notes a written batch of line protocol (ms timestamps, one line per point). */
  noteLines(body: string, now: number): number {
    const stamps: number[] = [];
    let from = 0;
    while (from < body.length) {
      let nl = body.indexOf("\n", from);
      if (nl < 0) nl = body.length;
      // The timestamp is the last space-separated token (ms precision); no copy of the line itself.
      const sp = body.lastIndexOf(" ", nl - 1);
      if (sp >= from) {
        const ts = Number(body.slice(sp + 1, nl).trim());
        if (Number.isFinite(ts)) stamps.push(ts);
      }
      from = nl + 1;
    }
    return this.noteTimestamps(stamps, now);
  }

  /** Ranges waiting for re-aggregation (merged), split at MAX_RANGE_MS; the tracker is empty afterwards. */
  drain(): WindowRange[] {
    const out: WindowRange[] = [];
    for (const tier of ROLLUP_TIERS)
      for (const [s, e] of this.pending[tier].take())
        for (let a = s; a < e; a += MAX_RANGE_MS[tier]) out.push({ tier, startMs: a, endMs: Math.min(e, a + MAX_RANGE_MS[tier]) });
    return out;
  }

  /** The merged ranges waiting (not split), without taking them: what a store keeps. */
  snapshot(): WindowRange[] {
    return ROLLUP_TIERS.flatMap((tier) => this.pending[tier].list().map(([startMs, endMs]) => ({ tier, startMs, endMs })));
  }

  /** Puts ranges back (a re-aggregation failed; it is retried on the next flush). */
  restore(ranges: readonly WindowRange[]): void {
    for (const r of ranges) this.pending[r.tier].add(r.startMs, r.endMs);
  }

  /** Merged ranges waiting, all tiers. */
  get size(): number {
    return this.pending["1m"].size + this.pending["1h"].size;
  }
}
