// plugwatch-tariff config node with the query component: an invalid tariff is logged (file, JSON path, reason), never half
// loaded, and cost queries are answered TARIFF_INVALID with its problems; a valid one loads.
import assert from "node:assert/strict";
import * as path from "node:path";
import type { QueryReply } from "../../lib/contracts";
import { TariffError } from "../../lib/tariff/load";
import type { PlugwatchTariffNode } from "../../nodes/plugwatch-tariff/types";
import { registryConfig } from "../support/config-nodes";
import { calls, helper, lastStatus, withMessages, type TestNode } from "../support/node-helper";

import registryNode from "../../nodes/plugwatch-registry/plugwatch-registry";
import influxNode from "../../nodes/plugwatch-influx/plugwatch-influx";
import queryModule from "../../nodes/plugwatch-influx-query/plugwatch-influx-query";
import tariffModule from "../../nodes/plugwatch-tariff/plugwatch-tariff";
import scheduleModule from "../../nodes/plugwatch-schedule/plugwatch-schedule";

const nodesDir = path.join(__dirname, "..", "..", "nodes");
const tariffNode = withMessages(tariffModule, path.join(nodesDir, "plugwatch-tariff"), "plugwatch-tariff");
const scheduleNode = withMessages(scheduleModule, path.join(nodesDir, "plugwatch-schedule"), "plugwatch-schedule");
const queryNode = withMessages(queryModule, path.join(nodesDir, "plugwatch-influx-query"), "plugwatch-influx-query");

const DEVICES = [
  { id: "ws-1", name: "Desk", model: "HS110", host: "127.0.0.1", port: 20001, kind: "workplace", location: { building: "hq", floor: "1", room: "a" } },
];
const ALL_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const tariff = (rules: unknown[]) => ({
  tariffs: { t: { currency: "EUR", versions: [{ periods: { hp: { pricePerKWh: 0.3 }, hc: { pricePerKWh: 0.2 } }, rules }] } },
});
const GOOD = tariff([
  { days: ALL_WEEK, from: "06:00", to: "22:00", period: "hp" },
  { days: ALL_WEEK, from: "22:00", to: "06:00", period: "hc" },
]);
const GAP = tariff([{ days: ALL_WEEK, from: "06:00", to: "22:00", period: "hp" }]);

describe("plugwatch-tariff config node", function () {
  this.timeout(15000);

  beforeEach(function (done) {
    helper.startServer(done);
  });
  afterEach(function (done) {
    helper.unload().then(
      () => helper.stopServer(done),
      (err: unknown) => done(err),
    );
  });

  async function load(json: unknown, selected = true): Promise<{ tariff: PlugwatchTariffNode & TestNode; q: TestNode; out: TestNode }> {
    await helper.load(
      [registryNode, influxNode, tariffNode, queryNode],
      [
        { id: "tab", type: "tab", label: "tariff test" },
        registryConfig({ devices: DEVICES }),
        { id: "influx", type: "plugwatch-influx", url: "http://127.0.0.1:9", flavour: "1.x", database: "x" },
        { id: "tariff", type: "plugwatch-tariff", name: "office", source: "json", file: "", json: JSON.stringify(json) },
        { id: "q", type: "plugwatch-influx-query", z: "tab", influx: "influx", registry: "reg", tariff: selected ? "tariff" : "", wires: [["out"]] },
        { id: "out", type: "helper", z: "tab" },
      ],
    );
    return { tariff: helper.getNode("tariff") as unknown as PlugwatchTariffNode & TestNode, q: helper.getNode("q"), out: helper.getNode("out") };
  }

  const ask = (q: TestNode, out: TestNode): Promise<QueryReply> =>
    new Promise((resolve) => {
      out.on("input", (m: never) => resolve((m as { payload: QueryReply }).payload));
      q.receive({
        payload: {
          v: 1,
          id: "c-1",
          replyTo: "clients/t/c-1",
          query: { type: "cost", from: Date.parse("2026-06-01T00:00:00Z"), to: Date.parse("2026-06-02T00:00:00Z") },
        },
      });
    });

  it("an invalid tariff: every issue logged with its JSON path, nothing loaded, the query component red and answering TARIFF_INVALID", async function () {
    const { tariff, q, out } = await load(GAP);
    const label = "tariff 'office' (inline JSON)";
    assert.equal(tariff.book, undefined, "never half-loaded");
    // Each day misses 00:00-06:00 and 22:00-24:00: 14 issues.
    const expected = ALL_WEEK.flatMap((d) =>
      ["00:00-06:00", "22:00-24:00"].map(
        (h) => `${label} $.tariffs.t.versions[0].rules: ${d} ${h} is not covered by any rule (the week must be covered without gaps)`,
      ),
    );
    assert.deepEqual(
      calls(tariff, "error").map((a) => String(a[0])),
      expected,
    );
    assert.throws(
      () => tariff.require(),
      (err: unknown) => err instanceof TariffError && err.code === "TARIFF_INVALID",
    );
    assert.deepEqual(lastStatus(q), { fill: "red", shape: "ring", text: "TARIFF_INVALID" });
    const reply = await ask(q, out);
    assert.equal(reply.ok, false);
    assert.equal(reply.error?.code, "TARIFF_INVALID");
    assert.deepEqual(reply.error?.details?.[0], {
      path: "$.tariffs.t.versions[0].rules",
      message: "mon 00:00-06:00 is not covered by any rule (the week must be covered without gaps)",
    });
  });

  it("a valid tariff loads; a query component without one answers cost queries TARIFF_INVALID", async function () {
    const a = await load(GOOD);
    assert.equal(a.tariff.book?.forBuilding("hq").name, "t");
    assert.deepEqual(
      calls(a.tariff, "log").map((x) => x[0]),
      ["loaded 1 tariff(s) from tariff 'office' (inline JSON)"],
    );
    await helper.unload();
    const b = await load(GOOD, false);
    const reply = await ask(b.q, b.out);
    assert.equal(reply.error?.code, "TARIFF_INVALID");
    assert.match(reply.error?.message ?? "", /no tariff configured on the query component/);
  });

  describe("Holidays of: a schedule that cannot be used is named with the reason (INVALID_SCHEDULE)", function () {
    const schedules = [
      { id: "s-ok", type: "plugwatch-schedule", name: "hq", source: "json", file: "", json: JSON.stringify({ holidays: ["2026-06-01"] }) },
      { id: "s-nofile", type: "plugwatch-schedule", name: "no file", source: "file", file: "", json: "" },
      { id: "s-bad", type: "plugwatch-schedule", name: "bad", source: "json", file: "", json: '{"holidays": ["2026-02-30"]}' },
    ];
    async function withSchedule(schedule: string): Promise<PlugwatchTariffNode & TestNode> {
      await helper.load(
        [registryNode, tariffNode, scheduleNode],
        [
          registryConfig({ devices: DEVICES }, { name: "office" }),
          ...schedules,
          { id: "tariff", type: "plugwatch-tariff", name: "office", source: "json", file: "", json: JSON.stringify(GOOD), schedule },
        ],
      );
      return helper.getNode("tariff") as unknown as PlugwatchTariffNode & TestNode;
    }
    const failure = (t: PlugwatchTariffNode): { code: string; message: string } => {
      try {
        t.require();
      } catch (err) {
        return { code: (err as { code: string }).code, message: (err as Error).message };
      }
      return { code: "none", message: "" };
    };

    it("a loaded schedule: its holidays join the tariff's", async function () {
      const t = await withSchedule("s-ok");
      assert.equal(t.require().isHoliday("2026-06-01"), true);
      assert.equal(t.require().isHoliday("2026-06-02"), false);
    });

    it("an id that is another node type (the registry): named with its type", async function () {
      assert.deepEqual(failure(await withSchedule("reg")), {
        code: "INVALID_SCHEDULE",
        message: "Holidays of: node 'office' (reg) is a plugwatch-registry, not a plugwatch-schedule",
      });
    });

    it("a schedule that did not start (file source, no file): named with the reason", async function () {
      assert.deepEqual(failure(await withSchedule("s-nofile")), {
        code: "INVALID_SCHEDULE",
        message: "Holidays of: schedule 'no file' (s-nofile) did not start: source is a JSON file but no file is set",
      });
    });

    it("a schedule whose document does not load: named with the JSON path and reason", async function () {
      const { code, message } = failure(await withSchedule("s-bad"));
      assert.equal(code, "INVALID_SCHEDULE");
      assert.match(message, /^Holidays of: cannot load the holidays of schedule 'bad' \(s-bad\): .*holidays\[0\]/);
    });

    it("no running node under the id: named as missing", async function () {
      assert.deepEqual(failure(await withSchedule("gone")), {
        code: "INVALID_SCHEDULE",
        message: "Holidays of: no plugwatch-schedule node 'gone' is running (deleted or disabled)",
      });
    });
  });
});
