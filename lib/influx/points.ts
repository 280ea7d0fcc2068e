// Turns validated readings (plug Reading or GenericReading) into InfluxDB line protocol with ms timestamps.
import { Point, escape } from "@influxdata/influxdb-client";
import { GenericReading, Reading } from "../contracts/reading";
import { PlugwatchError } from "../contracts/errors";
import { decodePayload, validate, type Issue } from "../contracts/validate";
import type { Device } from "../contracts/device";
import { checkGenericReading, checkPlugReading, checkTopicDevice, rejected } from "./reading-guard";
import type { Admission } from "../pending";

export const DEFAULT_MEASUREMENT = "plug";

/** Looks a device up by id (a Registry satisfies this). */
export interface DeviceLookup {
  get(id: string): Device | undefined;
  /** Measurements generic readings may use besides the hook's own (a Registry has them from its file). */
  readonly measurements?: readonly string[];
  /** The registry's policy for well-formed readings of ids it does not hold (lib/pending.ts); absent = refuse. */
  unknown?: { readonly policy?: string; admit(id: string): Admission };
}

export interface EncoderOptions {
  /** Measurement for plug readings and for generic readings without one (default `plug`). */
  measurement?: string | undefined;
  /** Store readings of devices missing from the registry, tagged with `device` only (default false: UNKNOWN_DEVICE). */
  acceptUnknown?: boolean | undefined;
}

/** Writes a Point's timestamp exactly as given: we always set it to a string of epoch milliseconds. */
const MS_SETTINGS = { convertTime: (v: string | number | Date | undefined): string | undefined => (v === undefined ? undefined : String(v)) };

/** Registry tags for a device: device, kind, building, floor, room, then its free tags (the fixed ones win). */
export function deviceTags(device: Device): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(device.tags ?? {})) if (v !== "") tags[k] = v;
  tags.device = device.id;
  tags.kind = device.kind;
  tags.building = device.location.building;
  tags.floor = device.location.floor;
  tags.room = device.location.room;
  return tags;
}

function invalid(prefix: string, issues: Issue[]): PlugwatchError {
  const withPrefix = issues.map((i) => ({ path: prefix + i.path.slice(1), message: i.message }));
  const first = withPrefix[0];
  return new PlugwatchError("INVALID_READING", first ? `${first.path}: ${first.message}` : `${prefix}: invalid reading`, withPrefix);
}

/**
 * Encodes readings for one hook. Plug readings are the hot path (tens of thousands per second): the escaped
 * series key (measurement + sorted tags) is computed once per device with the client library's escaper and cached,
 * so a reading costs one validation and one string concatenation. Generic readings go through `Point`.
 */
export class LineEncoder {
  private readonly measurement: string;
  private readonly acceptUnknown: boolean;
  private readonly seriesCache = new Map<string, string>();
  /** Measurements a generic reading may use (with a registry): the hook's own, `plug`, and the registry's list. */
  private readonly allowed: ReadonlySet<string> | undefined;

  constructor(
    private readonly devices: DeviceLookup | undefined,
    opts: EncoderOptions = {},
  ) {
    this.measurement = opts.measurement || DEFAULT_MEASUREMENT;
    this.acceptUnknown = opts.acceptUnknown === true;
    // Without a registry (accept-unknown mode, chosen for foreign data) there is no list to check against.
    this.allowed = devices ? new Set([this.measurement, DEFAULT_MEASUREMENT, ...(devices.measurements ?? [])]) : undefined;
  }

  /**
   * Tags for a device id: registry tags; `{device}` when unknown and accepted by this hook; else what the registry's
   * unknown-device policy says (pending: `{device, pending: "true"}`); throws UNKNOWN_DEVICE when refused.
   * Only called for readings that passed their schema.
   */
  tagsFor(id: string, path: string): Record<string, string> {
    return this.lookup(id, path).tags;
  }

  /** The tags and whether they may be cached (a pending device's tags change when it is approved). */
  private lookup(id: string, path: string): { tags: Record<string, string>; stable: boolean } {
    const device = this.devices?.get(id);
    if (device) return { tags: deviceTags(device), stable: true };
    if (this.acceptUnknown) return { tags: { device: id }, stable: true };
    const verdict = this.devices?.unknown?.admit(id);
    if (verdict && "tags" in verdict) return { tags: verdict.tags, stable: false };
    const why = verdict ? verdict.refused : "not in the registry";
    throw rejected(
      "UNKNOWN_DEVICE",
      `${path}.device`,
      `unknown device '${id}' (${why}; set the registry's 'unknown devices' to pending, or enable 'accept unknown devices' on the hook, to store it anyway)`,
    );
  }

  private seriesKey(id: string, path: string): string {
    let key = this.seriesCache.get(id);
    if (key === undefined) {
      const { tags, stable } = this.lookup(id, path);
      key = escape.measurement(this.measurement);
      for (const [k, v] of Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : 1))) key += `,${escape.tag(k)}=${escape.tag(v)}`;
      if (stable) this.seriesCache.set(id, key);
    }
    return key;
  }

  /** Throws UNKNOWN_DEVICE for an unregistered id when nothing (hook or registry policy) would admit it. */
  private refuseUnknown(id: string, path: string): void {
    if (this.acceptUnknown || this.devices?.get(id)) return;
    const policy = this.devices?.unknown?.policy;
    if (policy === "pending" || policy === "accept") return;
    this.lookup(id, path);
  }

  /** Forgets cached series keys (call when the registry changes). */
  reset(): void {
    this.seriesCache.clear();
  }

  /** A validated plug reading → one line. Numbers are written as floats, relay as a boolean. */
  encodeReading(r: Reading, path = "$"): string {
    return `${this.seriesKey(r.device, path)} power=${float(r.power)},voltage=${float(r.voltage)},current=${float(r.current)},energy=${float(r.energy)},relay=${r.relay ? "T" : "F"} ${r.ts}`;
  }

  /** A validated generic reading → one line, built and escaped by the client library's Point. */
  encodeGeneric(g: GenericReading, path = "$"): string {
    const p = new Point(g.measurement || this.measurement);
    // `pending` is the registry's to set (lib/pending.ts): a reading cannot mark itself, or a registered device, pending.
    const { pending: _own, ...free } = g.tags ?? {};
    const tags = { ...free, ...this.tagsFor(g.device, path) };
    for (const [k, v] of Object.entries(tags)) p.tag(k, v);
    for (const [k, v] of Object.entries(g.fields)) {
      if (typeof v === "boolean") p.booleanField(k, v);
      else p.floatField(k, v);
    }
    p.timestamp(String(g.ts));
    const line = p.toLineProtocol(MS_SETTINGS);
    if (!line) throw new PlugwatchError("INVALID_READING", `${path}: no fields to store`);
    return line;
  }

  /**
   * Validates one decoded value (Reading, or GenericReading when it has `fields`) and encodes it; throws PlugwatchError
   * (with a `reason`, lib/influx/reading-guard). `topicDevice` is the device of the device topic it came on, if any.
   */
  encodeValue(value: unknown, path = "$", topicDevice?: string): string {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new PlugwatchError(
        "INVALID_READING",
        `${path}: expected a reading object, got ${value === null ? "null" : Array.isArray(value) ? "array" : typeof value}`,
        [{ path, message: "expected an object" }],
      );
    }
    if ("fields" in value) {
      const r = validate(GenericReading, value);
      if (!r.ok) throw invalid(path, r.issues);
      checkTopicDevice(r.value.device, topicDevice, path);
      // Who before what: an id the registry refuses outright is UNKNOWN_DEVICE whatever its measurement.
      this.refuseUnknown(r.value.device, path);
      checkGenericReading(r.value, this.allowed, this.measurement, path);
      return this.encodeGeneric(r.value, path);
    }
    const r = validate(Reading, value);
    if (!r.ok) throw invalid(path, r.issues);
    checkTopicDevice(r.value.device, topicDevice, path);
    checkPlugReading(r.value, this.devices?.get(r.value.device)?.model, path);
    return this.encodeReading(r.value, path);
  }
}

/** Float field value as line protocol writes it (the library's floatField does the same: String(n)). */
function float(n: number): string {
  return String(n);
}

/** Result of encoding one msg.payload: the good lines, and one error per bad element (with its JSON path). */
export interface EncodedPayload {
  lines: string[];
  errors: PlugwatchError[];
}

/**
 * Decodes a msg.payload (object, JSON string or Buffer; a single reading or an array of them) and encodes every
 * element. Bad elements do not stop good ones in the same batch; each one yields an error with its path (`$[3].power`).
 */
export function encodePayload(encoder: LineEncoder, payload: unknown, topicDevice?: string): EncodedPayload {
  let value: unknown;
  try {
    value = decodePayload(payload);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { lines: [], errors: [new PlugwatchError("INVALID_READING", msg, [{ path: "$", message: msg }])] };
  }
  const lines: string[] = [];
  const errors: PlugwatchError[] = [];
  const one = (v: unknown, path: string) => {
    try {
      lines.push(encoder.encodeValue(v, path, topicDevice));
    } catch (err) {
      errors.push(err instanceof PlugwatchError ? err : new PlugwatchError("INVALID_READING", `${path}: ${String(err)}`));
    }
  };
  if (Array.isArray(value)) {
    if (value.length === 0) errors.push(new PlugwatchError("INVALID_READING", "$: empty array", [{ path: "$", message: "empty array" }]));
    for (let i = 0; i < value.length; i++) one(value[i], `$[${i}]`);
  } else one(value, "$");
  return { lines, errors };
}

/** The spool's fair-share key of a line: its series (measurement and tags, up to the first unescaped space), i.e. one device. */
export function fairShareKey(line: string): string {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\\") i++;
    else if (line[i] === " ") return line.slice(0, i);
  }
  return line;
}
