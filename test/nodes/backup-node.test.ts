// plugwatch-influx-backup node in the Node-RED test helper against the real influxd: input and scheduled backups, retention,
// status, failures to Catch, and the health message raising/clearing an alert in a real alert node.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { BackupResult } from "../../lib/backup/runner";
import type { AlertEvent } from "../../lib/contracts/alert";
import { Availability } from "../../lib/contracts/reading";
import { validate } from "../../lib/contracts/validate";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { helper, recordStatuses, waitWithin } from "../support/node-helper";

import backupNode from "../../nodes/plugwatch-influx-backup/plugwatch-influx-backup";
import alertNode from "../../nodes/plugwatch-alert/plugwatch-alert";

interface HealthMsg {
  topic: string;
  payload: Availability;
  backup: BackupResult & { error?: { code: string; message: string } };
  _msgid?: string;
  tag?: string;
  qos?: number;
  retain?: boolean;
}
interface CaughtMsg {
  error: { message: string; code?: string; source: { id: string } };
  payload?: Availability;
}

/** Every wait here has a budget of 20 s (influxd backups) unless it says otherwise. */
const waitFor = waitWithin(20_000);

describe("plugwatch-influx-backup node (real influxd)", function () {
  this.timeout(60_000);
  let influx: InfluxdInstance;
  let dir: string;

  before(async function () {
    influx = await startInfluxd();
    await influx.query("CREATE DATABASE pw");
    await influx.write("pw", "power,device=pr-1 watts=50 1764000000000\npower,device=pr-1 watts=0 1764000060000");
  });
  after(async function () {
    await influx?.destroy();
  });
  beforeEach(function (done) {
    dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-backup-node-"));
    helper.startServer(done);
  });
  afterEach(async function () {
    await helper.unload();
    await new Promise((resolve) => helper.stopServer(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const base = (extra: Record<string, unknown> = {}) => ({
    id: "bk",
    z: "f1",
    type: "plugwatch-influx-backup",
    name: "",
    influxd: "",
    host: influx.rpcAddress,
    database: "pw",
    dir,
    keep: 2,
    schedule: "manual",
    interval: 60,
    at: "",
    timezone: "",
    timeout: 60,
    root: "plugwatch",
    wires: [["out"]],
    ...extra,
  });

  /** Flow: the backup node(s) → out, a catch → errs. */
  async function load(nodes: Record<string, unknown>[], more: unknown[] = []) {
    await helper.load(
      [backupNode, ...more],
      [
        { id: "f1", type: "tab", label: "backup" },
        ...nodes,
        { id: "out", z: "f1", type: "helper" },
        { id: "caught", z: "f1", type: "catch", scope: null, uncaught: false, wires: [["errs"]] },
        { id: "errs", z: "f1", type: "helper" },
      ],
    );
    const outs: HealthMsg[] = [];
    const errors: CaughtMsg[] = [];
    helper.getNode("out").on("input", (m: HealthMsg) => outs.push(m));
    helper.getNode("errs").on("input", (m: CaughtMsg) => errors.push(m));
    const statuses = recordStatuses(helper.getNode("bk"));
    return { outs, errors, statuses };
  }

  it("on input: backs up, sends online=true with the result, keeps the newest 2", async function () {
    const rec = await load([base()]);
    const bk = helper.getNode("bk");
    for (let i = 1; i <= 3; i++) {
      bk.receive({ payload: "go", tag: `run-${i}` });
      await waitFor(`backup ${i}`, () => rec.outs[i - 1]);
    }
    const [first, second, third] = rec.outs as [HealthMsg, HealthMsg, HealthMsg];
    assert.equal(third.topic, "plugwatch/backup/backup-pw/availability");
    assert.deepEqual([third.qos, third.retain], [1, true], "published retained, like every availability");
    assert.equal(third.tag, "run-3", "the input message's properties are kept");
    assert.ok(validate(Availability, third.payload).ok);
    assert.deepEqual([third.payload.device, third.payload.online, third.payload.reason], ["backup-pw", true, "backup ok"]);
    assert.deepEqual(third.backup.manifest.databases, ["pw"]);
    assert.match(third.backup.name, /^\d{8}T\d{6}Z(-\d+)?$/);
    assert.deepEqual(third.backup.deleted, [first.backup.name]);
    assert.deepEqual(readdirSync(dir).sort(), [second.backup.name, third.backup.name].sort());
    assert.ok(existsSync(path.join(dir, third.backup.name)));
    await waitFor("ok status", () => rec.statuses.find((s) => s.fill === "green" && s.text === "plugwatch-influx-backup.status.ok"));
    assert.deepEqual(rec.errors, []);
  });

  it("a failure goes to Catch with a clean message and code, sends online=false, and raises an alert that the next good backup clears", async function () {
    const alertRules = JSON.stringify([{ id: "backup", type: "offline", devices: ["backup-pw"], severity: "critical" }]);
    const rec = await load(
      [
        base({ id: "bad", host: "127.0.0.1:1", wires: [["out", "al"]] }),
        base({ wires: [["out", "al"]] }),
        {
          id: "al",
          z: "f1",
          type: "plugwatch-alert",
          name: "",
          root: "plugwatch",
          registry: "",
          rules: alertRules,
          tickInterval: 0.05,
          persist: false,
          wires: [["alerts"], []],
        },
        { id: "alerts", z: "f1", type: "helper" },
      ],
      [alertNode],
    );
    const alerts: { payload: AlertEvent | "" }[] = [];
    helper.getNode("alerts").on("input", (m: { payload: AlertEvent | "" }) => alerts.push(m));
    const badStatuses = recordStatuses(helper.getNode("bad"));

    helper.getNode("bad").receive({ payload: "go" });
    const failed = await waitFor("health after failure", () => rec.outs[0]);
    assert.deepEqual([failed.payload.device, failed.payload.online], ["backup-pw", false]);
    assert.match(failed.payload.reason, /^STORAGE_UNAVAILABLE: influxd RPC not reachable at 127\.0\.0\.1:1/);
    assert.equal(failed.backup.error?.code, "STORAGE_UNAVAILABLE");
    const caught = await waitFor("catch", () => rec.errors[0]);
    assert.match(caught.error.message, /^influxd RPC not reachable at 127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    assert.equal(caught.error.code, "STORAGE_UNAVAILABLE");
    assert.equal(caught.error.source.id, "bad");
    await waitFor("red status", () => badStatuses.find((s) => s.fill === "red" && s.text === "plugwatch-influx-backup.status.failed"));
    const raised = await waitFor("alert raised", () => alerts[0]);
    assert.deepEqual([(raised.payload as AlertEvent).id, (raised.payload as AlertEvent).state], ["backup:backup-pw", "raised"]);

    helper.getNode("bk").receive({ payload: "go" });
    await waitFor("alert cleared", () => (alerts.length >= 2 ? true : undefined));
    assert.equal((alerts[1]?.payload as AlertEvent).state, "cleared");
    assert.equal(readdirSync(dir).length, 1, "only the good backup exists");
  });

  it("on a schedule (every 3 s) without any input; a scheduled failure reaches Catch with the health message", async function () {
    const rec = await load([
      base({ schedule: "interval", interval: 0.05 }),
      base({ id: "bad", host: "127.0.0.1:1", database: "other", schedule: "interval", interval: 0.05 }),
    ]);
    const ok = await waitFor("scheduled backup", () => rec.outs.find((m) => m.payload.online), 15_000);
    assert.deepEqual(ok.backup.manifest.databases, ["pw"]);
    const caught = await waitFor("scheduled failure", () => rec.errors[0], 15_000);
    assert.equal(caught.error.code, "STORAGE_UNAVAILABLE");
    assert.deepEqual([caught.payload?.device, caught.payload?.online], ["backup-other", false]);
  });

  it("a bad configuration: red status, inputs rejected to Catch", async function () {
    const rec = await load([base({ host: "localhost", keep: 0 })]);
    helper.getNode("bk").receive({ payload: "go" });
    const caught = await waitFor("catch", () => rec.errors[0]);
    assert.match(caught.error.message, /RPC host must be host:port/);
    assert.equal(caught.error.code, "INVALID_REQUEST");
    assert.deepEqual(rec.outs, []);
  });
});
