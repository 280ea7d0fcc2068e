// The shipped flow without InfluxDB: plugs still polled and published, readings spool on disk, data endpoints answer 503.
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import type { Health } from "../../lib/api/schemas";
import { INSTALL_HINT } from "../../lib/influx/http";
import { connectClient, nextMessage, Teardown } from "../../scripts/harness/services";
import { EMBEDDED_RUNTIME_PASSWORD, eventually, PIPELINE_TOKEN, startPipeline, type PipelineStack } from "../../scripts/harness/pipeline";

describe("shipped flow without InfluxDB (embedded broker): still runs, spools, answers 503", function () {
  this.timeout(90000);
  const td = new Teardown();
  let s: PipelineStack;
  const api = (pathname: string) => fetch(`${s.red.url}/api/v1${pathname}`, { headers: { authorization: `Bearer ${PIPELINE_TOKEN}` } });

  before(async function () {
    s = await startPipeline(td, { influx: false, broker: "embedded" });
  });
  after(async function () {
    await td.run();
  });

  it("readings of every device still reach MQTT subscribers", async function () {
    const client = await connectClient(td, s.mqttUrl);
    const seen = new Set<string>();
    client.on("message", (_t, p) => seen.add((JSON.parse(p.toString()) as { device: string }).device));
    await client.subscribeAsync("plugwatch/+/+/+/+/reading", { qos: 1 });
    await eventually(
      "readings of every device",
      () => seen.size,
      (n) => n === s.devices.length,
    );
    // The anonymous client is read-only on the embedded broker: its command is refused and its connection closed.
    assert.equal(s.office.plug("ws-1-01").relay, true);
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.publish(
      "plugwatch/api/request/command",
      JSON.stringify({ v: 1, id: "anon-1", replyTo: "plugwatch/api/reply/anon", action: "off", target: { device: "ws-1-01" } }),
      { qos: 0 },
    );
    await closed;
    // and the control path works without storage (an authenticated identity)
    const runtime = await connectClient(td, s.mqttUrl, { username: "runtime", password: EMBEDDED_RUNTIME_PASSWORD });
    const reply = nextMessage(runtime, "plugwatch/api/reply/test");
    await runtime.subscribeAsync("plugwatch/api/reply/test", { qos: 1 });
    await runtime.publishAsync(
      "plugwatch/api/request/command",
      JSON.stringify({ v: 1, id: "no-influx-1", replyTo: "plugwatch/api/reply/test", action: "off", target: { device: "ws-2-01" } }),
      { qos: 1 },
    );
    const r = JSON.parse((await reply).payload.toString()) as { ok: boolean; results: { device: string; relay: boolean }[] };
    assert.equal(r.ok, true);
    assert.equal(s.office.plug("ws-2-01").relay, false);
    assert.equal(s.office.plug("ws-1-01").relay, true, "the anonymous command switched nothing");
  });

  it("a 50 MB publish is refused at the embedded broker; Node-RED's memory stays within +50 MB and the flow keeps running", async function () {
    const before = s.red.rssBytes();
    assert.ok(before && before > 0);
    const big = await connectClient(td, s.mqttUrl, { username: "runtime", password: EMBEDDED_RUNTIME_PASSWORD });
    const closed = new Promise<void>((resolve) => big.once("close", () => resolve()));
    big.publish("plugwatch/api/request/command", Buffer.alloc(50 * 1024 * 1024, 0x7b), { qos: 0 });
    await closed;
    // The flow still answers after it: a reading arrives at a fresh subscriber.
    const reader = await connectClient(td, s.mqttUrl);
    const next = nextMessage(reader, "plugwatch/+/+/+/+/reading");
    await reader.subscribeAsync("plugwatch/+/+/+/+/reading", { qos: 1 });
    await next;
    const after = s.red.rssBytes() ?? 0;
    assert.ok(after < before + 50 * 1024 * 1024, `RSS ${Math.round(before / 1048576)} MB → ${Math.round(after / 1048576)} MB`);
  });

  it("data endpoints answer 503 STORAGE_UNAVAILABLE as problem+json; registry endpoints still answer", async function () {
    for (const p of ["/devices/ws-1-01/measurements?from=-1h&to=now", "/measurements/latest", "/energy?from=-1d&to=now&groupBy=room"]) {
      const res = await api(p);
      const text = await res.text();
      assert.equal(res.status, 503, `${p}: ${text}`);
      assert.match(res.headers.get("content-type") ?? "", /application\/problem\+json/);
      const body = JSON.parse(text) as { code: string; detail: string };
      assert.equal(body.code, "STORAGE_UNAVAILABLE");
      // The detail says what is wrong and how to fix it: the URL, the cause and the install hint.
      assert.match(body.detail, /^cannot reach InfluxDB at http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
      assert.ok(body.detail.endsWith(INSTALL_HINT), body.detail);
      assert.match(body.detail, /apt-get install -y influxdb.*scripts\/install\.sh.*PLUGWATCH_INFLUX_URL/);
    }
    const devices = await api("/devices");
    assert.equal(devices.status, 200, await devices.text());
  });

  it("accepted readings wait in the hook's disk spool, and /health reports the backlog", async function () {
    const spool = path.join(s.red.userDir, "plugwatch-spool", "pw-hook");
    const bytes = () => readdirSync(spool).reduce((sum, f) => sum + statSync(path.join(spool, f)).size, 0);
    await eventually("a growing spool", bytes, (b) => b > 1000);
    const health = await eventually(
      "the storage backlog in /health",
      async () => (await (await api("/health")).json()) as Partial<Health>,
      (h) => typeof h.storage?.backlog === "number" && h.storage.backlog > 0,
      20000,
    );
    assert.ok(health.storage!.backlog! > 0);
    assert.equal(health.storage!.components?.[0]?.component, "influx-hook");
    // The hook's status messages match their contract: none was counted as invalid.
    assert.equal(health.api?.invalidMessages, 0);
  });
});
