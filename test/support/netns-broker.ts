// Runs the embedded broker (lib/broker/embedded) in whatever network namespace it is started in, for the second-host
// test: PW_PORT, PW_HOSTS (empty = the default, loopback), PW_PASSWD (a mosquitto_passwd file). Prints LISTENING or
// REFUSED: <message>, then waits for SIGTERM.
import { readFileSync } from "node:fs";
import { parseHosts, startEmbeddedBroker } from "../../lib/broker/embedded";
import { parsePasswd } from "../../lib/broker/passwd";

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
  } catch (err) {
    process.stdout.write(`REFUSED: ${(err as Error).message}\n`);
    process.exit(3);
  }
}
void main();
