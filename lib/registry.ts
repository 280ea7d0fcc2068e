// Device registry: loads and validates the office's device file, then answers "which devices?" questions.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { DeviceEntry, RegistryFile, type Device, type DeviceKind, type Target } from "./contracts/device";
import { PlugwatchError } from "./contracts/errors";
import { validate, type Issue } from "./contracts/validate";

export const DEFAULT_PORT = 9999;

/** A registry problem: which file, where in it (JSON path) and why. */
export interface RegistryIssue extends Issue {
  file: string;
}

export class RegistryError extends PlugwatchError {
  readonly file: string;
  readonly issues: RegistryIssue[];
  constructor(file: string, issues: RegistryIssue[]) {
    const head = issues
      .slice(0, 5)
      .map((i) => `${i.path}: ${i.message}`)
      .join("; ");
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : "";
    super("REGISTRY_INVALID", `${file}: ${head}${more}`, issues.map(({ path, message }) => ({ path, message })));
    this.name = "RegistryError";
    this.file = file;
    this.issues = issues;
  }
}

/** Filter used by agents to pick the devices they handle (all fields optional, all must match). */
export interface DeviceFilter {
  kind?: DeviceKind | "";
  building?: string;
  floor?: string;
  room?: string;
}

export class Registry {
  readonly devices: readonly Device[];
  private readonly byId: ReadonlyMap<string, Device>;

  constructor(devices: readonly Device[]) {
    this.devices = devices;
    this.byId = new Map(devices.map((d) => [d.id, d]));
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

/** Validates parsed JSON as a registry; returns every problem found, never a partial registry. */
export function buildRegistry(json: unknown, file = "<registry>"): Registry {
  // Accept a bare array as shorthand for { devices: [...] }.
  const doc = Array.isArray(json) ? { devices: json } : json;
  const result = validate(RegistryFile, doc, 200);
  if (!result.ok) {
    // Re-validate entries one by one so each issue points at its own device with a precise reason.
    const issues: RegistryIssue[] = [];
    const devices = (doc as { devices?: unknown })?.devices;
    if (doc === null || typeof doc !== "object" || !Array.isArray(devices)) {
      issues.push({ file, path: "$.devices", message: "expected an object with a 'devices' array" });
    } else {
      const top = validate(RegistryFile, { ...(doc as object), devices: [] });
      if (!top.ok) issues.push(...top.issues.map((i) => ({ file, ...i })));
      devices.forEach((entry, i) => {
        const r = validate(DeviceEntry, entry, 10);
        if (!r.ok) issues.push(...r.issues.map((x) => ({ file, path: `$.devices[${i}]${x.path.slice(1)}`, message: describe(entry, x) })));
      });
    }
    throw new RegistryError(file, issues.length ? issues : result.issues.map((i) => ({ file, ...i })));
  }
  const issues: RegistryIssue[] = [];
  const ids = new Map<string, number>();
  const addresses = new Map<string, number>();
  const devices: Device[] = result.value.devices.map((entry, i) => {
    const device: Device = { ...entry, port: entry.port ?? DEFAULT_PORT };
    const seenAt = ids.get(device.id);
    if (seenAt !== undefined) issues.push({ file, path: `$.devices[${i}].id`, message: `duplicate id '${device.id}' (first at $.devices[${seenAt}])` });
    else ids.set(device.id, i);
    const addr = `${device.host.toLowerCase()}:${device.port}`;
    const addrAt = addresses.get(addr);
    if (addrAt !== undefined) issues.push({ file, path: `$.devices[${i}].host`, message: `address ${addr} already used by $.devices[${addrAt}]` });
    else addresses.set(addr, i);
    return device;
  });
  if (issues.length) throw new RegistryError(file, issues);
  return new Registry(devices);
}

function describe(entry: unknown, issue: Issue): string {
  // TypeBox reports a missing property as "Expected required property"; name the property for the reader.
  if (/required property/i.test(issue.message)) return `missing required property '${issue.path.split(".").pop()}'`;
  if (issue.path.endsWith(".kind")) return `${issue.message}: kind must be one of workplace, meeting-room, printer, other`;
  if (/Unexpected property/i.test(issue.message)) return `unknown property '${issue.path.split(".").pop()}'`;
  void entry;
  return issue.message;
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
    throw new RegistryError(file, [{ file, path: "$", message: `not valid JSON: ${(err as Error).message}` }]);
  }
  return buildRegistry(json, file);
}

/** Resolves a relative registry path against the Node-RED user directory. */
export function resolveRegistryPath(file: string, userDir: string | undefined): string {
  return path.isAbsolute(file) ? file : path.resolve(userDir ?? process.cwd(), file);
}
