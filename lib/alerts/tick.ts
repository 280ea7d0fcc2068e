// The alert engine's clock tick: allowed range and parsing of the editor's value (the editor checks the same range).

/** Tick interval in seconds: default and bounds. */
export const TICK_SECONDS = { default: 1, min: 0.05, max: 3600 } as const;

/** Editor value (seconds; empty = default) → ms. Throws a RangeError naming the range. */
export function tickMs(value: unknown): number {
  const s = value === undefined || value === null || value === "" ? TICK_SECONDS.default : Number(value);
  if (!Number.isFinite(s) || s < TICK_SECONDS.min || s > TICK_SECONDS.max) {
    throw new RangeError(`tick interval must be a number of seconds between ${TICK_SECONDS.min} and ${TICK_SECONDS.max}`);
  }
  return Math.round(s * 1000);
}
