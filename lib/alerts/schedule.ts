// Local wall-clock helpers: an instant → weekday, minute of day and date in an IANA zone (DST-correct via Intl).
import type { WeeklySchedule, Weekday } from "../contracts/alert";

export interface LocalTime {
  weekday: Weekday;
  /** Minutes since local midnight, 0..1439. */
  minutes: number;
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a RangeError naming the zone when it is not a valid IANA time zone. */
export function checkTimeZone(timeZone: string): string {
  try {
    formatter(timeZone);
  } catch {
    throw new RangeError(`unknown time zone '${timeZone}' (use an IANA name such as Europe/Paris)`);
  }
  return timeZone;
}

/** The host's time zone, used when a rule names none. */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** Local weekday, minute of day and date of an instant (epoch ms) in `timeZone`. */
export function localTime(timeZone: string, epochMs: number): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(epochMs))) parts[p.type] = p.value;
  const hour = Number(parts.hour) % 24; // some ICU versions print midnight as "24"
  return {
    weekday: (parts.weekday ?? "").toLowerCase().slice(0, 3) as Weekday,
    minutes: hour * 60 + Number(parts.minute),
    date: `${parts.year}-${parts.month}-${parts.day}`,
  };
}

const PREVIOUS_DAY: Readonly<Record<Weekday, Weekday>> = { mon: "sun", tue: "mon", wed: "tue", thu: "wed", fri: "thu", sat: "fri", sun: "sat" };

/** "HH:MM" → minutes since midnight ("24:00" → 1440). The format is checked by the rule schema. */
export function clockMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
}

/**
 * True when `epochMs` falls inside the weekly working hours, read on the local wall clock of `timeZone`.
 * A period [start, end) with end <= start runs past midnight: its tail belongs to the next day, so a Friday
 * 22:00–06:00 shift covers Saturday 00:00–06:00 too.
 */
export function isWorkingTime(schedule: WeeklySchedule, timeZone: string, epochMs: number): boolean {
  const { weekday, minutes } = localTime(timeZone, epochMs);
  for (const [s, e] of schedule[weekday] ?? []) {
    const start = clockMinutes(s);
    const end = clockMinutes(e);
    if (start < end ? minutes >= start && minutes < end : minutes >= start) return true;
  }
  for (const [s, e] of schedule[PREVIOUS_DAY[weekday]] ?? []) {
    const start = clockMinutes(s);
    const end = clockMinutes(e);
    if (end <= start && minutes < end) return true;
  }
  return false;
}
