// The one-command demo: simulated office + local InfluxDB (when none answers) + Node-RED with the shipped flows.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { SimulatedOffice } from "./sim/office";
import { findInfluxd, launchInfluxd, pingInflux, stopProcess } from "./services/influxd";
import { flowEnv } from "./services/flow-env";
import { credentialSecret, installFlow } from "./services/install-flow";
import { nodeRedBase, probeStatus } from "./services/node-red-url";
import { projectRoot } from "./services/repo-root";

const root = projectRoot();
const env = (name: string, fallback: string): string => (process.env[name] && process.env[name].trim()) || fallback;

/** The demo's API token: PLUGWATCH_API_TOKENS when set, else one generated once and kept in the user dir (mode 600). */
function apiTokens(userDir: string): { tokens: string; demoToken?: string } {
  const given = process.env.PLUGWATCH_API_TOKENS;
  if (given && given.trim()) return { tokens: given };
  const file = path.join(userDir, "demo-api-token");
  let token = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
  if (!token) {
    token = `pw-demo-${randomBytes(18).toString("base64url")}`;
    writeFileSync(file, token + "\n", { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { tokens: `${token} read,control`, demoToken: token };
}

/**
 * An MQTT identity for the embedded broker: `<envPrefix>_USER`/`_PASSWORD` when set, else `user` with a password
 * generated once and kept in the user dir (`file`, mode 600). Anonymous clients are read-only.
 */
function brokerIdentity(userDir: string, envPrefix: string, user: string, file: string): { user: string; password: string } {
  const given = process.env[`${envPrefix}_USER`]?.trim();
  if (given) return { user: given, password: process.env[`${envPrefix}_PASSWORD`] ?? "" };
  const where = path.join(userDir, file);
  let password = existsSync(where) ? readFileSync(where, "utf8").trim() : "";
  if (!password) {
    password = randomBytes(24).toString("base64url");
    writeFileSync(where, password + "\n", { mode: 0o600 });
    chmodSync(where, 0o600);
  }
  return { user, password };
}

/** Waits until Node-RED answers GET /settings (200, or 401 with admin auth); false when it exits or times out. */
async function waitForNodeRed(base: string, proc: ChildProcess, timeoutMs = 60000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && proc.exitCode === null) {
    const status = await probeStatus(`${base}/settings`, 2000);
    if (status === 200 || status === 401) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function main(): Promise<void> {
  const port = env("PORT", "1880");
  const userDir = path.resolve(env("PLUGWATCH_USER_DIR", path.join(root, ".node-red")));
  const registry = path.resolve(root, env("PLUGWATCH_REGISTRY", "flows/registry/office-mixed.json"));
  const influxUrl = env("PLUGWATCH_INFLUX_URL", "http://127.0.0.1:8086");
  const mqttPort = env("PLUGWATCH_MQTT_PORT", "1883");
  const flowSource = path.join(root, "flows", "plugwatch.json");
  mkdirSync(userDir, { recursive: true });

  let office: SimulatedOffice | undefined;
  let influxd: ChildProcess | undefined;
  // Assigned at step 3 but declared here: a SIGINT during steps 1-2 runs shutdown(), which must see `undefined`.
  let red: ChildProcess | undefined = undefined;
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
    // KLAP/Tapo plugs of a mixed registry (flows/registry/office-mixed.json) use blank credentials here, as plugs
    // never added to an app do, so the shipped flow needs no TP-Link account node.
    office = await SimulatedOffice.fromRegistryFile(registry, { credentialsFor: () => undefined });
    console.log(`simulated office: ${office.size} plugs from ${path.relative(root, registry)}`);
  }

  // 2. InfluxDB: use the configured one; else start the system influxd with a project config on loopback.
  let influxNote = `InfluxDB   ${influxUrl}`;
  if (await pingInflux(influxUrl)) {
    console.log(`InfluxDB: using ${influxUrl}`);
  } else {
    const bin = findInfluxd();
    const u = new URL(influxUrl);
    if (bin && ["127.0.0.1", "localhost"].includes(u.hostname)) {
      const started = await launchInfluxd({
        bin,
        dir: path.join(userDir, "influxdb"),
        httpPort: Number(u.port || 8086),
        rpcPort: Number(env("PLUGWATCH_INFLUX_RPC_PORT", "8088")),
      });
      influxd = started.proc;
      console.log(`InfluxDB: started ${bin} on ${started.url} (data in ${path.relative(root, path.join(userDir, "influxdb"))})`);
    } else {
      influxNote = `InfluxDB   none at ${influxUrl}: readings spool on disk, data endpoints answer 503 (apt-get install -y influxdb)`;
      console.log(`InfluxDB: none at ${influxUrl} — readings spool on disk until it is reachable; data endpoints answer 503.`);
      console.log("          install it with: apt-get install -y influxdb   (or run bash scripts/install.sh)");
    }
  }

  // 3. Node-RED with the shipped flows. First run (no flow file in the user dir, or PLUGWATCH_RESET_FLOWS=true): the
  //    flow is installed like an editor import — flows.json plus flows_cred.json holding its ${ENV} credential
  //    references, encrypted with the credential secret. Later runs keep whatever was deployed from the editor.
  const flowFile = path.join(userDir, "flows.json");
  const secret = credentialSecret(userDir);
  if (existsSync(flowSource) && (!existsSync(flowFile) || env("PLUGWATCH_RESET_FLOWS", "false") === "true")) {
    const n = installFlow(flowSource, flowFile, secret);
    console.log(`installed flows/plugwatch.json into ${flowFile} (${n} nodes with credentials from env)`);
  }
  const { tokens, demoToken } = apiTokens(userDir);
  // The runtime (role agents) and the collector (role collector, only the registry's devices) each have their own identity.
  const mqttIdentity = brokerIdentity(userDir, "PLUGWATCH_MQTT", "runtime", "mqtt-runtime-password");
  const collectorIdentity = brokerIdentity(userDir, "PLUGWATCH_COLLECTOR", "collector", "mqtt-collector-password");
  const flowVars = flowEnv(
    {
      PLUGWATCH_REGISTRY: registry,
      PLUGWATCH_INFLUX_URL: influxUrl,
      PLUGWATCH_MQTT_PORT: mqttPort,
      PLUGWATCH_MQTT_HOST: env("PLUGWATCH_MQTT_HOST", "127.0.0.1"),
      PLUGWATCH_BROKER_PORT: env("PLUGWATCH_BROKER_PORT", mqttPort),
      PLUGWATCH_MQTT_USER: mqttIdentity.user,
      PLUGWATCH_MQTT_PASSWORD: mqttIdentity.password,
      PLUGWATCH_COLLECTOR_USER: collectorIdentity.user,
      PLUGWATCH_COLLECTOR_PASSWORD: collectorIdentity.password,
      PLUGWATCH_API_TOKENS: tokens,
      PLUGWATCH_INFLUX_RPC: env("PLUGWATCH_INFLUX_RPC", `127.0.0.1:${env("PLUGWATCH_INFLUX_RPC_PORT", "8088")}`),
    },
    true,
  );
  red = spawn(process.execPath, [path.join(root, "node_modules", "node-red", "red.js"), "-s", path.join(root, "settings.js")], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, ...flowVars, PORT: port, PLUGWATCH_USER_DIR: userDir, PLUGWATCH_CREDENTIAL_SECRET: secret },
  });
  red.on("exit", (code) => void shutdown(code ?? 0));
  const base = nodeRedBase({ ...process.env, PORT: port });
  if (!(await waitForNodeRed(base, red))) {
    console.error(`Node-RED did not answer on ${base}`);
    await shutdown(1);
    return;
  }
  const auth = demoToken ? `\n  API token  ${demoToken}   (curl -H "Authorization: Bearer ${demoToken}" ${base}/api/v1/devices)` : "";
  console.log(
    `\nPlugwatch demo\n  editor     ${base}/\n  dashboard  ${base}/dashboard\n  REST API   ${base}/api/v1  (OpenAPI: ${base}/api/v1/openapi.json)${auth}\n` +
      `  MQTT       mqtt://${flowVars.PLUGWATCH_MQTT_HOST}:${mqttPort}\n  ${influxNote}\nCtrl-C stops everything.\n`,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
