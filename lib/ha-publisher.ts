// The Home Assistant discovery publisher: announces on (re)connect and on HA's birth message, clears configs of departed devices, forwards HA's switch commands to the control agent.
import type { Device } from "./contracts/device";
import { commandRequestTopic } from "./topics";
import { discoveryConfigs, isStaleConfig, parseHaCommand, type HaDiscoveryOptions } from "./ha-discovery";

/** The broker as the publisher needs it (the node adapts the core mqtt-broker config node). */
export interface HaBrokerPort {
  connected(): boolean;
  /** Publishes at QoS 1; resolves when the broker accepted it. */
  publish(topic: string, payload: string, retain: boolean): Promise<void>;
}

export interface HaPublisherOptions extends HaDiscoveryOptions {
  broker: HaBrokerPort;
  /** The registry's devices now (throws when the registry is invalid). */
  devices: () => readonly Device[];
  /** A problem worth a (rate-limited) warning: key and text. */
  warn: (key: string, text: string) => void;
}

export interface HaPublisherStats {
  /** Configs published in the last announcement. */
  announced: number;
  /** Devices in the last announcement. */
  devices: number;
  /** Stale configs cleared (devices that left the registry). */
  cleared: number;
  /** HA commands forwarded to the control agent. */
  commands: number;
  /** HA commands dropped (unknown device, bad payload, retained). */
  dropped: number;
}

export class HaPublisher {
  readonly stats: HaPublisherStats = { announced: 0, devices: 0, cleared: 0, commands: 0, dropped: 0 };
  private wasConnected = false;
  /** Config topics of the registry's devices (computed once: a registry change redeploys this node). */
  private current: Set<string> | undefined;

  constructor(private readonly o: HaPublisherOptions) {}

  /** Call periodically: announces once after every (re)connect of the broker. */
  async tick(): Promise<void> {
    const now = this.o.broker.connected();
    const rising = now && !this.wasConnected;
    this.wasConnected = now;
    if (rising) await this.announce();
  }

  /** Publishes every device's configs, retained. Resolves with how many; a broken registry announces nothing (warned). */
  async announce(): Promise<number> {
    let devices: readonly Device[];
    try {
      devices = this.o.devices();
    } catch (err) {
      this.o.warn("registry", `Home Assistant discovery: registry unavailable, nothing announced: ${(err as Error).message}`);
      return 0;
    }
    const configs = discoveryConfigs(devices, this.o);
    this.current ??= new Set(configs.map((c) => c.topic));
    if (!this.o.broker.connected()) return 0;
    await Promise.all(configs.map((c) => this.o.broker.publish(c.topic, JSON.stringify(c.payload), true)));
    this.stats.announced = configs.length;
    this.stats.devices = devices.length;
    return configs.length;
  }

  /** A retained config seen under our node id: one that no current device owns is cleared (empty retained payload). */
  async onConfig(topic: string, payload: Buffer | string): Promise<boolean> {
    const current = this.expected();
    if (payload.length === 0 || !current || !isStaleConfig(topic, current, this.o)) return false;
    await this.o.broker.publish(topic, "", true);
    this.stats.cleared++;
    return true;
  }

  /** HA's birth message ("online" on {prefix}/status): announce again, as HA's discovery documentation asks. */
  async onHaStatus(payload: Buffer | string): Promise<void> {
    if (payload.toString().trim() === "online") await this.announce();
  }

  /** ON/OFF from HA for one plug: a plain command on {root}/api/request/command with by "homeassistant" (audited by the agent). */
  async onCommand(topic: string, payload: Buffer | string, retained: boolean): Promise<boolean> {
    let known: (id: string) => boolean;
    try {
      const ids = new Set(this.o.devices().map((d) => d.id));
      known = (id) => ids.has(id);
    } catch {
      known = () => false;
    }
    const c = parseHaCommand(this.o.root, topic, payload, retained, known);
    if ("problem" in c) {
      this.stats.dropped++;
      this.o.warn(`command:${topic}`, `Home Assistant command dropped: ${c.problem}`);
      return false;
    }
    await this.o.broker.publish(commandRequestTopic(this.o.root), JSON.stringify(c.command), false);
    this.stats.commands++;
    return true;
  }

  /** The config topics the registry's devices own, or undefined while the registry is invalid (then nothing is ever cleared). */
  private expected(): Set<string> | undefined {
    if (this.current) return this.current;
    try {
      this.current = new Set(discoveryConfigs(this.o.devices(), this.o).map((c) => c.topic));
    } catch {
      return undefined;
    }
    return this.current;
  }

  /** Clears every config this publisher announced (the node was deleted from the flow). */
  async removeAll(): Promise<number> {
    if (!this.o.broker.connected()) return 0;
    const topics = [...(this.expected() ?? [])];
    await Promise.all(topics.map((t) => this.o.broker.publish(t, "", true)));
    return topics.length;
  }
}
