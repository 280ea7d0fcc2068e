// What the API learns by listening on MQTT: per-device online state and last-seen time, active alerts and a bounded alert history.
import { AuditRecord, auditTopic } from "../contracts/command";
import { AlertEvent } from "../contracts/alert";
import { MAX_TS_MS, MIN_TS_MS, SLUG_PATTERN } from "../contracts/common";
import { Availability } from "../contracts/reading";
import { ComponentStatus } from "../contracts/status";
import { decodePayload, validate } from "../contracts/validate";
import { parseDeviceTopic } from "../topics";

/** Small per-device state (a few numbers each; bounded by `maxDevices`). */
export interface DeviceState {
  /** Last availability received; null = never heard. */
  online: boolean | null;
  /** ts of the last availability change (epoch ms). */
  since: number | null;
  /** Reason given with the last availability change. */
  reason: string | null;
  /** ts of the newest reading (epoch ms). */
  lastSeen: number | null;
}

export const UNKNOWN_STATE: Readonly<DeviceState> = Object.freeze({ online: null, since: null, reason: null, lastSeen: null });

/** Storage backlog a component (the plugwatch-influx-hook) reports on {root}/status/{component} as a ComponentStatus. */
export interface StorageStatus {
  component: string;
  backlog: number;
  ts: number;
  /** Optional storage health the plugwatch-influx-hook reports (lib/contracts/status.ts). */
  fill?: number;
  oldestAgeMs?: number;
  writeErrors?: number;
  spoolFull?: boolean;
  retrying?: boolean;
  /** Retention tiers state, when the config node manages them (lib/influx/retention-manager.ts). */
  retention?: { state: string; error?: { code: string; message: string } };
}

export interface StateOptions {
  root: string;
  /** Most devices tracked (extra ids are ignored and counted). Default 20 000. */
  maxDevices?: number;
  /** Alert events kept for `GET /alerts?state=all`. Default 1000. */
  historySize?: number;
  /** Most active alerts tracked (alert ids arrive from MQTT; raised alerts with new ids beyond it are ignored and counted). Default 20 000. */
  maxActiveAlerts?: number;
  /** Most components whose storage status is kept (names come from MQTT topics; extra ones are ignored and counted). Default 1000. */
  maxComponents?: number;
}

/** "overflow": a valid message about a new device, alert or component, dropped because its bound was reached (counted). */
export type IngestResult = "reading" | "availability" | "alert" | "alert-cleared" | "status" | "audit" | "ignored" | "invalid" | "overflow";

const slugRe = new RegExp(SLUG_PATTERN);

/** Consumes MQTT messages and keeps the state the REST API serves. Pure: no timers, no I/O. */
export class ApiState {
  private readonly devices = new Map<string, DeviceState>();
  private readonly activeAlerts = new Map<string, AlertEvent>();
  private readonly history: AlertEvent[] = [];
  private historyStart = 0;
  private readonly storage = new Map<string, StorageStatus>();
  readonly maxDevices: number;
  readonly historySize: number;
  /** Messages that did not match their contract (counted, reported rate-limited by the node). */
  invalid = 0;
  /** Device ids ignored because maxDevices was reached. */
  overflow = 0;
  readonly maxActiveAlerts: number;
  /** Raised alerts with a new id ignored because maxActiveAlerts was reached (they still enter the history). */
  alertOverflow = 0;
  readonly maxComponents: number;
  /** Component status messages with a new component name ignored because maxComponents was reached. */
  statusOverflow = 0;

  constructor(private readonly opts: StateOptions) {
    this.maxDevices = opts.maxDevices ?? 20_000;
    this.historySize = opts.historySize ?? 1000;
    this.maxActiveAlerts = opts.maxActiveAlerts ?? 20_000;
    this.maxComponents = opts.maxComponents ?? 1000;
  }

  /** Topics to subscribe to. */
  subscriptions(): string[] {
    const r = this.opts.root;
    return [`${r}/+/+/+/+/availability`, `${r}/+/+/+/+/reading`, `${r}/alerts/#`, `${r}/status/+`, auditTopic(r)];
  }

  device(id: string): DeviceState {
    return this.devices.get(id) ?? UNKNOWN_STATE;
  }

  get trackedDevices(): number {
    return this.devices.size;
  }

  get trackedAlerts(): number {
    return this.activeAlerts.size;
  }

  private slot(id: string): DeviceState | undefined {
    let s = this.devices.get(id);
    if (!s) {
      if (this.devices.size >= this.maxDevices) {
        this.overflow++;
        return undefined;
      }
      s = { ...UNKNOWN_STATE };
      this.devices.set(id, s);
    }
    return s;
  }

  /** Routes one MQTT message. Never throws: bad payloads are counted and reported as "invalid". */
  ingest(topic: string, payload: unknown): IngestResult {
    const root = this.opts.root;
    const parsed = parseDeviceTopic(root, topic);
    try {
      if (parsed?.stream === "reading") return this.onReading(parsed.device, payload);
      if (parsed?.stream === "availability") return this.onAvailability(parsed.device, payload);
      if (topic.startsWith(`${root}/alerts/`)) return this.onAlert(topic.slice(root.length + 8), payload);
      if (topic.startsWith(`${root}/status/`)) return this.onStatus(topic.slice(root.length + 8), payload);
      if (topic === auditTopic(root)) return this.onAudit(payload);
    } catch {
      this.invalid++;
      return "invalid";
    }
    return "ignored";
  }

  /** Readings: only the timestamp is used (plug readings and generic readings share the topic). */
  private onReading(device: string, payload: unknown): IngestResult {
    const msg = decodePayload(payload) as { ts?: unknown; device?: unknown } | null;
    const ts = msg?.ts;
    if (typeof ts !== "number" || !Number.isInteger(ts) || ts < MIN_TS_MS || ts > MAX_TS_MS || msg?.device !== device || !slugRe.test(device)) {
      this.invalid++;
      return "invalid";
    }
    const s = this.slot(device);
    if (!s) return "overflow";
    if (s.lastSeen === null || ts > s.lastSeen) s.lastSeen = ts;
    return "reading";
  }

  private onAvailability(device: string, payload: unknown): IngestResult {
    if (isEmpty(payload)) {
      // Retained availability deleted: the device is no longer reported on.
      const s = this.devices.get(device);
      if (s) Object.assign(s, { online: null, since: null, reason: null });
      return "availability";
    }
    const r = validate(Availability, decodePayload(payload));
    if (!r.ok || r.value.device !== device) {
      this.invalid++;
      return "invalid";
    }
    const s = this.slot(device);
    if (!s) return "overflow";
    if (s.since === null || r.value.ts >= s.since) Object.assign(s, { online: r.value.online, since: r.value.ts, reason: r.value.reason });
    return "availability";
  }

  /** `rest` is `{device}/{rule}` (or the older `{device}`). An empty retained message deletes the slot. */
  private onAlert(rest: string, payload: unknown): IngestResult {
    if (isEmpty(payload)) {
      const [device, rule] = rest.split("/");
      if (device && rule) this.activeAlerts.delete(`${rule}:${device}`);
      return "alert-cleared";
    }
    const r = validate(AlertEvent, decodePayload(payload));
    // The id is `<rule>:<device>` (so its length is bounded by the two slugs').
    if (!r.ok || r.value.id !== `${r.value.rule}:${r.value.device}`) {
      this.invalid++;
      return "invalid";
    }
    const e = r.value;
    const prev = this.activeAlerts.get(e.id);
    // A retained "raised" redelivered after a reconnect is the same event: keep history free of duplicates.
    const duplicate = prev !== undefined && prev.ts === e.ts && prev.state === e.state;
    let dropped = false;
    if (e.state !== "raised") this.activeAlerts.delete(e.id);
    else if (prev !== undefined || this.activeAlerts.size < this.maxActiveAlerts) this.activeAlerts.set(e.id, e);
    else {
      this.alertOverflow++;
      dropped = true;
    }
    if (!duplicate) this.remember(e);
    return dropped ? "overflow" : e.state === "raised" ? "alert" : "alert-cleared";
  }

  /** Component status (lib/contracts/status.ts); the topic's last level must name the same component. */
  private onStatus(component: string, payload: unknown): IngestResult {
    if (isEmpty(payload)) {
      this.storage.delete(component);
      return "status";
    }
    const r = validate(ComponentStatus, decodePayload(payload));
    if (!r.ok || r.value.component !== component) {
      this.invalid++;
      return "invalid";
    }
    const prev = this.storage.get(component);
    if (!prev && this.storage.size >= this.maxComponents) {
      this.statusOverflow++;
      return "overflow";
    }
    if (!prev || r.value.ts >= prev.ts) {
      const v = r.value;
      const st: StorageStatus = { component, backlog: v.backlog, ts: v.ts };
      if (v.fill !== undefined) st.fill = v.fill;
      if (v.oldestAgeMs !== undefined) st.oldestAgeMs = v.oldestAgeMs;
      if (v.writeErrors !== undefined) st.writeErrors = v.writeErrors;
      if (v.spoolFull !== undefined) st.spoolFull = v.spoolFull;
      if (v.retrying !== undefined) st.retrying = v.retrying;
      if (v.retention) st.retention = v.retention.error ? { state: v.retention.state, error: v.retention.error } : { state: v.retention.state };
      this.storage.set(component, st);
    }
    return "status";
  }

  private remember(e: AlertEvent): void {
    if (this.history.length < this.historySize) this.history.push(e);
    else {
      this.history[this.historyStart] = e;
      this.historyStart = (this.historyStart + 1) % this.historySize;
    }
  }

  private readonly auditRing: AuditRecord[] = [];
  private auditStart = 0;

  /** An audit record of the control agent: kept in a ring of historySize records. */
  private onAudit(payload: unknown): IngestResult {
    const r = validate(AuditRecord, decodePayload(payload));
    if (!r.ok) {
      this.invalid++;
      return "invalid";
    }
    if (this.auditRing.length < this.historySize) this.auditRing.push(r.value);
    else {
      this.auditRing[this.auditStart] = r.value;
      this.auditStart = (this.auditStart + 1) % this.historySize;
    }
    return "audit";
  }

  /** Audit records seen since the node started, oldest first, at most `historySize`. */
  audit(f: { from?: number; device?: string; by?: string } = {}): AuditRecord[] {
    const ordered = [...this.auditRing.slice(this.auditStart), ...this.auditRing.slice(0, this.auditStart)];
    return ordered.filter(
      (a) => (f.from === undefined || a.ts >= f.from) && (!f.by || a.by === f.by) && (!f.device || a.results.some((x) => x.device === f.device)),
    );
  }

  /** Active alerts, newest first. */
  alerts(device?: string): AlertEvent[] {
    return [...this.activeAlerts.values()].filter((a) => !device || a.device === device).sort((a, b) => b.ts - a.ts);
  }

  /** Alert events (raised and cleared) seen since the node started, oldest first, at most `historySize`. */
  alertHistory(from?: number, device?: string): AlertEvent[] {
    const ordered = [...this.history.slice(this.historyStart), ...this.history.slice(0, this.historyStart)];
    return ordered.filter((e) => (from === undefined || e.ts >= from) && (!device || e.device === device));
  }

  storageStatus(): StorageStatus[] {
    return [...this.storage.values()];
  }
}

function isEmpty(payload: unknown): boolean {
  return payload === null || payload === undefined || payload === "" || (Buffer.isBuffer(payload) && payload.length === 0);
}
