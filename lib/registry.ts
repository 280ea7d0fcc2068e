// Device registry: loads and validates the office's device file, then answers "which devices?" questions.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { SLUG_PATTERN } from "./contracts/common";
import { DEVICE_KINDS, DeviceEntry, PROTOCOL_PORTS, RegistryFile, Target, type Device, type DeviceKind } from "./contracts/device";
import { PlugwatchError } from "./contracts/errors";
import { validate, type Issue } from "./contracts/validate";
import { FileIssuesError } from "./file-issues";
import { UnknownDevices } from "./pending";
import { checkTimeZone, hostTimeZone } from "./tz";
import { showValue } from "./show-value";

export const DEFAULT_PORT = 9999;

/** A registry problem: which file, where in it (JSON path) and why. */
export interface RegistryIssue extends Issue {
  file: string;
}

export class RegistryError extends FileIssuesError<RegistryIssue> {
  constructor(file: string, issues: RegistryIssue[]) {
    super("REGISTRY_INVALID", file, issues);
    this.name = "RegistryError";
  }
}

/** Filter used by agents to pick the devices they handle (all fields optional, all must match). */
export interface DeviceFilter {
  kind?: DeviceKind | "" | undefined;
  building?: string | undefined;
  floor?: string | undefined;
  room?: string | undefined;
}

export class Registry {
  readonly devices: readonly Device[];
  private readonly byId: ReadonlyMap<string, Device>;
  /** Devices not in the registry that sent well-formed readings, and the policy for them (default: reject). */
  unknown: UnknownDevices;

  /** Measurements generic readings may use besides a hook's own (registry file `measurements`). */
  readonly measurements: readonly string[];

  /** Time zone of every building without its own (registry file `timezone`, else the host's). */
  readonly timezone: string;
  private readonly buildingZones: ReadonlyMap<string, string>;

  constructor(
    devices: readonly Device[],
    measurements: readonly string[] = [],
    unknown: UnknownDevices = new UnknownDevices(),
    zones: { timezone?: string | undefined; buildings?: Readonly<Record<string, { timezone?: string }>> | undefined } = {},
  ) {
    this.devices = devices;
    this.timezone = zones.timezone ?? hostTimeZone();
    this.buildingZones = new Map(Object.entries(zones.buildings ?? {}).flatMap(([b, v]) => (v.timezone ? [[b, v.timezone] as [string, string]] : [])));
    this.measurements = measurements;
    this.byId = new Map(devices.map((d) => [d.id, d]));
    this.unknown = unknown;
  }

  /** IANA time zone of a building (its own, else the registry's, else the host's). */
  timeZoneOf(building: string): string {
    return this.buildingZones.get(building) ?? this.timezone;
  }

  get size(): number {
    return this.devices.length;
  }

  get(id: string): Device | undefined {
    return this.byId.get(id);
  }

  /** Devices matching a filter; an empty filter matches all. */
  filter(f: DeviceFilter = {}): Device[] {
    return this.devices.filter(
      (d) =>
        (!f.kind || d.kind === f.kind) &&
        (!f.building || d.location.building === f.building) &&
        (!f.floor || d.location.floor === f.floor) &&
        (!f.room || d.location.room === f.room),
    );
  }

  /** Resolves a command/query target. Unknown ids → UNKNOWN_DEVICE; a group matching nothing → EMPTY_TARGET. */
  select(target: Target): Device[] {
    if ("device" in target) {
      const d = this.byId.get(target.device);
      if (!d) throw new PlugwatchError("UNKNOWN_DEVICE", `unknown device '${target.device}'`);
      return [d];
    }
    if ("devices" in target) {
      const missing = target.devices.filter((id) => !this.byId.has(id));
      if (missing.length) throw new PlugwatchError("UNKNOWN_DEVICE", `unknown device(s): ${missing.join(", ")}`);
      return [...new Set(target.devices)].map((id) => this.byId.get(id) as Device);
    }
    const selected = "all" in target ? [...this.devices] : this.filter(target);
    if (selected.length === 0) throw new PlugwatchError("EMPTY_TARGET", `no device matches ${JSON.stringify(target)}`);
    return selected;
  }
}

/** At most this many issues are kept (a 10 000-line file with a systematic mistake must not flood the log). */
export const MAX_ISSUES = 200;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const typeName = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);

/** Validates parsed JSON as a registry; reports every problem found (file, JSON path, reason), never a partial registry. */
export function buildRegistry(json: unknown, file = "<registry>"): Registry {
  // Accept a bare array as shorthand for { devices: [...] }.
  const doc = Array.isArray(json) ? { devices: json } : json;
  if (!isObject(doc)) {
    throw new RegistryError(file, [{ file, path: "$", message: `expected an object with a 'devices' array, got ${typeName(doc)}` }]);
  }
  const issues: RegistryIssue[] = [];
  const add = (path: string, message: string): void => {
    issues.push({ file, path, message });
  };

  // Top level: everything except the device list (unknown properties, bad version...).
  const top = validate(RegistryFile, { ...doc, devices: [] });
  if (!top.ok) for (const i of friendlyIssues({ ...doc, devices: [] }, top.issues)) add(i.path, i.message);

  const entries = doc.devices;
  if (entries === undefined) add("$.devices", "missing required property 'devices' (the list of plugs)");
  else if (!Array.isArray(entries)) add("$.devices", `'devices' must be an array, got ${typeName(entries)}`);
  else if (entries.length > RegistryFile.properties.devices.maxItems!)
    add("$.devices", `too many devices: ${entries.length} (at most ${RegistryFile.properties.devices.maxItems})`);
  const list: unknown[] = Array.isArray(entries) ? entries : [];

  const valid: DeviceEntry[] = [];
  list.forEach((entry, i) => {
    const r = validate(DeviceEntry, entry, 20);
    if (r.ok) valid.push(r.value);
    else for (const x of friendlyIssues(entry, r.issues)) add(`$.devices[${i}]${x.path.slice(1)}`, x.message);
  });

  // Uniqueness over every entry that has the fields, valid or not, so one run reports all problems.
  const ids = new Map<string, number>();
  const addresses = new Map<string, number>();
  list.forEach((entry, i) => {
    if (!isObject(entry)) return;
    if (typeof entry.id === "string") {
      const seenAt = ids.get(entry.id);
      if (seenAt !== undefined) add(`$.devices[${i}].id`, `duplicate id '${entry.id}' (first at $.devices[${seenAt}])`);
      else ids.set(entry.id, i);
    }
    if (typeof entry.host === "string") {
      const proto = typeof entry.protocol === "string" && entry.protocol in PROTOCOL_PORTS ? (entry.protocol as keyof typeof PROTOCOL_PORTS) : "legacy";
      const port = entry.port === undefined ? PROTOCOL_PORTS[proto] : entry.port;
      const addr = `${entry.host.toLowerCase()}:${showValue(port)}`;
      const addrAt = addresses.get(addr);
      if (addrAt !== undefined) add(`$.devices[${i}].host`, `address ${addr} already used by $.devices[${addrAt}]`);
      else addresses.set(addr, i);
    }
  });

  // Strips: one device per outlet; their ids must not collide with any other id.
  const devices = valid.flatMap(expandEntry);
  const outletIds = new Set<string>();
  valid.forEach((entry) => {
    if (!entry.outlets) return;
    for (const d of expandEntry(entry)) {
      if (ids.has(d.id) || outletIds.has(d.id))
        add(`$.devices[${String(ids.get(entry.id))}].outlets`, `outlet id '${d.id}' is already used by another device or outlet`);
      outletIds.add(d.id);
    }
  });

  // Time zones: checked against the runtime's IANA database, so a typo fails at load, not at the first query.
  const zoneIssue = (path: string, zone: unknown): void => {
    if (typeof zone !== "string") return;
    try {
      checkTimeZone(zone);
    } catch (e) {
      add(path, (e as Error).message);
    }
  };
  zoneIssue("$.timezone", doc.timezone);
  if (isObject(doc.buildings)) for (const [b, v] of Object.entries(doc.buildings)) if (isObject(v)) zoneIssue(`$.buildings.${b}.timezone`, v.timezone);

  if (issues.length) {
    const kept = issues.slice(0, MAX_ISSUES);
    if (issues.length > MAX_ISSUES) kept.push({ file, path: "$", message: `${issues.length - MAX_ISSUES} more problems not shown` });
    throw new RegistryError(file, kept);
  }
  const measurements = Array.isArray(doc.measurements) ? (doc.measurements as string[]) : [];
  const zones = { timezone: doc.timezone as string | undefined, buildings: doc.buildings as Record<string, { timezone?: string }> | undefined };
  return new Registry(devices, measurements, undefined, zones);
}

/** A registry entry as devices: itself with its port default, or one device per outlet of a strip. */
export function expandEntry(entry: DeviceEntry): Device[] {
  const { outlets, ...rest } = entry;
  const base: Device = { ...rest, port: entry.port ?? PROTOCOL_PORTS[entry.protocol ?? "legacy"] };
  if (!outlets) return [base];
  return outlets.map((o, index) => {
    const d: Device = {
      ...base,
      id: o.id ?? `${entry.id}-${index + 1}`,
      name: o.name ?? `${entry.name} ${index + 1}`,
      kind: o.kind ?? entry.kind,
      location: o.location ?? entry.location,
      strip: { id: entry.id, index },
    };
    if (o.idleWatts !== undefined) d.idleWatts = o.idleWatts;
    if (o.critical !== undefined) d.critical = o.critical;
    return d;
  });
}

const SLUG_HELP = "lower-case letters, digits, '-' and '_', starting and ending with a letter or digit, at most 64 characters";

/** The value at a JSON path such as `$.location.floor` or `$.tags["a b"]` (for messages only). */
function valueAt(root: unknown, path: string): unknown {
  let cur: unknown = root;
  const re = /\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  for (const m of path.slice(1).matchAll(re)) {
    const [, name, index, quoted] = m;
    const key = name ?? (index !== undefined ? Number(index) : quoted !== undefined ? (JSON.parse(quoted) as string) : undefined);
    if (key === undefined || cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

const lastKey = (path: string): string => path.replace(/^.*[.[]/, "").replace(/[\]"]/g, "");

/**
 * Rewrites TypeBox messages into reasons a person can act on (missing/unknown property, bad kind, bad slug,
 * bad port), and drops the follow-on "Expected string" that TypeBox adds after a missing property.
 */
export function friendlyIssues(value: unknown, issues: readonly Issue[]): Issue[] {
  const missing = new Set(issues.filter((i) => /required property/i.test(i.message)).map((i) => i.path));
  const out: Issue[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    const key = lastKey(issue.path);
    const got = valueAt(value, issue.path);
    let message: string;
    if (/required property/i.test(issue.message)) message = `missing required property '${key}'`;
    else if (missing.has(issue.path)) continue;
    else if (/Unexpected property/i.test(issue.message)) message = `unknown property '${key}'`;
    else if (key === "kind") message = `${JSON.stringify(got)} is not a valid kind: use ${DEVICE_KINDS.join(", ")}`;
    else if (key === "port") message = `port must be an integer from 1 to 65535 (got ${JSON.stringify(got)})`;
    else if (key === "version" && /^Expected \d+$/.test(issue.message)) message = `version must be ${issue.message.slice(9)} (got ${JSON.stringify(got)})`;
    else if (issue.message.includes(SLUG_PATTERN)) message = `${JSON.stringify(got)} is not a valid ${key}: use ${SLUG_HELP}`;
    else if (issue.path === "$" && /^Expected (object|array)$/.test(issue.message)) message = `expected an ${issue.message.slice(9)}, got ${typeName(got)}`;
    else if (/^Expected (string|number|integer|boolean|object|array)$/.test(issue.message))
      message = `${key} ${issue.message.replace("Expected", "must be")} (got ${typeName(got)})`;
    else if (/^Expected string length greater or equal to 1$/.test(issue.message)) message = `${key} must not be empty`;
    else if (/^Expected string length (less|greater)/.test(issue.message))
      message = `${key} ${issue.message.replace("Expected string length", "must have a length")} (got ${typeof got === "string" ? got.length : typeName(got)})`;
    else if (/^Expected string to match/.test(issue.message)) message = `${JSON.stringify(got)} is not a valid ${key}`;
    else if (/^Expected number to be (less|greater)/.test(issue.message))
      message = `${key} ${issue.message.replace("Expected number to be", "must be")} (got ${JSON.stringify(got)})`;
    else message = issue.message;
    const k = `${issue.path}|${message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ path: issue.path, message });
  }
  return out;
}

/**
 * Explains why a value is not a valid Target. TypeBox only says "Expected union value" for a union, so pick the
 * variant the caller meant (by its keys) and report that variant's specific problems. Paths are relative (`$...`).
 */
export function explainTarget(target: unknown): Issue[] {
  if (!isObject(target)) return [{ path: "$", message: `target must be an object, got ${typeName(target)}` }];
  const variants = Target.anyOf;
  const pick =
    "device" in target
      ? variants[0]
      : "devices" in target
        ? variants[1]
        : "all" in target
          ? variants[4]
          : "building" in target
            ? variants[3]
            : "kind" in target
              ? variants[2]
              : undefined;
  if (!pick) return [{ path: "$", message: "target needs one of: device, devices, kind, building (with optional floor, room, kind) or all:true" }];
  const r = validate(pick, target);
  if (r.ok) return [];
  return friendlyIssues(target, r.issues).map((i) =>
    i.message.startsWith("unknown property")
      ? {
          path: i.path,
          message: `${i.message}: it cannot be combined with ${Object.keys(pick.properties)
            .filter((k) => k in target)
            .join(", ")}`,
        }
      : i,
  );
}

/** " (line L, column C)" for a JSON.parse message that names a position, so an editor can jump there; else "". */
export function lineColumn(text: string, message: string): string {
  const m = /at position (\d+)/.exec(message);
  if (!m || /\(line \d+ column \d+\)/.test(message)) return "";
  const before = text.slice(0, Number(m[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return ` (line ${line}, column ${column})`;
}

/** Reads, parses and validates a registry file. Throws RegistryError with file, JSON path and reason. */
export function loadRegistryFile(file: string, read: (f: string) => string = (f) => readFileSync(f, "utf8")): Registry {
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    throw new RegistryError(file, [{ file, path: "$", message: `cannot read file: ${(err as Error).message}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RegistryError(file, [{ file, path: "$", message: `not valid JSON: ${(err as Error).message}${lineColumn(text, (err as Error).message)}` }]);
  }
  return buildRegistry(json, file);
}

/** Resolves a relative registry path against the Node-RED user directory. */
export function resolveRegistryPath(file: string, userDir: string | undefined): string {
  return path.isAbsolute(file) ? file : path.resolve(userDir ?? process.cwd(), file);
}

/** Where a registry comes from: a file (resolved against the user directory) or inline JSON. */
export interface RegistrySource {
  source: "file" | "json";
  /** The file (source file) or a name for messages (source json). */
  label: string;
  json: string;
}

/** Loads the registry a plugwatch-registry node is configured with; throws RegistryError (never half-loaded). */
export function loadRegistrySource(src: RegistrySource): Registry {
  if (src.source === "file") {
    if (!src.label) throw new RegistryError("(no file)", [{ file: "(no file)", path: "$", message: "no registry file configured" }]);
    return loadRegistryFile(src.label);
  }
  let json: unknown;
  try {
    json = JSON.parse(src.json);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new RegistryError(src.label, [{ file: src.label, path: "$", message: `not valid JSON: ${message}${lineColumn(src.json, message)}` }]);
  }
  return buildRegistry(json, src.label);
}
