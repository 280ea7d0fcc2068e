// Keep-alive plug connections against a real-protocol simulator and small misbehaving TCP servers on loopback.
import assert from "node:assert/strict";
import * as net from "node:net";
import type { Device } from "../../lib/contracts/device";
import { PlugwatchError } from "../../lib/contracts/errors";
import { PlugClient } from "../../lib/plug-client";
import { decrypt, encrypt, PlugConnections } from "../../lib/plug-connection";
import { SimulatedOffice } from "../../scripts/sim/office";
import { nth } from "../support/checked";

const POLL = JSON.stringify({ system: { get_sysinfo: {} }, emeter: { get_realtime: {} } });

/** A TCP server on a free loopback port whose connections are handed to `onSocket`. */
async function server(onSocket: (s: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

async function rejection(p: Promise<unknown>): Promise<PlugwatchError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PlugwatchError, `expected a PlugwatchError, got ${String(err)}`);
    return err;
  }
  throw new Error("expected a rejection");
}

describe("plug-connection cipher", function () {
  it("encrypt prefixes the length and decrypt inverts it", function () {
    const text = '{"system":{"get_sysinfo":{}}} é';
    const enc = encrypt(text);
    assert.equal(enc.readUInt32BE(0), Buffer.byteLength(text));
    assert.equal(enc[4], "{".charCodeAt(0) ^ 171);
    assert.equal(decrypt(enc.subarray(4)), text);
  });
});

describe("PlugConnections (keep-alive) against real sockets", function () {
  this.timeout(10000);
  const device: Device = {
    id: "ka-1",
    name: "Keep-alive",
    model: "HS110",
    host: "127.0.0.1",
    port: 0,
    kind: "other",
    location: { building: "b", floor: "1", room: "r" },
  };
  let office: SimulatedOffice;
  let conns: PlugConnections;
  let accepted = 0;
  const onConnection = () => accepted++;

  before(async function () {
    office = await SimulatedOffice.start([device], { portFor: () => 0, tickMs: 0 });
  });
  after(async function () {
    await office.stop();
  });
  beforeEach(async function () {
    const p = office.plug("ka-1");
    await p.setFirmware("legacy");
    await p.start();
    p.sim.deviceNetworking.server?.on("connection", onConnection);
    accepted = 0;
    conns = new PlugConnections();
  });
  afterEach(function () {
    conns.close();
    office.plug("ka-1").sim.deviceNetworking.server?.off("connection", onConnection);
  });

  const port = () => office.plug("ka-1").port;

  it("answers polls over one reused connection", async function () {
    office.plug("ka-1").force({ power: 42.5 });
    for (let i = 0; i < 5; i++) {
      const reply = JSON.parse(await conns.request("127.0.0.1", port(), POLL, 1000)) as { emeter: { get_realtime: { power: number } } };
      assert.equal(reply.emeter.get_realtime.power, 42.5);
    }
    assert.equal(accepted, 1, "one TCP connection for five requests");
    assert.equal(conns.openSockets, 1);
  });

  it("retries once on a fresh connection when the kept socket died (plug restarted)", async function () {
    await conns.request("127.0.0.1", port(), POLL, 1000);
    const p = office.plug("ka-1");
    await p.stop(); // cuts the open connection
    await p.start();
    p.sim.deviceNetworking.server?.on("connection", onConnection);
    const reply = JSON.parse(await conns.request("127.0.0.1", port(), POLL, 1000)) as { system: { get_sysinfo: { relay_state: number } } };
    assert.equal(reply.system.get_sysinfo.relay_state, 1);
  });

  it("a kept socket that the plug closes on the next request is retried on a fresh connection", async function () {
    let connections = 0;
    const stale = await server((s) => {
      const n = ++connections;
      let requests = 0;
      s.on("data", () => {
        requests++;
        // The first connection answers once, then dies on its second request (as after a plug-side idle timeout).
        if (n === 1 && requests === 2) s.destroy();
        else s.write(encrypt(`{"conn":${n},"req":${requests}}`));
      });
    });
    try {
      assert.equal(await conns.request("127.0.0.1", stale.port, POLL, 1000), '{"conn":1,"req":1}');
      assert.equal(await conns.request("127.0.0.1", stale.port, POLL, 1000), '{"conn":2,"req":1}');
      assert.equal(await conns.request("127.0.0.1", stale.port, POLL, 1000), '{"conn":2,"req":2}');
      assert.equal(connections, 2);
    } finally {
      await stale.close();
    }
  });

  it("a stopped plug is DEVICE_UNREACHABLE (refused), without leaving a socket", async function () {
    await conns.request("127.0.0.1", port(), POLL, 1000);
    await office.plug("ka-1").stop();
    const err = await rejection(conns.request("127.0.0.1", port(), POLL, 1000));
    assert.equal(err.code, "DEVICE_UNREACHABLE");
    assert.match(err.message, /ECONNREFUSED/);
    assert.equal(conns.openSockets, 0);
  });

  it("a plug that closes without answering is UNSUPPORTED_FIRMWARE", async function () {
    await office.plug("ka-1").setFirmware("unsupported");
    const err = await rejection(conns.request("127.0.0.1", port(), POLL, 1000));
    assert.equal(err.code, "UNSUPPORTED_FIRMWARE");
    assert.equal(conns.openSockets, 0);
  });

  it("a silent plug times out after the timeout and its socket is destroyed", async function () {
    const silent = await server(() => undefined);
    try {
      const t0 = Date.now();
      const err = await rejection(conns.request("127.0.0.1", silent.port, POLL, 200));
      const took = Date.now() - t0;
      assert.equal(err.code, "DEVICE_UNREACHABLE");
      assert.equal(err.message, "no reply within 200 ms");
      assert.ok(took >= 190 && took < 2000, `took ${took} ms`);
      assert.equal(conns.openSockets, 0);
    } finally {
      await silent.close();
    }
  });

  it("a reply split over several segments is reassembled; an absurd length is DEVICE_ERROR", async function () {
    const body = encrypt('{"ok":true}');
    const split = await server((s) => {
      s.once("data", () => {
        s.write(body.subarray(0, 2));
        setTimeout(() => s.write(body.subarray(2, 7)), 20);
        setTimeout(() => s.write(body.subarray(7)), 40);
      });
    });
    const huge = await server((s) => {
      s.once("data", () => {
        const b = Buffer.alloc(8);
        b.writeUInt32BE(1 << 21, 0);
        s.write(b);
      });
    });
    try {
      assert.equal(await conns.request("127.0.0.1", split.port, POLL, 1000), '{"ok":true}');
      const err = await rejection(conns.request("127.0.0.1", huge.port, POLL, 1000));
      assert.equal(err.code, "DEVICE_ERROR");
      assert.match(err.message, /2097152-byte response/);
    } finally {
      await split.close();
      await huge.close();
    }
  });

  it("two requests to the same plug at once both succeed (the second on its own connection)", async function () {
    const [a, b] = await Promise.all([conns.request("127.0.0.1", port(), POLL, 1000), conns.request("127.0.0.1", port(), POLL, 1000)]);
    assert.ok(a.includes("get_realtime") && b.includes("get_realtime"));
    assert.equal(conns.openSockets, 1, "only the pooled socket stays open");
  });

  it("close() destroys the kept sockets and refuses later requests", async function () {
    await conns.request("127.0.0.1", port(), POLL, 1000);
    assert.equal(conns.openSockets, 1);
    conns.close();
    assert.equal(conns.openSockets, 0);
    const err = await rejection(conns.request("127.0.0.1", port(), POLL, 1000));
    assert.equal(err.code, "INTERNAL");
  });

  it("PlugClient with keepAlive polls, switches and reads statistics over kept connections", async function () {
    const client = new PlugClient({ timeoutMs: 1000, keepAlive: true });
    try {
      const d = nth(office.registryDevices(), 0, "first registry device");
      office.plug("ka-1").force({ power: 12, voltage: 240 });
      const s1 = await client.poll(d);
      assert.deepEqual([s1.power, s1.voltage, s1.current, s1.relay], [12, 240, 0.05, true]);
      await client.setRelay(d, false);
      assert.equal(office.plug("ka-1").relay, false);
      const s2 = await client.poll(d);
      assert.deepEqual([s2.power, s2.relay], [0, false]);
      const months = await client.stats(d, "month", 2024);
      assert.equal(months.length, 12);
      assert.equal(accepted, 1);
      assert.equal(client.openSockets, 1);
    } finally {
      client.close();
      office.plug("ka-1").relay = true;
    }
    assert.equal(client.openSockets, 0);
  });
});
