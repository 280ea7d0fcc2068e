// docs/contracts.md "Joining Plugwatch from outside": the foreign-meter commands run word for word (only the ports differ) against the shipped flow; the unregistered meter is held as pending, listed, approved.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../../scripts/harness/nodered";
import { eventually, PIPELINE_TOKEN, startPipeline, type PipelineStack } from "../../scripts/harness/pipeline";
import { Teardown } from "../../scripts/harness/services";
import { nth } from "../support/checked";

const run = promisify(execFile);

/** The shell commands of the foreign-meter walk-through, from its comment line to the end of the approve command. */
function walkthrough(): string[] {
  const doc = readFileSync(path.join(repoRoot(), "docs", "contracts.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Joining Plugwatch from outside"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const lines = block.split("\n");
  const from = lines.findIndex((l) => l.startsWith("# a foreign meter"));
  const to = lines.findIndex((l, i) => i > from && /\/approve\s*$/.test(l));
  assert.ok(from >= 0 && to > from, `the walk-through is in docs/contracts.md:\n${block}`);
  // Join continued lines, drop comments and blank lines: one command per entry.
  return lines
    .slice(from, to + 1)
    .join("\n")
    .replace(/\\\n\s*/g, "")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
}

describe("docs/contracts.md foreign meter walk-through on the shipped flow (e2e)", function () {
  this.timeout(120000);
  const td = new Teardown();
  let s: PipelineStack;
  after(() => td.run());

  before(async function () {
    s = await startPipeline(td);
    // The hook is subscribed once the office's plug readings arrive in InfluxDB.
    await eventually(
      "plug readings in InfluxDB",
      async () => (await s.influxd!.query(`SELECT count("power") FROM "plug"`, "plugwatch")).results[0]?.series?.length ?? 0,
      (n) => n > 0,
      30000,
    );
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${s?.red.logTail(40)}`);
  });

  it("stores the meter's reading as pending, lists it, approves it; later readings are stored without the flag", async function () {
    const commands = walkthrough();
    assert.deepEqual(
      commands.map((c) => c.split(" ")[0]),
      ["mosquitto_pub", "curl", "curl"],
    );
    const mqttPort = new URL(s.mqttUrl).port;
    const outputs: string[] = [];
    const started = Date.now();
    for (const command of commands) {
      // The documented commands as they are; only the demo's ports become the test's.
      const local = command.replace("-h 127.0.0.1 ", `-h 127.0.0.1 -p ${mqttPort} `).replaceAll("http://127.0.0.1:1880", s.red.url);
      if (command.startsWith("curl")) {
        // The pending list is read once the reading went through the hook.
        await eventually(
          "the meter in InfluxDB",
          async () => (await s.influxd!.query(`SELECT count("papp") FROM "teleinfo"`, "plugwatch")).results[0]?.series?.length ?? 0,
          (n) => n > 0,
        );
      }
      const { stdout } = await run("bash", ["-c", local], { env: { ...process.env, TOKEN: PIPELINE_TOKEN } });
      outputs.push(stdout);
    }
    const row = await s.influxd!.query(`SELECT "papp", "pending", "source" FROM "teleinfo" WHERE "device" = 'teleinfo-main'`, "plugwatch");
    const stored = row.results[0]?.series?.[0]?.values ?? [];
    assert.deepEqual(
      stored.map((v) => v.slice(1)),
      [[1840, "true", null]],
    );
    const first = nth(nth(stored, 0, "stored row"), 0) as number;
    assert.ok(Math.abs(first - started) < 120_000, `ts is the time the command ran (${first} vs ${started})`);
    const pending = JSON.parse(nth(outputs, 1)) as { state: string; count: number; devices: { id: string; state: string; readings: number }[] };
    assert.equal(pending.state, "pending");
    assert.deepEqual(
      pending.devices.map((d) => [d.id, d.state, d.readings]),
      [["teleinfo-main", "pending", 1]],
    );
    assert.equal((JSON.parse(nth(outputs, 2)) as { state: string }).state, "approved");

    // The same command a second later (another ts): stored without the pending tag.
    await new Promise((r) => setTimeout(r, 1100));
    const next = nth(commands, 0).replace("-h 127.0.0.1 ", `-h 127.0.0.1 -p ${mqttPort} `);
    await run("bash", ["-c", next]);
    const rows = await eventually(
      "the approved reading in InfluxDB",
      async () =>
        (await s.influxd!.query(`SELECT "papp", "pending" FROM "teleinfo" WHERE "device" = 'teleinfo-main'`, "plugwatch")).results[0]?.series?.[0]?.values ??
        [],
      (v) => v.length === 2,
    );
    assert.deepEqual(
      rows.map((v) => v.slice(1)),
      [
        [1840, "true"],
        [1840, null],
      ],
    );
    assert.equal(nth(nth(rows, 0, "first row"), 0), first);
    assert.doesNotMatch(s.red.log(), /UNKNOWN_DEVICE/);
  });

  it("the editor lists the registry's unknown devices and approves or rejects them (admin API of the registry node)", async function () {
    const registryId = s.flow.find((n) => n.type === "plugwatch-registry")!.id;
    const mqttPort = new URL(s.mqttUrl).port;
    await run("bash", [
      "-c",
      `mosquitto_pub -h 127.0.0.1 -p ${mqttPort} -q 1 -t 'plugwatch/hq/0/basement/gas-meter/reading' -m '{"v":1,"device":"gas-meter","ts":1764000000000,"measurement":"teleinfo","fields":{"papp":420}}'`,
    ]);
    const listed = await eventually(
      "gas-meter listed in the editor",
      async () =>
        (await (await s.red.request(`/plugwatch-registry/${registryId}/unknown`)).json()) as { policy: string; devices: { id: string; state: string }[] },
      (b) => b.devices.some((d) => d.id === "gas-meter"),
    );
    assert.equal(listed.policy, "pending");
    assert.equal(listed.devices.find((d) => d.id === "gas-meter")?.state, "pending");
    const rejected = await s.red.request(`/plugwatch-registry/${registryId}/unknown/gas-meter/reject`, { method: "POST" });
    assert.equal(rejected.status, 200);
    assert.equal(((await rejected.json()) as { state: string }).state, "rejected");
    // The API sees the same list.
    const api = await fetch(`${s.red.url}/api/v1/devices?state=rejected`, { headers: { authorization: `Bearer ${PIPELINE_TOKEN}` } });
    assert.deepEqual(
      ((await api.json()) as { devices: { id: string }[] }).devices.map((d) => d.id),
      ["gas-meter"],
    );
    assert.equal((await s.red.request(`/plugwatch-registry/${registryId}/unknown/nobody/approve`, { method: "POST" })).status, 404);
    assert.equal((await s.red.request(`/plugwatch-registry/no-such-node/unknown`)).status, 404);
  });
});
