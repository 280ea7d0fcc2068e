// The Octopus portal's live view is pushed (issue 19): examples/octopus-portal.json in a real Node-RED behind the shipped
// Mosquitto passwd + ACL, with real influxd. A device's MQTT reading reaches the page through the plugwatch-sse stream
// /octopus/events: checked at the HTTP level (headers, snapshot, heartbeats, Last-Event-ID replay, client cap, cleanup
// on disconnect, streams ended on redeploy) and in real Chromium (the value appears with no request but the page and
// the stream, and the browser reconnects by itself after a redeploy).
import assert from "node:assert/strict";
import * as path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { chromium, type Browser, type Request } from "playwright-core";
import { DEMO_DEVICES } from "../../scripts/sim/octopus-clients";
import { exampleWithEnv, waitFor } from "../support/examples";
import { startInfluxd } from "../../scripts/harness/influxd";
import { startMosquitto } from "../../scripts/harness/mosquitto";
import { repoRoot, type NodeRedInstance, startNodeRed } from "../../scripts/harness/nodered";
import { Teardown } from "../../scripts/harness/services";
import { mustOpenSse, openSse, SseStream, type StreamEvent } from "../support/sse-client";
import { nth } from "../support/checked";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const PORTAL = { username: "portal", password: "portal-demo-secret" };
const [ACME_SENSOR, , GLOBEX_SENSOR] = DEMO_DEVICES as [(typeof DEMO_DEVICES)[number], (typeof DEMO_DEVICES)[number], (typeof DEMO_DEVICES)[number]];
const brokerFiles = path.join(repoRoot(), "deploy", "octopus");
/** The example with a small client cap and a 1 s heartbeat (tab environment), so the test sees both quickly. */
const MAX_CLIENTS = 3;
const flow = () => exampleWithEnv("octopus-portal", { OCTOPUS_LIVE_MAX_CLIENTS: String(MAX_CLIENTS), OCTOPUS_LIVE_HEARTBEAT_S: "1" });

interface DeviceRecord {
  device: string;
  office: string;
  room: string;
  ts: number;
  values: Record<string, { value: number | boolean; ts: number }>;
}
const record = (e: StreamEvent) => JSON.parse(e.data) as DeviceRecord;
/** A "device" event of `device` whose `attribute` is `value`. */
const carrying = (device: string, attribute: string, value: number) => (e: StreamEvent) =>
  e.event === "device" && record(e).device === device && record(e).values[attribute]?.value === value;

describe("Octopus portal: live view pushed by server-sent events (plugwatch-sse), real Mosquitto + influxd + Chromium", function () {
  this.timeout(120000);
  const td = new Teardown();
  let red: NodeRedInstance;
  let acme: MqttClient;
  let globex: MqttClient;
  let events: string;
  const publish = (c: MqttClient, d: (typeof DEMO_DEVICES)[number], attribute: string, value: number) =>
    c.publishAsync(`octopus/${d.office}/${d.room}/${d.id}/${attribute}`, String(value), { qos: 1 });

  before(async function () {
    const mosq = td.add(await startMosquitto({ passwordFile: path.join(brokerFiles, "passwd"), aclFile: path.join(brokerFiles, "acl") }), (m) => m.stop());
    const influx = td.add(await startInfluxd(), (i) => i.destroy());
    red = td.add(
      await startNodeRed({
        env: {
          OCTOPUS_MQTT_URL: mosq.url,
          OCTOPUS_MQTT_USER: PORTAL.username,
          OCTOPUS_MQTT_PASSWORD: PORTAL.password,
          OCTOPUS_API_TOKENS: "octopus-test-token-0123456789 read",
          PLUGWATCH_INFLUX_URL: influx.url,
        },
      }),
      (r) => r.stop(),
    );
    await red.deploy(flow());
    await red.waitForLog(/Connected to broker/, 10000);
    await red.waitForLog(/server-sent events on \/octopus\/events/, 10000);
    events = `${red.url}/octopus/events`;
    const login = (d: (typeof DEMO_DEVICES)[number]) => ({ username: d.id, password: d.password, reconnectPeriod: 0, connectTimeout: 5000 });
    acme = td.add(await mqtt.connectAsync(mosq.url, login(ACME_SENSOR)), (c) => c.endAsync(true));
    globex = td.add(await mqtt.connectAsync(mosq.url, login(GLOBEX_SENSOR)), (c) => c.endAsync(true));
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${red?.logTail(40)}`);
  });
  after(() => td.run());

  it("streams each MQTT reading as an event: headers, retry, heartbeats, a snapshot for new clients", async function () {
    const a = td.add(await mustOpenSse(events), (s) => s.destroy());
    assert.match(a.res.headers["content-type"] ?? "", /^text\/event-stream/);
    assert.match(a.res.headers["cache-control"] ?? "", /no-cache/);
    await a.until("retry", () => a.retry);
    assert.equal(a.retry, 2000);

    await publish(acme, ACME_SENSOR, "temperature", 21.5);
    const e = await a.next("acme's temperature", carrying(ACME_SENSOR.id, "temperature", 21.5));
    assert.match(e.id ?? "", /^[0-9a-z]+x[0-9a-z]+-\d+$/);
    const r = record(e);
    assert.deepEqual(
      { device: r.device, office: r.office, room: r.room, attributes: Object.keys(r.values), temperature: r.values.temperature?.value },
      { device: ACME_SENSOR.id, office: "acme", room: "meeting-1", attributes: ["temperature"], temperature: 21.5 },
    );
    assert.ok(Math.abs(r.ts - Date.now()) < 10000, "the reading's time");

    // Heartbeats (1 s here) while nothing happens.
    await a.until("two heartbeats", () => a.comments.filter((c) => c === "heartbeat").length >= 2 || undefined, 5000);

    // A second client first gets the snapshot: the latest record of every device, before anything new is published.
    await publish(globex, GLOBEX_SENSOR, "co2", 612);
    await a.next("globex's co2", carrying(GLOBEX_SENSOR.id, "co2", 612));
    const b = td.add(await mustOpenSse(events), (s) => s.destroy());
    await b.until("the snapshot", () => b.events.length >= 2 || undefined);
    assert.deepEqual(
      b.events.map((x) => [x.event, record(x).device]),
      [
        ["device", ACME_SENSOR.id],
        ["device", GLOBEX_SENSOR.id],
      ],
    );
    assert.equal(record(nth(b.events, 0)).values.temperature?.value, 21.5);
    a.destroy();
    b.destroy();
  });

  it("replays exactly the missed events to a client reconnecting with Last-Event-ID", async function () {
    const a = td.add(await mustOpenSse(events), (s) => s.destroy());
    await publish(acme, ACME_SENSOR, "humidity", 41);
    const last = await a.next("humidity 41", carrying(ACME_SENSOR.id, "humidity", 41));
    a.destroy();
    // Missed while away: two events (a watcher proves the portal has pushed both before the client comes back).
    const watcher = td.add(await mustOpenSse(events), (s) => s.destroy());
    const from = watcher.events.length;
    await publish(acme, ACME_SENSOR, "humidity", 42);
    await publish(globex, GLOBEX_SENSOR, "temperature", 19.5);
    await watcher.next("globex 19.5", carrying(GLOBEX_SENSOR.id, "temperature", 19.5), from);
    watcher.destroy();

    const back = td.add(await mustOpenSse(events, { headers: { "last-event-id": last.id! } }), (s) => s.destroy());
    await back.until("the two missed events", () => back.events.length >= 2 || undefined);
    await publish(acme, ACME_SENSOR, "co2", 700); // a marker: nothing else came before it
    await back.next("the marker", carrying(ACME_SENSOR.id, "co2", 700));
    assert.deepEqual(
      back.events.map((x) => [record(x).device, x.id! > last.id!]),
      [
        [ACME_SENSOR.id, true],
        [GLOBEX_SENSOR.id, true],
        [ACME_SENSOR.id, true],
      ],
      "the missed events, then live ones; no snapshot",
    );
    assert.equal(record(nth(back.events, 0)).values.humidity?.value, 42);
    // An id of no stream of this deploy gets the snapshot instead.
    const stale = td.add(await mustOpenSse(`${events}?lastEventId=zzzzx1-5`), (s) => s.destroy());
    await stale.until("the snapshot", () => stale.events.length >= 2 || undefined);
    assert.deepEqual(stale.events.map((x) => record(x).device).sort(), [ACME_SENSOR.id, GLOBEX_SENSOR.id]);
    back.destroy();
    stale.destroy();
  });

  it(`caps concurrent clients at ${MAX_CLIENTS} (503 problem + Retry-After), frees a slot on disconnect, refuses other methods`, async function () {
    // Earlier tests' clients are gone once the cap lets MAX_CLIENTS new ones in (the server sees each close).
    const open: SseStream[] = [];
    await waitFor(
      `${MAX_CLIENTS} clients accepted`,
      async () => {
        const r = await openSse(events);
        if (r instanceof SseStream) open.push(td.add(r, (s) => s.destroy()));
        return open.length === MAX_CLIENTS;
      },
      10000,
      red,
    );
    const refused = await openSse(events);
    assert.ok(!(refused instanceof SseStream), "one over the cap is refused");
    assert.equal(refused.status, 503);
    assert.match(String(refused.headers["content-type"]), /application\/problem\+json/);
    assert.equal(refused.headers["retry-after"], "5");
    const problem = JSON.parse(refused.body) as { code: string; status: number; instance: string };
    assert.deepEqual([problem.code, problem.status, problem.instance], ["LIMIT_EXCEEDED", 503, "/octopus/events"]);

    // Every accepted client still gets the events.
    await publish(acme, ACME_SENSOR, "temperature", 23.25);
    for (const s of open) await s.next("23.25", carrying(ACME_SENSOR.id, "temperature", 23.25));

    // One disconnects: its slot is free again (and only one).
    open.shift()!.destroy();
    let again: SseStream | undefined;
    await waitFor(
      "a slot freed by the disconnect",
      async () => {
        const r = await openSse(events);
        if (r instanceof SseStream) again = td.add(r, (s) => s.destroy());
        return again !== undefined;
      },
      10000,
      red,
    );
    const over = await openSse(events);
    assert.ok(!(over instanceof SseStream) && over.status === 503, "full again");

    const post = await fetch(events, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    for (const s of [...open, again!]) s.destroy();
  });

  it("ends every stream on redeploy, leaves no client counted, and serves the path again", async function () {
    const streams: SseStream[] = [];
    await waitFor(
      `${MAX_CLIENTS} clients`,
      async () => {
        const r = await openSse(events);
        if (r instanceof SseStream) streams.push(td.add(r, (s) => s.destroy()));
        return streams.length === MAX_CLIENTS;
      },
      10000,
      red,
    );
    for (let round = 0; round < 3; round++) {
      await red.deploy(flow());
      for (const s of streams) await s.whenEnded();
      streams.length = 0;
      // The new node counts none of the old clients: MAX_CLIENTS new ones are accepted once it serves the path
      // (the deploy answers before the flows have started again: 404 until then).
      await waitFor("the path served again", async () => (await fetch(events, { method: "HEAD" })).status === 200, 10000, red);
      for (let i = 0; i < MAX_CLIENTS; i++) streams.push(td.add(await mustOpenSse(events), (s) => s.destroy()));
      const from = streams.map((s) => s.events.length);
      const value = 30 + round;
      await publish(acme, ACME_SENSOR, "temperature", value);
      for (const [i, s] of streams.entries()) await s.next(`${value} after redeploy ${round + 1}`, carrying(ACME_SENSOR.id, "temperature", value), from[i]);
    }
    assert.doesNotMatch(red.log(), /already served by another node/);
    for (const s of streams) s.destroy();
  });

  it("in Chromium: a reading published on MQTT appears in the page with no request but the page and its event stream", async function () {
    const browser: Browser = td.add(await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS }), (b) => b.close());
    const page = await browser.newPage();
    const requests: { url: string; type: string }[] = [];
    page.on("request", (r: Request) => {
      const url = new URL(r.url());
      if (url.pathname !== "/favicon.ico") requests.push({ url: url.pathname + url.search, type: r.resourceType() });
    });
    const res = await page.goto(`${red.url}/octopus`, { waitUntil: "domcontentloaded" });
    assert.equal(res?.status(), 200);
    assert.equal(await page.locator('meta[http-equiv="refresh"]').count(), 0, "no refresh");
    await page
      .getByTestId("live")
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: 10000 });
    const cell = (device: string, attribute: string) => page.locator(`td[data-device="${device}"][data-attribute="${attribute}"]`);

    await publish(acme, ACME_SENSOR, "co2", 777);
    await cell(ACME_SENSOR.id, "co2").filter({ hasText: /^777$/ }).waitFor({ timeout: 10000 });
    await publish(globex, GLOBEX_SENSOR, "humidity", 55.5);
    await cell(GLOBEX_SENSOR.id, "humidity")
      .filter({ hasText: /^55\.5$/ })
      .waitFor({ timeout: 10000 });
    assert.deepEqual(requests, [
      { url: "/octopus", type: "document" },
      { url: "/octopus/events", type: "eventsource" },
    ]);

    // A redeploy ends the stream: the page says so, reconnects by itself, and shows what comes next.
    await red.deploy(flow());
    await page
      .getByTestId("live")
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: 15000 });
    await publish(acme, ACME_SENSOR, "co2", 888);
    await cell(ACME_SENSOR.id, "co2").filter({ hasText: /^888$/ }).waitFor({ timeout: 10000 });
    assert.equal(await cell(GLOBEX_SENSOR.id, "humidity").innerText(), "55.5", "the rest of the table is kept");
    assert.deepEqual(
      requests.map((r) => r.type),
      ["document", "eventsource", "eventsource"],
      "only the stream again, no page reload or fetch",
    );
    await browser.close(); // its stream counts against the cap of the next test
  });
  it("in Chromium: a page refused over the cap (503) shows it, and connects by itself once a slot is free", async function () {
    const held: SseStream[] = [];
    await waitFor(
      `${MAX_CLIENTS} other clients`,
      async () => {
        const r = await openSse(events);
        if (r instanceof SseStream) held.push(td.add(r, (s) => s.destroy()));
        return held.length === MAX_CLIENTS;
      },
      10000,
      red,
    );
    const browser: Browser = td.add(await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS }), (b) => b.close());
    const page = await browser.newPage();
    const streams: number[] = [];
    page.on("response", (r) => void (new URL(r.url()).pathname === "/octopus/events" && streams.push(r.status())));
    await page.goto(`${red.url}/octopus`, { waitUntil: "domcontentloaded" });
    await page.getByTestId("live").filter({ hasText: "reconnecting" }).waitFor({ timeout: 10000 });
    assert.deepEqual(streams, [503]);
    held.shift()!.destroy();
    await page
      .getByTestId("live")
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: 15000 });
    await publish(acme, ACME_SENSOR, "temperature", 24.75);
    await page
      .locator(`td[data-device="${ACME_SENSOR.id}"][data-attribute="temperature"]`)
      .filter({ hasText: /^24\.75$/ })
      .waitFor({ timeout: 10000 });
    assert.equal(streams.at(-1), 200);
    assert.ok(
      streams.slice(0, -1).every((s) => s === 503),
      `refused until a slot was free: ${streams.join(",")}`,
    );
    for (const s of held) s.destroy();
    await browser.close();
  });
});
