// The shipped flow (flows/plugwatch.json) on its embedded broker (issue 14): the collector publishes under its own
// identity, narrowed to the registry the embedded broker selects, and the runtime's identity (role agents) may publish
// no reading at all. Real Node-RED, influxd and simulated plugs; started like npm start (both identities from env).
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { Device } from "../../lib/contracts/device";
import { connectClient, Teardown } from "../../scripts/harness/services";
import {
  EMBEDDED_COLLECTOR_PASSWORD,
  EMBEDDED_RUNTIME_PASSWORD,
  eventually,
  PIPELINE_TOKEN,
  startPipeline,
  type PipelineStack,
} from "../../scripts/harness/pipeline";
import { nth } from "../support/checked";

const DB = "plugwatch";
const topicOf = (d: Pick<Device, "id" | "location">, stream: "reading" | "availability") =>
  `plugwatch/${d.location.building}/${d.location.floor}/${d.location.room}/${d.id}/${stream}`;
const reading = (id: string, power: number, ts: number) =>
  JSON.stringify({ v: 1, device: id, ts, power, voltage: 230, current: 0.5, energy: 1.5, relay: true });

describe("shipped flow, embedded broker: collector identity bound to the registry, runtime identity publishes no reading", function () {
  this.timeout(120_000);
  const td = new Teardown();
  let s: PipelineStack;

  const storedDevices = async (): Promise<string[]> => {
    const r = await s.influxd!.query(`SHOW TAG VALUES FROM "plug" WITH KEY = "device"`, DB);
    return (r.results[0]?.series?.[0]?.values ?? []).map((v) => String(v[1])).sort();
  };
  /** Publishes on a fresh connection as `user`; "delivered" (PUBACK) or "closed" (the broker refused it and closed the connection). */
  async function publishAs(user: string, password: string, topic: string, payload: string): Promise<"delivered" | "closed"> {
    const c: MqttClient = await connectClient(td, s.mqttUrl, { username: user, password, protocolVersion: 4 });
    const closed = new Promise<"closed">((resolve) => c.once("close", () => resolve("closed")));
    const acked = c.publishAsync(topic, payload, { qos: 1 }).then(
      () => "delivered" as const,
      () => "closed" as const,
    );
    return Promise.race([acked, closed]);
  }

  before(async function () {
    s = await startPipeline(td, { broker: "embedded" });
  });
  after(async function () {
    await td.run();
  });

  it("the embedded broker selects the registry; every registry device's readings are stored (published as the collector)", async function () {
    assert.match(
      await s.red.waitForLog(/collector role limited to the \d+ devices of the registry/, 20_000),
      new RegExp(`limited to the ${s.devices.length} devices`),
    );
    const ids = s.devices.map((d) => d.id).sort();
    await eventually("readings of every registry device stored", storedDevices, (stored) => JSON.stringify(stored) === JSON.stringify(ids), 30_000);
    // The flow's own publishers (collector, control, hook, alerts, scheduler, API, dashboard) were never refused.
    assert.doesNotMatch(s.red.log(), /refused publish/);
  });

  it("the collector identity's reading for an unknown id is refused at the broker (UNKNOWN_DEVICE) and never stored", async function () {
    const ws = nth(s.devices, 0);
    const intruder = { id: "intruder-9", location: ws.location };
    // Control: the same identity publishing a registered device's topic is served.
    assert.equal(await publishAs("collector", EMBEDDED_COLLECTOR_PASSWORD, topicOf(ws, "reading"), reading(ws.id, 42, Date.now())), "delivered");
    assert.equal(await publishAs("collector", EMBEDDED_COLLECTOR_PASSWORD, topicOf(intruder, "reading"), reading("intruder-9", 42, Date.now())), "closed");
    assert.match(
      await s.red.waitForLog(/\[UNKNOWN_DEVICE\] refused publish: .*intruder-9/),
      /collector \(collector\) may not publish to plugwatch\/\S+\/intruder-9\/reading: device 'intruder-9' is not in the broker's registry/,
    );
    assert.equal(await publishAs("collector", EMBEDDED_COLLECTOR_PASSWORD, topicOf(intruder, "availability"), '{"online":false}'), "closed");
    assert.ok(!(await storedDevices()).includes("intruder-9"));
  });

  it("the runtime identity (role agents) cannot publish a reading or an availability, even of a registered device", async function () {
    const ws = s.devices.find((d) => d.id === "ws-1-01") ?? nth(s.devices, 0);
    const forgedAt = Date.now();
    const FORGED_W = 1234.567;
    assert.equal(await publishAs("runtime", EMBEDDED_RUNTIME_PASSWORD, topicOf(ws, "reading"), reading(ws.id, FORGED_W, forgedAt)), "closed");
    assert.match(
      await s.red.waitForLog(/refused publish: runtime \(agents\) may not publish to/),
      new RegExp(`runtime \\(agents\\) may not publish to ${topicOf(ws, "reading").replace(/\//g, "\\/")}`),
    );
    assert.equal(await publishAs("runtime", EMBEDDED_RUNTIME_PASSWORD, topicOf(ws, "availability"), '{"online":false,"reason":"spoofed"}'), "closed");
    // A genuine reading of the device stored after the forged one proves the hook had its chance: the forged value is not there.
    await eventually(
      "a reading of the device newer than the forged one",
      async () =>
        (await s.influxd!.query(`SELECT count("power") FROM "plug" WHERE "device" = '${ws.id}' AND time > ${forgedAt}ms`, DB)).results[0]?.series?.[0]
          ?.values[0]?.[1],
      (n) => typeof n === "number" && n > 0,
      20_000,
    );
    const forged = await s.influxd!.query(`SELECT "power" FROM "plug" WHERE "device" = '${ws.id}' AND "power" = ${FORGED_W}`, DB);
    assert.equal(forged.results[0]?.series, undefined, "the forged reading was not stored");
  });

  it("the runtime identity still does its agents' work: a REST switch goes through the control agent and back", async function () {
    const plug = s.office.plug("ws-1-02");
    const res = await fetch(`${s.red.url}/api/v1/devices/ws-1-02/power`, {
      method: "POST",
      headers: { authorization: `Bearer ${PIPELINE_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ state: "off" }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(plug.relay, false);
    assert.doesNotMatch(s.red.log(), /refused publish: (runtime|collector) \((agents|collector)\) may not publish to plugwatch\/(api|audit|alerts|status)/);
  });
});
