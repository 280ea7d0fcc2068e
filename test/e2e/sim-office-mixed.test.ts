// The mixed sample office (flows/registry/office-mixed.json): legacy HS110s, KLAP HS110/KP115, Tapo P110/P115 and an
// HS300 strip, started as the demo does (blank credentials) and polled through the transport layer over loopback.
import assert from "node:assert/strict";
import * as path from "node:path";
import { toReading } from "../../lib/plug-client";
import { Reading, validate } from "../../lib/contracts";
import { buildRegistry, loadRegistryFile } from "../../lib/registry";
import { PlugTransports } from "../../lib/transports/plug-transports";
import { SimulatedOffice } from "../../scripts/sim/office";
import { repoRoot } from "../../scripts/harness/nodered";

describe("mixed simulated office (every protocol family)", function () {
  this.timeout(20000);
  let office: SimulatedOffice;
  let transports: PlugTransports;
  before(async function () {
    office = await SimulatedOffice.fromRegistryFile(path.join(repoRoot(), "flows", "registry", "office-mixed.json"), {
      portFor: () => 0,
      tickMs: 0,
      credentialsFor: () => undefined,
    });
    transports = new PlugTransports({ timeoutMs: 1500 });
  });
  after(async function () {
    transports?.close();
    await office?.stop();
  });

  it("expands the strip into six outlet devices and serves 35 devices on 30 listeners", function () {
    const reg = loadRegistryFile(path.join(repoRoot(), "flows", "registry", "office-mixed.json"));
    assert.equal(reg.size, 35);
    assert.deepEqual(
      reg.devices.filter((d) => d.strip).map((d) => `${d.id}:${d.kind}`),
      ["strip-3-1:workplace", "strip-3-2:workplace", "strip-3-3:workplace", "strip-3-4:workplace", "strip-3-5:other", "strip-3-6:printer"],
    );
    assert.equal(office.size, 35);
    assert.equal(office.all.length + office.klap.length, 30);
    // The registry copy the office hands out validates again (as one entry per device, strips included).
    assert.equal(
      buildRegistry({
        devices: office
          .registryDevices()
          .filter((d) => !d.strip)
          .map(({ strip: _s, ...d }) => d),
      }).size,
      29,
    );
  });

  it("every device gives a contract reading equal to what its simulator serves", async function () {
    for (const d of office.registryDevices()) {
      const served = d.protocol === "klap" || d.protocol === "tapo" ? office.outlet(d.id).realtime : office.plug(d.id).realtime;
      const sample = await transports.poll(d);
      const reading = toReading(d, sample, Date.now());
      assert.ok(validate(Reading, reading).ok, `${d.id}: ${JSON.stringify(reading)}`);
      assert.ok(Math.abs(sample.power - served.power) < 0.002, `${d.id} power ${sample.power} vs ${served.power}`);
      assert.ok(Math.abs(sample.voltage - served.voltage) < 0.002, `${d.id} voltage`);
      assert.ok(Math.abs(sample.energy - served.total) < 0.002, `${d.id} energy ${sample.energy} vs ${served.total}`);
    }
    assert.deepEqual(
      office.klap.map((k) => k.unknownRequests),
      office.klap.map(() => 0),
    );
  });
});
