// examples/isems-solar.json in a real Node-RED runtime: simulated ISEMS nodes (whole log polled over HTTP, CSV pushed to MQTT) → readings, InfluxDB, the ISEMS collector's API and Plugwatch's REST API.
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { DeviceEntry } from "../../lib/contracts/device";
import { GenericReading } from "../../lib/contracts/reading";
import { validate } from "../../lib/contracts/validate";
import { SimulatedIsemsNode } from "../../scripts/sim/isems";
import { assertOfferedAsExample, exampleWithEnv } from "../support/examples";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { OpenApiValidator } from "../../scripts/harness/openapi-validator";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { connectClient, startBroker, Teardown } from "../../scripts/harness/services";
import { nth } from "../support/checked";

const DB = "solar";
const TOKEN = "tok-solar-read-0123456789";
const DAY_S = 86_400;
const LOCATION = "mesh/0/outdoor";

/** The registry the test deploys instead of the example's sample: every simulated node. */
function solarDevices(): DeviceEntry[] {
  // The registry wants a unique address per device; the flow polls the URLs in ISEMS_HTTP_NODES, not these.
  return ["solar-1", "solar-2", "solar-3", "solar-4", "solar-5", "elektra-solar1", "node-1", "node-2"].map((id, i) => ({
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

async function waitUntil<T>(what: () => string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15000): Promise<T> {
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
/** One measurement as the ISEMS collector's API writes it (models.py to_dict). */
type Measurement = Record<string, number | string | boolean | null>;

/** The data sets of `nodeId` stored in `db`, oldest first: [epoch ms, id]. */
async function storedIds(influxd: InfluxdInstance, db: string, nodeId: string): Promise<[number, number][]> {
  const r = await influxd.query(`SELECT "id" FROM "isems" WHERE "node_id" = '${nodeId}'`, db);
  return (r.results[0]?.series?.[0]?.values ?? []) as [number, number][];
}

describe("example: ISEMS solar mesh nodes (e2e)", function () {
  this.timeout(120000);
  const td = new Teardown();
  let red: NodeRedInstance;
  let influxd: InfluxdInstance;
  let brokerUrl: string;
  let client: MqttClient;
  const readings: GenericReading[] = [];
  let http1: SimulatedIsemsNode, http2: SimulatedIsemsNode, pusher: SimulatedIsemsNode, silent: SimulatedIsemsNode;
  const now = Math.floor(Date.now() / 1000);
  /** The tab's environment for the services of this test; `changes` override. */
  let env: (changes?: Record<string, string>) => Record<string, string>;

  /** GET on the ISEMS collector's API (no token: the collector has none). */
  const isems = async (pathname: string): Promise<{ status: number; contentType: string | null; text: string; body: { measurements: Measurement[] } }> => {
    const r = await fetch(`${red.url}${pathname}`);
    const text = await r.text();
    return { status: r.status, contentType: r.headers.get("content-type"), text, body: JSON.parse(text) as { measurements: Measurement[] } };
  };

  /** Deploys the example with this environment and waits until its ISEMS API answers (routes are added as the flow starts). */
  async function deployCollector(tabEnv: Record<string, string>): Promise<void> {
    await red.deploy(exampleFlow(tabEnv));
    await waitUntil(
      () => "the ISEMS API after a deploy",
      async () => ((await fetch(`${red.url}/measurements/latest`)).status === 200 ? true : undefined),
    );
  }

  before(async function () {
    const broker = await startBroker(td, "mosquitto");
    brokerUrl = broker.url;
    influxd = td.add(await startInfluxd(), (i) => i.destroy());
    // solar-1 has measured three times before the collector first asks: its log holds all three.
    http1 = td.add(await SimulatedIsemsNode.start({ nodeId: "solar-1", status: { timestamp: now - 600, chargePercent: 85 } }), (n) => n.stop());
    http1.measure({ timestamp: now - 300, chargePercent: 86 });
    http1.measure({ timestamp: now - 10, chargePercent: 87 });
    http2 = td.add(
      await SimulatedIsemsNode.start({ nodeId: "Solar-2", status: { chargePercent: 54, batteryV: 12.5, batteryTempC: 31.2, status: 0b10010 } }),
      (n) => n.stop(),
    );
    pusher = td.add(await SimulatedIsemsNode.start({ nodeId: "solar-3", status: { timestamp: now - 180, chargePercent: 71 } }), (n) => n.stop());
    pusher.measure({ timestamp: now - 120, chargePercent: 72 });
    pusher.measure({ timestamp: now - 60, chargePercent: 73, batteryTempC: 26 });
    // Last heard of 40 days ago: beyond the 30-day inactive cut-off.
    silent = td.add(await SimulatedIsemsNode.start({ nodeId: "solar-4", status: { timestamp: now - 40 * DAY_S, chargePercent: 12 } }), (n) => n.stop());

    client = await connectClient(td, broker.url);
    client.on("message", (_topic, payload) => readings.push(JSON.parse(payload.toString("utf8")) as GenericReading));
    await client.subscribeAsync("solar/+/+/+/+/reading", { qos: 1 });
    red = td.add(await startNodeRed(), (r) => r.stop());
    logTail = () => red.logTail(60);
    env = (changes = {}) => ({
      ISEMS_HTTP_NODES: `${http1.url},${http2.url}`,
      ISEMS_POLL_S: "0.5",
      ISEMS_LOCATION: LOCATION,
      MQTT_HOST: "127.0.0.1",
      MQTT_PORT: new URL(broker.url).port,
      INFLUX_URL: influxd.url,
      INFLUX_DB: DB,
      ...changes,
    });
    await deployCollector(env());
  });

  after(() => td.run());

  describe("the collector", function () {
    it("is offered under Import → Examples, exactly as the file holds it", async function () {
      await assertOfferedAsExample(red, "isems-solar");
    });

    it("imports every data set of the HTTP nodes' ffopenmppt.log once, as contract readings with their values", async function () {
      const r1 = await waitUntil(
        () => `3 readings of solar-1, got ${readings.filter((r) => r.device === "solar-1").length}`,
        () => {
          const got = readings.filter((r) => r.device === "solar-1");
          return got.length >= 3 ? got : undefined;
        },
      );
      assert.deepEqual(
        r1.map((r) => [r.ts, r.fields.charge_state]),
        [
          [(now - 600) * 1000, 85],
          [(now - 300) * 1000, 86],
          [(now - 10) * 1000, 87],
        ],
      );
      const last = nth(r1, 2);
      assert.ok(validate(GenericReading, last).ok, JSON.stringify(last));
      const s1 = http1.status;
      assert.equal(last.measurement, "isems");
      assert.deepEqual(
        { ...last.fields, id: 0 },
        {
          id: 0,
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
        },
      );
      assert.deepEqual(last.tags, { source: "isems", node_id: "solar-1", isems_revision: "1", firmware: s1.firmware });
      // The router's host name "Solar-2" becomes the registry id solar-2; the tag keeps the node id as it is.
      const r2 = await waitUntil(
        () => "a reading of solar-2",
        () => readings.find((r) => r.device === "solar-2"),
      );
      assert.deepEqual([r2.fields.charge_state, r2.fields.battery_voltage, r2.fields.battery_temperature, r2.fields.status_code], [54, 12.5, 31.2, 0x480]);
      assert.equal(r2.tags?.node_id, "Solar-2");
      // Later polls fetch the same log again and import nothing twice.
      const polls = http1.requests.log;
      await waitUntil(
        () => "three more polls of solar-1",
        () => (http1.requests.log >= polls + 3 ? true : undefined),
      );
      assert.equal(readings.filter((r) => r.device === "solar-1").length, 3);
      const ids = readings.map((r) => r.fields.id);
      assert.equal(new Set(ids).size, ids.length, `ids are unique: ${ids.join(",")}`);
    });

    it("takes the CSV lines a node pushes to isems/<node>/csvlog: one reading per new line, with the node's timestamps", async function () {
      await pusher.push(brokerUrl, 3);
      await silent.push(brokerUrl, 1);
      // The isems-app's sample line (18 fields, no status), an old data set of a node with a mixed-case name.
      await client.publishAsync(
        "isems/Elektra-Solar1/csvlog",
        "Elektra-Solar1;1;1522935107;5;480;0;22.0;18.0;13.9;95;100;23;11.7;14.1;17;50;52.507454;13.458673\n",
        { qos: 1 },
      );
      const r3 = await waitUntil(
        () => `3 readings of solar-3; got ${JSON.stringify(readings.filter((r) => r.device === "solar-3"))}`,
        () => {
          const got = readings.filter((r) => r.device === "solar-3");
          return got.length >= 3 ? got : undefined;
        },
      );
      assert.deepEqual(
        r3.map((r) => r.ts),
        [now - 180, now - 120, now - 60].map((s) => s * 1000),
      );
      assert.deepEqual(
        r3.map((r) => r.fields.charge_state),
        [71, 72, 73],
      );
      assert.equal(r3[2]?.fields.battery_temperature, 26);
      assert.ok(r3.every((r) => validate(GenericReading, r).ok));
      await waitUntil(
        () => "the reading of solar-4",
        () => readings.find((r) => r.device === "solar-4"),
      );
      await waitUntil(
        () => "the reading of elektra-solar1",
        () => readings.find((r) => r.device === "elektra-solar1"),
      );
      // The same lines pushed again, with one new data set: only the new one is imported.
      pusher.measure({ timestamp: now - 30, chargePercent: 74 });
      await pusher.push(brokerUrl, 4);
      await waitUntil(
        () => "the new data set of solar-3",
        () => readings.find((r) => r.device === "solar-3" && r.fields.charge_state === 74),
      );
      assert.deepEqual(
        readings.filter((r) => r.device === "solar-3").map((r) => r.fields.charge_state),
        [71, 72, 73, 74],
      );
    });

    it("stores every reading through plugwatch-influx-hook with the registry's tags and the node id", async function () {
      const rows = await waitUntil(
        () => "the pushed data sets of solar-3 in InfluxDB",
        async () => {
          const r = await influxd.query(`SELECT "charge_state", "building", "kind", "node_id" FROM "isems" WHERE "device" = 'solar-3'`, DB);
          const values = r.results[0]?.series?.[0]?.values;
          return values && values.length >= 4 ? values : undefined;
        },
      );
      assert.deepEqual(rows, [
        [(now - 180) * 1000, 71, "mesh", "other", "solar-3"],
        [(now - 120) * 1000, 72, "mesh", "other", "solar-3"],
        [(now - 60) * 1000, 73, "mesh", "other", "solar-3"],
        [(now - 30) * 1000, 74, "mesh", "other", "solar-3"],
      ]);
    });
  });

  describe("the ISEMS collector's API (isems-data-collector views.py)", function () {
    it("GET /measurements/<node_id>/latest answers byte for byte as the collector's Flask app", async function () {
      const r = await isems("/measurements/Elektra-Solar1/latest");
      assert.equal(r.status, 200);
      // Express, under Node-RED's http response node, adds the charset parameter Flask leaves out.
      assert.equal(r.contentType, "application/json; charset=utf-8");
      const id = r.body.measurements[0]?.id;
      assert.equal(typeof id, "number");
      // Floats as Python writes them, keys sorted, no spaces, the time as naive Europe/Berlin wall-clock time (CEST in April).
      assert.equal(
        r.text,
        `{"measurements":[{"batteryChargeEstimate":95.0,"batteryHealthEstimate":100.0,"batteryTemperature":23.0,"batteryVoltage":13.9,` +
          `"id":${id},"isPowerSaveMode":false,"isemsRevision":"1","latitude":52.507454,"longitude":13.458673,"lowVoltageDisconnectVoltage":11.7,` +
          `"mppVoltage":18.0,"nodeId":"Elektra-Solar1","openCircuitVoltage":22.0,"openMPPTFirmwareVersion":"5","rateBatteryCapacity":17.0,` +
          `"ratedSolarModuleCapacity":50.0,"status":"0x000","temperatureCorrectedVoltage":14.1,"timeToShutdown":480.0,"timestamp":"2018-04-05T15:31:47"}]}\n`,
      );
    });

    it("GET /measurements/<node_id>/latest: the node's data sets newest first, an unknown node an empty list", async function () {
      const r = await isems("/measurements/solar-3/latest");
      assert.equal(r.status, 200);
      assert.deepEqual(
        r.body.measurements.map((m) => [m.nodeId, m.batteryChargeEstimate, m.status]),
        [
          ["solar-3", 74, "0x900"],
          ["solar-3", 73, "0x900"],
          ["solar-3", 72, "0x900"],
          ["solar-3", 71, "0x900"],
        ],
      );
      assert.match(r.text, /"batteryChargeEstimate":74\.0,/);
      const s2 = await isems("/measurements/Solar-2/latest");
      assert.deepEqual(
        s2.body.measurements.map((m) => [m.nodeId, m.batteryVoltage, m.status]),
        [["Solar-2", 12.5, "0x480"]],
      );
      assert.deepEqual(await isems("/measurements/solar-9/latest").then((x) => [x.status, x.text]), [200, `{"measurements":[]}\n`]);
    });

    it("GET /measurements/latest: each node's latest data set, nodes silent for HIDE_INACTIVE_AFTER_DAYS hidden unless ?all=true", async function () {
      const r = await isems("/measurements/latest");
      assert.equal(r.status, 200);
      // Sorted by node id as the collector's query groups them (code points: upper case first).
      assert.deepEqual(
        r.body.measurements.map((m) => [m.nodeId, m.batteryChargeEstimate]),
        [
          ["Solar-2", 54],
          ["solar-1", 87],
          ["solar-3", 74],
        ],
      );
      const all = await isems("/measurements/latest?all=true");
      assert.deepEqual(
        all.body.measurements.map((m) => m.nodeId),
        ["Elektra-Solar1", "Solar-2", "solar-1", "solar-3", "solar-4"],
      );
      const s1 = all.body.measurements.find((m) => m.nodeId === "solar-1") as Measurement;
      assert.deepEqual(Object.keys(s1), [
        "batteryChargeEstimate",
        "batteryHealthEstimate",
        "batteryTemperature",
        "batteryVoltage",
        "id",
        "isPowerSaveMode",
        "isemsRevision",
        "latitude",
        "longitude",
        "lowVoltageDisconnectVoltage",
        "mppVoltage",
        "nodeId",
        "openCircuitVoltage",
        "openMPPTFirmwareVersion",
        "rateBatteryCapacity",
        "ratedSolarModuleCapacity",
        "status",
        "temperatureCorrectedVoltage",
        "timeToShutdown",
        "timestamp",
      ]);
      assert.equal(s1.openMPPTFirmwareVersion, http1.status.firmware);
      assert.equal(s1.timeToShutdown, http1.status.nextRebootMin);
      assert.equal(s1.isPowerSaveMode, false);
    });
  });

  describe("the Plugwatch REST API on the same readings", function () {
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

    it("serves GET /measurements/latest and GET /devices/{id}/measurements/latest", async function () {
      assert.equal((await api("/measurements/latest", "wrong-token-0000000000")).status, 401);
      const latest = ((await api("/measurements/latest")).body as { readings: Row[] }).readings;
      assert.deepEqual(
        latest.map((r) => r.device),
        ["solar-1", "solar-2", "solar-3"],
      );
      assert.equal(latest.find((r) => r.device === "solar-3")?.charge_state, 74);
      const rows = ((await api("/measurements/latest?all=true")).body as { readings: Row[] }).readings;
      assert.deepEqual(
        rows.map((r) => r.device),
        ["elektra-solar1", "solar-1", "solar-2", "solar-3", "solar-4"],
      );
      const r = await api("/devices/solar-3/measurements/latest?limit=2");
      assert.deepEqual(
        (r.body as { readings: Row[] }).readings.map((x) => [x.ts, x.charge_state]),
        [
          [(now - 30) * 1000, 74],
          [(now - 60) * 1000, 73],
        ],
      );
      assert.equal((await api("/devices/solar-9/measurements/latest")).status, 404);
      for (const op of ["getLatestMeasurements 200", "getLatestMeasurements 401", "getLatestMeasurementsOfDevice 200", "getLatestMeasurementsOfDevice 404"]) {
        assert.ok(spec?.seen.has(op), `${op} not checked; seen: ${[...(spec?.seen ?? [])].join(", ")}`);
      }
      assert.doesNotMatch(red.log(), /\[error\] \[(plugwatch-influx-hook|plugwatch-influx-query|function|plugwatch-http-api)/);
    });
  });

  // isems-data-collector's test_app.py, case by case: each starts on an empty database, arranges its measurements
  // (here: data sets pushed by the nodes, imported by the example in this order) and expects the same JSON.
  describe("isems-data-collector test_app.py, against the example", function () {
    let database = 0;
    /** A fresh database, the example deployed on it; times in UTC so the expectation is Python's isoformat() of the UTC time. */
    async function freshCollector(): Promise<string> {
      const db = `isems_app_${++database}`;
      await deployCollector(env({ INFLUX_DB: db, ISEMS_HTTP_NODES: "", ISEMS_TIMEZONE: "UTC" }));
      return db;
    }
    /** Measurement(nodeId=…, isemsRevision="1", timestamp=…).save(): a data set with only these values, imported. */
    async function save(db: string, nodeId: string, epochS: number): Promise<void> {
      const line = `${nodeId};1;${epochS}` + ";".repeat(15); // 18 fields, all but the first three empty
      // Published until stored: right after a deploy the flow's MQTT subscription may not be up yet (a repeat is imported once).
      await waitUntil(
        () => `${nodeId} stored in ${db}`,
        async () => {
          if ((await storedIds(influxd, db, nodeId)).length === 1) return true;
          await client.publishAsync(`isems/${nodeId}/csvlog`, line, { qos: 1 });
          await new Promise((r) => setTimeout(r, 400));
          return undefined;
        },
      );
    }
    const iso = (epochS: number): string => new Date(epochS * 1000).toISOString().slice(0, 19);
    const base: Measurement = {
      batteryChargeEstimate: null,
      batteryHealthEstimate: null,
      batteryTemperature: null,
      batteryVoltage: null,
      isPowerSaveMode: null,
      isemsRevision: "1",
      latitude: null,
      longitude: null,
      lowVoltageDisconnectVoltage: null,
      mppVoltage: null,
      nodeId: "node-1",
      openCircuitVoltage: null,
      openMPPTFirmwareVersion: null,
      rateBatteryCapacity: null,
      ratedSolarModuleCapacity: null,
      status: "0x000",
      temperatureCorrectedVoltage: null,
      timeToShutdown: null,
    };

    it("test_empty_db", async function () {
      await freshCollector();
      const rv = await isems("/measurements/latest");
      assert.deepEqual(rv.body, { measurements: [] });
    });

    it("test_some_data", async function () {
      const db = await freshCollector();
      const timestamp = Math.floor(Date.now() / 1000);
      await save(db, "node-1", timestamp);
      await save(db, "node-2", timestamp);
      const rv = await isems("/measurements/latest");
      assert.deepEqual(rv.body, {
        measurements: [
          { ...base, id: 1, nodeId: "node-1", timestamp: iso(timestamp) },
          { ...base, id: 2, nodeId: "node-2", timestamp: iso(timestamp) },
        ],
      });
    });

    it("test_filters_old_measurements", async function () {
      const db = await freshCollector();
      const timestamp = Math.floor(Date.now() / 1000);
      await save(db, "node-1", timestamp - 45 * DAY_S);
      await save(db, "node-2", timestamp);
      const rv = await isems("/measurements/latest");
      assert.deepEqual(rv.body, { measurements: [{ ...base, id: 2, nodeId: "node-2", timestamp: iso(timestamp) }] });
    });

    it("test_filters_old_measurements_can_be_disabled", async function () {
      const db = await freshCollector();
      const timestamp = Math.floor(Date.now() / 1000);
      const oldTimestamp = timestamp - 45 * DAY_S;
      await save(db, "node-1", oldTimestamp);
      await save(db, "node-2", timestamp);
      const rv = await isems("/measurements/latest?all=true");
      assert.deepEqual(rv.body, {
        measurements: [
          { ...base, id: 1, nodeId: "node-1", timestamp: iso(oldTimestamp) },
          { ...base, id: 2, nodeId: "node-2", timestamp: iso(timestamp) },
        ],
      });
    });

    it("HIDE_INACTIVE_AFTER_DAYS sets the cut-off (a value that is not a whole number means 30, as in controllers.py)", async function () {
      const db = `isems_app_${++database}`;
      await deployCollector(env({ INFLUX_DB: db, ISEMS_HTTP_NODES: "", ISEMS_TIMEZONE: "UTC", HIDE_INACTIVE_AFTER_DAYS: "50" }));
      const timestamp = Math.floor(Date.now() / 1000);
      await save(db, "node-1", timestamp - 45 * DAY_S);
      await save(db, "node-2", timestamp - 55 * DAY_S);
      assert.deepEqual(
        (await isems("/measurements/latest")).body.measurements.map((m) => m.nodeId),
        ["node-1"],
      );
      await deployCollector(env({ INFLUX_DB: db, ISEMS_HTTP_NODES: "", ISEMS_TIMEZONE: "UTC", HIDE_INACTIVE_AFTER_DAYS: "fifty" }));
      assert.deepEqual((await isems("/measurements/latest")).body.measurements, []);
    });
  });

  describe("log import after a collector outage", function () {
    it("imports the 10 data sets measured while the collector was stopped, each exactly once", async function () {
      const db = "isems_outage";
      let clock = (now - 3600) * 1000;
      const node = td.add(await SimulatedIsemsNode.start({ nodeId: "solar-5", now: () => clock }), (n) => n.stop());
      await deployCollector(env({ INFLUX_DB: db, ISEMS_HTTP_NODES: node.url }));
      await waitUntil(
        () => "the first data set of solar-5",
        async () => ((await storedIds(influxd, db, "solar-5")).length === 1 ? true : undefined),
      );

      await red.deploy([]); // the collector is stopped
      for (let i = 1; i <= 10; i++) {
        clock += 60_000;
        node.measure({ chargePercent: 50 + i });
      }
      const requestsWhileDown = node.requests.log;
      await deployCollector(env({ INFLUX_DB: db, ISEMS_HTTP_NODES: node.url }));
      const rows = await waitUntil(
        () => "11 data sets of solar-5",
        async () => {
          const got = await storedIds(influxd, db, "solar-5");
          return got.length >= 11 ? got : undefined;
        },
      );
      assert.deepEqual(
        rows.map(([t]) => t),
        node.history.map((s) => s.timestamp * 1000),
      );
      assert.deepEqual(
        rows.map(([, id]) => id),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      );
      // The node pushes part of the same log too, and the collector polls it again: still each data set once.
      await node.push(brokerUrl, 5);
      await waitUntil(
        () => "three more polls of solar-5",
        () => (node.requests.log >= requestsWhileDown + 4 ? true : undefined),
      );
      const again = await storedIds(influxd, db, "solar-5");
      assert.deepEqual(again, rows);
      const api = await isems("/measurements/solar-5/latest");
      assert.deepEqual(
        api.body.measurements.map((m) => m.batteryChargeEstimate),
        [60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 87],
      );
    });
  });
});
