// The one-command demo: simulated office + local InfluxDB (when none answers) + Node-RED with the shipped flows.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import * as path from "node:path";
import { SimulatedOffice } from "./sim/office";
import { findInfluxd, launchInfluxd, pingInflux, stopProcess } from "./services/influxd";

const root = path.resolve(__dirname, "..", "..");
const env = (name: string, fallback: string): string => (process.env[name] && process.env[name]!.trim()) || fallback;

async function main(): Promise<void> {
  const port = env("PORT", "1880");
  const userDir = path.resolve(env("PLUGWATCH_USER_DIR", path.join(root, ".node-red")));
  const registry = path.resolve(root, env("PLUGWATCH_REGISTRY", "flows/registry/office.json"));
  const influxUrl = env("PLUGWATCH_INFLUX_URL", "http://127.0.0.1:8086");
  const mqttPort = env("PLUGWATCH_MQTT_PORT", "1883");
  const flowSource = path.join(root, "flows", "plugwatch.json");
  mkdirSync(userDir, { recursive: true });

  let office: SimulatedOffice | undefined;
  let influxd: ChildProcess | undefined;
  let red: ChildProcess | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping…");
    await stopProcess(red, 15000);
    await stopProcess(influxd);
    await office?.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  // 1. The simulated office: real HS110 protocol on loopback, one TCP port per plug (from the registry).
  if (env("PLUGWATCH_SIMULATE", "true") !== "false") {
    office = await SimulatedOffice.fromRegistryFile(registry);
    console.log(`simulated office: ${office.size} plugs from ${path.relative(root, registry)}`);
  }

  // 2. InfluxDB: use the configured one; else start the system influxd with a project config on loopback.
  if (await pingInflux(influxUrl)) {
    console.log(`InfluxDB: using ${influxUrl}`);
  } else {
    const bin = findInfluxd();
    const u = new URL(influxUrl);
    if (bin && ["127.0.0.1", "localhost"].includes(u.hostname)) {
      const started = await launchInfluxd({ bin, dir: path.join(userDir, "influxdb"), httpPort: Number(u.port || 8086), rpcPort: Number(env("PLUGWATCH_INFLUX_RPC_PORT", "8088")) });
      influxd = started.proc;
      console.log(`InfluxDB: started ${bin} on ${started.url} (data in ${path.relative(root, path.join(userDir, "influxdb"))})`);
    } else {
      console.log(`InfluxDB: none at ${influxUrl} — readings spool on disk until it is reachable; data endpoints answer 503.`);
      console.log("          install it with: apt-get install -y influxdb   (or run bash scripts/install.sh)");
    }
  }

  // 3. Node-RED with the shipped flows (copied once into the user dir, so editing them never changes the repo).
  const flowFile = path.join(userDir, "flows.json");
  if (existsSync(flowSource) && (!existsSync(flowFile) || env("PLUGWATCH_RESET_FLOWS", "false") === "true")) copyFileSync(flowSource, flowFile);
  red = spawn(process.execPath, [path.join(root, "node_modules", "node-red", "red.js"), "-s", path.join(root, "settings.js")], {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      PORT: port,
      PLUGWATCH_USER_DIR: userDir,
      PLUGWATCH_REGISTRY: registry,
      PLUGWATCH_INFLUX_URL: influxUrl,
      PLUGWATCH_MQTT_PORT: mqttPort,
      PLUGWATCH_MQTT_HOST: env("PLUGWATCH_MQTT_HOST", "127.0.0.1"),
    },
  });
  red.on("exit", (code) => void shutdown(code ?? 0));
  const base = `http://127.0.0.1:${port}`;
  console.log(`\nPlugwatch demo\n  editor     ${base}/\n  dashboard  ${base}/dashboard\n  REST API   ${base}/api/v1  (OpenAPI: ${base}/api/v1/openapi.json)\n  MQTT       mqtt://127.0.0.1:${mqttPort}\nCtrl-C stops everything.\n`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
