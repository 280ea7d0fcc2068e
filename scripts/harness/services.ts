// Convenience for e2e tests: start the real services a test needs and tear them all down in reverse order.
import mqtt, { type MqttClient } from "mqtt";
import { startAedes, startMosquitto, type BrokerInstance, type MosquittoOptions } from "./mosquitto";

/** A LIFO list of cleanups; `run()` calls each once, keeps going when one fails, then throws the first error. */
export class Teardown {
  private readonly steps: (() => Promise<void> | void)[] = [];

  /** Registers a cleanup and returns `value`, so `const b = td.add(await startX(), (b) => b.stop())` reads naturally. */
  add<T>(value: T, cleanup: (value: T) => Promise<void> | void): T {
    this.steps.push(() => cleanup(value));
    return value;
  }

  async run(): Promise<void> {
    let first: { error: unknown } | undefined; // boxed: a thrown `undefined` still counts as a failure
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step();
      } catch (err) {
        first ??= { error: err };
      }
    }
    if (first) throw first.error;
  }
}

export type BrokerKind = "mosquitto" | "aedes";

/** Starts the chosen broker and registers its stop(). */
export async function startBroker(td: Teardown, kind: BrokerKind, opts?: MosquittoOptions): Promise<BrokerInstance> {
  const broker = kind === "mosquitto" ? await startMosquitto(opts) : await startAedes({ port: opts?.port });
  return td.add(broker, (b) => b.stop());
}

/** Connects an MQTT client (MQTT 5 for Mosquitto, 3.1.1 for aedes) and registers its end(). */
export async function connectClient(td: Teardown, url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  return td.add(client, (c) => c.endAsync(true));
}

/** Resolves with the first message on `topic` (a filter) whose payload passes `accept`, or rejects after timeoutMs. */
export function nextMessage(
  client: MqttClient,
  topic: string,
  accept: (payload: Buffer, topic: string) => boolean = () => true,
  timeoutMs = 10000,
): Promise<{ topic: string; payload: Buffer; retain: boolean }> {
  return new Promise((resolve, reject) => {
    const onMessage = (t: string, payload: Buffer, packet: { retain?: boolean }) => {
      if (!topicMatches(topic, t) || !accept(payload, t)) return;
      cleanup();
      resolve({ topic: t, payload, retain: packet.retain === true });
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no message on ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      client.off("message", onMessage);
    };
    client.on("message", onMessage);
  });
}

/** MQTT topic filter match (+ and #). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A topic root unique to one test, so tests sharing a broker never see each other's messages. */
export function uniqueRoot(prefix = "pwtest"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
