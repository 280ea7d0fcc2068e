// The shipped Mosquitto sample (deploy/mosquitto/mosquitto.conf + acl) run for real: passwords, ACL per user, TLS listener.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { findMosquitto } from "../../scripts/harness/mosquitto";
import { repoRoot } from "../../scripts/harness/nodered";
import { freePort, waitForPort } from "../../scripts/harness/ports";
import { nextMessage, Teardown } from "../../scripts/harness/services";

const USERS = {
  "plugwatch-nodered": "nodered-pw-1",
  "plugwatch-collector": "collector-pw-5",
  "plugwatch-reader": "reader-pw-2",
  "plugwatch-client": "client-pw-3",
  "ws-9-99": "device-pw-4",
} as const;
type User = keyof typeof USERS;

/** A private CA and a server certificate for 127.0.0.1 (openssl), as docs/deployment.md#tls describes. */
function makeCerts(dir: string): void {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=plugwatch-test-ca", "-keyout", "ca.key", "-out", "ca.crt");
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
  writeFileSync(path.join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt");
}

describe("deploy/mosquitto: the shipped Mosquitto configuration and ACL, run for real", function () {
  this.timeout(60000);
  const td = new Teardown();
  let plainPort: number;
  let tlsPort: number;
  let certs: string;
  let logFile: string;

  const connect = (user: User | undefined, opts: mqtt.IClientOptions = {}): Promise<MqttClient> =>
    mqtt
      .connectAsync(`mqtt://127.0.0.1:${plainPort}`, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...(user ? { username: user, password: USERS[user] } : {}),
        ...opts,
      })
      .then((c) => td.add(c, (x) => x.endAsync(true)));

  before(async function () {
    const dir = td.add(mkdtempSync(path.join(os.tmpdir(), "plugwatch-deploy-mosq-")), (d) => rmSync(d, { recursive: true, force: true }));
    certs = path.join(dir, "certs");
    mkdirSync(certs);
    mkdirSync(path.join(dir, "data"));
    makeCerts(certs);
    const passwd = path.join(dir, "passwd");
    writeFileSync(passwd, "");
    for (const [u, p] of Object.entries(USERS)) execFileSync("mosquitto_passwd", ["-b", passwd, u, p], { stdio: "pipe" });
    plainPort = await freePort();
    tlsPort = await freePort();
    logFile = path.join(dir, "mosquitto.log");
    // The shipped file with only paths, ports and the bind address adapted to a test run.
    const conf = readFileSync(path.join(repoRoot(), "deploy", "mosquitto", "mosquitto.conf"), "utf8")
      .replace("/mosquitto/config/passwd", passwd)
      .replace("/mosquitto/config/acl", path.join(repoRoot(), "deploy", "mosquitto", "acl"))
      .replace("/mosquitto/data/", path.join(dir, "data") + "/")
      .replace(/\/mosquitto\/certs\//g, certs + "/")
      .replace("log_dest stdout", `log_dest file ${logFile}`)
      .replace("listener 1883 0.0.0.0", `listener ${plainPort} 127.0.0.1`)
      .replace("listener 8883 0.0.0.0", `listener ${tlsPort} 127.0.0.1`);
    assert.match(conf, new RegExp(`listener ${tlsPort} 127.0.0.1`));
    // Started as root, mosquitto would switch to user `mosquitto`, which cannot read the test's temp files.
    const asUser = `user ${os.userInfo().username}\n`;
    const confFile = path.join(dir, "mosquitto.conf");
    writeFileSync(confFile, asUser + conf);
    const proc = spawn(findMosquitto(), ["-c", confFile], { stdio: "ignore" });
    td.add(proc, (p: ChildProcess) => new Promise<void>((resolve) => (p.exitCode !== null ? resolve() : (p.once("exit", () => resolve()), p.kill("SIGTERM")))));
    await waitForPort(plainPort).catch((err: Error) => {
      let log = "";
      try {
        log = readFileSync(logFile, "utf8");
      } catch {
        /* no log */
      }
      throw new Error(`${err.message}\n${log}`);
    });
    await waitForPort(tlsPort);
  });
  after(async function () {
    await td.run();
  });

  it("refuses anonymous clients and wrong passwords", async function () {
    await assert.rejects(connect(undefined), /Not authorized|Bad User Name or Password|connack/i);
    await assert.rejects(connect("plugwatch-reader", { password: "wrong" }), /Not authorized|Bad User Name or Password|connack/i);
  });

  it("plugwatch-collector publishes its registry's readings, plugwatch-nodered none; plugwatch-reader receives them but cannot publish or send commands", async function () {
    const collector = await connect("plugwatch-collector");
    const nodered = await connect("plugwatch-nodered");
    const reader = await connect("plugwatch-reader");
    await reader.subscribeAsync("plugwatch/+/+/+/+/reading", { qos: 1 });
    const topic = "plugwatch/hq/1/open-space-1/ws-1-01/reading";
    const got = nextMessage(reader, topic, (p) => p.toString().includes('"marker":1'));
    await collector.publishAsync(topic, JSON.stringify({ marker: 1 }), { qos: 1 });
    await got;
    // The collector user is bound to flows/registry/office.json; the runtime user (role agents) publishes no reading.
    await assert.rejects(collector.publishAsync("plugwatch/hq/1/open-space-1/intruder-9/reading", "{}", { qos: 1 }), /authori/i);
    await assert.rejects(nodered.publishAsync(topic, JSON.stringify({ marker: 2 }), { qos: 1 }), /authori/i);
    await assert.rejects(nodered.publishAsync("plugwatch/hq/1/open-space-1/ws-1-01/availability", "{}", { qos: 1 }), /authori/i);
    await nodered.subscribeAsync("plugwatch/#", { qos: 1 });
    const seen: string[] = [];
    nodered.on("message", (t) => seen.push(t));
    await assert.rejects(reader.publishAsync("plugwatch/hq/1/open-space-1/ws-1-01/reading", "{}", { qos: 1 }), /authori/i);
    await assert.rejects(reader.publishAsync("plugwatch/api/request/command", "{}", { qos: 1 }), /authori/i);
    // A message nodered may publish goes through after the refused ones: the refused ones never arrived.
    const marker = nextMessage(nodered, "plugwatch/status/influx-hook");
    await nodered.publishAsync("plugwatch/status/influx-hook", "x", { qos: 1 });
    await marker;
    assert.deepEqual(
      seen.filter((t) => t !== "plugwatch/status/influx-hook" && t !== topic),
      [],
    );
  });

  it("a device user may write only its own reading topic; plugwatch-client only requests and its own replies", async function () {
    const device = await connect("ws-9-99");
    await device.publishAsync("plugwatch/hq/9/lab/ws-9-99/reading", "{}", { qos: 1 });
    await assert.rejects(device.publishAsync("plugwatch/hq/9/lab/ws-9-98/reading", "{}", { qos: 1 }), /authori/i);
    await assert.rejects(device.publishAsync("plugwatch/api/request/command", "{}", { qos: 1 }), /authori/i);
    const client = await connect("plugwatch-client");
    await client.publishAsync("plugwatch/api/request/query", "{}", { qos: 1 });
    // Mosquitto grants wildcard subscriptions and checks read access per message: the reading must never arrive.
    await client.subscribeAsync(["plugwatch/api/reply/plugwatch-client/#", "plugwatch/+/+/+/+/reading"], { qos: 1 });
    const seen: string[] = [];
    client.on("message", (t) => seen.push(t));
    const nodered = await connect("plugwatch-nodered");
    const collector = await connect("plugwatch-collector");
    const reply = nextMessage(client, "plugwatch/api/reply/plugwatch-client/#");
    await collector.publishAsync("plugwatch/hq/1/open-space-1/ws-1-01/reading", "{}", { qos: 1 });
    await nodered.publishAsync("plugwatch/api/reply/plugwatch-client/r1", "{}", { qos: 1 });
    await reply;
    assert.deepEqual(seen, ["plugwatch/api/reply/plugwatch-client/r1"]);
  });

  it("the TLS listener serves the certificate from certs/ and needs the password too", async function () {
    const ca = readFileSync(path.join(certs, "ca.crt"));
    const ok = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, {
      ca,
      rejectUnauthorized: true,
      username: "plugwatch-reader",
      password: USERS["plugwatch-reader"],
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    td.add(ok, (c) => c.endAsync(true));
    assert.equal(ok.connected, true);
    await assert.rejects(
      mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, {
        rejectUnauthorized: true,
        username: "plugwatch-reader",
        password: USERS["plugwatch-reader"],
        reconnectPeriod: 0,
        connectTimeout: 5000,
      }),
      /certificate|self.signed|issuer/i,
    );
    await assert.rejects(
      mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { ca, rejectUnauthorized: true, reconnectPeriod: 0, connectTimeout: 5000 }),
      /Not authorized|connack/i,
    );
  });
});
