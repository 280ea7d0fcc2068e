// The collector → broker outbox against a real aedes broker: a broker outage (and a restart of the outbox while the
// broker is away) loses nothing; the backlog is published in order, exactly once, after the reconnect.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { Outbox, type OutboxMessage, type OutboxPort } from "../../lib/outbox";
import { startAedes, type AedesInstance } from "../../scripts/harness/mosquitto";

/** An OutboxPort over an mqtt.js client (what a collector with its own connection would use). */
class ClientPort implements OutboxPort {
  client?: MqttClient;
  connected(): boolean {
    return this.client?.connected === true;
  }
  async publish(m: OutboxMessage): Promise<void> {
    if (!this.client?.connected) throw new Error("not connected");
    await this.client.publishAsync(m.topic, typeof m.payload === "string" ? m.payload : JSON.stringify(m.payload), { qos: m.qos, retain: m.retain });
  }
}

const reading = (i: number): OutboxMessage => ({
  topic: "pwob/hq/1/lab/ws-1/reading",
  payload: { v: 1, device: "ws-1", ts: 1764000000000 + i * 1000, power: i },
  qos: 1,
  retain: false,
});

describe("outbox (collector → broker buffer) with a real aedes broker", function () {
  this.timeout(20_000);
  let dir: string;
  let broker: AedesInstance;
  const clients: MqttClient[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-outbox-"));
  });
  afterEach(async () => {
    for (const c of clients) await c.endAsync(true);
    clients.length = 0;
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function subscriber(url: string, got: number[]): Promise<void> {
    const s = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    clients.push(s);
    s.on("message", (_t, p) => got.push((JSON.parse(p.toString()) as { power: number }).power));
    await s.subscribeAsync("pwob/#", { qos: 1 });
  }

  it("buffers every message while the broker is away, across an outbox restart, and publishes them in order exactly once", async () => {
    broker = await startAedes();
    const port = broker.port;
    const url = broker.url;
    const got: number[] = [];
    await subscriber(url, got);
    const out = new ClientPort();
    out.client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    clients.push(out.client);
    let box = await Outbox.open({ dir, maxBytes: 1e6, flushMs: 0, port: out });
    for (let i = 0; i < 5; i++) await box.send(reading(i));
    assert.equal(box.stats().buffered, 0, "connected: published directly");
    for (let t = 0; got.length < 5 && t < 200; t++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, [0, 1, 2, 3, 4]);

    // The broker goes away (the embedded broker restarts; Mosquitto is stopped).
    await broker.stop();
    for (let t = 0; out.client.connected && t < 100; t++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(out.client.connected, false);
    for (let i = 5; i < 25; i++) await box.send(reading(i));
    assert.deepEqual(box.stats(), { pending: 20, buffered: 20, replayed: 0, refused: 0 });
    // Node-RED restarts while the broker is still away: the outbox is closed and reopened from disk.
    await box.close();
    box = await Outbox.open({ dir, maxBytes: 1e6, flushMs: 0, port: out });
    assert.equal(box.stats().pending, 20, "recovered from disk");
    for (let i = 25; i < 30; i++) await box.send(reading(i));
    assert.equal(box.stats().pending, 25);

    // The broker is back on the same port; the subscriber first, then the collector's connection.
    broker = await startAedes({ port });
    await subscriber(url, got);
    out.client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    clients.push(out.client);
    await box.resume(); // what the collector calls on every (re)connect
    for (let t = 0; got.length < 30 && t < 200; t++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got.join(","), Array.from({ length: 30 }, (_, i) => i).join(","), "every message once, in order");
    assert.deepEqual(box.stats(), { pending: 0, buffered: 5, replayed: 25, refused: 0 }, "this instance buffered 5, replayed all 25");
    // After the backlog, new messages go straight out again.
    await box.send(reading(30));
    for (let t = 0; got.length < 31 && t < 200; t++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(got.at(-1), 30);
    await box.close();
  });

  it("keeps on disk, when closed, the direct publishes still waiting for their acknowledgement (a hung broker)", async () => {
    // A broker that took the messages but never acknowledges them (TCP still open, e.g. a frozen process); the
    // client rejects them only when Node-RED ends it, after the outbox has closed.
    const rejects: Array<() => void> = [];
    const hung: OutboxPort = {
      connected: () => true,
      publish: () => new Promise<void>((_resolve, reject) => rejects.push(() => reject(new Error("Connection closed")))),
    };
    const logs: string[] = [];
    const box = await Outbox.open({ dir, maxBytes: 1e6, flushMs: 0, port: hung, log: (m) => logs.push(m) });
    const sends = [0, 1, 2].map((i) => box.send(reading(i)));
    assert.equal(rejects.length, 3, "all three went out directly");
    await box.close();
    for (const r of rejects) r();
    await Promise.all(sends); // a late rejection after close neither throws nor refuses
    assert.equal(box.stats().refused, 0);

    const down = new ClientPort(); // never connected: the reopened outbox only recovers
    const again = await Outbox.open({ dir, maxBytes: 1e6, flushMs: 0, port: down, log: (m) => logs.push(m) });
    assert.equal(again.stats().pending, 3);
    assert.ok(
      logs.some((l) => /outbox: 3 message\(s\) recovered/.test(l)),
      logs.join("\n"),
    );
    await again.close();
  });

  it("is bounded: when full, the oldest messages make room (the newest readings and availability are kept)", async () => {
    broker = await startAedes();
    const out = new ClientPort(); // never connected
    const box = await Outbox.open({ dir, maxBytes: 4000, flushMs: 0, port: out });
    for (let i = 0; i < 100; i++) await box.send(reading(i));
    const st = box.stats();
    assert.ok(st.pending > 0 && st.pending < 100, `bounded (${st.pending})`);
    await box.close();
  });
});
