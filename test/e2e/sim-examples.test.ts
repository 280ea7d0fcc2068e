// The example simulators speak their devices' formats: Eco-Devices cmd=10 JSON (index integrated with an injected clock), ISEMS CSV/JSON data sets.
import assert from "node:assert/strict";
import { SimulatedEcoDevices } from "../../scripts/sim/ecodevices";
import { csvLine, defaultStatus, jsonDocument, SimulatedIsemsNode, statusHex } from "../../scripts/sim/isems";

describe("example simulators", function () {
  describe("SimulatedEcoDevices", function () {
    let sim: SimulatedEcoDevices | undefined;
    afterEach(async () => {
      await sim?.stop();
      sim = undefined;
    });

    it("answers cmd=10 with the box's document and integrates PAPP into the BASE index (Wh) on the injected clock", async function () {
      let now = 1_764_000_000_000;
      sim = await SimulatedEcoDevices.start({ now: () => now, values: { T1_PAPP: 1800, T1_BASE: 1000 } });
      const get = async (query = "cmd=10") => {
        const r = await fetch(`${sim!.url}/api/xdevices.json?${query}`);
        return { status: r.status, type: r.headers.get("content-type"), body: (await r.json()) as Record<string, unknown> };
      };
      const first = await get();
      assert.equal(first.status, 200);
      assert.equal(first.type, "application/json");
      assert.deepEqual(first.body, {
        product: "Eco-devices",
        T1_PTEC: "TH..",
        T1_PAPP: 1800,
        T1_BASE: 1000,
        T2_PTEC: "----",
        T2_PAPP: 0,
        T2_BASE: 0,
        INDEX_C1: 287000,
        INDEX_C2: 1436.965,
      });
      now += 30 * 60_000; // half an hour at 1800 VA = 900 Wh
      assert.equal((await get()).body.T1_BASE, 1900);
      now += 1000; // 0.5 Wh: carried, not rounded away
      assert.equal((await get()).body.T1_BASE, 1900);
      now += 1000;
      assert.equal((await get()).body.T1_BASE, 1901);
      assert.equal((await get()).body.T2_BASE, 0, "an input without a meter does not count");
      assert.equal((await get("cmd=20")).status, 400);
    });

    it("error mode answers 503 and counts the requests; refuse closes the port; ok reopens the same port", async function () {
      sim = await SimulatedEcoDevices.start({ advance: false });
      const port = sim.port;
      await sim.setMode("error");
      assert.equal((await fetch(sim.apiUrl)).status, 503);
      assert.equal(sim.requests.error, 1);
      await sim.setMode("refuse");
      await assert.rejects(fetch(sim.apiUrl), /fetch failed/);
      await sim.setMode("ok");
      assert.equal(sim.port, port);
      const r = await fetch(sim.apiUrl);
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { T1_PAPP: number }).T1_PAPP, 1840);
    });
  });

  describe("ISEMS node", function () {
    it("status bits are written as the router writes them: bit 0 is the first nibble's high bit", function () {
      assert.equal(statusHex(0), "000");
      assert.equal(statusHex(0b1001), "900"); // charging + healthy
      assert.equal(statusHex(0b1_0001_0010), "488"); // discharging, battery low, overheating
      assert.equal(statusHex(0xfff), "FFF");
    });

    it("a CSV line has the 19 fields of packet revision 1 in the collector's order", function () {
      const s = defaultStatus("solar-1", 1_764_000_000_123);
      const parts = csvLine(s).split(";");
      assert.equal(parts.length, 19);
      assert.deepEqual(parts.slice(0, 3), ["solar-1", "1", "1764000000"]);
      assert.equal(parts[8], "13.1"); // battery voltage
      assert.equal(parts[9], "87"); // charge %
      assert.equal(parts[11], "24.5"); // battery temperature
      assert.equal(parts[18], "900");
      const doc = jsonDocument(s);
      assert.equal(doc["Node-ID"], "solar-1");
      assert.equal(doc["Charge state (0-100%)"], 87);
      assert.equal(doc["Status code"], "0x900");
    });

    it("serves the latest data set as ffopenmppt.json and every data set as ffopenmppt.log", async function () {
      let now = 1_764_000_000_000;
      const node = await SimulatedIsemsNode.start({ nodeId: "solar-9", now: () => now });
      try {
        now += 60_000;
        node.measure({ chargePercent: 88 });
        const json = (await (await fetch(`${node.url}/ISEMS/ffopenmppt.json`)).json()) as Record<string, unknown>;
        assert.equal(json["Charge state (0-100%)"], 88);
        assert.equal(json.Timestamp, 1_764_000_060);
        const log = (await (await fetch(`${node.url}/ISEMS/ffopenmppt.log`)).text()).trim().split("\n");
        assert.deepEqual(
          log.map((l) => l.split(";")[9]),
          ["87", "88"],
        );
        assert.equal((await fetch(`${node.url}/other`)).status, 404);
      } finally {
        await node.stop();
      }
    });
  });
});
