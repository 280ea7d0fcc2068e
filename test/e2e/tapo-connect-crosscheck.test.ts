// Cross-check of the simulated Tapo P110 with a client nobody here wrote: tp-link-tapo-connect (devDependency).
//
// What it exercised (tp-link-tapo-connect 2.0.x, its KLAP transport, src/klap-transport.ts):
//   - KLAP v2 login: POST http://<ip>/app/handshake1 (16-byte seed) → remote seed + sha256(local ‖ remote ‖ sha256(sha1(user) ‖ sha1(pass))),
//     TP_SESSIONID read from the first Set-Cookie header, POST /app/handshake2 with sha256(remote ‖ local ‖ auth);
//   - AES-128-CBC requests with the 32-byte signature, POST /app/request?seq=N, the seq incrementing per request;
//   - get_device_info (base64 nickname/ssid decoded by the library), set_device_info {device_on} (turnOn/turnOff),
//     get_energy_usage; and the wrong-password path ("email or password incorrect" from handshake1's proof).
// It always talks to port 80, so the simulated P110 listens on its own loopback address 127.77.x.y:80 (root needed).
import assert from "node:assert/strict";
import type { Device } from "../../lib/contracts/device";
import { SimulatedOffice } from "../../scripts/sim/office";
import { nth } from "../support/checked";

const ACCOUNT = { user: "crosscheck@office.example", password: "tapo-crosscheck-pw" };
// Its own loopback address, random so that two runs on one machine do not compete for the same address and port 80.
const ADDRESS = `127.77.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`;

describe("simulated P110 driven by tp-link-tapo-connect (port 80 on its own 127.77.x.y address)", function () {
  let office: SimulatedOffice;
  // Loaded lazily: the library prints a warning when it falls back from KLAP; keep the module load inside the test.
  let tapo: typeof import("tp-link-tapo-connect");

  before(async function () {
    const p110: Device = {
      id: "tapo-1",
      name: "Kitchen kettle",
      model: "P110",
      host: ADDRESS,
      port: 80,
      kind: "other",
      location: { building: "hq", floor: "1", room: "kitchen" },
      protocol: "tapo",
    };
    office = await SimulatedOffice.start([p110], { tickMs: 0, credentialsFor: () => ACCOUNT, klapAddressFor: () => ADDRESS });
    tapo = await import("tp-link-tapo-connect");
  });
  after(async function () {
    await office?.stop();
  });

  it("logs in over KLAP, reads device info, switches off and on, reads energy usage", async function () {
    const o = office.outlet("tapo-1");
    assert.equal(o.host, ADDRESS);
    assert.equal(o.port, 80);
    o.force({ power: 1500, voltage: 229 });
    const dev = await tapo.loginDeviceByIp(ACCOUNT.user, ACCOUNT.password, ADDRESS);

    const info = await dev.getDeviceInfo();
    assert.equal(info.model, "P110");
    assert.equal(info.nickname, "Kitchen kettle");
    assert.equal(info.device_on, true);

    await dev.turnOff();
    assert.equal(o.relay, false);
    assert.equal((await dev.getDeviceInfo()).device_on, false);
    const off = (await dev.getEnergyUsage()) as unknown as { current_power: number };
    assert.equal(off.current_power, 0);

    await dev.turnOn();
    assert.equal(o.relay, true);
    const usage = (await dev.getEnergyUsage()) as unknown as { current_power: number; today_energy: number; month_energy: number };
    // get_energy_usage reports power in mW, energy in Wh (as the P110 fixture).
    assert.equal(usage.current_power, 1_500_000);
    assert.ok(usage.month_energy >= usage.today_energy && usage.today_energy >= 0, JSON.stringify(usage));
    const device = nth(office.klap, 0, "the KLAP plug");
    assert.equal(device.server.stats.handshake1, 1);
    assert.ok(device.server.stats.requests >= 6);
    assert.equal(device.unknownRequests, 0);
  });

  it("refuses a wrong password at handshake1 (the device's proof does not match)", async function () {
    const warn = console.warn;
    console.warn = () => undefined; // the library logs its fallback attempt
    try {
      await assert.rejects(tapo.loginDeviceByIp(ACCOUNT.user, "not-the-password", ADDRESS));
    } finally {
      console.warn = warn;
    }
  });
});
