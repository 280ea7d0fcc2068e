// examples/ecodevices-teleinfo.json in a real Node-RED runtime: simulated Eco-Devices box → MQTT readings, InfluxDB points, alerts.
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import { AlertEvent } from "../../lib/contracts/alert";
import { Availability, GenericReading } from "../../lib/contracts/reading";
import { validate } from "../../lib/contracts/validate";
import { SimulatedEcoDevices } from "../../scripts/sim/ecodevices";
import { assertOfferedAsExample, exampleWithEnv, loadExample } from "../support/examples";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { connectClient, startBroker, Teardown, uniqueRoot } from "../../scripts/harness/services";

const POLL_S = 0.3;
const MAX_FAILURES = 3;
const LOCATION = "hq/0/basement";
const DB = "energy";

/** The example with its tab's environment variables pointed at this test's services. */
const exampleFlow = (env: Record<string, string>): FlowNode[] => exampleWithEnv("ecodevices-teleinfo", env);

/** Collects every message under a filter, so tests can wait for one that matches and look at what came before. */
class Recorder {
  readonly messages: { topic: string; payload: string; retain: boolean; at: number }[] = [];
  constructor(client: MqttClient) {
    client.on("message", (topic, payload, packet) =>
      this.messages.push({ topic, payload: payload.toString("utf8"), retain: packet.retain === true, at: Date.now() }),
    );
  }

  async waitFor<T>(topic: string, accept: (payload: T) => boolean, timeoutMs = 10000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const m of this.messages) {
        if (m.topic !== topic || m.payload === "") continue;
        const p = JSON.parse(m.payload) as T;
        if (accept(p)) return p;
      }
      if (Date.now() > deadline)
        throw new Error(
          `no matching message on ${topic} within ${timeoutMs} ms; got ${
            this.messages
              .filter((m) => m.topic === topic)
              .map((m) => m.payload)
              .join(" | ") || "nothing"
          }`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function waitUntil<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("example: Eco-Devices teleinfo (e2e)", function () {
  this.timeout(90000);
  const td = new Teardown();
  let red: NodeRedInstance;
  let influxd: InfluxdInstance;
  let sim: SimulatedEcoDevices;
  let rec: Recorder;
  const root = uniqueRoot("ecodev");
  const t = (device: string, stream: string) => `${root}/${LOCATION}/${device}/${stream}`;

  before(async function () {
    const broker = await startBroker(td, "mosquitto");
    influxd = td.add(await startInfluxd(), (i) => i.destroy());
    sim = td.add(await SimulatedEcoDevices.start({ values: { T1_PAPP: 1840, T1_BASE: 12_345_678, INDEX_C1: 287_000, INDEX_C2: 1436.965 } }), (s) => s.stop());
    // MQTT 5 with retain-as-published: live messages keep the retain flag the flow published them with.
    const client = await connectClient(td, broker.url, { protocolVersion: 5 });
    rec = new Recorder(client);
    await client.subscribeAsync(`${root}/#`, { qos: 1, rap: true });
    red = td.add(await startNodeRed(), (r) => r.stop());
    const port = new URL(broker.url).port;
    await red.deploy(
      exampleFlow({
        ECODEVICES_URL: sim.apiUrl,
        ECODEVICES_POLL_S: String(POLL_S),
        ECODEVICES_MAX_FAILURES: String(MAX_FAILURES),
        ECODEVICES_LOCATION: LOCATION,
        TOPIC_ROOT: root,
        MQTT_HOST: "127.0.0.1",
        MQTT_PORT: port,
        INFLUX_URL: influxd.url,
        INFLUX_DB: DB,
      }),
    );
  });

  after(() => td.run());

  it("is offered under Import → Examples, exactly as the file holds it", async function () {
    await assertOfferedAsExample(red, "ecodevices-teleinfo");
  });

  it("publishes each poll as a contract reading on MQTT and announces the meter online (retained)", async function () {
    const reading = await rec.waitFor<GenericReading>(t("teleinfo-main", "reading"), (p) => p.fields.papp === 1840);
    assert.ok(validate(GenericReading, reading).ok, `not a generic reading: ${JSON.stringify(reading)}`);
    assert.equal(reading.device, "teleinfo-main");
    assert.equal(reading.measurement, "teleinfo");
    assert.ok((reading.fields.base as number) >= 12_345_678, `base ${reading.fields.base}`);
    assert.deepEqual(reading.tags, { source: "eco-devices", building: "hq", floor: "0", room: "basement", ptec: "TH..", option: "base", period: "base" });
    assert.equal(reading.fields.index, reading.fields.base, "the index counting now is BASE");
    assert.ok(Math.abs(reading.ts - Date.now()) < 10000);

    const counters = await rec.waitFor<GenericReading>(t("ecodevices-counters", "reading"), () => true);
    assert.deepEqual(counters.fields, { c1: 287_000, c2: 1436.965 });
    assert.equal(counters.measurement, "pulse_counter");

    const online = await rec.waitFor<Availability>(t("teleinfo-main", "availability"), (p) => p.online);
    assert.ok(validate(Availability, online).ok);
    const raw = rec.messages.find((m) => m.topic === t("teleinfo-main", "availability"));
    assert.equal(raw?.retain, true);
    // T2 carries no meter ("----") and has no device id configured: nothing is published for it.
    assert.equal(rec.messages.filter((m) => /\/reading$/.test(m.topic) && !/teleinfo-main|ecodevices-counters/.test(m.topic)).length, 0);
  });

  it("stores the readings through plugwatch-influx-hook: points in InfluxDB with the meter's values and location tags", async function () {
    const row = await waitUntil(
      `a teleinfo point with papp 1840\n${red.logTail()}`,
      async () => {
        const r = await influxd.query(`SELECT "papp", "base", "building", "room", "ptec", "source" FROM "teleinfo" WHERE "device" = 'teleinfo-main'`, DB);
        const s = r.results[0]?.series?.[0];
        const i = s?.values.findIndex((v) => v[1] === 1840);
        return s && i !== undefined && i >= 0 ? Object.fromEntries(s.columns.map((c, k) => [c, s.values[i]?.[k]])) : undefined;
      },
      20000,
    );
    assert.ok((row.base as number) >= 12_345_678);
    assert.deepEqual([row.building, row.room, row.ptec, row.source], ["hq", "basement", "TH..", "eco-devices"]);
    const c = await waitUntil("a pulse counter point", async () => {
      const r = await influxd.query(`SELECT "c1", "c2" FROM "pulse_counter" WHERE "device" = 'ecodevices-counters' LIMIT 1`, DB);
      return r.results[0]?.series?.[0]?.values[0];
    });
    assert.deepEqual(c.slice(1), [287_000, 1436.965]);
  });

  it("alerts on the meter's own generic field: papp above 7000 VA raises extreme-consumption, hysteresis holds it, 2100 VA clears it", async function () {
    // The alert node gets the very readings the flow publishes (no plug-shaped stand-in), and its rule names their field.
    const flow = loadExample("ecodevices-teleinfo");
    const map = flow.find((n) => n.id === "ecodev.map");
    const alertNode = flow.find((n) => n.type === "plugwatch-alert");
    assert.ok(map && alertNode);
    assert.equal(map.outputs, 2);
    assert.deepEqual(map.wires, [
      ["ecodev.mqtt-out", "ecodev.hook", alertNode.id],
      ["ecodev.mqtt-out", alertNode.id],
    ]);
    const rule = (JSON.parse(alertNode.rules as string) as { id: string; field?: string; measurement?: string }[]).find((r) => r.id === "extreme-consumption");
    assert.deepEqual([rule?.measurement, rule?.field], ["teleinfo", "papp"]);

    const topic = `${root}/alerts/teleinfo-main/extreme-consumption`;
    const readingTopic = t("teleinfo-main", "reading");
    assert.equal(
      rec.messages.some((m) => m.topic === topic),
      false,
      "alert raised before any peak",
    );
    sim.set({ T1_PAPP: 9200 });
    const raised = await rec.waitFor<AlertEvent>(topic, (p) => p.state === "raised");
    assert.ok(validate(AlertEvent, raised).ok, JSON.stringify(raised));
    assert.equal(raised.id, "extreme-consumption:teleinfo-main");
    assert.equal(raised.severity, "critical");
    assert.equal(raised.value, 9200);
    assert.equal(raised.message, "teleinfo-main papp 9200 VA above 7000 VA");
    assert.equal(rec.messages.find((m) => m.topic === topic)?.retain, true);
    // The reading that raised it is the generic reading on MQTT.
    await rec.waitFor<GenericReading>(readingTopic, (p) => p.fields.papp === 9200 && p.measurement === "teleinfo");

    // 6800 VA is under the limit but within the 500 VA hysteresis: two polls later the alert still holds.
    sim.set({ T1_PAPP: 6800 });
    const mark = rec.messages.length;
    await waitUntil("two readings at 6800 VA", () =>
      rec.messages.slice(mark).filter((m) => m.topic === readingTopic && (JSON.parse(m.payload) as GenericReading).fields.papp === 6800).length >= 2
        ? true
        : undefined,
    );
    assert.equal(
      rec.messages.slice(mark).some((m) => m.topic === topic),
      false,
      "no clear inside the hysteresis band",
    );

    sim.set({ T1_PAPP: 2100 });
    const cleared = await rec.waitFor<AlertEvent>(topic, (p) => p.state === "cleared");
    assert.equal(cleared.value, 2100);
    assert.equal(cleared.message, "teleinfo-main papp back to 2100 VA (limit 7000 VA)");
    // The retained slot is deleted after the clear (zero-length retained publish).
    await waitUntil("the retained alert deleted", () => (rec.messages.some((m) => m.topic === topic && m.payload === "") ? true : undefined));
    // The pulse-counter readings reach the alert node too; they have no papp field and are simply not evaluated.
    assert.equal(
      rec.messages.some((m) => m.topic.startsWith(`${root}/alerts/ecodevices-counters/`)),
      false,
    );
    assert.doesNotMatch(red.log(), /INVALID_READING|INVALID_REQUEST/);
  });

  it(`raises the no-data alert and publishes offline after ${MAX_FAILURES} failed polls, and recovers`, async function () {
    const alertTopic = `${root}/alerts/teleinfo-main/no-data`;
    const availTopic = t("teleinfo-main", "availability");
    // The box answers with errors: the flow counts the attempts before it gives up.
    const before = sim.requests.error;
    await sim.setMode("error");
    const offline = await rec.waitFor<Availability>(availTopic, (p) => !p.online);
    assert.ok(sim.requests.error - before >= MAX_FAILURES, `offline after ${sim.requests.error - before} failed polls`);
    assert.match(offline.reason, new RegExp(`^DEVICE_UNREACHABLE: no data after ${MAX_FAILURES} attempts \\(HTTP 503\\)`));
    const raised = await rec.waitFor<AlertEvent>(alertTopic, (p) => p.state === "raised");
    assert.equal(raised.id, "no-data:teleinfo-main");
    assert.equal(raised.severity, "critical");
    // Every device of the box goes offline together.
    await rec.waitFor<Availability>(t("ecodevices-counters", "availability"), (p) => !p.online);

    await sim.setMode("ok");
    await rec.waitFor<Availability>(availTopic, (p) => p.online && p.ts > offline.ts);
    await rec.waitFor<AlertEvent>(alertTopic, (p) => p.state === "cleared");

    // Now the simulator stops answering altogether (connection refused).
    const mark = rec.messages.length;
    await sim.setMode("refuse");
    const refused = await waitUntil("offline after refused connections", () => {
      const m = rec.messages.slice(mark).find((x) => x.topic === availTopic && x.payload !== "" && !(JSON.parse(x.payload) as Availability).online);
      return m ? (JSON.parse(m.payload) as Availability) : undefined;
    });
    assert.match(refused.reason, /no data after 3 attempts \(ECONNREFUSED\)/);
    await waitUntil("no-data raised again", () =>
      rec.messages.slice(mark).some((x) => x.topic === alertTopic && x.payload !== "" && (JSON.parse(x.payload) as AlertEvent).state === "raised")
        ? true
        : undefined,
    );
    assert.doesNotMatch(red.log(), /\[error\] \[(alert|plugwatch-influx-hook|function)/);
  });
  describe("tariff options and a meter that stops answering", function () {
    /** The next reading of teleinfo-main published after `mark` that `accept`s. */
    const nextReading = async (mark: number, accept: (r: GenericReading) => boolean): Promise<GenericReading> =>
      waitUntil("a matching teleinfo-main reading", () => {
        for (const m of rec.messages.slice(mark)) {
          if (m.topic !== t("teleinfo-main", "reading")) continue;
          const r = JSON.parse(m.payload) as GenericReading;
          if (accept(r)) return r;
        }
        return undefined;
      });

    it("maps every tariff option's indexes (HC, EJP, Tempo) with the period in a tag, also without T1_BASE", async function () {
      await sim.setMode("ok");
      sim.set({ T1_PAPP: 1500 });
      // Heures creuses: T1_HCHC / T1_HCHP, no T1_BASE at all.
      let mark = rec.messages.length;
      sim.setTariff("T1", "HC", { period: "HP..", indexes: { HCHC: 5_000_000, HCHP: 7_000_000 } });
      const hp = await nextReading(mark, (r) => r.tags?.ptec === "HP..");
      assert.equal(hp.fields.base, undefined);
      assert.deepEqual([hp.fields.papp, hp.fields.hchc, hp.tags?.option, hp.tags?.period], [1500, 5_000_000, "hc", "hchp"]);
      assert.ok((hp.fields.hchp as number) >= 7_000_000 && hp.fields.index === hp.fields.hchp, JSON.stringify(hp.fields));
      mark = rec.messages.length;
      sim.set({ T1_PTEC: "HC.." });
      const hc = await nextReading(mark, (r) => r.tags?.ptec === "HC..");
      assert.deepEqual([hc.tags?.period, hc.fields.index === hc.fields.hchc], ["hchc", true]);
      // EJP: normal and peak (pointe mobile) hours.
      mark = rec.messages.length;
      sim.setTariff("T1", "EJP", { period: "PM..", indexes: { EJPHN: 2_000_000, EJPHPM: 300_000 } });
      const ejp = await nextReading(mark, (r) => r.tags?.ptec === "PM..");
      assert.deepEqual([ejp.fields.ejphn, ejp.tags?.option, ejp.tags?.period], [2_000_000, "ejp", "ejphpm"]);
      assert.ok((ejp.fields.ejphpm as number) >= 300_000);
      // Tempo: six indexes, red day peak hours.
      mark = rec.messages.length;
      sim.setTariff("T1", "TEMPO", { period: "HPJR", indexes: { BBRHCJB: 1, BBRHPJB: 2, BBRHCJW: 3, BBRHPJW: 4, BBRHCJR: 5, BBRHPJR: 6 } });
      const tempo = await nextReading(mark, (r) => r.tags?.ptec === "HPJR");
      assert.deepEqual(
        ["bbrhcjb", "bbrhpjb", "bbrhcjw", "bbrhpjw", "bbrhcjr"].map((k) => tempo.fields[k]),
        [1, 2, 3, 4, 5],
      );
      assert.ok((tempo.fields.bbrhpjr as number) >= 6);
      assert.deepEqual([tempo.tags?.option, tempo.tags?.period], ["tempo", "bbrhpjr"]);
      assert.ok(validate(GenericReading, tempo).ok);
      // Stored with the period tag: the HC reading's two indexes, in InfluxDB.
      const row = await waitUntil("the HP.. point in InfluxDB", async () => {
        const r = await influxd.query(`SELECT "hchc", "hchp", "period" FROM "teleinfo" WHERE "device" = 'teleinfo-main' AND "period" = 'hchp' LIMIT 1`, DB);
        return r.results[0]?.series?.[0]?.values[0];
      });
      assert.equal(row[1], 5_000_000);
      assert.equal(row[3], "hchp");
      sim.setTariff("T1", "BASE", { indexes: { BASE: 12_400_000 } });
    });

    it("a meter that stops sending teleinfo goes offline (no-data alert) while the box and its counters stay online; it comes back", async function () {
      const availTopic = t("teleinfo-main", "availability");
      const alertTopic = `${root}/alerts/teleinfo-main/no-data`;
      await rec.waitFor<Availability>(availTopic, (p) => p.online);
      const mark = rec.messages.length;
      sim.set({ T1_PTEC: "----" });
      const offline = await waitUntil("teleinfo-main offline", () => {
        const m = rec.messages.slice(mark).find((x) => x.topic === availTopic && x.payload !== "" && !(JSON.parse(x.payload) as Availability).online);
        return m ? (JSON.parse(m.payload) as Availability) : undefined;
      });
      assert.match(
        offline.reason,
        new RegExp(`^DEVICE_UNREACHABLE: the box answers but the meter on T1 sent no teleinfo in ${MAX_FAILURES} polls \\(PTEC '----'\\)`),
      );
      await waitUntil("no-data raised for the meter", () =>
        rec.messages.slice(mark).some((x) => x.topic === alertTopic && x.payload !== "" && (JSON.parse(x.payload) as AlertEvent).state === "raised")
          ? true
          : undefined,
      );
      assert.equal(
        rec.messages
          .slice(mark)
          .some((x) => x.topic === t("ecodevices-counters", "availability") && x.payload !== "" && !(JSON.parse(x.payload) as Availability).online),
        false,
        "the counters of the answering box stay online",
      );
      const back = rec.messages.length;
      sim.set({ T1_PTEC: "TH.." });
      await waitUntil("teleinfo-main online again", () =>
        rec.messages.slice(back).some((x) => x.topic === availTopic && x.payload !== "" && (JSON.parse(x.payload) as Availability).online) ? true : undefined,
      );
      await waitUntil("no-data cleared", () =>
        rec.messages.slice(back).some((x) => x.topic === alertTopic && x.payload !== "" && (JSON.parse(x.payload) as AlertEvent).state === "cleared")
          ? true
          : undefined,
      );
    });
  });
});
