// plugwatch-collector: a bad input command (INVALID_REQUEST, UNKNOWN_DEVICE) sets a red status and reaches Catch.
import assert from "node:assert/strict";
import * as path from "node:path";
import type { Device } from "../../lib/contracts";
import { SimulatedOffice } from "../../scripts/sim/office";
import { registryConfig } from "../support/config-nodes";
import { uniqueRoot } from "../../scripts/harness/services";
import { helper, statuses, waitWithin, withMessages, type TestNode } from "../support/node-helper";

import registryModule from "../../nodes/plugwatch-registry/plugwatch-registry";
import collectorModule from "../../nodes/plugwatch-collector/plugwatch-collector";

const collectorNode = withMessages(collectorModule, path.join(__dirname, "..", "..", "nodes", "plugwatch-collector"), "plugwatch-collector");
const waitFor = waitWithin(8000);

const DEVICE: Device = {
  id: "ws-1",
  name: "Desk 1",
  model: "HS110",
  host: "127.0.0.1",
  port: 0,
  kind: "workplace",
  location: { building: "hq", floor: "1", room: "open-1" },
};

interface Caught {
  error: { message: string; code?: string };
}

describe("plugwatch-collector input errors (simulated plug over TCP)", function () {
  this.timeout(20_000);
  let office: SimulatedOffice;

  before(async function () {
    office = await SimulatedOffice.start([DEVICE], { portFor: () => 0, tickMs: 0 });
    await office.plug("ws-1").start();
  });
  after(async function () {
    await office?.stop();
  });
  beforeEach(async function () {
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise<void>((resolve, reject) => helper.stopServer((err) => (err ? reject(err) : resolve())));
  });

  async function load(): Promise<{ col: TestNode; caught: Caught[] }> {
    await helper.load(
      [registryModule, collectorNode],
      [
        { id: "tab", type: "tab", label: "collector input" },
        registryConfig({ devices: office.registryDevices() }, { name: "office", file: "" }),
        // A one-hour interval: no scheduled poll changes the status during the test.
        {
          id: "col",
          type: "plugwatch-collector",
          z: "tab",
          x: 100,
          y: 100,
          name: "",
          registry: "reg",
          root: uniqueRoot(),
          kind: "",
          building: "",
          floor: "",
          room: "",
          interval: 3600,
          timeout: 1000,
          concurrency: 4,
          offlineAfter: 2,
          wires: [[]],
        },
        { id: "catch", type: "catch", z: "tab", x: 100, y: 100, scope: ["col"], uncaught: false, wires: [["caught"]] },
        { id: "caught", type: "helper", z: "tab", x: 100, y: 100 },
      ],
    );
    const caught: Caught[] = [];
    helper.getNode("caught").on("input", (m: Caught) => caught.push(m));
    return { col: helper.getNode("col"), caught };
  }

  const redRings = (col: TestNode): string[] =>
    statuses(col)
      .filter((s) => s.fill === "red" && s.shape === "ring")
      .map((s) => s.text ?? "");

  it("an unknown device gives a red UNKNOWN_DEVICE status and a Catch error", async function () {
    const { col, caught } = await load();
    assert.deepEqual(redRings(col), []);
    col.receive({ payload: { action: "stats", device: "ws-404", period: "day" } });
    await waitFor("caught", () => caught[0]);
    assert.equal(caught[0]?.error.code, "UNKNOWN_DEVICE");
    assert.deepEqual(redRings(col), ["UNKNOWN_DEVICE"]);
  });

  it("a bad command gives a red INVALID_REQUEST status and a Catch error", async function () {
    const { col, caught } = await load();
    col.receive({ payload: { action: "explode" } });
    await waitFor("caught", () => caught[0]);
    assert.equal(caught[0]?.error.code, "INVALID_REQUEST");
    assert.deepEqual(redRings(col), ["INVALID_REQUEST"]);
  });
});
