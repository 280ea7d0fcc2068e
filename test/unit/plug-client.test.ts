// PlugClient: response parsing, error classification, and one round trip each against a real HS110 simulator over TCP.
import assert from "node:assert/strict";
import * as net from "node:net";
import type { Device as SimDevice } from "tplink-smarthome-simulator";
import { PlugwatchError } from "../../lib/contracts/errors";
import { Reading } from "../../lib/contracts/reading";
import { validate } from "../../lib/contracts/validate";
import { classifyError, parsePollResponse, PlugClient, toReading } from "../../lib/plug-client";
import { SimulatedOffice } from "../../scripts/sim/office";
import { freePort } from "../../scripts/harness/ports";

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return err instanceof PlugwatchError ? err.code : `not a PlugwatchError: ${String(err)}`;
  }
  return "no error";
};

const v1 = (rt: Record<string, unknown>, relay: unknown = 1) =>
  JSON.stringify({
    system: { get_sysinfo: { err_code: 0, alias: "Desk", model: "HS110(EU)", relay_state: relay } },
    emeter: { get_realtime: { err_code: 0, ...rt } },
  });

describe("parsePollResponse", function () {
  it("reads a V1 emeter (W, V, A, kWh) and the relay", function () {
    assert.deepEqual(parsePollResponse(v1({ power: 61.5, voltage: 230.1, current: 0.27, total: 12.5 })), {
      power: 61.5,
      voltage: 230.1,
      current: 0.27,
      energy: 12.5,
      relay: true,
      alias: "Desk",
      model: "HS110(EU)",
    });
  });

  it("reads a V2 emeter (mW, mV, mA, Wh)", function () {
    const s = parsePollResponse(v1({ power_mw: 61500, voltage_mv: 230100, current_ma: 270, total_wh: 12500 }, 0));
    assert.equal(s.power, 61.5);
    assert.equal(s.voltage, 230.1);
    assert.equal(s.current, 0.27);
    assert.equal(s.energy, 12.5);
    assert.equal(s.relay, false);
  });

  it("rejects malformed answers with DEVICE_ERROR", function () {
    assert.equal(
      codeOf(() => parsePollResponse("not json")),
      "DEVICE_ERROR",
    );
    assert.equal(
      codeOf(() => parsePollResponse("{}")),
      "DEVICE_ERROR",
    );
    assert.equal(
      codeOf(() => parsePollResponse(JSON.stringify({ system: { get_sysinfo: { relay_state: 1 } } }))),
      "DEVICE_ERROR",
    );
    assert.equal(
      codeOf(() => parsePollResponse(v1({ power: 1, voltage: 1, current: 1 }))),
      "DEVICE_ERROR",
    );
    assert.equal(
      codeOf(() => parsePollResponse(v1({ power: 1, voltage: 1, current: 1, total: 1 }, 2))),
      "DEVICE_ERROR",
    );
    assert.equal(
      codeOf(() => parsePollResponse(v1({ err_code: -1, err_msg: "module not support" }))),
      "DEVICE_ERROR",
    );
  });
});

describe("classifyError", function () {
  it("maps refused/timeout to DEVICE_UNREACHABLE and a closed connection to UNSUPPORTED_FIRMWARE", function () {
    assert.equal(classifyError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" })).code, "DEVICE_UNREACHABLE");
    assert.equal(classifyError(new Error("TCP Timeout after 300ms")).code, "DEVICE_UNREACHABLE");
    assert.equal(classifyError(new Error("TCP Socket Closed. segment:0 hadError:false")).code, "UNSUPPORTED_FIRMWARE");
    assert.equal(classifyError(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })).code, "UNSUPPORTED_FIRMWARE");
    const own = new PlugwatchError("DEVICE_ERROR", "x");
    assert.equal(classifyError(own), own);
  });
});

describe("toReading", function () {
  it("stamps a sample into a Reading that validates", function () {
    const r = toReading({ id: "ws-1", kind: "workplace" }, { power: 10, voltage: 230, current: 0.05, energy: 1, relay: true }, 1_700_000_000_000);
    assert.deepEqual(r, { v: 1, device: "ws-1", ts: 1_700_000_000_000, power: 10, voltage: 230, current: 0.05, energy: 1, relay: true, kind: "workplace" });
    assert.equal(validate(Reading, r).ok, true);
  });
});

describe("PlugClient against a real simulator", function () {
  this.timeout(10000);
  let sim: SimDevice;
  const client = new PlugClient({ timeoutMs: 1000 });
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  /** A loopback TCP server standing in for a misbehaving plug; its sockets are tracked so after() can free them. */
  async function fakePlug(onConnection: (s: net.Socket) => void): Promise<number> {
    const srv = net.createServer((s) => {
      sockets.push(s);
      onConnection(s);
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    return (srv.address() as net.AddressInfo).port;
  }

  let office: SimulatedOffice;

  before(async function () {
    // SimulatedOffice retries an OS-chosen port that is free for UDP but taken for TCP (a bare simulator does not).
    office = await SimulatedOffice.start(
      [{ id: "pc-1", name: "Plug client", model: "HS110", host: "127.0.0.1", port: 0, kind: "other", location: { building: "b", floor: "1", room: "r" } }],
      { portFor: () => 0, tickMs: 0 },
    );
    sim = office.plug("pc-1").sim;
  });
  after(async function () {
    await office.stop();
    for (const s of sockets) s.destroy();
    for (const s of servers) await new Promise((r) => s.close(r));
  });
  const addr = () => ({ host: "127.0.0.1", port: sim.port });
  const realtime = () => (sim.data as unknown as { emeter: { realtime: Record<string, number> } }).emeter.realtime;

  it("polls power, voltage, current, energy and relay in one request", async function () {
    Object.assign(realtime(), { power: 123.4, voltage: 229.5, current: 0.54, total: 7.25 });
    const s = await client.poll(addr());
    assert.equal(s.power, 123.4);
    assert.equal(s.voltage, 229.5);
    assert.equal(s.current, 0.54);
    assert.equal(s.energy, 7.25);
    assert.equal(typeof s.relay, "boolean");
  });

  it("switches the relay", async function () {
    await client.setRelay(addr(), false);
    assert.equal((sim.data.system.sysinfo as { relay_state?: number }).relay_state, 0);
    assert.equal((await client.poll(addr())).relay, false);
    await client.setRelay(addr(), true);
    assert.equal((sim.data.system.sysinfo as { relay_state?: number }).relay_state, 1);
  });

  it("returns day and month energy statistics in kWh", async function () {
    const days = await client.stats(addr(), "day", 2024, 2);
    assert.equal(days.length, 29);
    assert.deepEqual(Object.keys(days[0] as object).sort(), ["day", "kWh", "month", "year"]);
    assert.ok(days.every((d) => d.year === 2024 && d.month === 2 && typeof d.kWh === "number"));
    const months = await client.stats(addr(), "month", 2024);
    assert.equal(months.length, 12);
    assert.deepEqual(
      months.map((m) => m.month),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    );
  });

  it("rejects bad statistics arguments with INVALID_REQUEST before any I/O", async function () {
    await assert.rejects(client.stats(addr(), "day", 2024), (e: unknown) => e instanceof PlugwatchError && e.code === "INVALID_REQUEST");
    await assert.rejects(client.stats(addr(), "month", 1900), (e: unknown) => e instanceof PlugwatchError && e.code === "INVALID_REQUEST");
  });

  it("reports a refused connection as DEVICE_UNREACHABLE", async function () {
    const port = await freePort();
    await assert.rejects(client.poll({ host: "127.0.0.1", port }), (e: unknown) => e instanceof PlugwatchError && e.code === "DEVICE_UNREACHABLE");
  });

  it("reports a silent plug as DEVICE_UNREACHABLE after the socket timeout", async function () {
    const port = await fakePlug(() => undefined); // accepts, never answers
    const t0 = Date.now();
    await assert.rejects(client.poll({ host: "127.0.0.1", port }, 300), (e: unknown) => e instanceof PlugwatchError && e.code === "DEVICE_UNREACHABLE");
    const took = Date.now() - t0;
    assert.ok(took >= 290 && took < 900, `timed out after ${took} ms`);
  });

  it("reports a plug that closes the connection without answering as UNSUPPORTED_FIRMWARE", async function () {
    const port = await fakePlug((s) => s.end()); // newer firmware: accepts on 9999 and closes
    await assert.rejects(client.poll({ host: "127.0.0.1", port }), (e: unknown) => e instanceof PlugwatchError && e.code === "UNSUPPORTED_FIRMWARE");
  });
});
