// The package as a palette user gets it: `npm pack` → tarball contents → `npm install <tarball>` into a bare Node-RED
// user dir → Node-RED (the one in test/support/runtime.ts, no nodesDir) loads it, lists its examples, and the
// basic-monitor example deployed through the admin API publishes a simulated plug's readings on a real Mosquitto.
// scripts/test-compat.sh runs this file on Node-RED 4.1 + Node 20 as well.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { MqttClient } from "mqtt";
import { Reading, validate } from "../../lib/contracts";
import type { Device } from "../../lib/contracts/device";
import { SimulatedOffice, type SimulatedPlug } from "../../scripts/sim/office";
import { exampleWithEnv, loadExample, ownLoopbackAddress, waitFor, withRegistryHost } from "../support/examples";
import { repoRoot } from "../../scripts/harness/nodered";
import { freePort } from "../../scripts/harness/ports";
import { nodeRedDir, nodeRedVersion } from "../../scripts/harness/runtime";
import { connectClient, startBroker, Teardown } from "../../scripts/harness/services";
import { nth } from "../support/checked";

const PACKAGE = "@plugwatch/node-red-plugwatch";

/** Runs a command to completion; fails the test with its output when it exits non-zero. */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 180000): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" },
  });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed (status ${r.status}, ${r.error?.message ?? ""}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A Node-RED settings file for a bare user dir: loopback only, no nodesDir, no project settings. */
function bareSettings(userDir: string, port: number): string {
  return `module.exports = ${JSON.stringify(
    {
      uiHost: "127.0.0.1",
      uiPort: port,
      userDir,
      flowFile: "flows.json",
      credentialSecret: "packaging-test",
      logging: { console: { level: "info", metrics: false, audit: false } },
      editorTheme: { tours: false },
    },
    null,
    2,
  )};\n`;
}

describe(`packaging: npm pack → npm install into a bare Node-RED ${nodeRedVersion} user dir → readings on MQTT`, function () {
  this.timeout(300000);
  const td = new Teardown();
  const root = repoRoot();
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
    version: string;
    "node-red": { nodes: Record<string, string> };
    dependencies: Record<string, string>;
  };
  const address = ownLoopbackAddress();
  let tmp: string;
  let tarball: string;
  let entries: string[];
  let userDir: string;
  let url: string;
  let logFile: string;
  let proc: ChildProcess | undefined;
  const log = () => readFileSync(logFile, "utf8");
  const tail = () => log().split("\n").slice(-40).join("\n");

  before(function () {
    tmp = td.add(mkdtempSync(path.join(os.tmpdir(), "plugwatch-packaging-")), (d) => rmSync(d, { recursive: true, force: true }));
    // dist/ is already built (npm test builds first); --ignore-scripts skips prepack's second build.
    const out = JSON.parse(run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], root)) as { filename: string }[];
    tarball = path.join(tmp, nth(out, 0, "packed file").filename);
    entries = run("tar", ["-tzf", tarball], tmp)
      .split("\n")
      .filter(Boolean)
      .map((e) => e.replace(/^package\//, ""));
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && logFile) console.log(`--- Node-RED log tail ---\n${tail()}`);
  });

  after(async function () {
    const p = proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => p.kill("SIGKILL"), 10000);
        p.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        p.kill("SIGTERM");
      });
    }
    await td.run();
  });

  it("the tarball holds every node's runtime, editor and locale, dist/lib, LICENSE and the examples; no source maps, tests, benchmarks or scripts", function () {
    for (const [type, file] of Object.entries(pkg["node-red"].nodes)) {
      assert.ok(entries.includes(file), `${type}: ${file}`);
      assert.ok(entries.includes(file.replace(/\.js$/, ".html")), `${type}: editor .html`);
      assert.ok(entries.includes(`dist/nodes/${type}/locales/en-US/${type}.json`), `${type}: en-US locale`);
    }
    for (const f of ["LICENSE", "package.json", "README.md", "examples/basic-monitor.json", "examples/basic-switch.json"]) assert.ok(entries.includes(f), f);
    assert.ok(entries.some((e) => e.startsWith("dist/lib/")));
    assert.deepEqual(
      entries.filter((e) => e.endsWith(".map")),
      [],
    );
    assert.deepEqual(
      entries.filter((e) => /^dist\/(test|bench|scripts)\//.test(e)),
      [],
    );
    assert.deepEqual(
      entries.filter((e) => e.endsWith(".ts") && !e.endsWith(".d.ts")),
      [],
      "no TypeScript sources",
    );
    // Nothing shipped reaches outside what is shipped: no require of scripts/, test/ or bench/ from dist/nodes or dist/lib.
    const outside: string[] = [];
    for (const e of entries.filter((x) => /^dist\/(nodes|lib)\/.*\.js$/.test(x))) {
      const src = readFileSync(path.join(root, e), "utf8");
      for (const m of src.matchAll(/require\("(\.[^"]+)"\)/g)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(e), nth(m, 1, "required path")));
        if (!/^dist\/(nodes|lib)\//.test(target)) outside.push(`${e} → ${m[1]}`);
      }
    }
    assert.deepEqual(outside, []);
  });

  it("npm install <tarball> into a bare user dir; Node-RED (no nodesDir) loads every node type from it and lists its examples", async function () {
    userDir = path.join(tmp, "user");
    mkdirSync(userDir);
    writeFileSync(
      path.join(userDir, "package.json"),
      JSON.stringify({ name: "node-red-project", description: "bare user dir", version: "0.0.1", private: true }),
    );
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--omit=dev", tarball], userDir, 240000);
    const installed = JSON.parse(readFileSync(path.join(userDir, "node_modules", ...PACKAGE.split("/"), "package.json"), "utf8")) as { version: string };
    assert.equal(installed.version, pkg.version);

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const settings = path.join(tmp, "settings.js");
    writeFileSync(settings, bareSettings(userDir, port));
    logFile = path.join(tmp, "node-red.log");
    const fd = openSync(logFile, "w");
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("PLUGWATCH_") && !k.startsWith("NODE_RED_")) env[k] = v;
    env.NODE_RED_DISABLE_TELEMETRY = "true";
    proc = spawn(process.execPath, [path.join(nodeRedDir, "red.js"), "-u", userDir, "-p", String(port), "-s", settings], {
      cwd: tmp,
      env,
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    await waitFor(
      "Node-RED to start its flows",
      () => {
        if (proc?.exitCode !== null) throw new Error(`Node-RED exited (code ${proc?.exitCode}):\n${tail()}`);
        return /\] Started flows/.test(log());
      },
      60000,
    );

    const r = await fetch(`${url}/nodes`, { headers: { accept: "application/json" } });
    assert.equal(r.status, 200);
    const sets = ((await r.json()) as { module: string; types: string[]; enabled: boolean; err?: string; version?: string }[]).filter(
      (s) => s.module === PACKAGE,
    );
    assert.deepEqual(sets.map((s) => s.err).filter(Boolean), [], "no node set failed to load");
    assert.deepEqual(sets.flatMap((s) => s.types).sort(), Object.keys(pkg["node-red"].nodes).sort());
    assert.ok(sets.every((s) => s.enabled && s.version === pkg.version));
    const m = await fetch(`${url}/nodes/${PACKAGE}`, { headers: { accept: "application/json" } });
    const info = (await m.json()) as { local?: boolean; user?: boolean; version: string };
    assert.equal(info.version, pkg.version);
    assert.equal(info.local, true, "loaded from the user dir's node_modules");

    const list = await fetch(`${url}/library/examples/flows/${PACKAGE}`);
    assert.equal(list.status, 200);
    const names = ((await list.json()) as { fn?: string }[]).map((e) => e.fn);
    for (const n of ["basic-monitor", "basic-switch"]) assert.ok(names.includes(n), `examples listed: ${names.join(", ")}`);
    const ex = await fetch(`${url}/library/examples/flows/${PACKAGE}/basic-monitor`);
    assert.deepEqual(await ex.json(), loadExample("basic-monitor"));
  });

  it("examples/basic-monitor.json deployed through the admin API publishes the simulated plug's readings on MQTT", async function () {
    assert.ok(url, "Node-RED runs (previous test)");
    const reg = loadExample("basic-monitor").find((n) => n.type === "plugwatch-registry");
    const device = nth((JSON.parse(reg?.json as string) as { devices: Device[] }).devices, 0, "the example device");
    const office = td.add(await SimulatedOffice.start([{ ...device, host: address, port: 9999 }], { tickMs: 0, address }), (o) => o.stop());
    const plug: SimulatedPlug = office.plug(device.id);
    plug.force({ power: 87.25, voltage: 231.0 });
    const broker = await startBroker(td, "mosquitto");
    const client: MqttClient = await connectClient(td, broker.url, { protocolVersion: 5 });
    const readings: Reading[] = [];
    client.on("message", (topic, payload) => {
      if (topic.endsWith("/reading")) readings.push(JSON.parse(payload.toString("utf8")) as Reading);
    });
    await client.subscribeAsync("plugwatch/#", { qos: 1 });

    const flow = withRegistryHost(exampleWithEnv("basic-monitor", { MQTT_HOST: "127.0.0.1", MQTT_PORT: new URL(broker.url).port }), address);
    const collector = flow.find((n) => n.type === "plugwatch-collector")!;
    collector.interval = 1; // the example's 10 s, shortened for the test
    const r = await fetch(`${url}/flows`, {
      method: "POST",
      headers: { "content-type": "application/json", "Node-RED-API-Version": "v2", "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify({ flows: flow }),
    });
    assert.equal(r.status, 200, await r.text());

    await waitFor("a reading of 87.25 W on MQTT", () => readings.some((x) => x.power === 87.25), 20000);
    const reading = readings.find((x) => x.power === 87.25)!;
    assert.ok(validate(Reading, reading).ok, JSON.stringify(reading));
    assert.deepEqual([reading.device, reading.voltage, reading.relay], [device.id, 231.0, true]);
    plug.force({ power: 5.5 });
    await waitFor("a later reading of 5.5 W", () => readings.some((x) => x.power === 5.5), 10000);
    assert.deepEqual(
      log()
        .split("\n")
        .filter((l) => /\[error\]|\[warn\] \[(plugwatch-|mqtt)/.test(l)),
      [],
    );
  });
});
