// The plugwatch-influx-hook's status message (lib/influx/hook-status.ts) against its contract and the API state that reads it.
import { eventually } from "../../scripts/harness/wait";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ApiState } from "../../lib/api/state";
import { ComponentStatus, validate } from "../../lib/contracts";
import { InfluxHttp, INSTALL_HINT } from "../../lib/influx/http";
import { hookStatus, HOOK_COMPONENT } from "../../lib/influx/hook-status";
import { influxSettingsFromConfig } from "../../lib/influx/settings";
import { InfluxWriter, influxSink } from "../../lib/influx/writer";
import { Spool } from "../../lib/spool";
import { componentStatusTopic } from "../../lib/topics";
import { freePort } from "../../scripts/harness/ports";

const T = 1764000000000;

const until = <T>(what: string, get: () => T, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> => eventually(what, get, ok, { timeoutMs, everyMs: 20 });

describe("component status: plugwatch-influx-hook stats → {root}/status/influx-hook → API state", function () {
  this.timeout(15000);
  let dir: string;
  let spool: Spool;
  let http: InfluxHttp;
  let writer: InfluxWriter;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-status-test-"));
    // A loopback port nobody listens on: a real ECONNREFUSED, as in the demo without InfluxDB.
    const port = await freePort();
    const settings = influxSettingsFromConfig({ url: `http://127.0.0.1:${port}`, flavour: "1.x", database: "plugwatch", timeout: 1000 });
    http = new InfluxHttp(settings);
    spool = await Spool.open({ dir, maxBytes: 1e7 });
    writer = new InfluxWriter({ spool, sink: influxSink(http, settings), batchSize: 100, flushIntervalMs: 0, random: () => 1 });
    await writer.acceptAsync(["plug,device=ws-1 power=12.5 1764000000000", "plug,device=ws-2 power=3 1764000000000", "plug,device=ws-3 power=0 1764000000000"]);
    await until(
      "a failed write",
      () => writer.stats(),
      (s) => s.lastError !== undefined,
    );
  });
  after(async () => {
    await writer.close(0); // closes the spool too
    http.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the hook's real stats payload is a valid ComponentStatus with backlog = spooled lines and its counters kept", () => {
    const stats = writer.stats();
    const msg = hookStatus(stats, { invalidInputs: 2, invalidElements: 5, spoolFullRefusals: 0 }, { node: "n1", name: "store readings" }, T);
    const r = validate(ComponentStatus, JSON.parse(JSON.stringify(msg)));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    assert.equal(msg.v, 1);
    assert.equal(msg.component, "influx-hook");
    assert.equal(msg.ts, T);
    assert.equal(msg.backlog, 3);
    assert.equal(msg.backlogLines, 3);
    assert.equal(msg.acceptedLines, 3);
    assert.equal(msg.writtenLines, 0);
    assert.equal(msg.invalidInputs, 2);
    assert.equal(msg.invalidElements, 5);
    assert.equal(msg.node, "n1");
    assert.equal(msg.name, "store readings");
    assert.equal(msg.spool?.backlogLines, 3);
    // The write failed for real: STORAGE_UNAVAILABLE, with the install hint.
    assert.equal(msg.lastError?.code, "STORAGE_UNAVAILABLE");
    assert.match(msg.lastError?.message ?? "", /cannot reach InfluxDB at http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    assert.ok(msg.lastError?.message.endsWith(INSTALL_HINT), msg.lastError?.message);
    assert.match(INSTALL_HINT, /apt-get install -y influxdb/);
    // An unnamed node sends no name at all (not an empty string).
    assert.equal("name" in hookStatus(stats, { invalidInputs: 0, invalidElements: 0, spoolFullRefusals: 0 }, { node: "n1", name: "" }, T), false);
  });

  it("the API state ingests it as published (JSON over MQTT) and reports the backlog", () => {
    const s = new ApiState({ root: "pw" });
    const msg = hookStatus(writer.stats(), { invalidInputs: 0, invalidElements: 0, spoolFullRefusals: 0 }, { node: "n1" }, T);
    assert.equal(s.ingest(componentStatusTopic("pw", HOOK_COMPONENT), Buffer.from(JSON.stringify(msg))), "status");
    assert.equal(s.invalid, 0);
    assert.deepEqual(s.storageStatus(), [
      { component: "influx-hook", backlog: 3, ts: T, fill: msg.fill, writeErrors: msg.writeErrors, spoolFull: false, retrying: true },
    ]);
    // The message as a Node-RED mqtt-in set to 'auto' delivers it (parsed object) is read the same way.
    assert.equal(s.ingest("pw/status/influx-hook", { ...msg, ts: T + 1, backlog: 0, backlogLines: 0 }), "status");
    assert.deepEqual(
      s.storageStatus().map(({ component, backlog, ts }) => ({ component, backlog, ts })),
      [{ component: "influx-hook", backlog: 0, ts: T + 1 }],
    );
  });

  it("reports storage health: fill level, oldest unsent reading's age, write errors, spool-full flag", () => {
    const st = writer.stats();
    const msg = hookStatus(st, { invalidInputs: 0, invalidElements: 0, spoolFullRefusals: 4 }, { node: "n1" }, T + 90_000, { spoolFull: true, oldestTs: T });
    assert.ok(validate(ComponentStatus, JSON.parse(JSON.stringify(msg))).ok);
    assert.equal(msg.fill, Math.round((st.backlogBytes / 1e7) * 1e6) / 1e6);
    assert.ok(msg.fill > 0);
    assert.equal(msg.oldestAgeMs, 90_000);
    assert.ok((msg.writeErrors as number) >= 1, "the refused connection counts as a write error");
    assert.equal(msg.spoolFull, true);
    const s = new ApiState({ root: "pw" });
    s.ingest("pw/status/influx-hook", JSON.stringify(msg));
    assert.deepEqual(
      s.storageStatus().map((c) => [c.spoolFull, c.oldestAgeMs, c.retrying]),
      [[true, 90_000, true]],
    );
  });

  it("refuses a status that breaks the contract, without throwing", () => {
    const s = new ApiState({ root: "pw" });
    const good = hookStatus(writer.stats(), { invalidInputs: 0, invalidElements: 0, spoolFullRefusals: 0 }, { node: "n1" }, T);
    for (const bad of [{ ...good, v: 2 }, { ...good, backlog: 1.5 }, { ...good, ts: "now" }, { ...good, extra: 1 }, "not json", 42]) {
      assert.equal(s.ingest("pw/status/influx-hook", typeof bad === "object" ? JSON.stringify(bad) : bad), "invalid", JSON.stringify(bad));
    }
    assert.equal(s.invalid, 6);
    assert.deepEqual(s.storageStatus(), []);
  });
});
