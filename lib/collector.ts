// The collector: polls the selected plugs, turns answers into reading/availability messages, tracks plugs that need the user.
import { toAvailability } from "./availability";
import type { Device } from "./contracts/device";
import { Reading } from "./contracts/reading";
import { validate } from "./contracts/validate";
import type { EnergyStat, PlugSample } from "./plug-client";
import { toReading } from "./plug-client";
import { IdentityGuard, sampleCheck, type IdentityStore } from "./plausibility";
import { Poller } from "./poller";
import { deviceTopic } from "./topics";
import type { CollectorTotals } from "./metrics/hub";

/** The poller's own guard fires this long after the socket timeout, so the socket's own error normally wins. */
const GUARD_GRACE_MS = 500;

export interface CollectorSettings {
  root: string;
  intervalMs: number;
  timeoutMs: number;
  concurrency: number;
  offlineAfter: number;
  /** Keeps first-seen plug identities across restarts (default: in memory only). */
  identities?: IdentityStore;
}

/** What the collector needs from lib/transports (PlugTransports). */
export interface PlugAccess {
  poll(device: Device, timeoutMs?: number): Promise<PlugSample>;
  stats(device: Device, period: "day" | "month", year: number, month?: number): Promise<EnergyStat[]>;
}

export interface CollectorMessage {
  [key: string]: unknown;
  topic: string;
  payload: unknown;
  qos: 1;
  retain: boolean;
}

/** Problems only the user can fix: reported once per plug until it answers again. */
export type UserProblem = "AUTH_FAILED" | "UNSUPPORTED_FIRMWARE";

export interface CollectorEvents {
  message(msg: CollectorMessage): void;
  /** Every failed poll or invalid answer (the caller rate-limits what it logs). */
  failure(device: Device, code: string, message: string, msg: CollectorMessage): void;
  /** A plug newly has a problem only the user can fix. */
  problem(device: Device, code: UserProblem): void;
  /** Something the status shows has changed. */
  changed(): void;
  /** A throwing event handler (rate-limited by the poller). */
  log(message: string): void;
  /** A successful poll and its duration, ms (for metrics). */
  polled?(device: Device, latencyMs: number): void;
}

export type CollectorView =
  | { state: "auth"; device: string; count: number }
  | { state: "firmware" }
  | { state: "starting"; total: number }
  | { state: "online"; online: number; total: number };

export class Collector {
  private readonly poller: Poller<Device, PlugSample>;
  private readonly problems: Record<UserProblem, Set<string>> = { AUTH_FAILED: new Set(), UNSUPPORTED_FIRMWARE: new Set() };
  /** Identity first seen per device (IDENTITY_CHANGED); `acceptIdentity` forgets it. */
  private readonly identities: IdentityGuard;
  /** Code last reported per offline plug; cleared when it answers. */
  private readonly reportedOffline = new Map<string, string>();
  /** Failures of offline plugs not reported again (same code as the one that took them offline). */
  private quietFailures = 0;

  constructor(
    readonly devices: readonly Device[],
    private readonly s: CollectorSettings,
    private readonly plugs: PlugAccess,
    private readonly on: CollectorEvents,
  ) {
    const topic = (d: Device, stream: "reading" | "availability") => deviceTopic(s.root, d, stream);
    this.identities = new IdentityGuard(s.identities);
    for (const d of devices) if (d.mac) this.identities.pin(d.id, d.mac);
    this.poller = new Poller<Device, PlugSample>({
      devices,
      poll: (d) => plugs.poll(d, s.timeoutMs),
      intervalMs: s.intervalMs,
      timeoutMs: s.timeoutMs + GUARD_GRACE_MS,
      concurrency: s.concurrency,
      offlineAfter: s.offlineAfter,
      statsIntervalMs: 0,
      log: (m) => on.log(m),
      check: sampleCheck(this.identities),
      on: {
        reading: (device, sample, ts, latencyMs) => {
          on.polled?.(device, latencyMs);
          this.solved(device);
          const reading = toReading(device, sample, Math.round(ts));
          const checked = validate(Reading, reading);
          if (checked.ok) return on.message({ topic: topic(device, "reading"), payload: reading, qos: 1, retain: false });
          const first = checked.issues[0];
          this.fail(device, "INVALID_READING", `${first?.path ?? "$"}: ${first?.message ?? "invalid"} (${JSON.stringify(sample)})`, ts);
        },
        availability: (change, device) => {
          on.message({ topic: topic(device, "availability"), payload: toAvailability(change), qos: 1, retain: true });
          on.changed();
        },
        error: (device, failure, ts) => {
          const set = failure.code === "AUTH_FAILED" || failure.code === "UNSUPPORTED_FIRMWARE" ? this.problems[failure.code] : undefined;
          if (set && !set.has(device.id)) {
            set.add(device.id);
            on.problem(device, failure.code as UserProblem);
            on.changed();
          }
          // An offline plug failing the same way again is already reported (its availability says why): 9000 dead
          // plugs in a registry must not write a log line and a Catch message each at every retry.
          if (this.poller.tracker.isOnline(device.id) === false) {
            if (this.reportedOffline.get(device.id) === failure.code) return void this.quietFailures++;
            this.reportedOffline.set(device.id, failure.code);
          }
          this.fail(device, failure.code, failure.message, ts);
        },
      },
    });
  }

  start(): void {
    this.poller.start();
  }
  stop(): Promise<void> {
    return this.poller.stop();
  }
  /** Accepts the identity (deviceId, MAC) the plug answers with next, after an IDENTITY_CHANGED (a replaced plug). */
  acceptIdentity(deviceId: string): void {
    this.identities.accept(deviceId);
  }

  /** Polls every plug now (a command), without waiting for the schedule. */
  pollNow(): Promise<unknown> {
    return this.poller.pollNow();
  }
  stats(device: Device, period: "day" | "month", year: number, month?: number): Promise<EnergyStat[]> {
    return this.plugs.stats(device, period, year, month);
  }

  /** Cumulative poll counters and the devices' state now (lib/metrics/hub.ts). */
  totals(): CollectorTotals {
    const p = this.poller.totalCounts();
    const c = this.poller.tracker.counts();
    return {
      cycles: p.cycles + p.backoffSkips,
      ok: p.ok,
      failed: p.failed,
      overrun: p.missedCycles,
      backoff: p.backoffSkips,
      devices: this.devices.length,
      online: c.online,
      offline: c.offline,
    };
  }

  view(): CollectorView {
    const auth = this.problems.AUTH_FAILED;
    if (auth.size > 0) return { state: "auth", device: [...auth][0] ?? "", count: auth.size };
    if (this.problems.UNSUPPORTED_FIRMWARE.size > 0) return { state: "firmware" };
    const c = this.poller.tracker.counts();
    if (c.online + c.offline === 0) return { state: "starting", total: this.devices.length };
    return { state: "online", online: c.online, total: this.devices.length };
  }

  /** Failures not reported again because the plug was already offline for the same reason. */
  get repeatedFailures(): number {
    return this.quietFailures;
  }

  private solved(device: Device): void {
    this.reportedOffline.delete(device.id);
    let changed = false;
    for (const set of Object.values(this.problems)) changed = set.delete(device.id) || changed;
    if (changed) this.on.changed();
  }

  private fail(device: Device, code: string, message: string, ts: number): void {
    const payload = { device: device.id, code, message, ts: Math.round(ts) };
    this.on.failure(device, code, message, { topic: deviceTopic(this.s.root, device, "availability"), payload, qos: 1, retain: false });
  }
}
