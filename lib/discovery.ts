// Plug discovery: UDP broadcast (tplink-smarthome-api) for a bounded time, answers turned into registry-entry drafts.
import { Client } from "tplink-smarthome-api";
import { DEFAULT_PORT } from "./registry";
import type { DeviceEntry, Protocol } from "./contracts/device";
import { discover20002 } from "./transports/discovery-20002";
import { PlugwatchError } from "./contracts/errors";
import { showValue } from "./show-value";

export interface DiscoveredPlug {
  host: string;
  port: number;
  alias: string;
  model: string;
  mac: string;
  deviceId: string;
  /** Set for plugs found by the newer discovery (UDP 20002): `klap` (Kasa JSON) or `tapo`; absent = legacy. */
  protocol?: Exclude<Protocol, "auto" | "legacy">;
  /** Found by the newer discovery but speaking a protocol Plugwatch does not implement (Tapo securePassthrough). */
  unsupported?: string;
}

export interface DiscoveryOptions {
  /** IPv4 broadcast address, e.g. 192.168.1.255 (default 255.255.255.255). */
  broadcast?: string;
  /** How long to listen for answers, ms (100–30000). */
  timeoutMs?: number;
  /** Addresses probed directly as well (unicast), e.g. plugs on another subnet or simulators on loopback. */
  probe?: { host: string; port: number }[];
  /** UDP port of the newer discovery (default 20002); null skips it. */
  klapPort?: number | null;
}

export const DEFAULT_BROADCAST = "255.255.255.255";
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Most addresses one discovery request may probe directly. */
export const MAX_PROBES = 256;

export interface DiscoveryQuery {
  broadcast: string;
  timeoutMs: number;
  /** Addresses asked directly (unicast) besides the broadcast; empty when none. */
  probe: { host: string; port: number }[];
}

/**
 * Validates the route's query (strings from the URL); throws INVALID_REQUEST with a reason.
 * `probe` is an optional comma-separated list of `ipv4[:port]` asked directly, e.g. plugs on another subnet.
 */
export function parseDiscoveryQuery(query: { broadcast?: unknown; timeout?: unknown; probe?: unknown }): DiscoveryQuery {
  const broadcast = query.broadcast === undefined || query.broadcast === "" ? DEFAULT_BROADCAST : showValue(query.broadcast);
  if (!IPV4.test(broadcast)) throw new PlugwatchError("INVALID_REQUEST", `broadcast must be an IPv4 address, got '${broadcast}'`);
  const timeoutMs = query.timeout === undefined || query.timeout === "" ? 3000 : Number(query.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 30_000) {
    throw new PlugwatchError("INVALID_REQUEST", `timeout must be an integer number of ms between 100 and 30000, got '${showValue(query.timeout)}'`);
  }
  const probe: { host: string; port: number }[] = [];
  if (query.probe !== undefined && query.probe !== "") {
    const items = showValue(query.probe)
      .split(",")
      .map((x) => x.trim());
    if (items.length > MAX_PROBES) throw new PlugwatchError("INVALID_REQUEST", `probe lists ${items.length} addresses (at most ${MAX_PROBES})`);
    for (const item of items) {
      const [, host, portText] = /^([^:]+)(?::(\d{1,5}))?$/.exec(item) ?? [];
      const port = portText === undefined ? DEFAULT_PORT : Number(portText);
      if (host === undefined || !IPV4.test(host) || port < 1 || port > 65535) {
        throw new PlugwatchError("INVALID_REQUEST", `probe entries must be ipv4[:port] (port 1-65535), got '${item}'`);
      }
      probe.push({ host, port });
    }
  }
  return { broadcast, timeoutMs, probe };
}

interface FoundDevice {
  host: string;
  port: number;
  alias: string;
  model: string;
  mac: string;
  id: string;
}

/**
 * Both discoveries side by side for `timeoutMs`: the legacy broadcast (UDP 9999) and the newer one (UDP 20002,
 * KLAP Kasa and Tapo plugs, with their protocol). One entry per device id.
 */
export async function discover(opts: DiscoveryOptions = {}): Promise<DiscoveredPlug[]> {
  const legacyRun = discoverLegacy(opts);
  const newer =
    opts.klapPort === null
      ? Promise.resolve([])
      : discover20002({
          broadcast: opts.broadcast ?? DEFAULT_BROADCAST,
          timeoutMs: opts.timeoutMs ?? 3000,
          probe: [...new Set((opts.probe ?? []).map((p) => p.host))],
          ...(opts.klapPort !== undefined ? { port: opts.klapPort } : {}),
        }).catch(() => []);
  const [legacy, klap] = await Promise.all([legacyRun, newer]);
  const out = new Map<string, DiscoveredPlug>(legacy.map((p) => [p.deviceId || `${p.host}:${p.port}`, p]));
  for (const k of klap) {
    const plug: DiscoveredPlug = { host: k.host, port: k.port, alias: "", model: k.model, mac: k.mac, deviceId: k.deviceId };
    if (k.protocol) plug.protocol = k.protocol;
    else plug.unsupported = `${k.deviceType} with ${k.encryptType || "unknown"} encryption (not KLAP): UNSUPPORTED_PROTOCOL`;
    out.set(k.deviceId || `${k.host}:${k.port}`, plug);
  }
  return [...out.values()];
}

/** The legacy discovery (tplink-smarthome-api, UDP 9999). */
function discoverLegacy(opts: DiscoveryOptions): Promise<DiscoveredPlug[]> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const client = new Client({ logLevel: "silent" });
  const found = new Map<string, DiscoveredPlug>();
  return new Promise<DiscoveredPlug[]>((resolve, reject) => {
    let failed: unknown;
    const add = (d: FoundDevice) => {
      found.set(d.id || `${d.host}:${d.port}`, { host: d.host, port: d.port, alias: d.alias, model: d.model, mac: d.mac, deviceId: d.id });
    };
    client.on("device-new", add);
    client.on("device-online", add);
    client.on("error", (err: unknown) => (failed = err));
    const timer = setTimeout(() => {
      client.stopDiscovery();
      client.removeAllListeners();
      if (found.size === 0 && failed !== undefined) {
        reject(new PlugwatchError("DEVICE_UNREACHABLE", `discovery failed: ${showValue(failed)}`));
      } else resolve([...found.values()]);
    }, timeoutMs);
    try {
      client.startDiscovery({
        broadcast: opts.broadcast ?? DEFAULT_BROADCAST,
        discoveryInterval: Math.max(250, Math.floor(timeoutMs / 3)),
        discoveryTimeout: 0, // stopped by our own timer (the library's timer would outlive us)
        devicesUseDiscoveryPort: true,
        breakoutChildren: false,
        deviceTypes: ["plug"],
        ...(opts.probe && { devices: opts.probe }),
      });
    } catch (err) {
      clearTimeout(timer);
      client.stopDiscovery();
      reject(new PlugwatchError("DEVICE_UNREACHABLE", `discovery failed: ${(err as Error).message}`));
    }
  });
}

/** Lower-case slug from a plug alias ("Desk 2.14" → "desk-2-14"); falls back to the MAC. */
export function slugify(text: string, fallback: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64)
    .replace(/-+$/, "");
  return (
    s ||
    fallback
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") ||
    "plug"
  );
}

/**
 * Registry-entry drafts for discovered plugs: id from the alias (made unique), kind "other" and an "unassigned"
 * location that the user edits before saving the registry.
 */
export function toRegistryDrafts(plugs: readonly DiscoveredPlug[], takenIds: Iterable<string> = []): DeviceEntry[] {
  const taken = new Set(takenIds);
  return plugs.map((p) => {
    const base = slugify(p.alias, p.mac);
    let id = base;
    for (let i = 2; taken.has(id); i++) id = `${base.slice(0, 60)}-${i}`;
    taken.add(id);
    const entry: DeviceEntry = {
      id,
      name: p.alias || id,
      model: (p.model.split("(")[0] || "HS110").slice(0, 32),
      host: p.host,
      kind: "other",
      location: { building: "unassigned", floor: "unassigned", room: "unassigned" },
    };
    if (p.protocol) {
      entry.protocol = p.protocol;
      if (p.port !== 80) entry.port = p.port;
    } else if (p.port !== DEFAULT_PORT) entry.port = p.port;
    return entry;
  });
}
