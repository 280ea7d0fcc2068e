// Durable, bounded, ordered outbox for the collector → broker leg: messages wait on disk (the spool's format and
// recovery) while the MQTT connection is down and are published in order, each acknowledged, once it is back.
import { PlugwatchError } from "./contracts/errors";
import { Spool, type SpoolOptions } from "./spool";

/** One MQTT publish as the collector emits it. */
export interface OutboxMessage {
  topic: string;
  payload: unknown;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** The connection the outbox publishes through (an MQTT client adapter). */
export interface OutboxPort {
  connected(): boolean;
  /** Resolves once the broker acknowledged the message (PUBACK for QoS 1); rejects when it could not be sent. */
  publish(msg: OutboxMessage): Promise<void>;
}

export interface OutboxStats {
  /** Messages waiting on disk. */
  pending: number;
  /** Messages that went to disk because the connection was down (or a publish failed). */
  buffered: number;
  /** Messages published from the disk buffer after a reconnect. */
  replayed: number;
  /** Messages refused because the buffer was full (SPOOL_FULL). */
  refused: number;
}

/**
 * While connected and nothing waits, a message is published directly; otherwise it is appended to the spool and
 * `resume()` (call it on every (re)connect) publishes the backlog in order, acknowledging each message after its
 * PUBACK. A crash between PUBACK and the acknowledgement re-sends that message at the next start (at least once);
 * readings are idempotent in InfluxDB (same series and timestamp), so each is stored exactly once.
 */
export class Outbox {
  private draining?: Promise<void> | undefined;
  private readonly counters = { buffered: 0, replayed: 0, refused: 0 };
  /** Direct publishes waiting for their acknowledgement: close() keeps them on disk rather than lose them. */
  private readonly inFlight = new Set<OutboxMessage>();
  private closing = false;

  private constructor(
    private readonly spool: Spool,
    private readonly port: OutboxPort,
    private readonly log: (msg: string) => void,
  ) {}

  static async open(opts: Omit<SpoolOptions, "policy" | "fairShare"> & { port: OutboxPort }): Promise<Outbox> {
    // drop-oldest: after a very long outage the newest readings and availability matter most; no per-key share
    // (the collector is the only writer of its outbox).
    const spool = await Spool.open({ ...opts, policy: "drop-oldest", fairShare: false });
    const box = new Outbox(spool, opts.port, opts.log ?? (() => undefined));
    if (spool.backlogLines > 0) box.log(`outbox: ${spool.backlogLines} message(s) recovered from ${spool.dir}`);
    return box;
  }

  stats(): OutboxStats {
    return { pending: this.spool.backlogLines, ...this.counters };
  }

  /** Publishes now, or buffers durably (resolves once on disk). Order is kept: nothing overtakes the backlog. */
  async send(msg: OutboxMessage): Promise<void> {
    if (this.port.connected() && this.spool.backlogLines === 0 && !this.draining && !this.closing) {
      this.inFlight.add(msg);
      try {
        await this.port.publish(msg);
        this.inFlight.delete(msg);
        return;
      } catch {
        // The connection went away during the publish: keep the message, unless close() already put it on disk.
        if (!this.inFlight.delete(msg)) return;
      }
    }
    try {
      await this.spool.appendAsync([JSON.stringify(msg)]);
      this.counters.buffered++;
    } catch (err) {
      this.counters.refused++;
      throw err instanceof PlugwatchError ? err : new PlugwatchError("SPOOL_FULL", String(err));
    }
    if (this.port.connected()) void this.resume();
  }

  /** Publishes the backlog in order (call on connect); stops at the first failure and resumes on the next call. */
  resume(): Promise<void> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (!this.port.connected()) return;
      const batch = await this.spool.peek(this.spool.headSeq, 100);
      if (!batch) return;
      const lines = batch.body.toString("utf8").split("\n");
      for (let i = 0; i < batch.count; i++) {
        let msg: OutboxMessage;
        try {
          msg = JSON.parse(lines[i] ?? "") as OutboxMessage; // a missing line is unreadable too
        } catch {
          this.log(`outbox: skipped an unreadable message at ${batch.fromSeq + i}`);
          this.spool.ack(batch.fromSeq + i + 1);
          continue;
        }
        try {
          await this.port.publish(msg);
        } catch {
          return; // disconnected again: the rest waits for the next resume()
        }
        this.counters.replayed++;
        this.spool.ack(batch.fromSeq + i + 1);
      }
    }
  }

  /**
   * Waits for a running drain, keeps on disk every direct publish still waiting for its acknowledgement (it is
   * re-sent at the next start if the acknowledgement never came: at least once), then closes the spool.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.draining?.catch(() => undefined);
    const pending = [...this.inFlight];
    this.inFlight.clear();
    if (pending.length > 0) {
      await this.spool.appendAsync(pending.map((m) => JSON.stringify(m))).then(
        () => void (this.counters.buffered += pending.length),
        (err: Error) => this.log(`outbox: ${pending.length} unacknowledged message(s) could not be kept: ${err.message}`),
      );
    }
    await this.spool.close();
  }
}
