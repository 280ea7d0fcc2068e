// KLAP client against the simulated KLAP devices over real HTTP on loopback: sessions, renewal, faults, auth backoff.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Device } from "../../lib/contracts/device";
import { KlapTransport, type Credentials } from "../../lib/transports/klap";
import { PlugTransports } from "../../lib/transports/plug-transports";
import { DEFAULT_ACCOUNTS } from "../../lib/transports/klap-crypto";
import { SimulatedKlapDevice, type KlapModel } from "../../scripts/sim/klap-devices";
import { nth } from "../support/checked";

const ACCOUNT: Credentials = { user: "ops@office.example", password: "right-password" };

function entry(id: string, model: string, protocol: "klap" | "tapo", extra: Partial<Device> = {}): Device {
  return {
    id,
    name: `Desk ${id}`,
    model,
    host: "127.0.0.1",
    port: 0,
    kind: "workplace",
    location: { building: "hq", floor: "1", room: "r1" },
    protocol,
    ...extra,
  };
}

/** `null` = a device never bound to an account (blank credentials). */
async function device(model: KlapModel, credentials: Credentials | null = ACCOUNT, entries?: Device[]): Promise<SimulatedKlapDevice> {
  const proto = model === "P110" || model === "P115" ? "tapo" : "klap";
  const d = new SimulatedKlapDevice({
    model,
    entries: entries ?? [entry(`${model.toLowerCase()}-1`, model, proto)],
    address: "127.0.0.1",
    port: 0,
    credentials: credentials ?? undefined,
    nowMs: Date.parse("2026-03-04T10:00:00Z"),
    offsetFor: () => 0,
    seed: 1,
    relayOn: true,
  });
  await d.start();
  return d;
}

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return "resolved";
};

/** The parts of the plugs' JSON answers these tests read (Kasa: IOT protocol; Tapo: SMART protocol). */
interface KasaReply {
  system: { get_sysinfo: { model: string; hw_ver: string } };
}
interface TapoReply {
  error_code: number;
  result: { model: string; nickname: string; month_energy: number };
}
const kasa = (text: string) => JSON.parse(text) as KasaReply;
const tapo = (text: string) => JSON.parse(text) as TapoReply;

describe("KLAP transport against simulated devices (HTTP on loopback)", function () {
  const started: SimulatedKlapDevice[] = [];
  const transports: KlapTransport[] = [];
  afterEach(async function () {
    for (const t of transports.splice(0)) t.close();
    await Promise.all(started.splice(0).map((d) => d.stop()));
  });
  const sim = async (...args: Parameters<typeof device>): Promise<SimulatedKlapDevice> => {
    const d = await device(...args);
    started.push(d);
    return d;
  };
  const client = (d: SimulatedKlapDevice, o: Partial<ConstructorParameters<typeof KlapTransport>[0]> = {}): KlapTransport => {
    const t = new KlapTransport({ host: d.host, port: d.port, version: d.isTapo ? 2 : 1, credentials: ACCOUNT, timeoutMs: 1000, ...o });
    transports.push(t);
    return t;
  };

  it("Kasa v1: one handshake, then requests on the session; the reply is the device's JSON", async function () {
    const d = await sim("HS110");
    const t = client(d);
    const a = kasa(await t.send('{"system":{"get_sysinfo":{}}}'));
    assert.equal(a.system.get_sysinfo.model, "HS110(EU)");
    assert.equal(a.system.get_sysinfo.hw_ver, "4.0");
    await t.send('{"emeter":{"get_realtime":{}}}');
    assert.equal(t.handshakes, 1);
    assert.deepEqual({ h1: d.server.stats.handshake1, h2: d.server.stats.handshake2, req: d.server.stats.requests }, { h1: 1, h2: 1, req: 2 });
    assert.equal(t.acceptedAs, "account");
  });

  it("Tapo v2: get_device_info over the session", async function () {
    const d = await sim("P110");
    const t = client(d);
    const a = tapo(await t.send('{"method":"get_device_info"}'));
    assert.equal(a.error_code, 0);
    assert.equal(a.result.model, "P110");
    assert.equal(Buffer.from(a.result.nickname, "base64").toString(), "Desk p110-1");
  });

  it("falls back to blank credentials and to the factory default account, as real plugs need", async function () {
    const blank = await sim("KP115", null);
    const t1 = client(blank);
    await t1.send('{"system":{"get_sysinfo":{}}}');
    assert.equal(t1.acceptedAs, "blank");
    const dflt = await sim("HS110", DEFAULT_ACCOUNTS.kasa);
    const t2 = client(dflt);
    await t2.send('{"system":{"get_sysinfo":{}}}');
    assert.equal(t2.acceptedAs, "default");
  });

  it("wrong credentials: AUTH_FAILED, and at most one handshake per backoff step (5, 10, 20 s …)", async function () {
    const d = await sim("HS110", { user: ACCOUNT.user, password: "another-password" });
    let now = 0;
    const t = client(d, { now: () => now, authBackoffMs: 5000 });
    const attempts: string[] = [];
    // 60 polls, one per simulated second.
    for (let s = 0; s < 60; s++) {
      now = s * 1000;
      attempts.push(await codeOf(t.send('{"system":{"get_sysinfo":{}}}')));
    }
    assert.ok(
      attempts.every((c) => c === "AUTH_FAILED"),
      attempts.join(","),
    );
    // Handshakes at t = 0, 5, 15, 35 s (waits 5, 10, 20, then 40 s → next at 75 s).
    assert.equal(t.handshakes, 4);
    assert.equal(d.server.stats.handshake1, 4);
    assert.equal(d.server.stats.handshake2, 0);
    // The account is fixed on the device: the next step's handshake succeeds and resets the backoff.
    d.server.setCredentials(ACCOUNT);
    now = 75_000;
    assert.equal(await codeOf(t.send('{"system":{"get_sysinfo":{}}}')), "resolved");
    assert.equal(t.handshakes, 5);
  });

  it("a session the device drops after N requests is renewed transparently (one extra handshake)", async function () {
    const d = await sim("HS110");
    d.faults = { dropAfter: 2 };
    const t = client(d);
    for (let i = 0; i < 5; i++) JSON.parse(await t.send('{"system":{"get_sysinfo":{}}}'));
    // Sessions: requests 1-2, 3-4, 5 → 3 handshakes; two 403s seen by the device.
    assert.equal(t.handshakes, 3);
    assert.equal(d.server.stats.rejected403, 2);
  });

  it("firmware that serves one request per session and then answers non-HTTP bytes: renewed transparently", async function () {
    const d = await sim("HS110");
    d.faults = { notHttpAfter: 1 };
    const t = client(d);
    for (let i = 0; i < 3; i++) assert.equal(kasa(await t.send('{"system":{"get_sysinfo":{}}}')).system.get_sysinfo.hw_ver, "4.0");
    assert.equal(t.handshakes, 3);
    // A device that never answers HTTP on a fresh session: a coded error, not a crash.
    d.faults = { notHttpAfter: 0 };
    const code = await codeOf(t.send('{"system":{"get_sysinfo":{}}}'));
    assert.ok(code === "PROTOCOL_ERROR" || code === "DEVICE_UNREACHABLE", code);
  });

  it("session expiry (TIMEOUT cookie) renews before the device would refuse", async function () {
    const d = await sim("P110");
    let now = 0;
    const t = client(d, { now: () => now });
    await t.send('{"method":"get_device_info"}');
    now = 86_400_000 - 1_300_000; // 21:40 min before the 24 h TIMEOUT: still the same session
    await t.send('{"method":"get_device_info"}');
    assert.equal(t.handshakes, 1);
    now = 86_400_000 - 1_100_000; // within the 20-minute margin: renewed
    await t.send('{"method":"get_device_info"}');
    assert.equal(t.handshakes, 2);
    assert.equal(d.server.stats.rejected403, 0);
  });

  it("garbage, wrongly signed and truncated replies: coded errors, and a fresh session on the next request", async function () {
    const d = await sim("HS110");
    const t = client(d);
    await t.send('{"system":{"get_sysinfo":{}}}');
    for (const fault of [{ garbage: true }, { badSignature: true }, { truncated: true }] as const) {
      d.faults = fault;
      const code = await codeOf(t.send('{"system":{"get_sysinfo":{}}}'));
      assert.ok(code === "PROTOCOL_ERROR" || code === "DEVICE_UNREACHABLE", `${JSON.stringify(fault)} → ${code}`);
      d.faults = {};
      const before = t.handshakes;
      JSON.parse(await t.send('{"system":{"get_sysinfo":{}}}'));
      assert.equal(t.handshakes, before + 1, `fresh session after ${JSON.stringify(fault)}`);
    }
  });

  it("a handshake reply of the wrong length is PROTOCOL_ERROR", async function () {
    const d = await sim("P110");
    d.faults = { handshake1Length: 40 };
    assert.equal(await codeOf(client(d).send('{"method":"get_device_info"}')), "PROTOCOL_ERROR");
    d.faults = { handshake1Length: 64 };
    assert.equal(await codeOf(client(d).send('{"method":"get_device_info"}')), "PROTOCOL_ERROR");
  });

  it("a device that hangs mid-reply fails within the budget (DEVICE_UNREACHABLE), then recovers", async function () {
    const d = await sim("HS110");
    const t = client(d, { timeoutMs: 300 });
    d.faults = { hang: "request" };
    const t0 = Date.now();
    assert.equal(await codeOf(t.send('{"system":{"get_sysinfo":{}}}')), "DEVICE_UNREACHABLE");
    assert.ok(Date.now() - t0 < 1000);
    d.faults = { hang: "handshake1" };
    t.reset();
    assert.equal(await codeOf(t.send('{"system":{"get_sysinfo":{}}}')), "DEVICE_UNREACHABLE");
    d.faults = {};
    JSON.parse(await t.send('{"system":{"get_sysinfo":{}}}'));
  });

  it("KLAP over TLS (port 4433 on real plugs): the same handshake and session through HTTPS", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "klap-tls-"));
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-subj",
          "/CN=plug",
          "-days",
          "1",
          "-keyout",
          path.join(dir, "k.pem"),
          "-out",
          path.join(dir, "c.pem"),
        ],
        { stdio: "ignore" },
      );
      const d = new SimulatedKlapDevice({
        model: "P110",
        entries: [entry("tls-1", "P110", "tapo")],
        address: "127.0.0.1",
        port: 0,
        credentials: ACCOUNT,
        nowMs: Date.now(),
        offsetFor: () => 0,
        seed: 1,
        relayOn: true,
        tls: { key: readFileSync(path.join(dir, "k.pem"), "utf8"), cert: readFileSync(path.join(dir, "c.pem"), "utf8") },
      });
      await d.start();
      started.push(d);
      const t = client(d, { tls: true });
      assert.equal(tapo(await t.send('{"method":"get_device_info"}')).result.model, "P110");
      // Plain HTTP to the TLS port does not pass for KLAP.
      assert.notEqual(await codeOf(client(d).send('{"method":"get_device_info"}')), "resolved");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a port with nothing listening is DEVICE_UNREACHABLE; a plain HTTP server without KLAP is UNSUPPORTED_PROTOCOL", async function () {
    const d = await sim("HS110");
    const port = d.port;
    await d.stop();
    started.splice(started.indexOf(d), 1);
    assert.equal(await codeOf(new KlapTransport({ host: "127.0.0.1", port, version: 1, timeoutMs: 500 }).send("{}")), "DEVICE_UNREACHABLE");
    const web = http.createServer((_req, res) => res.writeHead(404).end("not found"));
    await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
    try {
      const t = new KlapTransport({ host: "127.0.0.1", port: (web.address() as { port: number }).port, version: 2, timeoutMs: 500 });
      assert.equal(await codeOf(t.send("{}")), "UNSUPPORTED_PROTOCOL");
    } finally {
      web.closeAllConnections();
      await new Promise((resolve) => web.close(resolve));
    }
  });
});

describe("PlugTransports: every family to the same sample (W, V, A, kWh)", function () {
  const started: SimulatedKlapDevice[] = [];
  let transports: PlugTransports;
  beforeEach(function () {
    transports = new PlugTransports({ timeoutMs: 1000, credentials: () => ACCOUNT });
  });
  afterEach(async function () {
    transports.close();
    await Promise.all(started.splice(0).map((d) => d.stop()));
  });
  const sim = async (...args: Parameters<typeof device>): Promise<SimulatedKlapDevice> => {
    const d = await device(...args);
    started.push(d);
    return d;
  };

  for (const model of ["HS110", "KP115", "P110", "P115"] as const) {
    it(`${model}: poll matches the simulated emeter; setRelay switches the simulated relay`, async function () {
      const d = await sim(model);
      const o = nth(d.outlets, 0, "outlet 0");
      o.force({ power: 123.456, voltage: 231.2 });
      const s = await transports.poll(o.entry);
      assert.equal(s.relay, true);
      assert.ok(Math.abs(s.power - 123.456) < 0.002, String(s.power));
      assert.ok(Math.abs(s.voltage - 231.2) < 0.002, String(s.voltage));
      assert.ok(Math.abs(s.current - o.realtime.current) < 0.002, String(s.current));
      assert.ok(Math.abs(s.energy - o.energyKWh) < 0.002, `${s.energy} vs ${o.energyKWh}`);
      await transports.setRelay(o.entry, false);
      assert.equal(o.relay, false);
      const off = await transports.poll(o.entry);
      assert.equal(off.relay, false);
      assert.equal(off.power, 0);
      assert.equal(transports.protocolOf(o.entry), model.startsWith("P") ? "tapo" : "klap");
    });
  }

  it("Tapo firmware without get_emeter_data (P110 1.2.3): power from get_current_power, 0 V / 0 A, the month's energy", async function () {
    const d = await sim("P110");
    d.unsupportedMethods.add("get_emeter_data");
    const o = nth(d.outlets, 0, "outlet 0");
    o.force({ power: 61.4, voltage: 230 });
    const s = await transports.poll(o.entry);
    assert.equal(s.power, 61, "get_current_power is whole watts");
    assert.deepEqual([s.voltage, s.current], [0, 0]);
    const usage = tapo(d.handle('{"method":"get_energy_usage"}')).result;
    assert.equal(s.energy, usage.month_energy / 1000);
    assert.ok(s.energy < o.energyKWh, "the month's counter, not the lifetime one");
  });

  it("a batch the plug cuts off at a failing method: the rest asked singly, unknown methods left out of later polls", async function () {
    const d = await sim("P110");
    d.unsupportedMethods.add("get_energy_usage");
    const o = nth(d.outlets, 0, "outlet 0");
    o.force({ power: 42.4, voltage: 230 });
    let before = d.server.stats.requests;
    const s1 = await transports.poll(o.entry);
    // the batch (cut after get_device_info), then get_energy_usage, get_current_power and get_emeter_data one by one
    assert.equal(d.server.stats.requests - before, 4);
    assert.ok(Math.abs(s1.power - 42.4) < 0.002 && Math.abs(s1.voltage - 230) < 0.002, JSON.stringify(s1));
    before = d.server.stats.requests;
    const s2 = await transports.poll(o.entry);
    assert.equal(d.server.stats.requests - before, 1, "one batch without the method the plug does not know");
    assert.ok(Math.abs(s2.power - 42.4) < 0.002, JSON.stringify(s2));
  });

  it("Tapo firmware without multipleRequest: one request per method, remembered for the plug", async function () {
    const d = await sim("P115");
    d.unsupportedMethods.add("multipleRequest");
    const o = nth(d.outlets, 0, "outlet 0");
    o.force({ power: 12.5, voltage: 231 });
    const s1 = await transports.poll(o.entry);
    assert.ok(Math.abs(s1.power - 12.5) < 0.002 && Math.abs(s1.voltage - 231) < 0.002, JSON.stringify(s1));
    const before = d.server.stats.requests;
    await transports.poll(o.entry);
    assert.equal(d.server.stats.requests - before, 4, "four single requests, no batch attempt");
    assert.equal(d.unknownRequests, 0);
  });

  it("HS300: six outlets, each its own device with its own readings and relay, on one shared session", async function () {
    const entries = Array.from({ length: 6 }, (_, i) => entry(`strip-${i + 1}`, "HS300", "klap", { strip: { id: "strip", index: i } }));
    const d = await sim("HS300", ACCOUNT, entries);
    d.outlets.forEach((o, i) => o.force({ power: 10 * (i + 1), voltage: 230 }));
    const samples = await Promise.all(d.outlets.map((o) => transports.poll(o.entry)));
    assert.deepEqual(
      samples.map((s) => Math.round(s.power)),
      [10, 20, 30, 40, 50, 60],
    );
    await transports.setRelay(nth(d.outlets, 3).entry, false);
    assert.deepEqual(
      d.outlets.map((o) => o.relay),
      [true, true, true, false, true, true],
    );
    assert.equal((await transports.poll(nth(d.outlets, 3).entry)).relay, false);
    assert.equal((await transports.poll(nth(d.outlets, 2).entry)).relay, true);
    assert.equal(d.server.stats.handshake1, 1);
  });

  it("auto: probes once (legacy port closed → KLAP handshake tells Kasa from Tapo) and remembers", async function () {
    const tapo = await sim("P110");
    const kasa = await sim("KP115");
    const auto = new PlugTransports({ timeoutMs: 1000, credentials: () => ACCOUNT, klapPort: tapo.port });
    const auto2 = new PlugTransports({ timeoutMs: 1000, credentials: () => ACCOUNT, klapPort: kasa.port });
    try {
      // Port 1 on loopback refuses: the legacy probe fails fast.
      const dev = { id: "a1", host: "127.0.0.1", port: 1, protocol: "auto" as const };
      const s = await auto.poll(dev);
      assert.equal(typeof s.power, "number");
      assert.equal(auto.protocolOf(dev), "tapo");
      await auto.poll(dev);
      assert.equal(tapo.server.stats.handshake1, 1);
      await auto2.poll(dev);
      assert.equal(auto2.protocolOf(dev), "klap");
    } finally {
      auto.close();
      auto2.close();
    }
  });
});
