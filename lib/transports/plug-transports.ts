// One transport layer for the collector and control: picks legacy TCP, KLAP (Kasa IOT) or Tapo SMART per device.
//
// Each registry device names its protocol (default legacy). `auto` probes once: the legacy protocol on the device's
// port; if that port refuses or closes without a reply, KLAP on port 80 (the handshake tells Kasa v1 from Tapo v2),
// and the answer is remembered for the life of this object. One KLAP session per plug address, so the six outlets
// of an HS300 share the strip's session (and its reachability). Credentials are read through a getter each time a
// session is built, never stored in a message.
import type { Device, Protocol } from "../contracts/device";
import { PlugwatchError } from "../contracts/errors";
import { PlugClient, type EnergyStat, type PlugSample } from "../plug-client";
import { IotFamily, type OutletRef } from "./iot";
import { HttpConnections } from "./http-conn";
import { KlapTransport, KLAP_PORT, KLAP_TLS_PORT, type Credentials } from "./klap";
import type { KlapVersion } from "./klap-crypto";
import { SmartFamily } from "./smart";

/** What the transport layer needs of a device. */
export type TransportDevice = Pick<Device, "host" | "port"> & Partial<Pick<Device, "id" | "protocol" | "strip">>;

/** Resolved protocol of a device (what `auto` settles on). */
export type ResolvedProtocol = Exclude<Protocol, "auto">;

export interface PlugTransportsOptions {
  /** Per-request budget, ms (default 3000). */
  timeoutMs?: number;
  /** Keep legacy TCP connections open between requests (collector: yes). */
  keepAlive?: boolean;
  /** The TP-Link account for KLAP/Tapo plugs (read when a session is built); undefined = blank credentials. */
  credentials?: () => Credentials | undefined;
  /** Port `auto` probes for KLAP (default 80). */
  klapPort?: number;
  /** Monotonic ms clock for KLAP sessions and auth backoff (tests inject one). */
  now?: () => number;
  /** First auth backoff step, ms (default 5000; doubles up to 300 000). */
  authBackoffMs?: number;
  /** An injected legacy client (tests); default: one built from the options above. */
  legacy?: PlugClient;
}

export class PlugTransports {
  readonly timeoutMs: number;
  private readonly legacy: PlugClient;
  private readonly iot = new IotFamily();
  private readonly smart = new SmartFamily();
  private readonly klap = new Map<string, KlapTransport>();
  private readonly resolved = new Map<string, ResolvedProtocol>();
  private readonly probing = new Map<string, Promise<ResolvedProtocol>>();
  /** One kept-alive HTTP connection per KLAP plug (port 4433: TLS, self-signed certificates on the plugs). */
  private readonly http = new HttpConnections();

  constructor(private readonly opts: PlugTransportsOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.legacy = opts.legacy ?? new PlugClient({ timeoutMs: this.timeoutMs, keepAlive: opts.keepAlive ?? false });
  }

  /** The protocol in use for a device (after `auto` has probed), or undefined before the first request. */
  protocolOf(device: TransportDevice): ResolvedProtocol | undefined {
    const p = device.protocol ?? "legacy";
    return p === "auto" ? this.resolved.get(addr(device)) : p;
  }

  /** KLAP sessions built so far per address (tests and stats). */
  klapTransport(device: TransportDevice): KlapTransport | undefined {
    return this.klap.get(this.klapKey(device));
  }

  async poll(device: TransportDevice, timeoutMs = this.timeoutMs): Promise<PlugSample> {
    const outlet = outletOf(device);
    switch (await this.protocol(device, timeoutMs)) {
      case "legacy":
        if (outlet) return this.iot.poll(addr(device), (t) => this.legacy.sendText(device, t, timeoutMs), outlet);
        return this.legacy.poll(device, timeoutMs);
      case "klap": {
        const t = this.transport(device, 1);
        return this.iot.poll(t.address, (text) => t.send(text, timeoutMs), outlet);
      }
      case "tapo": {
        const t = this.transport(device, 2);
        return this.smart.poll(t.address, (text) => t.send(text, timeoutMs));
      }
    }
  }

  async setRelay(device: TransportDevice, on: boolean, timeoutMs = this.timeoutMs): Promise<void> {
    const outlet = outletOf(device);
    switch (await this.protocol(device, timeoutMs)) {
      case "legacy":
        if (outlet) return this.iot.setRelay(addr(device), (t) => this.legacy.sendText(device, t, timeoutMs), on, outlet);
        return this.legacy.setRelay(device, on, timeoutMs);
      case "klap": {
        const t = this.transport(device, 1);
        return this.iot.setRelay(t.address, (text) => t.send(text, timeoutMs), on, outlet);
      }
      case "tapo": {
        const t = this.transport(device, 2);
        return this.smart.setRelay((text) => t.send(text, timeoutMs), on);
      }
    }
  }

  /** Energy statistics (Kasa plugs, legacy or KLAP). Tapo plugs keep no day/month table in this form. */
  async stats(device: TransportDevice, period: "day" | "month", year: number, month?: number): Promise<EnergyStat[]> {
    const proto = await this.protocol(device, this.timeoutMs);
    if (proto === "legacy") return this.legacy.stats(device, period, year, month);
    if (proto === "klap") {
      const t = this.transport(device, 1);
      return this.legacy.stats(device, period, year, month, (text) => t.send(text, this.timeoutMs));
    }
    throw new PlugwatchError("DEVICE_ERROR", "energy statistics are not available from Tapo plugs");
  }

  /** Closes legacy sockets and KLAP keep-alive connections. */
  close(): void {
    this.legacy.close();
    for (const t of this.klap.values()) t.close();
    this.klap.clear();
    this.http.close();
  }

  private klapKey(device: TransportDevice): string {
    return `${device.host}:${this.klapPortOf(device)}`;
  }

  private klapPortOf(device: TransportDevice): number {
    return device.protocol === "auto" ? (this.opts.klapPort ?? KLAP_PORT) : device.port;
  }

  private transport(device: TransportDevice, version: KlapVersion | "auto"): KlapTransport {
    const key = this.klapKey(device);
    let t = this.klap.get(key);
    if (!t || (version !== "auto" && t.version !== version && t.version !== "auto")) {
      const port = this.klapPortOf(device);
      const tls = port === KLAP_TLS_PORT;
      const o: ConstructorParameters<typeof KlapTransport>[0] = {
        host: device.host,
        port,
        tls,
        version,
        timeoutMs: this.timeoutMs,
        connections: this.http,
      };
      const creds = this.opts.credentials?.();
      if (creds) o.credentials = creds;
      if (this.opts.now) o.now = this.opts.now;
      if (this.opts.authBackoffMs !== undefined) o.authBackoffMs = this.opts.authBackoffMs;
      t = new KlapTransport(o);
      this.klap.set(key, t);
    }
    return t;
  }

  private async protocol(device: TransportDevice, timeoutMs: number): Promise<ResolvedProtocol> {
    const p = device.protocol ?? "legacy";
    if (p !== "auto") return p;
    const key = addr(device);
    const known = this.resolved.get(key);
    if (known) return known;
    let probe = this.probing.get(key);
    if (!probe) {
      probe = this.probe(device, timeoutMs).finally(() => this.probing.delete(key));
      this.probing.set(key, probe);
    }
    return probe;
  }

  /** Legacy first; a refused or silent legacy port means newer firmware: one KLAP handshake decides v1 or v2. */
  private async probe(device: TransportDevice, timeoutMs: number): Promise<ResolvedProtocol> {
    const key = addr(device);
    try {
      await this.legacy.sendText(device, JSON.stringify({ system: { get_sysinfo: {} } }), timeoutMs);
      this.resolved.set(key, "legacy");
      return "legacy";
    } catch (err) {
      const code = err instanceof PlugwatchError ? err.code : "DEVICE_UNREACHABLE";
      const refused = code === "UNSUPPORTED_FIRMWARE" || /ECONNREFUSED/.test(String((err as Error).message));
      if (!refused) throw err;
    }
    const t = this.transport(device, "auto");
    await t.handshakeNow(timeoutMs);
    const proto: ResolvedProtocol = t.version === 2 ? "tapo" : "klap";
    this.resolved.set(key, proto);
    return proto;
  }
}

const addr = (d: TransportDevice): string => `${d.host}:${d.port}`;
const outletOf = (d: TransportDevice): OutletRef | undefined => (d.strip ? { index: d.strip.index } : undefined);
