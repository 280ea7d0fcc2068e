// An MQTT client for the second-host test, run inside the other namespace: PW_URL, optional PW_USER/PW_PASS; it
// connects, optionally subscribes (PW_SUB) and publishes (PW_PUB topic, PW_PAYLOAD or {}), and prints one JSON line
// with what happened.
import mqtt from "mqtt";

async function main(): Promise<void> {
  const out: Record<string, unknown> = {};
  try {
    const c = await mqtt.connectAsync(process.env.PW_URL!, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 3000,
      ...(process.env.PW_USER ? { username: process.env.PW_USER, ...(process.env.PW_PASS !== undefined && { password: process.env.PW_PASS }) } : {}),
    });
    out.connected = true;
    if (process.env.PW_SUB) {
      try {
        await c.subscribeAsync(process.env.PW_SUB, { qos: 1 });
        out.subscribed = true;
      } catch (err) {
        out.subscribed = false;
        out.subscribeError = (err as Error).message;
      }
    }
    if (process.env.PW_PUB) {
      const closed = new Promise<boolean>((resolve) => {
        c.once("close", () => resolve(true));
        setTimeout(() => resolve(false), 1500);
      });
      c.publish(process.env.PW_PUB, process.env.PW_PAYLOAD ?? "{}", { qos: 0 });
      out.closedAfterPublish = await closed;
    }
    await c.endAsync(true);
  } catch (err) {
    out.connected = false;
    out.error = (err as Error).message;
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
void main();
