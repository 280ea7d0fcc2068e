// The control agent's audit records ({root}/audit/command) as InfluxDB points, so the trail of who switched what
// is kept with the readings (measurement `audit`, one point per device of a command: tags device, action, by;
// fields id, ok and, when known, relay, code, skipped). Validated against the AuditRecord contract first.
import { Point } from "@influxdata/influxdb-client";
import { AuditRecord } from "../contracts/command";
import { PlugwatchError } from "../contracts/errors";
import { decodePayload, validate } from "../contracts/validate";

export const AUDIT_MEASUREMENT = "audit";

const MS_SETTINGS = { convertTime: (v: string | number | Date | undefined): string | undefined => (v === undefined ? undefined : String(v)) };

/** True for the audit topic of any root: `<root>/audit/command`. */
export const isAuditTopic = (topic: string): boolean => topic.endsWith("/audit/command");

/** Line protocol for one audit record; a record that breaks the contract is one INVALID_READING naming the paths. */
export function encodeAuditPayload(payload: unknown): { lines: string[]; errors: PlugwatchError[] } {
  let value: unknown;
  try {
    value = decodePayload(payload);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { lines: [], errors: [new PlugwatchError("INVALID_READING", `audit record: ${msg}`, [{ path: "$", message: msg }])] };
  }
  const r = validate(AuditRecord, value);
  if (!r.ok) {
    const text = r.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    return { lines: [], errors: [new PlugwatchError("INVALID_READING", `audit record: ${text}`, r.issues)] };
  }
  const rec = r.value;
  const lines = rec.results.map((d) => {
    const p = new Point(AUDIT_MEASUREMENT)
      .tag("device", d.device)
      .tag("action", rec.action)
      .tag("by", rec.by ?? "unknown");
    p.stringField("id", rec.id).booleanField("ok", d.ok);
    if (d.relay !== undefined) p.booleanField("relay", d.relay);
    if (d.code !== undefined) p.stringField("code", d.code);
    if (d.skipped) p.booleanField("skipped", true);
    return p.timestamp(String(rec.ts)).toLineProtocol(MS_SETTINGS) ?? "";
  });
  return { lines: lines.filter((l) => l !== ""), errors: [] };
}
