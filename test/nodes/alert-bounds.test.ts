// alert node in the Node-RED test helper: a spray of invalid readings with random device ids reaches Catch at most
// 30 times a minute (the engine's report limit); a normal device is still reported once, not per reading.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { DEFAULT_REPORT_LIMITS } from "../../lib/alerts/report-limiter";
import { helper, waitWithin } from "../support/node-helper";

import alertNode from "../../nodes/plugwatch-alert/plugwatch-alert";

const waitFor = waitWithin(5000);

describe("alert node: bounded INVALID_READING reports", function () {
  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise((resolve) => helper.stopServer(resolve));
  });

  it("300 invalid readings with random device ids within a minute: 30 Catch errors in all", async function () {
    await helper.load(
      [alertNode],
      [
        { id: "f1", type: "tab", label: "alerts" },
        {
          id: "al",
          z: "f1",
          type: "plugwatch-alert",
          name: "",
          root: "plugwatch",
          registry: "",
          rules: "[]",
          tickInterval: 1,
          persist: false,
          wires: [[], ["list"]],
        },
        { id: "list", z: "f1", type: "helper" },
        { id: "caught", z: "f1", type: "catch", scope: null, uncaught: false, wires: [["errs"]] },
        { id: "errs", z: "f1", type: "helper" },
      ],
    );
    const errors: { error: { message: string; code?: string } }[] = [];
    const lists: unknown[] = [];
    helper.getNode("errs").on("input", (m: (typeof errors)[number]) => errors.push(m));
    helper.getNode("list").on("input", (m: unknown) => lists.push(m));
    const al = helper.getNode("al");
    /** Inputs are handled in order: the list answer means every earlier input was handled. */
    const roundTrip = async () => {
      const n = lists.length;
      al.receive({ topic: "plugwatch/alerts/list", payload: { action: "list" } });
      await waitFor("list answer", () => lists.length > n);
    };

    // A normal bad device: one report.
    for (let i = 0; i < 5; i++) al.receive({ topic: "plugwatch/hq/1/lab/ws-1/reading", payload: { v: 1, device: "ws-1", ts: Date.now(), power: "x" } });
    await roundTrip();
    await waitFor("ws-1 reported", () => errors.length === 1);
    assert.match(errors[0]?.error.message ?? "", /^ws-1: invalid reading ignored/);

    for (let i = 0; i < 300; i++) {
      const id = `x-${randomBytes(6).toString("hex")}`;
      al.receive({ topic: `plugwatch/hq/1/lab/${id}/reading`, payload: { v: 1, device: id, ts: Date.now(), power: "x" } });
    }
    await roundTrip();
    const limit = DEFAULT_REPORT_LIMITS.perMinute;
    await waitFor(`${limit} reports`, () => errors.length >= limit);
    await roundTrip();
    assert.equal(errors.length, limit, "one minute's budget, ws-1's report included");
    assert.ok(errors.every((e) => e.error.code === "INVALID_READING"));
  });
});
