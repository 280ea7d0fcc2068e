// Runs the embedded broker (lib/broker/embedded) in whatever network namespace it is started in, for the second-host
// test: PW_PORT, PW_HOSTS (empty = the default, loopback), PW_PASSWD (a mosquitto_passwd file). Prints LISTENING or
// REFUSED: <message>, then waits for SIGTERM. With PW_AGENT_PASS (the runtime identity's password) it also runs a
// simulated plug `pr-1` and the real control agent (lib/control.ts) on this host, connected to the broker as
// `runtime`: it prints AGENT READY, and answers each `relay` line on stdin with `RELAY on|off` (read at the simulator).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import mqtt from "mqtt";
import { parseHosts, startEmbeddedBroker } from "../../lib/broker/embedded";
import { parsePasswd } from "../../lib/broker/passwd";
import { Controller } from "../../lib/control";
import { buildRegistry } from "../../lib/registry";
import { PlugTransports } from "../../lib/transports/plug-transports";
import { SimulatedOffice } from "../../scripts/sim/office";
import { nth } from "./checked";

async function agent(host: string, port: number, password: string): Promise<void> {
  const entry = {
    id: "pr-1",
    name: "Printer",
    model: "HS110",
    host: "127.0.0.1",
    port: 0,
    kind: "printer" as const,
    location: { building: "hq", floor: "1", room: "copy" },
  };
  const office = await SimulatedOffice.start(buildRegistry({ devices: [{ ...entry, port: 9999 }] }).devices, { portFor: () => 0, tickMs: 0, relayOn: true });
  const registry = buildRegistry({ devices: office.registryDevices().map(({ strip: _s, ...d }) => d) });
  const controller = new Controller({ registry, client: new PlugTransports({ timeoutMs: 2000 }) });
  const client = await mqtt.connectAsync(`mqtt://${host.includes(":") ? `[${host}]` : host}:${port}`, {
    username: "runtime",
    password,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  client.on("message", (topic, payload) => {
    void controller.handle(payload.toString(), topic).then(
      (r) => r.replyTo && client.publish(r.replyTo, JSON.stringify(r.reply)),
      () => undefined,
    );
  });
  await client.subscribeAsync("plugwatch/api/request/command", { qos: 1 });
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() === "relay") process.stdout.write(`RELAY ${office.plug("pr-1").relay ? "on" : "off"}\n`);
  });
  process.on("SIGTERM", () => void office.stop());
  process.stdout.write("AGENT READY\n");
}

async function main(): Promise<void> {
  const passwd = process.env.PW_PASSWD;
  try {
    const broker = await startEmbeddedBroker({
      port: Number(process.env.PW_PORT),
      hosts: parseHosts(process.env.PW_HOSTS),
      root: "plugwatch",
      ...(passwd ? { users: parsePasswd(readFileSync(passwd, "utf8")) } : {}),
    });
    process.stdout.write(`LISTENING ${broker.hosts.join(",")}\n`);
    process.on("SIGTERM", () => void broker.close().then(() => process.exit(0)));
    if (process.env.PW_AGENT_PASS) await agent(nth(broker.hosts, 0, "broker host"), Number(process.env.PW_PORT), process.env.PW_AGENT_PASS);
  } catch (err) {
    process.stdout.write(`REFUSED: ${(err as Error).message}\n`);
    process.exit(3);
  }
}
void main();
