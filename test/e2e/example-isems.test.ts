// examples/isems-solar.json in a real Node-RED runtime: simulated ISEMS nodes polled over HTTP and pushing to MQTT → readings, InfluxDB, REST API latest endpoints.
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { DeviceEntry } from "../../lib/contracts/device";
import { GenericReading } from "../../lib/contracts/reading";
import { validate } from "../../lib/contracts/validate";
import { SimulatedIsemsNode } from "../../scripts/sim/isems";
import { assertOfferedAsExample, exampleWithEnv } from "../support/examples";
import { startInfluxd, type InfluxdInstance } from "../support/influxd";
import { OpenApiValidator } from "../support/openapi-validator";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../support/nodered";
import { connectClient, startBroker, Teardown } from "../support/services";

const DB = "solar";
const TOKEN = "tok-solar-read-0123456789";
const DAY_S = 86_400;
const LOCATION = "mesh/0/outdoor";

/** The registry the test deploys instead of the example's sample: the four simulated nodes. */
function solarDevices(): DeviceEntry[] {
  // The registry wants a unique address per device; the flow polls the URLs in ISEMS_HTTP_NODES, not these.
  return ["solar-1", "solar-2", "solar-3", "solar-4"].map((id, i) => ({
    id,
    name: `Solar node ${id}`,
    model: "ISEMS-OpenMPPT",
    host: "127.0.0.1",
    port: 8101 + i,
    kind: "other",
    location: { building: "mesh", floor: "0", room: "outdoor" },
  }));
}

/** The example with its tab's environment variables, registry and API token set for this test. */
function exampleFlow(env: Record<string, string>): FlowNode[] {
  const flow = exampleWithEnv("isems-solar", env);
  const registry = flow.find((n) => n.type === "plugwatch-registry");
  assert.ok(registry);
  registry.json = JSON.stringify({ devices: solarDevices() });
  const api = flow.find((n) => n.type === "plugwatch-http-api");
  assert.ok(api);
  api.credentials = { tokens: `${TOKEN} read` };
  return flow;
}

async function waitUntil<T>(what: () => string, probe: () => Promise<T | undefined>, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}\n${logTail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The runtime's log tail, appended to timeouts. */
let logTail: () => string = () => "";

type Row = Record<string, number | string | boolean>;

describe("example: ISEMS solar mesh nodes (e2e)", function () {
  this.timeout(90000);
  const td = new Teardown();
  let red: NodeRedInstance;
  let influxd: InfluxdInstance;
  let brokerUrl: string;
  let client: MqttClient;
  const readings: GenericReading[] = [];
  let http1: SimulatedIsemsNode, http2: SimulatedIsemsNode, pusher: SimulatedIsemsNode, silent: SimulatedIsemsNode;
  const now = Math.floor(Date.now() / 1000);

  let spec: OpenApiValidator | undefined;
  /** GET on the solar API; every answer must match the OpenAPI document the API itself serves. */
  const api = async (pathname: string, token = TOKEN): Promise<{ status: number; body: unknown }> => {
    const url = `${red.url}/solar/api/v1${pathname}`;
    if (!spec) {
      const doc = await fetch(`${red.url}/solar/api/v1/openapi.json`);
      assert.equal(doc.status, 200);
      spec = new OpenApiValidator((await doc.json()) as ConstructorParameters<typeof OpenApiValidator>[0], "/solar/api/v1");
    }
    const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const body = (await r.json()) as unknown;
    const { errors } = spec.check({ method: "GET", path: `/solar/api/v1${pathname}`, status: r.status, contentType: r.headers.get("content-type"), body });
    assert.deepEqual(errors, [], `GET ${pathname} does not match the OpenAPI document`);
    return { status: r.status, body };
  };

  before(async function () {
    const broker = await startBroker(td, "mosquitto");
    brokerUrl = broker.url;
    influxd = td.add(await startInfluxd(), (i) => i.destroy());
    http1 = td.add(await SimulatedIsemsNode.start({ nodeId: "solar-1" }), (n) => n.stop());
    http2 = td.add(await SimulatedIsemsNode.start({ nodeId: "Solar-2", status: { chargePercent: 54, batteryV: 12.5, batteryTempC: 31.2, status: 0b10010 } }), (n) => n.stop());
    pusher = td.add(await SimulatedIsemsNode.start({ nodeId: "solar-3", status: { timestamp: now - 180, chargePercent: 71 } }), (n) => n.stop());
    pusher.measure({ timestamp: now - 120, chargePercent: 72 });
    pusher.measure({ timestamp: now - 60, chargePercent: 73, batteryTempC: 26 });
    // Last heard of 40 days ago: beyond the API's 30-day inactive cut-off.
    silent = td.add(await SimulatedIsemsNode.start({ nodeId: "solar-4", status: { timestamp: now - 40 * DAY_S, chargePercent: 12 } }), (n) => n.stop());

    client = await connectClient(td, broker.url);
    client.on("message", (_topic, payload) => readings.push(JSON.parse(payload.toString("utf8")) as GenericReading));
    await client.subscribeAsync("solar/+/+/+/+/reading", { qos: 1 });
    red = td.add(await startNodeRed(), (r) => r.stop());
    logTail = () => red.logTail(60);
    await red.deploy(
      exampleFlow({
        ISEMS_HTTP_NODES: `${http1.url},${http2.url}`,
        ISEMS_POLL_S: "0.5",
        ISEMS_LOCATION: LOCATION,
        MQTT_HOST: "127.0.0.1",
        MQTT_PORT: new URL(broker.url).port,
        INFLUX_URL: influxd.url,
        INFLUX_DB: DB,
      }),
    );
  });

  after(() => td.run());

  it("is offered under Import → Examples, exactly as the file holds it", async function () {
    await assertOfferedAsExample(red, "isems-solar");
  });

  it("polls the HTTP nodes' ffopenmppt.json and publishes contract readings with their values", async function () {
    const r1 = await waitUntil(() => "a reading of solar-1", async () => readings.find((r) => r.device === "solar-1"));
    assert.ok(validate(GenericReading, r1).ok, JSON.stringify(r1));
    const s1 = http1.status;
    assert.equal(r1.ts, s1.timestamp * 1000);
    assert.equal(r1.measurement, "isems");
    assert.deepEqual(r1.fields, {
      next_reboot: s1.nextRebootMin,
      open_circuit_voltage: s1.openCircuitV,
      mpp_voltage: s1.mppV,
      battery_voltage: s1.batteryV,
      charge_state: s1.chargePercent,
      battery_health: s1.healthPercent,
      battery_temperature: s1.batteryTempC,
      low_voltage_disconnect: s1.lowVoltageDisconnectV,
      charge_end_voltage: s1.chargeEndV,
      battery_capacity: s1.batteryAh,
      solar_power: s1.solarW,
      latitude: s1.latitude,
      longitude: s1.longitude,
      power_save: false,
      status_code: 0x900, // charging + healthy, as the ISEMS collector reads the hex
    });
    assert.deepEqual(r1.tags, { source: "isems", firmware: s1.firmware });
    // The router's host name "Solar-2" becomes the registry id solar-2.
    const r2 = await waitUntil(() => "a reading of solar-2", async () => readings.find((r) => r.device === "solar-2"));
    assert.deepEqual([r2.fields.charge_state, r2.fields.battery_voltage, r2.fields.battery_temperature, r2.fields.status_code], [54, 12.5, 31.2, 0x480]);
    assert.ok(http1.requests.json >= 1 && http2.requests.json >= 1);
  });

  it("takes the CSV lines a node pushes to isems/<node>/csvlog: one reading per line, with the node's timestamps", async function () {
    await pusher.push(brokerUrl, 3);
    await silent.push(brokerUrl, 1);
    const r3 = await waitUntil(
      () => `3 readings of solar-3; got ${JSON.stringify(readings.filter((r) => r.device === "solar-3"))}`,
      async () => {
        const got = readings.filter((r) => r.device === "solar-3");
        return got.length >= 3 ? got : undefined;
      },
    );
    assert.deepEqual(r3.map((r) => r.ts), [now - 180, now - 120, now - 60].map((s) => s * 1000));
    assert.deepEqual(r3.map((r) => r.fields.charge_state), [71, 72, 73]);
    assert.equal(r3[2]?.fields.battery_temperature, 26);
    assert.ok(r3.every((r) => validate(GenericReading, r).ok));
    await waitUntil(() => "the reading of solar-4", async () => readings.find((r) => r.device === "solar-4"));
  });

  it("stores every reading through plugwatch-influx-hook with the registry's tags", async function () {
    const rows = await waitUntil(
      () => "the pushed data sets of solar-3 in InfluxDB",
      async () => {
        const r = await influxd.query(`SELECT "charge_state", "building", "kind" FROM "isems" WHERE "device" = 'solar-3'`, DB);
        const values = r.results[0]?.series?.[0]?.values;
        return values && values.length >= 3 ? values : undefined;
      },
    );
    assert.deepEqual(rows, [
      [(now - 180) * 1000, 71, "mesh", "other"],
      [(now - 120) * 1000, 72, "mesh", "other"],
      [(now - 60) * 1000, 73, "mesh", "other"],
    ]);
  });

  it("serves GET /measurements/latest: the latest data set per node, nodes silent for 30 days hidden unless ?all=true", async function () {
    assert.equal((await api("/measurements/latest", "wrong-token-0000000000")).status, 401);
    const latest = await waitUntil(
      () => "solar-1, solar-2 and solar-3 in /measurements/latest",
      async () => {
        const r = await api("/measurements/latest");
        const rows = (r.body as { readings?: Row[] }).readings ?? [];
        return r.status === 200 && rows.length >= 3 ? rows : undefined;
      },
    );
    assert.deepEqual(latest.map((r) => r.device), ["solar-1", "solar-2", "solar-3"]);
    const s3 = latest.find((r) => r.device === "solar-3") as Row;
    assert.equal(s3.ts, (now - 60) * 1000);
    assert.equal(s3.charge_state, 73);
    assert.equal(s3.battery_temperature, 26);
    const s1 = latest.find((r) => r.device === "solar-1") as Row;
    assert.equal(s1.battery_voltage, http1.status.batteryV);

    const all = await api("/measurements/latest?all=true");
    assert.equal(all.status, 200);
    const rows = (all.body as { readings: Row[] }).readings;
    assert.deepEqual(rows.map((r) => r.device), ["solar-1", "solar-2", "solar-3", "solar-4"]);
    assert.equal(rows.find((r) => r.device === "solar-4")?.charge_state, 12);
  });

  it("serves GET /devices/{id}/measurements/latest: the node's data sets, newest first", async function () {
    const r = await api("/devices/solar-3/measurements/latest");
    assert.equal(r.status, 200);
    const body = r.body as { device: string; readings: Row[] };
    assert.equal(body.device, "solar-3");
    assert.deepEqual(body.readings.map((x) => [x.ts, x.charge_state]), [
      [(now - 60) * 1000, 73],
      [(now - 120) * 1000, 72],
      [(now - 180) * 1000, 71],
    ]);
    const two = await api("/devices/solar-3/measurements/latest?limit=2");
    assert.equal((two.body as { readings: Row[] }).readings.length, 2);
    const unknown = await api("/devices/solar-9/measurements/latest");
    assert.equal(unknown.status, 404);
    // The answers above were checked against the served OpenAPI document, operation by operation.
    for (const op of ["getLatestMeasurements 200", "getLatestMeasurements 401", "getLatestMeasurementsOfDevice 200", "getLatestMeasurementsOfDevice 404"]) {
      assert.ok(spec?.seen.has(op), `${op} not checked; seen: ${[...(spec?.seen ?? [])].join(", ")}`);
    }
    assert.doesNotMatch(red.log(), /\[error\] \[(plugwatch-influx-hook|plugwatch-influx-query|function|plugwatch-http-api)/);
  });
});
