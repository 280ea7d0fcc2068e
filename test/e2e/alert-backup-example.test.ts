// examples/plugwatch-influx-backup.json in a real Node-RED with the real influxd: the inject backs up, a failed backup (influxd
// stopped) raises the backup alert and reaches Catch, the next good backup clears it.
import assert from "node:assert/strict";
import * as path from "node:path";
import { listBackups } from "../../lib/backup/runner";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { startNodeRed, type NodeRedInstance } from "../../scripts/harness/nodered";
import { exampleWithEnv } from "../support/examples";
import { Teardown } from "../../scripts/harness/services";

describe("example flow: plugwatch-influx-backup with an alert (real Node-RED, real influxd)", function () {
  this.timeout(120_000);
  const td = new Teardown();
  let influx: InfluxdInstance;
  let red: NodeRedInstance;

  before(async function () {
    influx = td.add(await startInfluxd(), (i) => i.destroy());
    await influx.query("CREATE DATABASE plugwatch");
    await influx.write("plugwatch", "plug,device=pr-1 power=50 1764000000000");
    red = td.add(await startNodeRed(), (r) => r.stop());
    await red.deploy(exampleWithEnv("plugwatch-influx-backup", { INFLUX_RPC: influx.rpcAddress, INFLUX_DB: "plugwatch" }));
  });
  after(async function () {
    await td.run();
  });

  /** Presses the inject button (POST /inject/:id); 404 until the deployed flow's nodes exist. */
  async function inject(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await red.request("/inject/ex-bk-now", { method: "POST" });
      const text = await r.text();
      if (r.status === 200) return;
      if (r.status !== 404 || Date.now() > deadline) assert.fail(`POST /inject: ${r.status} ${text}\n${red.logTail(30)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  async function backups(count: number) {
    const dir = path.join(red.userDir, "backups");
    const deadline = Date.now() + 30_000;
    for (;;) {
      // complete ones only: influxd creates the folder before it writes the manifest
      const list = (await listBackups(dir)).filter((b) => b.manifest);
      if (list.length >= count) return list;
      if (Date.now() > deadline) throw new Error(`expected ${count} backups in ${dir}, found ${list.length}\n${red.logTail(30)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it("backs up on inject; influxd down → alert raised + Catch; influxd back → next backup clears the alert", async function () {
    await inject();
    const [first] = await backups(1);
    assert.deepEqual(first?.manifest?.databases, ["plugwatch"]);
    // the run is over once its result is sent (the "backup result" debug prints it, with the retention outcome);
    // an inject before that is rejected with "a backup is already running"
    await red.waitForLog(/deleted: \[\]/, 20_000);

    await influx.stop();
    await inject();
    // the Catch → debug (console) prints the error object; the alert → debug prints the raised event
    await red.waitForLog(/code: 'STORAGE_UNAVAILABLE'/, 20_000);
    await red.waitForLog(/id: 'backup:backup-plugwatch'/, 20_000);
    await red.waitForLog(/state: 'raised'/, 20_000);
    assert.doesNotMatch(red.log(), /state: 'cleared'/);

    await influx.restart();
    await inject();
    await red.waitForLog(/state: 'cleared'/, 30_000);
    const list = await backups(2);
    assert.equal(list.length, 2);
    assert.ok(list.every((b) => b.manifest?.databases.includes("plugwatch")));
  });
});
