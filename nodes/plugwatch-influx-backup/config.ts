// plugwatch-influx-backup settings checked outside lib/backup: the influxd timeout (the editor checks the same range).

/** influxd timeout in seconds: default (empty value) and bounds. */
export const TIMEOUT_SECONDS = { default: 600, min: 1, max: 86_400 } as const;

/** Editor value → seconds, or undefined when out of range or not a number. */
export function timeoutSeconds(raw: unknown): number | undefined {
  const s = raw === undefined || raw === null || raw === "" ? TIMEOUT_SECONDS.default : Number(raw);
  return Number.isFinite(s) && s >= TIMEOUT_SECONDS.min && s <= TIMEOUT_SECONDS.max ? s : undefined;
}
