// Our own MQTT connection: an mqtt.js MqttClient over a socket we open with TCP_NODELAY, behind the interface of
// Node-RED's core mqtt-broker config node (register/deregister, subscribe/unsubscribe by ref, publish with done).
import * as net from "node:net";
import * as tls from "node:tls";
import { MqttClient, type IClientOptions, type IPublishPacket, type IStream, type StreamBuilder } from "mqtt";
import { systemClock, type Timers } from "../clock";
import { PlugwatchError } from "../contracts/errors";
import { checkFilter, checkPublishTopic, topicMatches } from "./topic-filter";

export type QoS = 0 | 1 | 2;

/** The status a broker gives its users (the core node's keys, translated by the editor). */
export interface UserStatus {
  fill: "green" | "yellow" | "red";
  shape: "dot" | "ring";
  text: string;
}
export const USER_STATUS = {
  connected: { fill: "green", shape: "dot", text: "node-red:common.status.connected" },
  connecting: { fill: "yellow", shape: "ring", text: "node-red:common.status.connecting" },
  disconnected: { fill: "red", shape: "ring", text: "node-red:common.status.disconnected" },
} as const satisfies Record<string, UserStatus>;

/** A node using the connection: its id, and the status it is told on every connect and disconnect. */
export interface MqttUser {
  id: string;
  status(status: UserStatus): void;
}

export type MessageCallback = (topic: string, payload: Buffer, packet: IPublishPacket) => void;
export type PublishDone = (err?: Error) => void;
export interface PublishMessage {
  topic: string;
  payload: string | Buffer;
  qos?: QoS;
  retain?: boolean;
}

/** What nodes use of a broker config node: the core mqtt-broker's interface (nodes/plugwatch-http-api/types.ts MqttBrokerNode). */
export interface MqttPort {
  readonly connected: boolean;
  register(user: MqttUser): void;
  deregister(user: MqttUser, done: () => void, autoDisconnect?: boolean): void;
  subscribe(topic: string, options: { qos: QoS }, callback: MessageCallback, ref: string): void;
  /** `removeClientSubscription` is accepted for the core signature; the ref is always dropped (the core's default). */
  unsubscribe(topic: string, ref: string, removeClientSubscription?: boolean): void;
  publish(msg: PublishMessage, done?: PublishDone): void;
}

/** Where to connect; `tls` present = TLS with these options (CA, client certificate, rejectUnauthorized…). */
export interface MqttEndpoint {
  host: string;
  port: number;
  tls?: tls.ConnectionOptions | undefined;
}

export interface MqttConnectionOptions extends MqttEndpoint {
  clientId: string;
  /** Seconds (default 60). */
  keepaliveS?: number;
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5. */
  protocolVersion?: 4 | 5;
  username?: string | undefined;
  password?: string | undefined;
  /** Pause between reconnect attempts, ms (default 5000, the core node's). */
  reconnectPeriodMs?: number;
  /** CONNACK wait, ms (default 30000). */
  connectTimeoutMs?: number;
  /** How long close waits for a clean DISCONNECT before dropping the socket, ms (default 2000). */
  endTimeoutMs?: number;
  /** Connection events (info) and socket or protocol errors (error); rate-limit at the caller. */
  log?: { info(message: string): void; error(message: string): void };
  timers?: Timers;
}

/** publish() while the connection is down: refused at once, never queued. */
export class NotConnectedError extends Error {
  constructor(where: string) {
    super(`not connected to the MQTT broker ${where}`);
    this.name = "NotConnectedError";
  }
}

/**
 * Opens the socket of one connection attempt: a TCP socket with TCP_NODELAY, so small request/reply packets are not held
 * back by Nagle's algorithm waiting for a delayed ACK (~40 ms a hop); with `tls`, TLS runs over that same socket.
 * `tcp` is the TCP socket itself (for TLS, the one under `stream`).
 */
export function openNoDelaySocket(endpoint: MqttEndpoint): { stream: net.Socket; tcp: net.Socket } {
  const { host, port } = endpoint;
  const tcp = net.connect({ host, port, noDelay: true });
  if (!endpoint.tls) return { stream: tcp, tcp };
  // SNI needs a host name, never an address; certificate checks use `host`.
  const servername = endpoint.tls.servername ?? (net.isIP(host) === 0 ? host : undefined);
  const stream = tls.connect({ ...endpoint.tls, host, port, socket: tcp, ...(servername ? { servername } : {}) });
  return { stream, tcp };
}

/** The stream builder handed to mqtt.js (its documented `new MqttClient(streamBuilder, options)`). */
export function noDelayStreamBuilder(endpoint: MqttEndpoint): StreamBuilder {
  return (): IStream => openNoDelaySocket(endpoint).stream;
}

interface Subscription {
  qos: QoS;
  callback: MessageCallback;
}

const QOS = new Set<unknown>([0, 1, 2]);
function checkQos(qos: unknown, what: string): QoS {
  if (!QOS.has(qos)) throw new PlugwatchError("INVALID_REQUEST", `${what} QoS must be 0, 1 or 2 (got ${String(qos)})`);
  return qos as QoS;
}
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * One MQTT connection shared by its users. It connects when the first user registers, reconnects every
 * `reconnectPeriodMs` after a loss and then subscribes every filter again (mqtt.js's own resubscribe is off), and
 * ends when the last user deregisters with autoDisconnect, or on close().
 */
export class MqttConnection implements MqttPort {
  private client: MqttClient | undefined;
  private isConnected = false;
  private closed = false;
  private readonly users = new Map<string, MqttUser>();
  /** filter → ref → subscription. */
  private readonly subs = new Map<string, Map<string, Subscription>>();
  /** QoS each filter is subscribed with on the current session. */
  private readonly granted = new Map<string, QoS>();
  /** MQTT 5 subscription identifier of each filter: the broker names the subscriptions a message matched. */
  private readonly ids = new Map<string, number>();
  private nextId = 1;
  /** MQTT 5 and the broker takes subscription identifiers (CONNACK). */
  private useIds = false;
  /** Publishes not yet acknowledged, with their client: close waits for them (at most endTimeoutMs), then fails them. */
  private readonly unacked = new Map<PublishDone, MqttClient>();
  private readonly drained: (() => void)[] = [];
  private readonly log: NonNullable<MqttConnectionOptions["log"]>;
  private readonly timers: Timers;
  readonly where: string;

  constructor(private readonly options: MqttConnectionOptions) {
    this.log = options.log ?? { info: () => undefined, error: () => undefined };
    this.timers = options.timers ?? systemClock;
    this.where = `${options.tls ? "mqtts" : "mqtt"}://${options.host}:${options.port}`;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  register(user: MqttUser): void {
    this.users.set(user.id, user);
    if (!this.client && !this.closed) this.start();
    // Told after the caller's setup has finished (as the core node does), then on every change.
    queueMicrotask(() => {
      if (this.users.get(user.id) === user) user.status(this.current());
    });
  }

  deregister(user: MqttUser, done: () => void, autoDisconnect?: boolean): void {
    user.status(USER_STATUS.disconnected);
    this.users.delete(user.id);
    if (autoDisconnect && this.users.size === 0) void this.end().then(done);
    else done();
  }

  subscribe(topic: string, options: { qos: QoS }, callback: MessageCallback, ref: string): void {
    const filter = checkFilter(topic);
    const qos = checkQos(options?.qos ?? 0, "subscription");
    if (typeof callback !== "function") throw new PlugwatchError("INVALID_REQUEST", `subscription to '${filter}' needs a callback function`);
    const refs = this.subs.get(filter) ?? new Map<string, Subscription>();
    this.subs.set(filter, refs);
    if (!this.ids.has(filter)) this.ids.set(filter, this.nextId++);
    refs.set(String(ref), { qos, callback });
    if (this.isConnected) this.brokerSubscribe(filter);
  }

  unsubscribe(topic: string, ref: string): void {
    const refs = this.subs.get(topic);
    if (!refs?.delete(String(ref)) || refs.size > 0) return;
    this.subs.delete(topic);
    this.granted.delete(topic);
    this.ids.delete(topic);
    if (this.isConnected && this.client) {
      this.client.unsubscribe(topic, (err) => {
        if (err) this.log.error(`${this.where}: unsubscribe '${topic}' failed: ${err.message}`);
      });
    }
  }

  publish(msg: PublishMessage, done?: PublishDone): void {
    const finish = (err?: Error | null): void => {
      if (done) done(err ?? undefined);
      else if (err) this.log.error(`${this.where}: publish failed: ${err.message}`);
    };
    let topic: string;
    let qos: QoS;
    try {
      if (msg === null || typeof msg !== "object") throw new PlugwatchError("INVALID_REQUEST", "publish needs a message object {topic, payload, qos, retain}");
      topic = checkPublishTopic(msg.topic);
      if (typeof msg.payload !== "string" && !Buffer.isBuffer(msg.payload)) {
        throw new PlugwatchError(
          "INVALID_REQUEST",
          `payload for '${topic}' must be a string or a Buffer (got ${msg.payload === null ? "null" : typeof msg.payload})`,
        );
      }
      qos = checkQos(msg.qos ?? 0, "publish");
    } catch (err) {
      return finish(err instanceof Error ? err : new Error(message(err)));
    }
    if (!this.isConnected || !this.client) return finish(new NotConnectedError(this.where));
    // QoS 1/2: mqtt.js calls back on PUBACK/PUBCOMP; QoS 0: once the packet is written.
    const acked: PublishDone = (err) => {
      if (!this.unacked.delete(acked)) return;
      if (this.unacked.size === 0) for (const wake of this.drained.splice(0)) wake();
      finish(err);
    };
    this.unacked.set(acked, this.client);
    this.client.publish(topic, msg.payload, { qos, retain: msg.retain === true }, (err) => acked(err));
  }

  /** Ends the connection for good (node close / redeploy); resolves once the socket is closed (at most endTimeoutMs). */
  close(): Promise<void> {
    this.closed = true;
    return this.end();
  }

  private current(): UserStatus {
    if (this.isConnected) return USER_STATUS.connected;
    return this.client ? USER_STATUS.connecting : USER_STATUS.disconnected;
  }

  private tell(status: UserStatus): void {
    for (const user of [...this.users.values()]) user.status(status);
  }

  private start(): void {
    const o = this.options;
    const options: IClientOptions = {
      clientId: o.clientId,
      keepalive: o.keepaliveS ?? 60,
      protocolVersion: o.protocolVersion ?? 4,
      reconnectPeriod: o.reconnectPeriodMs ?? 5000,
      connectTimeout: o.connectTimeoutMs ?? 30_000,
      clean: true,
      resubscribe: false,
      queueQoSZero: false,
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
    };
    // The constructor connects at once (socket events come later, after the listeners below are on).
    const client = new MqttClient(noDelayStreamBuilder(o), options);
    this.client = client;
    const mine = (): boolean => this.client === client;
    client.on("connect", (connack) => {
      if (!mine()) return;
      this.isConnected = true;
      this.granted.clear();
      this.useIds = options.protocolVersion === 5 && connack.properties?.subscriptionIdentifiersAvailable !== false;
      this.log.info(`connected to ${this.where} as ${o.clientId}`);
      for (const filter of this.subs.keys()) this.brokerSubscribe(filter);
      this.tell(USER_STATUS.connected);
    });
    client.on("reconnect", () => {
      if (mine()) this.tell(USER_STATUS.connecting);
    });
    client.on("close", () => {
      if (!mine() || !this.isConnected) return;
      this.isConnected = false;
      this.log.info(`disconnected from ${this.where}`);
      this.tell(USER_STATUS.disconnected);
    });
    // Socket errors (ECONNREFUSED, TLS) and refused CONNACKs: logged; mqtt.js reconnects by itself.
    client.on("error", (err) => {
      if (mine()) this.log.error(`${this.where}: ${err.message}`);
    });
    client.on("message", (topic, payload, packet) => {
      if (mine()) this.dispatch(topic, payload, packet);
    });
    this.tell(USER_STATUS.connecting);
  }

  /** Subscribes `filter` at the highest QoS its refs ask for, unless the session already has it at that QoS. */
  private brokerSubscribe(filter: string): void {
    const refs = this.subs.get(filter);
    if (!refs || !this.client) return;
    const qos = Math.max(...[...refs.values()].map((s) => s.qos)) as QoS;
    const had = this.granted.get(filter);
    if (had !== undefined && had >= qos) return;
    this.granted.set(filter, qos);
    const id = this.ids.get(filter);
    const properties = this.useIds && id !== undefined ? { properties: { subscriptionIdentifier: id } } : {};
    this.client.subscribe(filter, { qos, ...properties }, (err, grants) => {
      if (err) this.log.error(`${this.where}: subscribe '${filter}' failed: ${err.message}`);
      else if (grants?.some((g) => g.qos === 128)) this.log.error(`${this.where}: the broker refused the subscription '${filter}'`);
    });
  }

  /**
   * Every callback whose filter matches the topic gets the message. With MQTT 5 subscription identifiers, only the
   * filters the broker names: Mosquitto 5 sends one copy per matching subscription, and each copy names its own.
   */
  private dispatch(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const named = packet.properties?.subscriptionIdentifier;
    const ids = named === undefined ? undefined : new Set(Array.isArray(named) ? named : [named]);
    for (const [filter, refs] of this.subs) {
      if (ids ? !ids.has(this.ids.get(filter) ?? -1) : !topicMatches(filter, topic)) continue;
      for (const sub of [...refs.values()]) {
        try {
          sub.callback(topic, payload, packet);
        } catch (err) {
          this.log.error(`${this.where}: handler of '${filter}' failed: ${message(err)}`);
        }
      }
    }
  }

  private async end(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.granted.clear();
    const wasConnected = this.isConnected;
    this.isConnected = false;
    if (wasConnected) this.log.info(`disconnected from ${this.where}`);
    this.tell(USER_STATUS.disconnected);
    const ms = this.options.endTimeoutMs ?? 2000;
    const due = (): PublishDone[] => [...this.unacked].filter(([, c]) => c === client).map(([done]) => done);
    // Wait (bounded) for acknowledgements still due, then end: a clean DISCONNECT when connected and nothing is
    // pending, else at once. mqtt.js keeps unacknowledged publishes for a reconnect that will not come: fail them.
    if (wasConnected && due().length > 0) await this.within(ms, (wake) => this.drained.push(wake));
    const left = due();
    const ended = await this.within(ms, (wake) => client.end(!wasConnected || left.length > 0, {}, () => wake()));
    if (!ended) client.stream?.destroy();
    for (const done of left) done(new Error(`connection to ${this.where} closed before the broker acknowledged the publish`));
  }

  /** Runs `start(wake)`; true when wake() came within `ms`, false on timeout. */
  private within(ms: number, start: (wake: () => void) => void): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = this.timers.setTimeout(() => resolve(false), ms);
      start(() => {
        this.timers.clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/** The interface for a node whose configuration is invalid: never connects, every publish fails with `error`. */
export function unavailableConnection(error: Error): MqttPort {
  return {
    connected: false,
    register: (user) => user.status({ fill: "red", shape: "ring", text: error.message.slice(0, 40) }),
    deregister: (_user, done) => done(),
    subscribe: () => undefined,
    unsubscribe: () => undefined,
    publish: (_msg, done) => done?.(error),
  };
}
