// HS300 on old firmware (legacy protocol, TCP): outlets read and switched through context.child_ids, against
// tplink-smarthome-simulator's HS300 (its own children and per-child emeters), over real TCP on loopback.
import assert from "node:assert/strict";
import { Device as SimDevice } from "tplink-smarthome-simulator";
import type { Device } from "../../lib/contracts/device";
import { PlugTransports } from "../../lib/transports/plug-transports";

interface Child {
  sysinfo: { id: string; state: 0 | 1 };
  emeter: { realtime: Record<string, number> };
}

describe("legacy HS300 strip through the transport layer", function () {
  let sim: SimDevice;
  let transports: PlugTransports;
  const opened: PlugTransports[] = [];
  before(async function () {
    sim = new SimDevice({ model: "hs300", address: "127.0.0.1", port: 0 });
    sim.deviceNetworking.on("error", () => undefined);
    await sim.start();
  });
  after(async function () {
    for (const t of opened) t.close();
    await sim.stop();
  });

  for (const keepAlive of [true, false]) {
    it(`reads each outlet's own emeter and switches one outlet only (keep-alive ${String(keepAlive)})`, async function () {
      transports = new PlugTransports({ timeoutMs: 1500, keepAlive });
      opened.push(transports);
      const children = (sim as unknown as { children: Child[] }).children;
      children.forEach((c, i) => {
        c.sysinfo.state = 1;
        // The simulator holds V1 units and answers an HS300 in V2 units (power_mw, voltage_mv, current_ma, total_wh).
        Object.assign(c.emeter.realtime, { power: i + 1, voltage: 120, current: 0.01 * (i + 1), total: (500 + i) / 1000 });
      });
      const outlet = (index: number): Device => ({
        id: `strip-${index + 1}`,
        name: "o",
        model: "HS300",
        host: "127.0.0.1",
        port: sim.port,
        kind: "workplace",
        location: { building: "b", floor: "f", room: "r" },
        strip: { id: "strip", index },
      });
      const samples = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => transports.poll(outlet(i))));
      assert.deepEqual(
        samples.map((s) => [s.power, s.voltage, s.energy, s.relay]),
        [0, 1, 2, 3, 4, 5].map((i) => [i + 1, 120, (500 + i) / 1000, true]),
      );
      await transports.setRelay(outlet(4), false);
      assert.deepEqual(
        children.map((c) => c.sysinfo.state),
        [1, 1, 1, 1, 0, 1],
      );
      assert.equal((await transports.poll(outlet(4))).relay, false);
      transports.close();
    });
  }
});
