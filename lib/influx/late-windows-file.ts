// Rollup windows waiting for re-aggregation (lib/influx/late-windows.ts), kept in a small JSON file in the Node-RED user
// directory, so a crash or restart between a late write and its re-aggregation does not leave those windows stale.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { WindowRange } from "./late-windows";
import { ROLLUP_TIERS, type RollupTier } from "./rollup-aggregate";
import { TIER_STEP_MS } from "./rollup-schema";

/** Where the manager keeps its waiting windows; `save` replaces the whole list. */
export interface LateWindowStore {
  load(): WindowRange[];
  save(ranges: readonly WindowRange[]): void;
}

/** The file of influx config node `nodeId` under `userDir`. */
export const lateWindowsFileOf = (userDir: string, nodeId: string): string =>
  path.join(userDir, `plugwatch-late-windows-${nodeId.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`);

/** File format version. */
const VERSION = 1;

/** The ranges of a parsed file; throws naming the first problem (wrong shape, unknown tier, unaligned or empty range). */
export function parseLateWindows(v: unknown): WindowRange[] {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
  const doc = v as { v?: unknown; ranges?: unknown };
  if (doc.v !== VERSION) throw new Error(`unknown version ${JSON.stringify(doc.v)}`);
  if (!Array.isArray(doc.ranges)) throw new Error("'ranges' is not a list");
  return doc.ranges.map((r: unknown, i): WindowRange => {
    const { tier, startMs, endMs } = (typeof r === "object" && r !== null ? r : {}) as Record<string, unknown>;
    if (!ROLLUP_TIERS.includes(tier as RollupTier)) throw new Error(`ranges[${i}]: unknown tier ${JSON.stringify(tier)}`);
    const step = TIER_STEP_MS[tier as RollupTier];
    const ok = (t: unknown): t is number => typeof t === "number" && Number.isSafeInteger(t) && t >= 0 && t % step === 0;
    if (!ok(startMs) || !ok(endMs) || endMs <= startMs) throw new Error(`ranges[${i}]: not a range of whole ${String(tier)} windows`);
    return { tier: tier as RollupTier, startMs, endMs };
  });
}

/**
 * A store in `file`. Missing → no windows. Damaged (unreadable JSON, bad shape) → reported through `warn` and reset
 * to an empty list at once (the windows it held are lost; see docs/retention.md). Saves are atomic (write + rename),
 * so a crash mid-save leaves the previous list.
 */
export function lateWindowsFile(file: string, warn: (m: string) => void): LateWindowStore {
  const write = (ranges: readonly WindowRange[]): void => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify({ v: VERSION, ranges }));
    renameSync(`${file}.tmp`, file);
  };
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") warn(`${file}: ${(err as Error).message}; no late windows waiting`);
        return [];
      }
      try {
        return parseLateWindows(JSON.parse(text) as unknown);
      } catch (err) {
        warn(`${file}: damaged (${(err as Error).message}); reset: windows noted before it may stay stale in the rollups`);
        try {
          write([]);
        } catch (e) {
          warn(`${file}: cannot reset: ${(e as Error).message}`);
        }
        return [];
      }
    },
    save(ranges) {
      try {
        write(ranges);
      } catch (err) {
        warn(`${file}: cannot save the late windows: ${(err as Error).message}`);
      }
    },
  };
}
