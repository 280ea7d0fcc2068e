// Load profiles of the simulated office: what a workstation, meeting room or printer draws at a given instant (pure, deterministic).
import type { DeviceKind } from "../../lib/contracts/device";

/** Nominal mains voltage in V (EU). */
export const MAINS_VOLTAGE = 230;

const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;

/** Salts that keep the random streams of one device independent of each other. */
const enum Salt {
  Idle = 1,
  WorkBase,
  WorkMinute,
  Jitter,
  Present,
  Arrive,
  Leave,
  LunchStart,
  LunchLength,
  LunchWatts,
  MeetingBase,
  MeetingSlot,
  PrinterJob,
  PrinterStart,
  PrinterLength,
  PrinterWatts,
  VoltOffset,
  VoltNoise,
  Energy,
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: a 32-bit integer hash (murmur3 finaliser), no state, no Math.random.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a hash of a string (e.g. a device id) as an unsigned 32-bit seed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** Uniform number in [0, 1) determined only by the seed and the keys (integers, may exceed 32 bits). */
export function unit(seed: number, ...keys: number[]): number {
  let h = fmix32(seed ^ 0x9e3779b9);
  for (const k of keys) {
    const lo = k >>> 0;
    const hi = Math.floor(k / 4294967296) >>> 0;
    h = fmix32(h ^ fmix32(lo + 0x7f4a7c15));
    if (hi) h = fmix32(h ^ fmix32(hi + 0x165667b1));
  }
  return h / 4294967296;
}

/** Uniform number in [-1, 1). */
const signed = (seed: number, ...keys: number[]): number => unit(seed, ...keys) * 2 - 1;
const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

// ---------------------------------------------------------------------------------------------
// Local time.

export interface LocalTime {
  /** Days since 1970-01-01 in local time. */
  dayIndex: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** Local hour of day, fractional (0 ≤ hour < 24). */
  hour: number;
  /** Milliseconds since the Unix epoch shifted to local time (for windowing). */
  localMs: number;
}

/** Local calendar position of an instant, for a fixed UTC offset in minutes (e.g. +60 for CET). */
export function localTime(epochMs: number, utcOffsetMinutes = 0): LocalTime {
  const localMs = epochMs + utcOffsetMinutes * 60_000;
  const dayIndex = Math.floor(localMs / MS_PER_DAY);
  // 1970-01-01 was a Thursday (weekday 4).
  const weekday = (((dayIndex + 4) % 7) + 7) % 7;
  const hour = (localMs - dayIndex * MS_PER_DAY) / MS_PER_HOUR;
  return { dayIndex, weekday, hour, localMs };
}

export const isWeekend = (t: LocalTime): boolean => t.weekday === 0 || t.weekday === 6;

// ---------------------------------------------------------------------------------------------
// Profiles.

/** What a profile needs to know about a plug. */
export interface ProfileDevice {
  id: string;
  kind: DeviceKind;
  /** Expected idle draw in W (registry `idleWatts`); the profile's standby level varies ±15 % around it. */
  idleWatts?: number;
}

export interface ProfileOptions {
  /** Fixed offset of local office time from UTC, in minutes (default 0). */
  utcOffsetMinutes?: number;
  /** Office-wide seed mixed with the device id (default 0): change it to get another, equally plausible office. */
  seed?: number;
}

/** Electrical values a plug reports: W, V, A. */
export interface LoadSample {
  power: number;
  voltage: number;
  current: number;
}

/** The seed of one device: its id hashed, mixed with the office seed. */
export function deviceSeed(id: string, officeSeed = 0): number {
  return fmix32(hashString(id) ^ Math.imul(officeSeed | 0, 0x27d4eb2d));
}

/** One workday of one workstation: whether its user comes in, and when (local hours). */
export interface WorkdayPlan {
  present: boolean;
  arrive: number;
  leave: number;
  lunchStart: number;
  lunchEnd: number;
}

/** Probability that a workstation's user is in on a weekday (holidays, sick days, remote work). */
export const PRESENCE_PROBABILITY = 0.9;

export function workdayPlan(seed: number, t: LocalTime): WorkdayPlan {
  const d = t.dayIndex;
  const present = !isWeekend(t) && unit(seed, Salt.Present, d) < PRESENCE_PROBABILITY;
  const arrive = 7.5 + 2 * unit(seed, Salt.Arrive, d); // 07:30–09:30
  const leave = 16.5 + 2 * unit(seed, Salt.Leave, d); // 16:30–18:30
  const lunchStart = 11.75 + unit(seed, Salt.LunchStart, d); // 11:45–12:45
  const lunchEnd = lunchStart + 0.5 + 0.5 * unit(seed, Salt.LunchLength, d); // 30–60 min
  return { present, arrive, leave, lunchStart, lunchEnd };
}

/** Standby/idle draw in W of one device (per-device level, small per-second jitter). */
function standbyWatts(dev: ProfileDevice, seed: number, fallbackLo: number, fallbackHi: number, second: number): number {
  const level =
    dev.idleWatts !== undefined ? dev.idleWatts * (0.85 + 0.3 * unit(seed, Salt.Idle)) : fallbackLo + (fallbackHi - fallbackLo) * unit(seed, Salt.Idle);
  return level * (1 + 0.03 * signed(seed, Salt.Jitter, second));
}

/** Workstation: night/weekend idle (~2–5 W), 60–150 W while its user works, a dip (15–40 W) over lunch. */
export function workstationWatts(dev: ProfileDevice, seed: number, epochMs: number, t: LocalTime): number {
  const second = Math.floor(epochMs / 1000);
  const plan = workdayPlan(seed, t);
  const idle = standbyWatts(dev, seed, 2.1, 4.8, second); // ±3 % jitter keeps it within 2–5 W
  if (!plan.present || t.hour < plan.arrive || t.hour >= plan.leave) return clamp(idle, 0.5, 6);
  if (t.hour >= plan.lunchStart && t.hour < plan.lunchEnd) {
    // Screens asleep, PC idling.
    const lunch = 20 + 12 * unit(seed, Salt.LunchWatts, t.dayIndex);
    return clamp(lunch * (1 + 0.05 * signed(seed, Salt.Jitter, second)), 15, 40);
  }
  const base = 75 + 50 * unit(seed, Salt.WorkBase); // 75–125 W: PC + two screens
  const minute = Math.floor(epochMs / 60_000);
  const load = base * (1 + 0.15 * signed(seed, Salt.WorkMinute, minute)) * (1 + 0.02 * signed(seed, Salt.Jitter, second));
  return clamp(load, 60, 150);
}

/** Meeting rooms are booked in half-hour slots between 08:00 and 18:00 on weekdays. */
export const MEETING_SLOT_HOURS = 0.5;
export const MEETING_DAY_START = 8;
export const MEETING_DAY_END = 18;
export const MEETING_BOOKING_PROBABILITY = 0.45;

export function meetingBooked(seed: number, t: LocalTime): boolean {
  if (isWeekend(t) || t.hour < MEETING_DAY_START || t.hour >= MEETING_DAY_END) return false;
  const slot = Math.floor(t.hour / MEETING_SLOT_HOURS);
  return unit(seed, Salt.MeetingSlot, t.dayIndex, slot) < MEETING_BOOKING_PROBABILITY;
}

/** Meeting room: screen/VC 80–200 W in booked slots, standby (~4–8 W) otherwise. */
export function meetingRoomWatts(dev: ProfileDevice, seed: number, epochMs: number, t: LocalTime): number {
  const second = Math.floor(epochMs / 1000);
  if (!meetingBooked(seed, t)) return clamp(standbyWatts(dev, seed, 4, 8, second), 1, 15);
  const base = 110 + 60 * unit(seed, Salt.MeetingBase); // 110–170 W
  const minute = Math.floor(epochMs / 60_000);
  return clamp(base * (1 + 0.1 * signed(seed, Salt.WorkMinute, minute)) * (1 + 0.02 * signed(seed, Salt.Jitter, second)), 80, 200);
}

/** Printers may start one job per 5-minute window. */
export const PRINT_WINDOW_MS = 300_000;
export const PRINT_JOB_PROBABILITY_WORKING = 0.35;
export const PRINT_JOB_PROBABILITY_OFF_HOURS = 0.02;

/** One print burst: local-window-relative timing, absolute epoch ms bounds, draw in W. */
export interface PrintJob {
  startMs: number;
  endMs: number;
  watts: number;
}

/** The print job (if any) in the 5-minute window containing `epochMs`: 15–60 s at 400–900 W. */
export function printJobAt(seed: number, epochMs: number, utcOffsetMinutes = 0): PrintJob | null {
  const offsetMs = utcOffsetMinutes * 60_000;
  const window = Math.floor((epochMs + offsetMs) / PRINT_WINDOW_MS);
  const windowStart = window * PRINT_WINDOW_MS - offsetMs;
  const t = localTime(windowStart, utcOffsetMinutes);
  const working = !isWeekend(t) && t.hour >= 8 && t.hour < 18;
  const p = working ? PRINT_JOB_PROBABILITY_WORKING : PRINT_JOB_PROBABILITY_OFF_HOURS;
  if (unit(seed, Salt.PrinterJob, window) >= p) return null;
  const length = Math.round(15_000 + 45_000 * unit(seed, Salt.PrinterLength, window));
  const start = windowStart + Math.floor((PRINT_WINDOW_MS - length) * unit(seed, Salt.PrinterStart, window));
  const watts = 400 + 500 * unit(seed, Salt.PrinterWatts, window);
  return { startMs: start, endMs: start + length, watts };
}

/** Printer: standby ~5–15 W, fuser bursts of 400–900 W for 15–60 s during print jobs. */
export function printerWatts(dev: ProfileDevice, seed: number, epochMs: number, utcOffsetMinutes: number): number {
  const second = Math.floor(epochMs / 1000);
  const job = printJobAt(seed, epochMs, utcOffsetMinutes);
  if (job && epochMs >= job.startMs && epochMs < job.endMs) return clamp(job.watts * (1 + 0.03 * signed(seed, Salt.Jitter, second)), 400, 900);
  return clamp(standbyWatts(dev, seed, 6, 12, second), 5, 15);
}

/** Anything else: a steady small load around its idle level (default 20 W). */
function otherWatts(dev: ProfileDevice, seed: number, epochMs: number): number {
  const second = Math.floor(epochMs / 1000);
  return standbyWatts(dev, seed, 15, 25, second);
}

/** Mains voltage at the plug: 230 V, a per-plug offset of ±2 V and a 10-second noise of ±1.5 V. */
export function voltageAt(seed: number, epochMs: number): number {
  return MAINS_VOLTAGE + 2 * signed(seed, Salt.VoltOffset) + 1.5 * signed(seed, Salt.VoltNoise, Math.floor(epochMs / 10_000));
}

/** Power in W the plug's load would draw at `epochMs` with the relay on. */
export function powerAt(dev: ProfileDevice, epochMs: number, opts: ProfileOptions = {}): number {
  const offset = opts.utcOffsetMinutes ?? 0;
  const seed = deviceSeed(dev.id, opts.seed);
  const t = localTime(epochMs, offset);
  switch (dev.kind) {
    case "workplace":
      return workstationWatts(dev, seed, epochMs, t);
    case "meeting-room":
      return meetingRoomWatts(dev, seed, epochMs, t);
    case "printer":
      return printerWatts(dev, seed, epochMs, offset);
    default:
      return otherWatts(dev, seed, epochMs);
  }
}

/** What the plug measures at `epochMs`: relay off → 0 W and 0 A (the voltage is still measured). */
export function loadAt(dev: ProfileDevice, epochMs: number, relayOn: boolean, opts: ProfileOptions = {}): LoadSample {
  const seed = deviceSeed(dev.id, opts.seed);
  const voltage = round(voltageAt(seed, epochMs), 3);
  if (!relayOn) return { power: 0, voltage, current: 0 };
  const power = round(powerAt(dev, epochMs, opts), 3);
  return { power, voltage, current: round(power / voltage, 4) };
}

/** A plausible starting value of a plug's cumulative energy counter, in kWh (5–500 kWh). */
export function initialEnergyKWh(id: string, officeSeed = 0): number {
  return round(5 + 495 * unit(deviceSeed(id, officeSeed), Salt.Energy), 3);
}

/** Energy in kWh drawn at `watts` W for `ms` milliseconds. */
export function energyKWh(watts: number, ms: number): number {
  return (watts * ms) / 3_600_000_000;
}
