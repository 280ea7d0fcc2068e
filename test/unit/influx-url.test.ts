// InfluxDB URLs never carry credentials into messages: the config refuses user:password in the URL, and every message shows the origin only.
import assert from "node:assert/strict";
import { InfluxHttp, unreachableMessage } from "../../lib/influx/http";
import { influxRunner } from "../../lib/influx/query-service";
import { DEFAULT_SETTINGS, displayUrl, influxSettingsFromConfig, type InfluxSettings } from "../../lib/influx/settings";
import { PlugwatchError } from "../../lib/contracts/errors";
import { freePort } from "../../scripts/harness/ports";

describe("InfluxDB URL: no credentials in messages", function () {
  this.timeout(10000);

  it("displayUrl keeps the origin only, also for a URL that does not parse", () => {
    assert.equal(displayUrl("http://admin:S3cret@127.0.0.1:8086/influx?u=x&p=y"), "http://127.0.0.1:8086");
    assert.equal(displayUrl("https://db.example:8443/"), "https://db.example:8443");
    const bad = displayUrl("http://admin:S3cret@[bad");
    assert.ok(!bad.includes("S3cret"), bad);
    assert.ok(!bad.includes("admin"), bad);
  });

  it("the config refuses user:password in the URL, points to the credential fields and does not echo the password", () => {
    for (const url of ["http://admin:S3cret@127.0.0.1:8086", "http://admin@127.0.0.1:8086", "ftp://admin:S3cret@127.0.0.1"]) {
      assert.throws(
        () => influxSettingsFromConfig({ url, database: "x" }),
        (err: Error) => {
          assert.match(err.message, /^invalid InfluxDB configuration: url: /);
          assert.ok(!err.message.includes("S3cret"), err.message);
          assert.ok(!err.message.includes("admin"), err.message);
          if (url.startsWith("http:")) assert.match(err.message, /Username\/Password fields/);
          return true;
        },
      );
    }
    // The credential fields are the way: accepted and sent as Basic auth.
    const s = influxSettingsFromConfig({ url: "http://127.0.0.1:8086", database: "x", username: "admin", password: "S3cret" });
    assert.equal(s.username, "admin");
    assert.equal(s.password, "S3cret");
  });

  it("STORAGE_UNAVAILABLE from a send shows the origin only (even if a URL with credentials got past the config)", async () => {
    const port = await freePort();
    const settings: InfluxSettings = { ...DEFAULT_SETTINGS, url: `http://admin:S3cret@127.0.0.1:${port}/base?x=1`, database: "x", timeoutMs: 2000 };
    const http = new InfluxHttp(settings);
    try {
      const err = await influxRunner({ settings, http })({ text: "SELECT 1", params: {} }).then(
        () => assert.fail("nothing listens on the port: the query must fail"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof PlugwatchError);
      assert.equal(err.code, "STORAGE_UNAVAILABLE");
      assert.match(err.message, new RegExp(`^cannot reach InfluxDB at http://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
      assert.ok(!/S3cret|admin|x=1/.test(err.message), err.message);
    } finally {
      http.close();
    }
    assert.equal(unreachableMessage("http://u:p@h:1", "boom").startsWith("cannot reach InfluxDB at http://h:1: boom"), true);
  });
});
