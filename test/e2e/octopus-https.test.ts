// The Octopus portal over HTTPS (issue 19), as docs/examples/octopus.md sets it up: a CA and a server certificate made
// by openssl through deploy/octopus/make-certs.sh, settings.js PLUGWATCH_HTTPS_KEY/CERT, the example deployed over HTTPS. A client trusting the CA gets the
// page and the live stream (a reading published on MQTT arrives); one that does not, and plain HTTP, get nothing.
// Chromium gets the page and the pushed value when told the server's key, and a certificate error when not.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get as httpGet } from "node:http";
import { request as httpsRequest } from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { chromium } from "playwright-core";
import { DEMO_DEVICES } from "../../scripts/sim/octopus-clients";
import { loadExample } from "../support/examples";
import { startInfluxd } from "../../scripts/harness/influxd";
import { startMosquitto } from "../../scripts/harness/mosquitto";
import { repoRoot, startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { Teardown } from "../../scripts/harness/services";
import { mustOpenSse, openSse } from "../support/sse-client";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const [ACME_SENSOR] = DEMO_DEVICES as [(typeof DEMO_DEVICES)[number]];
const brokerFiles = path.join(repoRoot(), "deploy", "octopus");

interface Certs {
  ca: string;
  cert: string;
  key: string;
}
/** The documented procedure: deploy/octopus/make-certs.sh DIR 127.0.0.1 localhost (openssl). */
function makeCerts(dir: string): Certs {
  execFileSync("sh", [path.join(brokerFiles, "make-certs.sh"), dir, "127.0.0.1", "localhost"], { stdio: "ignore" });
  return { ca: path.join(dir, "ca.crt"), cert: path.join(dir, "server.crt"), key: path.join(dir, "server.key") };
}

/** One HTTPS request trusting `ca` (or nothing): the status and body, or the TLS error's code. */
function httpsCall(
  url: string,
  ca: Buffer | undefined,
  method = "GET",
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string } | string> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { method, headers, timeout: 10000, ...(ca ? { ca } : {}) }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end(body);
  });
}

/** Full deploy over HTTPS (the harness's deploy uses fetch, which cannot be given a CA). */
async function deployOverHttps(red: NodeRedInstance, ca: Buffer, flows: FlowNode[]): Promise<void> {
  const r = await httpsCall(`${red.url}/flows`, ca, "POST", JSON.stringify({ flows }), {
    "content-type": "application/json",
    "Node-RED-API-Version": "v2",
    "Node-RED-Deployment-Type": "full",
  });
  assert.ok(typeof r !== "string" && r.status === 200, `deploy over HTTPS: ${JSON.stringify(r)}`);
}

describe("Octopus portal over HTTPS with a CA made by openssl: page and live stream for clients trusting it only", function () {
  this.timeout(120000);
  const td = new Teardown();
  let dir: string;
  let files: Certs;
  let ca: Buffer;
  let red: NodeRedInstance;
  let acme: MqttClient;
  const publish = (attribute: string, value: number) =>
    acme.publishAsync(`octopus/${ACME_SENSOR.office}/${ACME_SENSOR.room}/${ACME_SENSOR.id}/${attribute}`, String(value), { qos: 1 });

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-octopus-tls-"));
    files = makeCerts(dir);
    ca = readFileSync(files.ca);
    const mosq = td.add(await startMosquitto({ passwordFile: path.join(brokerFiles, "passwd"), aclFile: path.join(brokerFiles, "acl") }), (m) => m.stop());
    const influx = td.add(await startInfluxd(), (i) => i.destroy());
    red = td.add(
      await startNodeRed({
        https: files,
        env: {
          OCTOPUS_MQTT_URL: mosq.url,
          OCTOPUS_MQTT_USER: "portal",
          OCTOPUS_MQTT_PASSWORD: "portal-demo-secret",
          OCTOPUS_API_TOKENS: "octopus-test-token-0123456789 read",
          PLUGWATCH_INFLUX_URL: influx.url,
        },
      }),
      (r) => r.stop(),
    );
    assert.match(red.url, /^https:\/\/127\.0\.0\.1:/);
    await deployOverHttps(red, ca, loadExample("octopus-portal"));
    await red.waitForLog(/Connected to broker/, 10000);
    await red.waitForLog(/server-sent events on \/octopus\/events/, 10000);
    acme = td.add(
      await mqtt.connectAsync(mosq.url, { username: ACME_SENSOR.id, password: ACME_SENSOR.password, reconnectPeriod: 0, connectTimeout: 5000 }),
      (c) => c.endAsync(true),
    );
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${red?.logTail(40)}`);
  });
  after(async () => {
    await td.run();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a client trusting the CA gets the page and the live stream: a reading published on MQTT arrives as an event", async function () {
    const page = await httpsCall(`${red.url}/octopus`, ca);
    assert.ok(typeof page !== "string", `the page: ${JSON.stringify(page)}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /<h1>Office portal<\/h1>/);
    assert.match(page.body, /const url = "\/octopus\/events";/);

    const stream = td.add(await mustOpenSse(`${red.url}/octopus/events`, { ca }), (s) => s.destroy());
    assert.match(stream.res.headers["content-type"] ?? "", /^text\/event-stream/);
    await publish("temperature", 20.75);
    const e = await stream.next(
      "the reading over HTTPS",
      (x) => x.event === "device" && (JSON.parse(x.data) as { values: { temperature?: { value: number } } }).values.temperature?.value === 20.75,
    );
    assert.equal((JSON.parse(e.data) as { device: string }).device, ACME_SENSOR.id);
    stream.destroy();
  });

  it("a client without the CA is refused (certificate not trusted), and plain HTTP on the port gets nothing", async function () {
    assert.equal(await httpsCall(`${red.url}/octopus`, undefined), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    await assert.rejects(openSse(`${red.url}/octopus/events`), (err: NodeJS.ErrnoException) => err.code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    // Another CA's trust is no better.
    const other = makeCerts(path.join(dir, "other"));
    assert.equal(await httpsCall(`${red.url}/octopus`, readFileSync(other.ca)), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    const plain = await new Promise<number | string>((resolve) => {
      const req = httpGet(`http://127.0.0.1:${red.port}/octopus`, { timeout: 5000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.on("timeout", () => req.destroy(new Error("timeout")));
    });
    assert.notEqual(plain, 200, "plain HTTP");
  });

  it("in Chromium: the page over HTTPS shows a value pushed after it loaded; without the server's key, a certificate error", async function () {
    // Chromium takes no CA file on the command line; it can be told to accept this server's public key (SPKI pin).
    const spki = createHash("sha256")
      .update(new X509Certificate(readFileSync(files.cert)).publicKey.export({ type: "spki", format: "der" }))
      .digest("base64");
    const trusting = td.add(
      await chromium.launch({ executablePath: "/usr/bin/chromium", args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${spki}`] }),
      (b) => b.close(),
    );
    const page = await trusting.newPage();
    const res = await page.goto(`${red.url}/octopus`, { waitUntil: "domcontentloaded" });
    assert.equal(res?.status(), 200);
    await page
      .getByTestId("live")
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: 10000 });
    await publish("co2", 901);
    await page.locator(`td[data-device="${ACME_SENSOR.id}"][data-attribute="co2"]`).filter({ hasText: /^901$/ }).waitFor({ timeout: 10000 });
    await trusting.close();

    const plainBrowser = td.add(await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS }), (b) => b.close());
    const refused = await plainBrowser.newPage();
    await assert.rejects(refused.goto(`${red.url}/octopus`), /ERR_CERT_AUTHORITY_INVALID/);
    await plainBrowser.close();
  });
  it("make-certs.sh: the names in subjectAltName, the CA kept on a second run, a usage error without names", function () {
    const again = path.join(dir, "again");
    const first = makeCerts(again);
    const ca1 = readFileSync(first.ca, "utf8");
    const cert1 = readFileSync(first.cert, "utf8");
    makeCerts(again);
    assert.equal(readFileSync(first.ca, "utf8"), ca1, "the CA is reused");
    const cert2 = new X509Certificate(readFileSync(first.cert));
    assert.notEqual(cert2.toString(), cert1, "a new server certificate");
    assert.ok(cert2.verify(new X509Certificate(ca1).publicKey), "signed by the same CA");
    assert.equal(cert2.subjectAltName, "IP Address:127.0.0.1, DNS:localhost");
    assert.equal(cert2.ca, false);
    assert.ok(Date.parse(cert2.validTo) - Date.now() < 398 * 86400_000, "valid at most 397 days");
    assert.throws(
      () => execFileSync("sh", [path.join(brokerFiles, "make-certs.sh"), again], { stdio: "pipe" }),
      (e: { status?: number }) => e.status === 2,
    );
  });
});
