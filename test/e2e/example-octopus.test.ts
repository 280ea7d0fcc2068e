// examples/octopus-portal.json in a real Node-RED behind the shipped Mosquitto password + ACL files, with real influxd:
// two clients' devices mapped onto the contracts and stored, the live view, API tokens, and the broker's ACL.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { DEMO_DEVICES, OctopusClients, type PublishedValue } from "../../scripts/sim/octopus-clients";
import { loadExample as loadNamedExample, waitFor } from "../support/examples";
import { startInfluxd } from "../../scripts/harness/influxd";
import { repoRoot, startNodeRed } from "../../scripts/harness/nodered";
import { startMosquitto } from "../../scripts/harness/mosquitto";
import { nrlint } from "../support/nrlint";
import { nextMessage, Teardown } from "../../scripts/harness/services";

const PORTAL = { username: "portal", password: "portal-demo-secret" };
const TOKEN = "octopus-test-token-0123456789";
const [ACME_SENSOR, ACME_PLUG, GLOBEX_SENSOR] = DEMO_DEVICES as [(typeof DEMO_DEVICES)[number], (typeof DEMO_DEVICES)[number], (typeof DEMO_DEVICES)[number]];

const examples = path.join(repoRoot(), "examples");
/** The example's Mosquitto files (outside examples/, which Node-RED lists under Import → Examples). */
const brokerFiles = path.join(repoRoot(), "deploy", "octopus");
const loadExample = () => loadNamedExample("octopus-portal");

interface LatestJson {
  devices: { device: string; office: string; room: string; values: Record<string, { value: number | boolean; ts: number }> }[];
}

describe("example: Octopus-style office portal (examples/octopus-portal.json)", function () {
  this.timeout(90000);
  const td = new Teardown();
  afterEach(() => td.run());

  it("is nrlint clean", async function () {
    assert.deepEqual(await nrlint(path.join(examples, "octopus-portal.json")), []);
  });

  const secureBroker = () => startMosquitto({ passwordFile: path.join(brokerFiles, "passwd"), aclFile: path.join(brokerFiles, "acl") });
  const connect = async (url: string, login: { username: string; password: string }, protocolVersion: 4 | 5 = 5): Promise<MqttClient> =>
    td.add(await mqtt.connectAsync(url, { ...login, protocolVersion, reconnectPeriod: 0, connectTimeout: 5000 }), (c) => c.endAsync(true));
  const device = (d: (typeof DEMO_DEVICES)[number]) => ({ username: d.id, password: d.password });
  const own = (d: (typeof DEMO_DEVICES)[number], attribute: string) => `octopus/${d.office}/${d.room}/${d.id}/${attribute}`;

  it("maps two clients' office/room/device/attribute data onto the contracts, stores it, shows it live and guards the API with tokens", async function () {
    const mosq = td.add(await secureBroker(), (m) => m.stop());
    const influx = td.add(await startInfluxd(), (i) => i.destroy());
    const red = td.add(
      await startNodeRed({
        env: {
          OCTOPUS_MQTT_URL: mosq.url,
          OCTOPUS_MQTT_USER: PORTAL.username,
          OCTOPUS_MQTT_PASSWORD: PORTAL.password,
          OCTOPUS_API_TOKENS: `${TOKEN} read`,
          PLUGWATCH_INFLUX_URL: influx.url,
        },
      }),
      (r) => r.stop(),
    );
    const offered = await red.request("/library/examples/flows/@plugwatch/node-red-plugwatch/octopus-portal");
    assert.equal(offered.status, 200, `offered under Import → Examples: ${await offered.clone().text()}`);
    assert.deepEqual(await offered.json(), loadExample());
    await red.deploy(loadExample());
    await red.waitForLog(/Connected to broker/, 10000);

    // A contract subscriber (logged in as the portal) sees what the mapping publishes.
    const watcher = await connect(mosq.url, PORTAL);
    const contract: { topic: string; payload: Record<string, unknown> }[] = [];
    watcher.on("message", (topic, payload) => contract.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown> }));
    await watcher.subscribeAsync("plugwatch/+/+/+/+/reading", { qos: 1 });

    const sim = td.add(new OctopusClients({ url: mosq.url }), (s) => s.stop());
    await sim.connect();
    const published: PublishedValue[] = await sim.publishOnce();
    assert.ok(new Set(published.map((p) => p.office)).size === 2 && published.length >= 10);

    // 1. Each value becomes a generic reading on plugwatch/<office>/0/<room>/<device>/reading.
    await waitFor("every value on the contract topics", () => contract.length >= published.length, 10000, red);
    for (const p of published) {
      const m = contract.find(
        (c) => c.topic === `plugwatch/${p.office}/0/${p.room}/${p.device}/reading` && (c.payload.fields as Record<string, unknown>)[p.attribute] !== undefined,
      );
      assert.ok(m, `${p.topic} mapped`);
      assert.deepEqual(m.payload, {
        v: 1,
        device: p.device,
        ts: m.payload.ts,
        measurement: "octopus",
        fields: { [p.attribute]: p.value },
        tags: { office: p.office, room: p.room },
      });
      assert.ok(Math.abs((m.payload.ts as number) - p.ts) < 10000);
    }

    // 2. plugwatch-influx-hook stores them, tagged from the portal's registry. (Attributes of one device mapped in the same
    // millisecond share a point: same series, same timestamp, different fields.)
    const rows = async () => (await influx.query(`SELECT * FROM "octopus" GROUP BY *`, "plugwatch")).results[0]?.series ?? [];
    const stored = (series: Awaited<ReturnType<typeof rows>>, p: PublishedValue) =>
      series.some((s) => s.tags?.device === p.device && s.values.some((v) => v[s.columns.indexOf(p.attribute)] === p.value));
    await waitFor(
      "every value in InfluxDB",
      async () => {
        const series = await rows();
        return published.every((p) => stored(series, p));
      },
      10000,
      red,
    );
    for (const s of await rows()) {
      const p = published.find((x) => x.device === s.tags?.device);
      assert.ok(p, `series of a known device: ${JSON.stringify(s.tags)}`);
      assert.deepEqual(
        { building: s.tags!.building, room: s.tags!.room, floor: s.tags!.floor, office: s.tags!.office, kind: s.tags!.kind },
        { building: p.office, room: p.room, floor: "0", office: p.office, kind: "other" },
      );
    }

    // 3. The live view serves the latest values, as JSON and as a page.
    const latest = async () => (await (await fetch(`${red.url}/octopus/latest.json`)).json()) as LatestJson;
    await waitFor("the live view has every device", async () => (await latest()).devices.length === DEMO_DEVICES.length, 10000, red);
    const view = await latest();
    for (const p of published) {
      const d = view.devices.find((x) => x.device === p.device);
      assert.deepEqual({ office: d?.office, room: d?.room, value: d?.values[p.attribute]?.value }, { office: p.office, room: p.room, value: p.value });
    }
    const page = await fetch(`${red.url}/octopus`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    const html = await page.text();
    for (const p of published)
      assert.ok(html.includes(`data-device="${p.device}" data-attribute="${p.attribute}">${String(p.value)}<`), `page shows ${p.device}.${p.attribute}`);

    // 4. The API needs a token: 401 without or with a wrong one; 200 with it, listing the portal's devices and
    // answering history from InfluxDB (through the portal's plugwatch-influx-query over MQTT).
    const noToken = await fetch(`${red.url}/octopus/api/v1/devices`);
    assert.equal(noToken.status, 401);
    assert.match(noToken.headers.get("content-type") ?? "", /application\/problem\+json/);
    const wrong = await fetch(`${red.url}/octopus/api/v1/devices`, { headers: { authorization: "Bearer not-the-token-at-all-000" } });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${red.url}/octopus/api/v1/devices`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200, await ok.clone().text());
    const body = (await ok.json()) as { count: number; devices: { id: string }[] };
    assert.equal(body.count, DEMO_DEVICES.length);
    const ids = body.devices.map((d) => d.id).sort();
    assert.deepEqual(ids, DEMO_DEVICES.map((d) => d.id).sort());
    const one = await fetch(`${red.url}/octopus/api/v1/devices/${ACME_SENSOR.id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(one.status, 200);
    assert.equal(typeof ((await one.json()) as { lastSeen?: unknown }).lastSeen, "number", "the API saw the mapped readings");
    const p0 = published.find((p) => p.device === ACME_SENSOR.id && p.attribute === "temperature")!;
    const history = await fetch(`${red.url}/octopus/api/v1/devices/${ACME_SENSOR.id}/measurements?measurement=octopus&fields=temperature`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(history.status, 200, await history.clone().text());
    const series = ((await history.json()) as { series: { device: string; points: { ts: number; temperature?: number }[] }[] }).series;
    assert.deepEqual(
      series.map((x) => ({ device: x.device, temperatures: x.points.map((q) => q.temperature) })),
      [{ device: ACME_SENSOR.id, temperatures: [p0.value] }],
      "history through the portal's query component",
    );

    // 5. Bad device data is rejected with a reason, and the portal keeps running.
    const acme = await connect(mosq.url, device(ACME_SENSOR));
    await acme.publishAsync(own(ACME_SENSOR, "temperature"), "warm", { qos: 1 });
    await red.waitForLog(/\[plugwatch-topic-map:.*payload 'warm' is not a number, true\/false or JSON/, 10000);
    await acme.publishAsync(own(ACME_SENSOR, "temperature"), "19.25", { qos: 1 });
    await waitFor(
      "the next good value",
      async () => (await latest()).devices.find((d) => d.device === ACME_SENSOR.id)?.values.temperature?.value === 19.25,
      10000,
      red,
    );
  });

  it("lets a device publish only under its own topic and never deliver it the API's request topics (shipped passwd + ACL)", async function () {
    // The shipped mosquitto.conf (docs' run command) uses these same files and refuses anonymous clients.
    const conf = readFileSync(path.join(brokerFiles, "mosquitto.conf"), "utf8")
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("#"));
    for (const line of ["allow_anonymous false", "password_file deploy/octopus/passwd", "acl_file deploy/octopus/acl", "listener 1884 127.0.0.1"])
      assert.ok(conf.includes(line), line);

    const mosq = td.add(await secureBroker(), (m) => m.stop());
    const portal = await connect(mosq.url, PORTAL);
    await portal.subscribeAsync(["octopus/#", "plugwatch/api/request/#"], { qos: 1 });

    // No anonymous client, no wrong password.
    await assert.rejects(
      mqtt.connectAsync(mosq.url, { reconnectPeriod: 0, connectTimeout: 5000 }),
      /Not authorized|Bad User Name or Password|Connection refused/,
    );
    await assert.rejects(
      mqtt.connectAsync(mosq.url, { username: ACME_SENSOR.id, password: "wrong", reconnectPeriod: 0, connectTimeout: 5000 }),
      /Not authorized|Bad User Name or Password|Connection refused/,
    );

    for (const protocolVersion of [5, 4] as const) {
      const acme = await connect(mosq.url, device(ACME_SENSOR), protocolVersion);
      const marker = `ok-${protocolVersion}-${Date.now()}`;
      const seen: string[] = [];
      // (echo topics are the device's own, published in the second half of each round)
      const onMessage = (topic: string) => void (topic.includes("/echo") || seen.push(topic));
      portal.on("message", onMessage);

      // Another device's topic, and a contract topic: refused (MQTT 5 says so in the PUBACK; 3.1.1 drops silently).
      const forbidden = [own(GLOBEX_SENSOR, "temperature"), `octopus/acme/meeting-1/acme-plug-1/power`, `plugwatch/api/request/command`];
      for (const topic of forbidden) {
        const sent = acme.publishAsync(topic, "99", { qos: 1 });
        if (protocolVersion === 5) await assert.rejects(sent, (err: Error & { code?: number }) => err.code === 135, `PUBACK 135 for ${topic}`);
        else await sent;
      }
      // Its own topic: delivered. The broker handles one client's publishes in order, so had a forbidden one been
      // accepted, the portal would have received it before this one.
      const status = own(ACME_SENSOR, `status${protocolVersion}`);
      const delivered = nextMessage(portal, status, (p) => p.toString() === marker);
      await acme.publishAsync(status, marker, { qos: 1 });
      await delivered;
      portal.off("message", onMessage);
      assert.deepEqual(seen, [status], `v${protocolVersion}: only the device's own topic got through`);

      // The API's request topics: the broker accepts the SUBSCRIBE but delivers nothing. Proof: a request published
      // by the portal (which does receive it), then the device's own echo arrives with no request before it.
      const got: string[] = [];
      acme.on("message", (topic) => got.push(topic));
      const echoTopic = own(ACME_SENSOR, `echo${protocolVersion}`);
      await acme.subscribeAsync(["plugwatch/api/request/#", "plugwatch/#", echoTopic], { qos: 1 });
      const portalSaw = nextMessage(portal, "plugwatch/api/request/command");
      await portal.publishAsync(
        "plugwatch/api/request/command",
        JSON.stringify({ v: 1, id: `c-${protocolVersion}`, replyTo: "clients/x/replies", action: "off", target: { all: true } }),
        { qos: 1 },
      );
      await portalSaw;
      const echo = nextMessage(acme, echoTopic);
      await acme.publishAsync(echoTopic, "1", { qos: 1 });
      await echo;
      assert.deepEqual(got, [echoTopic], `v${protocolVersion}: the device received no request`);
      await acme.endAsync();
    }
  });
  it("a read-only viewer reads its own office's device topics, nothing else, and cannot publish there (three identities, shipped passwd + ACL)", async function () {
    const mosq = td.add(await secureBroker(), (m) => m.stop());
    const VIEWER = { username: "acme-viewer", password: "acme-viewer-demo" };
    const portal = await connect(mosq.url, PORTAL);
    const viewer = await connect(mosq.url, VIEWER);
    const acme = await connect(mosq.url, device(ACME_SENSOR));
    const globex = await connect(mosq.url, device(GLOBEX_SENSOR));
    const viewerGot: string[] = [];
    viewer.on("message", (topic) => viewerGot.push(topic));
    await viewer.subscribeAsync(["octopus/#", "plugwatch/#"], { qos: 1 });
    await portal.subscribeAsync("octopus/#", { qos: 1 });

    // It may not publish: not on a device's topic of its office, not on the contract topics (PUBACK 135).
    for (const topic of [
      own(ACME_SENSOR, "temperature"),
      "octopus/acme/meeting-1/acme-plug-1/on",
      "plugwatch/api/request/command",
      "plugwatch/acme/0/meeting-1/acme-sensor-1/reading",
    ]) {
      await assert.rejects(viewer.publishAsync(topic, "99", { qos: 1 }), (err: Error & { code?: number }) => err.code === 135, `PUBACK 135 for ${topic}`);
    }
    // Globex's data and a contract topic are not delivered to it; ACME's are. The portal gets both devices' data,
    // and the ACME message is published last, so everything published before it has been routed when it arrives.
    const portalGotGlobex = nextMessage(portal, own(GLOBEX_SENSOR, "temperature"));
    await globex.publishAsync(own(GLOBEX_SENSOR, "temperature"), "19.5", { qos: 1 });
    await portalGotGlobex;
    await portal.publishAsync(
      "plugwatch/acme/0/meeting-1/acme-sensor-1/reading",
      JSON.stringify({ v: 1, device: "acme-sensor-1", ts: Date.now(), fields: { t: 1 } }),
      { qos: 1 },
    );
    const viewerGotAcme = nextMessage(viewer, own(ACME_SENSOR, "temperature"));
    await acme.publishAsync(own(ACME_SENSOR, "temperature"), "21.5", { qos: 1 });
    assert.equal((await viewerGotAcme).payload.toString(), "21.5");
    assert.deepEqual(viewerGot, [own(ACME_SENSOR, "temperature")], "the viewer got its office's device topic and nothing else");
    // The device itself still cannot read its neighbour or the viewer's office wholesale.
    const deviceGot: string[] = [];
    acme.on("message", (topic) => deviceGot.push(topic));
    await acme.subscribeAsync(["octopus/acme/#", own(ACME_SENSOR, "echo")], { qos: 1 });
    await (await connect(mosq.url, device(ACME_PLUG))).publishAsync("octopus/acme/open-space/acme-plug-1/power", "60", { qos: 1 });
    const echo = nextMessage(acme, own(ACME_SENSOR, "echo"));
    await acme.publishAsync(own(ACME_SENSOR, "echo"), "1", { qos: 1 });
    await echo;
    // (its own echo matches both filters, so it may come twice; the neighbour's power never comes)
    assert.deepEqual([...new Set(deviceGot)], [own(ACME_SENSOR, "echo")]);
  });
  it("takes bare office/room/device/attribute topics with device names unique per room only ({room}-{device} ids), no Function node", async function () {
    // A broker of its own (no ACL): the devices publish without the octopus/ root, as Octopus devices do.
    const mosq = td.add(await startMosquitto(), (m) => m.stop());
    const influx = td.add(await startInfluxd(), (i) => i.destroy());
    const red = td.add(
      await startNodeRed({
        env: {
          OCTOPUS_MQTT_URL: mosq.url,
          OCTOPUS_MQTT_USER: "",
          OCTOPUS_MQTT_PASSWORD: "",
          OCTOPUS_API_TOKENS: `${TOKEN} read`,
          PLUGWATCH_INFLUX_URL: influx.url,
        },
      }),
      (r) => r.stop(),
    );
    const flow = loadExample();
    const tab = flow.find((n) => n.type === "tab") as unknown as { env: { name: string; value: string }[] };
    const set = (name: string, value: string) => ((tab.env.find((e) => e.name === name) as { value: string }).value = value);
    set("OCTOPUS_SUBSCRIBE", "acme/+/+/+");
    set("OCTOPUS_TOPIC_TEMPLATE", "{office}/{room}/{device}/{attribute}");
    set("OCTOPUS_DEVICE_ID", "{room}-{device}");
    await red.deploy(flow);
    await red.waitForLog(/Connected to broker/, 10000);
    const client = td.add(await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0 }), (c) => c.endAsync(true));
    const contract: { topic: string; payload: { device: string; fields: Record<string, number>; tags: Record<string, string> } }[] = [];
    client.on("message", (topic, payload) => contract.push({ topic, payload: JSON.parse(payload.toString()) as (typeof contract)[number]["payload"] }));
    await client.subscribeAsync("plugwatch/+/+/+/+/reading", { qos: 1 });
    // Two devices called "sensor", in two rooms.
    await client.publishAsync("acme/meeting-1/sensor/temperature", "21.5", { qos: 1 });
    await client.publishAsync("acme/meeting-2/sensor/temperature", "23", { qos: 1 });
    await waitFor("both sensors on the contract topics", () => contract.length >= 2, 10000, red);
    assert.deepEqual(contract.map((c) => [c.topic, c.payload.device, c.payload.fields.temperature, c.payload.tags]).sort(), [
      ["plugwatch/acme/0/meeting-1/meeting-1-sensor/reading", "meeting-1-sensor", 21.5, { office: "acme", room: "meeting-1" }],
      ["plugwatch/acme/0/meeting-2/meeting-2-sensor/reading", "meeting-2-sensor", 23, { office: "acme", room: "meeting-2" }],
    ]);
    // Not in the portal's registry: stored as pending (nothing lost) and listed for approval.
    await waitFor(
      "both stored as pending",
      async () => {
        const r = await influx.query(`SELECT count("temperature") FROM "octopus" WHERE "pending" = 'true' GROUP BY "device"`, "plugwatch");
        return (r.results[0]?.series ?? []).length === 2;
      },
      10000,
      red,
    );
    const pending = await fetch(`${red.url}/octopus/api/v1/devices?state=pending`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(((await pending.json()) as { devices: { id: string }[] }).devices.map((d) => d.id).sort(), ["meeting-1-sensor", "meeting-2-sensor"]);
  });
});
