// The simulated office over real TCP: started from the sample registry, polled and switched through PlugClient.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { PlugwatchError } from "../../lib/contracts/errors";
import { PlugClient } from "../../lib/plug-client";
import { buildRegistry, loadRegistryFile } from "../../lib/registry";
import { SimulatedOffice } from "../../scripts/sim/office";
import { energyKWh, loadAt } from "../../scripts/sim/profiles";

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "flows", "registry", "office.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("repo root not found");
    dir = up;
  }
  return dir;
}

const REGISTRY = path.join(repoRoot(), "flows", "registry", "office.json");
const CET = 60;
// Wednesday 26 Nov 2025, 10:30 CET.
const T0 = Date.UTC(2025, 10, 26, 9, 30);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PlugwatchError, `expected a PlugwatchError, got ${String(err)}`);
    return err.code;
  }
  return "no error";
}

/** Listening servers and UDP sockets of this process (to prove stop() leaves none behind). */
function serverHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "TCPServerWrap" || r === "UDPWrap").length;
}

describe("simulated office over TCP (e2e)", function () {
  let office: SimulatedOffice;
  let now = T0;
  const client = new PlugClient({ timeoutMs: 2000 });
  let baseline = 0;

  before(async function () {
    baseline = serverHandles();
    office = await SimulatedOffice.fromRegistryFile(REGISTRY, { clock: () => now, tickMs: 0, portFor: () => 0, utcOffsetMinutes: CET });
  });

  after(async function () {
    await office?.stop();
  });

  it("starts one plug per registry device on distinct loopback ports and hands back a valid registry", function () {
    const file = loadRegistryFile(REGISTRY);
    assert.equal(office.size, file.size);
    assert.equal(file.filter({ kind: "workplace" }).length, 20);
    assert.equal(file.filter({ kind: "meeting-room" }).length, 3);
    assert.equal(file.filter({ kind: "printer" }).length, 2);
    const devices = office.registryDevices();
    assert.deepEqual(
      devices.map((d) => d.id),
      file.devices.map((d) => d.id),
    );
    const ports = new Set(devices.map((d) => d.port));
    assert.equal(ports.size, devices.length);
    for (const d of devices) {
      assert.equal(d.host, "127.0.0.1");
      assert.ok(d.port > 0 && d.port === office.port(d.id));
    }
    // The copy is a registry in its own right (same validation as the file).
    assert.equal(buildRegistry({ devices }).size, devices.length);
    assert.equal(serverHandles() - baseline, 2 * devices.length, "one TCP listener and one UDP socket per plug");
  });

  it("serves the profile's values over the real protocol", async function () {
    for (const id of ["ws-1-01", "ws-2-14", "mr-boardroom", "printer-1"]) {
      const p = office.plug(id);
      const sample = await client.poll(p.entry);
      const model = loadAt(p.entry, now, true, { utcOffsetMinutes: CET });
      assert.equal(sample.power, model.power, id);
      assert.equal(sample.voltage, model.voltage, id);
      assert.equal(sample.current, model.current, id);
      assert.equal(sample.energy, p.energyKWh, id);
      assert.equal(sample.relay, true, id);
      assert.equal(sample.alias, p.entry.name);
    }
  });

  it("serves forced values until released, per plug", async function () {
    const p = office.plug("ws-1-02");
    const other = office.plug("ws-1-03");
    const before = await client.poll(other.entry);
    p.force({ power: 123.4 });
    let s = await client.poll(p.entry);
    assert.equal(s.power, 123.4);
    assert.equal(s.current, Math.round((123.4 / s.voltage) * 1e4) / 1e4);
    p.force({ voltage: 241.5 });
    s = await client.poll(p.entry);
    assert.deepEqual([s.power, s.voltage, s.current], [123.4, 241.5, 0.511]);
    p.force({ current: 2 });
    s = await client.poll(p.entry);
    assert.equal(s.current, 2);
    // Forcing stays sticky across ticks.
    now += 1000;
    office.tick(now);
    s = await client.poll(p.entry);
    assert.deepEqual([s.power, s.voltage, s.current], [123.4, 241.5, 2]);
    assert.notEqual((await client.poll(other.entry)).power, 123.4);
    assert.equal(before.relay, true);
    p.release();
    s = await client.poll(p.entry);
    assert.equal(s.power, loadAt(p.entry, now, true, { utcOffsetMinutes: CET }).power);
  });

  it("honours the relay set by a real set_relay_state command: off → 0 W, 0 A", async function () {
    const p = office.plug("ws-2-01");
    p.force({ power: 95 });
    await client.setRelay(p.entry, false);
    assert.equal(p.relay, false);
    let s = await client.poll(p.entry);
    assert.deepEqual([s.relay, s.power, s.current], [false, 0, 0]);
    assert.ok(s.voltage > 225);
    now += 1000;
    office.tick(now);
    s = await client.poll(p.entry);
    assert.deepEqual([s.relay, s.power, s.current], [false, 0, 0]);
    await client.setRelay(p.entry, true);
    s = await client.poll(p.entry);
    assert.deepEqual([s.relay, s.power], [true, 95]);
    // The test-side setter works the same way.
    p.relay = false;
    assert.equal((await client.poll(p.entry)).power, 0);
    p.relay = true;
    p.release();
  });

  it("integrates energy between ticks (kWh += P·dt) and can reset the counter", async function () {
    const p = office.plug("printer-2");
    p.force({ power: 1200 });
    now += 1000;
    office.tick(now);
    const e0 = (await client.poll(p.entry)).energy;
    now += 90_000;
    office.tick(now);
    const e1 = (await client.poll(p.entry)).energy;
    assert.ok(Math.abs(e1 - e0 - energyKWh(1200, 90_000)) < 2e-6, `Δ ${e1 - e0} kWh`);
    assert.ok(Math.abs(e1 - e0 - 0.03) < 2e-6);
    // Relay off: the counter stands still.
    p.relay = false;
    now += 60_000;
    office.tick(now);
    assert.equal((await client.poll(p.entry)).energy, e1);
    p.relay = true;
    p.setEnergy(0);
    assert.equal((await client.poll(p.entry)).energy, 0);
    now += 3_600_000;
    office.tick(now);
    assert.ok(Math.abs((await client.poll(p.entry)).energy - 1.2) < 1e-6);
    p.release();
  });

  it("a stopped plug is DEVICE_UNREACHABLE and comes back on the same port", async function () {
    const p = office.plug("mr-huddle");
    const port = p.port;
    await p.stop();
    assert.equal(p.online, false);
    assert.equal(await codeOf(client.poll(p.entry)), "DEVICE_UNREACHABLE");
    // The others keep answering.
    assert.equal((await client.poll(office.plug("mr-training").entry)).relay, true);
    await p.start();
    assert.equal(p.online, true);
    assert.equal(p.port, port);
    const s = await client.poll(p.entry);
    assert.equal(s.power, p.realtime.power);
  });

  it("unsupported firmware: the port accepts and closes → UNSUPPORTED_FIRMWARE; back to legacy answers again", async function () {
    const p = office.plug("ws-2-15");
    const port = p.port;
    await p.setFirmware("unsupported");
    assert.equal(p.firmware, "unsupported");
    assert.equal(p.online, true);
    assert.equal(await codeOf(client.poll(p.entry)), "UNSUPPORTED_FIRMWARE");
    assert.equal(await codeOf(client.setRelay(p.entry, false)), "UNSUPPORTED_FIRMWARE");
    // Stop/start keep the mode and the port.
    await p.stop();
    assert.equal(await codeOf(client.poll(p.entry)), "DEVICE_UNREACHABLE");
    await p.start();
    assert.equal(await codeOf(client.poll(p.entry)), "UNSUPPORTED_FIRMWARE");
    await p.setFirmware("legacy");
    assert.equal(p.port, port);
    assert.equal((await client.poll(p.entry)).relay, true);
  });

  it("rejects bad control input with a clear error", async function () {
    assert.throws(() => office.plug("nope"), /no simulated plug 'nope'/);
    assert.throws(() => office.plug("ws-1-01").force({ power: Number.NaN }), RangeError);
    assert.throws(() => office.plug("ws-1-01").setEnergy(-1), RangeError);
    await assert.rejects(office.plug("ws-1-01").setFirmware("newest" as "legacy"), RangeError);
  });

  it("stop() closes every listener", async function () {
    await office.stop();
    // Node drops closed handles from its list in the event loop's next close phase.
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(serverHandles(), baseline);
    assert.equal(await codeOf(client.poll(office.plug("ws-1-01").entry)), "DEVICE_UNREACHABLE");
  });
});

describe("simulated office timer (e2e)", function () {
  it("ticks on its own with the injected clock, and stop() clears the timer", async function () {
    let now = T0;
    // Each tick the fake clock moves one hour: the energy counter must grow by P·1 h per tick.
    const office = await SimulatedOffice.start(
      [
        {
          id: "ws-9-01",
          name: "Timer test",
          model: "HS110",
          host: "127.0.0.1",
          port: 0,
          kind: "workplace",
          location: { building: "hq", floor: "9", room: "lab" },
        },
      ],
      {
        clock: () => (now += 3_600_000),
        tickMs: 10,
        utcOffsetMinutes: CET,
      },
    );
    try {
      const p = office.plug("ws-9-01");
      p.force({ power: 500 });
      p.setEnergy(0);
      const client = new PlugClient({ timeoutMs: 2000 });
      const deadline = Date.now() + 5000;
      let energy = 0;
      while (energy < 1.5 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        energy = (await client.poll(p.entry)).energy;
      }
      assert.ok(energy >= 1.5, `energy ${energy} kWh after the timer ran`);
      // Each tick adds exactly 0.5 kWh (500 W × 1 h).
      assert.ok(Math.abs(energy / 0.5 - Math.round(energy / 0.5)) < 1e-6, `energy ${energy}`);
    } finally {
      await office.stop();
    }
    const frozen = office.plug("ws-9-01").energyKWh;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(office.plug("ws-9-01").energyKWh, frozen, "no tick after stop()");
  });

  it("refuses a port that is already taken and leaves nothing half-started", async function () {
    const first = await SimulatedOffice.start(
      [{ id: "a", name: "A", model: "HS110", host: "127.0.0.1", port: 0, kind: "other", location: { building: "hq", floor: "1", room: "r" } }],
      { tickMs: 0 },
    );
    try {
      const taken = first.port("a");
      const before = serverHandles();
      await assert.rejects(
        SimulatedOffice.start(
          [
            { id: "b", name: "B", model: "HS110", host: "127.0.0.1", port: 0, kind: "other", location: { building: "hq", floor: "1", room: "r" } },
            { id: "c", name: "C", model: "HS110", host: "127.0.0.1", port: taken, kind: "other", location: { building: "hq", floor: "1", room: "r" } },
          ],
          { tickMs: 0 },
        ),
        /cannot start simulated plug 'c'/,
      );
      // The simulator retries a busy TCP port after 500 ms; give it the chance to leak before checking.
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal(serverHandles(), before);
    } finally {
      await first.stop();
    }
  });
});

describe("simulate-office CLI (e2e)", function () {
  const script = path.join(__dirname, "..", "..", "scripts", "simulate-office.js");

  it("prints one line per plug, serves them, and exits 0 on SIGTERM", async function () {
    const child = spawn(process.execPath, [script, REGISTRY, "--ephemeral", "--tick", "200"], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const lines: string[] = [];
      const rl = createInterface({ input: child.stdout });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${lines.length} lines`)), 10_000);
        rl.on("line", (l) => {
          lines.push(l);
          if (lines.length === 25) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once("exit", () => {
          clearTimeout(timer);
          reject(new Error("CLI exited early"));
        });
      });
      const parsed = lines.map((l) => /^(\S+) (127\.0\.0\.1):(\d+) (workplace|meeting-room|printer|other)$/.exec(l));
      assert.ok(
        parsed.every((m) => m !== null),
        lines.join("\n"),
      );
      const ws = parsed.find((m) => m?.[1] === "ws-2-14");
      assert.ok(ws);
      const port = Number(ws[3]);
      const client = new PlugClient({ timeoutMs: 2000 });
      const s = await client.poll({ host: "127.0.0.1", port });
      assert.equal(s.alias, "Workplace 2.14");
      assert.ok(s.voltage > 225 && s.voltage < 235);
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
      assert.equal(await codeOf(client.poll({ host: "127.0.0.1", port })), "DEVICE_UNREACHABLE");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    }
  });

  it("exits 2 with the JSON path on a bad registry", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "plugwatch-sim-"));
    try {
      const bad = path.join(dir, "bad.json");
      writeFileSync(
        bad,
        JSON.stringify({
          devices: [{ id: "x", name: "X", model: "HS110", host: "127.0.0.1", kind: "toaster", location: { building: "hq", floor: "1", room: "r" } }],
        }),
      );
      const child = spawn(process.execPath, [script, bad], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
      assert.equal(code, 2);
      assert.match(stderr, /\$\.devices\[0\]\.kind/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
