// Availability tracking per device: offline after N consecutive failed polls, online on the first success, no flapping.
import { CONTRACT_VERSION } from "./contracts/common";
import type { ErrorCode } from "./contracts/errors";
import type { Availability } from "./contracts/reading";

export const DEFAULT_OFFLINE_AFTER = 3;
/** Longest reason the Availability contract accepts. */
const MAX_REASON = 256;

/** A state transition of one device (also the first known state of a device). */
export interface AvailabilityChange {
  device: string;
  online: boolean;
  /** Epoch ms of the poll that caused the change. */
  ts: number;
  /** "poll ok" when online; "<ERROR_CODE>: <message>" when offline. */
  reason: string;
  /** True for the first state ever reported for this device. */
  initial: boolean;
  /** While online: whether the plug's data is usable ("ok") or held back (IMPLAUSIBLE_READING, IDENTITY_CHANGED). */
  data?: DataFlag;
}

export const DATA_FLAGS = ["ok", "implausible", "identity-changed"] as const;
export type DataFlag = (typeof DATA_FLAGS)[number];

/** What a failed poll tells the tracker: its stable code and a human message. */
export interface PollFailure {
  code: ErrorCode;
  message: string;
}

interface DeviceState {
  /** undefined until the device has an initial state (first success or N failures). */
  online: boolean | undefined;
  consecutiveFailures: number;
  lastError: PollFailure | undefined;
  /** Data flag last reported while online. */
  data: DataFlag;
}

export function failureReason(failure: PollFailure): string {
  const text = `${failure.code}: ${failure.message.replace(/\s+/g, " ").trim()}`;
  return text.length > MAX_REASON ? text.slice(0, MAX_REASON - 1) + "…" : text;
}

export class AvailabilityTracker {
  readonly offlineAfter: number;
  private readonly states = new Map<string, DeviceState>();

  constructor(offlineAfter = DEFAULT_OFFLINE_AFTER) {
    if (!Number.isInteger(offlineAfter) || offlineAfter < 1) throw new RangeError(`offlineAfter must be an integer >= 1, got ${offlineAfter}`);
    this.offlineAfter = offlineAfter;
  }

  private stateOf(device: string): DeviceState {
    let s = this.states.get(device);
    if (!s) {
      s = { online: undefined, consecutiveFailures: 0, lastError: undefined, data: "ok" };
      this.states.set(device, s);
    }
    return s;
  }

  /** Records a successful poll; returns a change when the device was not already online. */
  success(device: string, ts: number, dataIssue?: PollFailure): AvailabilityChange | undefined {
    const s = this.stateOf(device);
    s.consecutiveFailures = 0;
    s.lastError = undefined;
    // The plug answered (online); its data may still be unusable: a change of that flag is reported too.
    const data: DataFlag = !dataIssue ? "ok" : dataIssue.code === "IDENTITY_CHANGED" ? "identity-changed" : "implausible";
    if (s.online === true && s.data === data) return undefined;
    const initial = s.online === undefined;
    s.online = true;
    const flagged = data !== "ok" || s.data !== "ok";
    s.data = data;
    const change: AvailabilityChange = { device, online: true, ts, reason: dataIssue ? failureReason(dataIssue) : "poll ok", initial };
    if (flagged) change.data = data;
    return change;
  }

  /** Records a failed poll; returns a change only when this failure is the N-th in a row of an online/unknown device. */
  failure(device: string, failure: PollFailure, ts: number): AvailabilityChange | undefined {
    const s = this.stateOf(device);
    s.consecutiveFailures++;
    s.lastError = failure;
    if (s.online === false || s.consecutiveFailures < this.offlineAfter) return undefined;
    const initial = s.online === undefined;
    s.online = false;
    s.data = "ok";
    return { device, online: false, ts, reason: failureReason(failure), initial };
  }

  /** true/false once known, undefined before the first state. */
  isOnline(device: string): boolean | undefined {
    return this.states.get(device)?.online;
  }

  consecutiveFailures(device: string): number {
    return this.states.get(device)?.consecutiveFailures ?? 0;
  }

  lastError(device: string): PollFailure | undefined {
    return this.states.get(device)?.lastError;
  }

  /** Counts over the devices seen so far. */
  counts(): { online: number; offline: number; unknown: number } {
    let online = 0;
    let offline = 0;
    let unknown = 0;
    for (const s of this.states.values()) {
      if (s.online === true) online++;
      else if (s.online === false) offline++;
      else unknown++;
    }
    return { online, offline, unknown };
  }

  forget(device: string): void {
    this.states.delete(device);
  }
}

/** The published Availability payload for a change. */
export function toAvailability(change: AvailabilityChange): Availability {
  const msg: Availability = { v: CONTRACT_VERSION, device: change.device, online: change.online, ts: Math.round(change.ts), reason: change.reason };
  if (change.data) msg.data = change.data;
  return msg;
}
