// SPOOL_FULL as an alert: raised once on the first refusal, cleared once when refusals have stopped and the spool has room.
import { CONTRACT_VERSION } from "../contracts/common";
import type { AlertEvent } from "../contracts/alert";

export const SPOOL_FULL_RULE = "spool-full";

export interface SpoolAlarmOptions {
  /** The component (also the alert's device slot), e.g. "plugwatch-influx-hook". */
  component: string;
  /** Clear only after this long without a refusal (ms). Default 30 s. */
  quietMs?: number;
  /** …and once the spool is filled below this fraction. Default 0.8. */
  clearBelowFill?: number;
}

/** Decides when the SPOOL_FULL alert is raised and cleared; pure (the caller passes the time). */
export class SpoolFullAlarm {
  private raised?: AlertEvent | undefined;
  private lastRefusalAt = -Infinity;
  private readonly quietMs: number;
  private readonly clearBelowFill: number;

  constructor(private readonly o: SpoolAlarmOptions) {
    this.quietMs = o.quietMs ?? 30_000;
    this.clearBelowFill = o.clearBelowFill ?? 0.8;
  }

  get active(): boolean {
    return this.raised !== undefined;
  }

  /** A refusal (policy or fair share): returns the `raised` event the first time only. */
  refused(now: number, detail: string): AlertEvent | undefined {
    this.lastRefusalAt = now;
    if (this.raised) return undefined;
    this.raised = {
      v: CONTRACT_VERSION,
      id: `${SPOOL_FULL_RULE}:${this.o.component}`,
      device: this.o.component,
      rule: SPOOL_FULL_RULE,
      severity: "critical",
      state: "raised",
      ts: Math.round(now),
      value: null,
      message: `SPOOL_FULL: ${detail}`.slice(0, 512),
    };
    return this.raised;
  }

  /** Called periodically with the fill level (0..1): returns the `cleared` event once, when the condition is over. */
  check(now: number, fill: number): AlertEvent | undefined {
    if (!this.raised || now - this.lastRefusalAt < this.quietMs || fill >= this.clearBelowFill) return undefined;
    const cleared: AlertEvent = { ...this.raised, state: "cleared", ts: Math.round(now), message: `spool has room again (${Math.round(fill * 100)} % used)` };
    this.raised = undefined;
    return cleared;
  }
}

/** Epoch ms at the end of a line-protocol line written with ms precision, or undefined. */
export function lineTimestampMs(line: string): number | undefined {
  const m = / (-?\d+)\s*$/.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** Storage health verdict for /health: why storage makes the API `degraded`, or undefined when it does not. */
export function storageProblem(c: { spoolFull?: boolean; fill?: number; retrying?: boolean; retention?: { state: string } }): string | undefined {
  if (c.spoolFull) return "spool full";
  if (c.fill !== undefined && c.fill >= 0.9) return "spool over 90 % full";
  if (c.retrying) return "database writes failing";
  if (c.retention?.state === "failed") return "retention tiers refused";
  return undefined;
}
