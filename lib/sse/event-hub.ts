// Server-sent events fan-out: one hub per endpoint keeps the connected clients (capped), the latest event per key
// (the snapshot a new client gets) and a bounded history (the replay for a client reconnecting with Last-Event-ID),
// and writes heartbeats on an injected clock. Pure: a client is anything that can write text and end.
import type { Clock, TimerHandle } from "../clock";

/** One connected client: the response stream, seen through what the hub needs. */
export interface SseClient {
  write(chunk: string): void;
  end(): void;
  /** Bytes written but not yet sent (a stalled client grows this); the hub drops a client beyond maxBufferedBytes. */
  buffered(): number;
}

export interface SseHubOptions {
  clock: Clock;
  /** Concurrent clients at most; connect() refuses the next one. */
  maxClients: number;
  /** A comment line every this many ms keeps proxies and the browser from timing the stream out (0: none). */
  heartbeatMs: number;
  /** Events kept for Last-Event-ID replay. */
  historySize: number;
  /** The browser's reconnect delay, sent as `retry:` on connect (ms). */
  retryMs: number;
  /** A client with more unsent bytes than this is disconnected (its browser reconnects and gets a snapshot). */
  maxBufferedBytes?: number;
}

export interface SseEvent {
  /** `<hub epoch>-<sequence>`: ids of an earlier hub (before a redeploy or restart) are recognised as stale. */
  id: string;
  seq: number;
  /** Events with a key make up the snapshot (the latest one per key). */
  key?: string;
  event?: string;
  data: string;
}

export type ConnectResult =
  { ok: true; replayed: "history" | "snapshot"; events: number; detach(): void } | { ok: false; reason: "TOO_MANY_CLIENTS" | "CLOSED" };

const DEFAULT_MAX_BUFFERED = 1024 * 1024;
/** Most snapshot entries restore() takes (the newest): a registry's devices and rooms, with room to spare. */
export const MAX_RESTORED = 100_000;

/** One key's latest event as kept across a redeploy. */
export interface SnapshotEntry {
  key: string;
  data: string;
  event?: string;
}
/** Hubs made by this process: with the start time, tells apart two hubs started in the same millisecond. */
let hubsMade = 0;

/** The wire form of one event: id, optional event type, one `data:` line per line of the data. */
export function formatEvent(e: Pick<SseEvent, "id" | "event" | "data">): string {
  const lines = [`id: ${e.id}`];
  if (e.event) lines.push(`event: ${e.event.replace(/[\r\n]/g, " ")}`);
  for (const line of e.data.split(/\r\n|\r|\n/)) lines.push(`data: ${line}`);
  return `${lines.join("\n")}\n\n`;
}

/** A payload as event data: strings as they are, anything else as JSON. */
export const eventData = (payload: unknown): string => (typeof payload === "string" ? payload : (JSON.stringify(payload) ?? "null"));

export class SseHub {
  private readonly clients = new Set<SseClient>();
  private readonly latest = new Map<string, SseEvent>();
  private readonly history: SseEvent[] = [];
  private readonly epoch: string;
  private seq = 0;
  private heartbeat: TimerHandle | undefined;
  private closed = false;
  private dropped = 0;

  constructor(private readonly opts: SseHubOptions) {
    if (!Number.isInteger(opts.maxClients) || opts.maxClients < 1) throw new RangeError(`maxClients must be a positive integer, not ${opts.maxClients}`);
    if (!Number.isInteger(opts.historySize) || opts.historySize < 0) throw new RangeError(`historySize must be an integer ≥ 0, not ${opts.historySize}`);
    if (!(opts.heartbeatMs >= 0)) throw new RangeError(`heartbeatMs must be ≥ 0, not ${opts.heartbeatMs}`);
    this.epoch = `${opts.clock.now().toString(36)}x${(++hubsMade).toString(36)}`;
  }

  get clientCount(): number {
    return this.clients.size;
  }
  /** Clients disconnected for stalling (unsent bytes over the bound) since the start. */
  get droppedCount(): number {
    return this.dropped;
  }
  /** True when connect() would refuse the next client for the cap. */
  get full(): boolean {
    return this.clients.size >= this.opts.maxClients;
  }
  get maxClients(): number {
    return this.opts.maxClients;
  }
  /** Keys in the snapshot. */
  get keyCount(): number {
    return this.latest.size;
  }

  /** The snapshot as plain entries (the latest event per key, in publish order), for keeping across a redeploy. */
  snapshotEntries(): SnapshotEntry[] {
    return [...this.latest.values()].map((e) => ({ key: e.key!, data: e.data, ...(e.event ? { event: e.event } : {}) }));
  }

  /**
   * Takes back what snapshotEntries() gave (e.g. kept in the node's context by the hub of the previous deploy): each
   * entry becomes its key's latest, unless the key was published since. Anything malformed is skipped, at most
   * MAX_RESTORED entries are taken. Returns how many entries were restored.
   */
  restore(saved: unknown): number {
    if (!Array.isArray(saved)) return 0;
    let n = 0;
    for (const x of saved.slice(-MAX_RESTORED) as unknown[]) {
      if (x === null || typeof x !== "object") continue;
      const { key, data, event } = x as Record<string, unknown>;
      if (typeof key !== "string" || !key || typeof data !== "string" || (event !== undefined && typeof event !== "string")) continue;
      if (this.latest.has(key)) continue;
      const e: SseEvent = { id: `${this.epoch}-${++this.seq}`, seq: this.seq, key, data, ...(event ? { event } : {}) };
      this.latest.set(key, e);
      n++;
    }
    return n;
  }

  /** Sends an event to every client, remembers it for replay and (with a key) as the key's latest. */
  publish(data: string, key?: string, event?: string): SseEvent {
    const e: SseEvent = { id: `${this.epoch}-${++this.seq}`, seq: this.seq, data, ...(key ? { key } : {}), ...(event ? { event } : {}) };
    if (this.closed) return e;
    if (key) {
      this.latest.delete(key); // re-inserted last: the snapshot comes in publish order
      this.latest.set(key, e);
    }
    if (this.opts.historySize > 0) {
      this.history.push(e);
      if (this.history.length > this.opts.historySize) this.history.shift();
    }
    const text = formatEvent(e);
    for (const c of [...this.clients]) this.send(c, text);
    return e;
  }

  /**
   * Attaches a client: `retry:`, then the events after `lastEventId` when the history still holds them (same hub, not
   * too old), else the snapshot. Refused beyond maxClients. detach() (on the request's close) forgets the client.
   */
  connect(client: SseClient, lastEventId?: string): ConnectResult {
    if (this.closed) return { ok: false, reason: "CLOSED" };
    if (this.clients.size >= this.opts.maxClients) return { ok: false, reason: "TOO_MANY_CLIENTS" };
    this.clients.add(client);
    const missed = this.since(lastEventId);
    const events = missed ?? [...this.latest.values()];
    client.write(`retry: ${this.opts.retryMs}\n\n${events.map(formatEvent).join("")}`);
    if (this.clients.size === 1) this.startHeartbeat();
    return { ok: true, replayed: missed ? "history" : "snapshot", events: events.length, detach: () => this.detach(client) };
  }

  /** Ends every client's stream and stops the heartbeat; later publishes and connects do nothing. */
  close(): void {
    this.closed = true;
    this.stopHeartbeat();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  /** The events after `lastEventId`, or undefined when it is not this hub's or is older than the history. */
  private since(lastEventId: string | undefined): SseEvent[] | undefined {
    const m = /^([0-9a-z]+x[0-9a-z]+)-(\d+)$/.exec(lastEventId ?? "");
    if (!m || m[1] !== this.epoch) return undefined;
    const seq = Number(m[2]);
    if (seq > this.seq) return undefined;
    if (seq === this.seq) return [];
    const first = this.history[0];
    if (!first || first.seq > seq + 1) return undefined; // some missed events are gone: a snapshot instead
    return this.history.filter((e) => e.seq > seq);
  }

  private detach(client: SseClient): void {
    if (!this.clients.delete(client)) return;
    if (this.clients.size === 0) this.stopHeartbeat();
  }

  private send(client: SseClient, text: string): void {
    if (client.buffered() > (this.opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED)) {
      this.dropped++;
      this.detach(client);
      client.end();
      return;
    }
    client.write(text);
  }

  private startHeartbeat(): void {
    if (this.opts.heartbeatMs <= 0 || this.heartbeat !== undefined) return;
    this.heartbeat = this.opts.clock.setInterval(() => {
      for (const c of [...this.clients]) this.send(c, ": heartbeat\n\n");
    }, this.opts.heartbeatMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat === undefined) return;
    this.opts.clock.clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
