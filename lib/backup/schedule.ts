// When the next scheduled backup runs: every N minutes, or daily at HH:MM local time in an IANA zone (DST-safe).
import { clockMinutes, localTime } from "../alerts/schedule";

export type BackupSchedule = { kind: "manual" } | { kind: "interval"; everyMs: number } | { kind: "daily"; at: string; timezone: string };

const MINUTE = 60_000;
const TIME = /^(?:[01]\d|2[0-3]):[0-5]\d$/;

/** Builds a schedule from the editor's fields; throws a RangeError naming the bad field. */
export function parseSchedule(kind: unknown, everyMinutes: unknown, at: unknown, timezone: string): BackupSchedule {
  switch (kind) {
    case "manual":
    case "":
    case undefined:
      return { kind: "manual" };
    case "interval": {
      const m = Number(everyMinutes);
      // Fractions are allowed (0.05 min = 3 s) so tests and demos need not wait a minute.
      if (!Number.isFinite(m) || m < 0.05 || m > 525_600) throw new RangeError(`backup interval must be 0.05..525600 minutes, got '${String(everyMinutes)}'`);
      return { kind: "interval", everyMs: Math.round(m * MINUTE) };
    }
    case "daily":
      if (typeof at !== "string" || !TIME.test(at)) throw new RangeError(`daily backup time must be HH:MM (00:00-23:59), got '${String(at)}'`);
      return { kind: "daily", at, timezone };
    default:
      throw new RangeError(`schedule must be manual, interval or daily, got '${String(kind)}'`);
  }
}

/**
 * The next run after `now` (epoch ms), or undefined for a manual schedule. Daily: the first minute whose local
 * time is `at`; on a spring-forward day when `at` does not exist (02:30 in Europe/Paris), the first minute after
 * the gap; on a fall-back day `at` may occur twice and only the first counts.
 */
export function nextRun(schedule: BackupSchedule, now: number): number | undefined {
  if (schedule.kind === "manual") return undefined;
  if (schedule.kind === "interval") return now + schedule.everyMs;
  const target = clockMinutes(schedule.at);
  const today = localTime(schedule.timezone, now);
  // Already past today's slot (or in it): today's date no longer qualifies.
  const doneDate = today.minutes >= target ? today.date : undefined;
  let prev = today;
  for (let t = Math.floor(now / MINUTE) * MINUTE + MINUTE; t <= now + 50 * 60 * MINUTE; t += MINUTE) {
    const lt = localTime(schedule.timezone, t);
    const hit = lt.minutes === target || (lt.date === prev.date && prev.minutes < target && lt.minutes > target);
    if (hit && lt.date !== doneDate) return t;
    prev = lt;
  }
  throw new Error(`no local time ${schedule.at} within 50 h in ${schedule.timezone}`);
}
