// plugwatch-control close: a command still running after the 10 s close grace completes into nothing (no send on a closed node).
import assert from "node:assert/strict";
import * as path from "node:path";
import type { Device } from "../../lib/contracts";
import { SimulatedOffice } from "../../scripts/sim/office";
import { registryConfig } from "../support/config-nodes";
import { simPlug } from "../support/sim-devices";
import { helper, statuses, waitWithin, withMessages } from "../support/node-helper";

import registryNode from "../../nodes/plugwatch-registry/plugwatch-registry";
import controlModule from "../../nodes/plugwatch-control/plugwatch-control";

const controlNode = withMessages(controlModule, path.join(__dirname, "../../nodes/plugwatch-control"), "plugwatch-control");
const waitFor = waitWithin(15_000);

const SLOW: Device = simPlug("slow", "Slow plug", "lab");
/** Longer than the node's 10 s close grace, so the command is still running when close() gives up. */
const RESPONSE_DELAY_MS = 10_600;

describe("plugwatch-control close with a command outliving the grace period", function () {
  this.timeout(40_000);
  let office: SimulatedOffice;

  before(async function () {
    office = await SimulatedOffice.start([SLOW], { portFor: () => 0, tickMs: 0, relayOn: true });
    await office.plug("slow").start();
    office.plug("slow").sim.deviceNetworking.responseDelay = RESPONSE_DELAY_MS;
  });
  after(async function () {
    await office?.stop();
  });

  it("closes after the grace, warns, and the late completion sends nothing", async function () {
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    try {
      await helper.load(
        [registryNode, controlNode],
        [
          { id: "tab", type: "tab", label: "close" },
          registryConfig({ devices: office.registryDevices() }),
          { id: "ctl", x: 100, y: 100, z: "tab", type: "plugwatch-control", name: "", registry: "reg", concurrency: 4, timeout: 30_000, wires: [["out"]] },
          { id: "out", x: 100, y: 100, z: "tab", type: "helper" },
        ],
      );
      const ctl = helper.getNode("ctl");
      // The helper's spies are restored when the flow stops, so record on the instance itself (send() and warn()
      // of the input handler and of close go through these properties).
      const sent: unknown[] = [];
      const warned: string[] = [];
      const live = ctl as unknown as { send: (m: unknown) => void; warn: (m: unknown) => void };
      const send0 = live.send.bind(ctl);
      const warn0 = live.warn.bind(ctl);
      live.send = (m) => {
        sent.push(m);
        send0(m);
      };
      live.warn = (m) => {
        warned.push(String(m));
        warn0(m);
      };
      const answered = new Promise<void>((resolve) => office.plug("slow").sim.deviceNetworking.once("response", () => resolve()));
      ctl.receive({ payload: { id: "late", replyTo: "clients/r/late", action: "status", device: "slow" } });
      await waitFor("the command is running", () => statuses(ctl).find((s) => s.text === "1 running"));
      const t0 = Date.now();
      await helper.unload();
      const closedAfter = Date.now() - t0;
      assert.ok(closedAfter >= 9_000 && closedAfter < RESPONSE_DELAY_MS, `close waited the 10 s grace, not for the plug (${closedAfter} ms)`);
      assert.ok(
        warned.some((w) => /still running after 10000 ms/.test(w)),
        `close warns about the command left running: ${JSON.stringify(warned)}`,
      );
      await answered;
      // The plug has answered: the client resolves within milliseconds; give the completion time to run.
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(sent, [], "no message from the closed node");
    } finally {
      await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    }
  });
});
