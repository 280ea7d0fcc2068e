// TLS on both network edges (issue 14), with a CA generated in the test by openssl: Mosquitto serves MQTT over TLS
// (a second listener with the CA-signed certificate), Node-RED's own MQTT connection uses it through a tls-config
// node, and Node-RED itself serves HTTPS (settings.js PLUGWATCH_HTTPS_KEY/CERT). Clients that do not trust the CA,
// and plain HTTP, are refused.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import mqtt from "mqtt";
import { startMosquitto } from "../../scripts/harness/mosquitto";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { freePort } from "../../scripts/harness/ports";
import { Teardown, uniqueRoot } from "../../scripts/harness/services";

const openssl = (dir: string, ...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });

/** A CA and a server certificate for 127.0.0.1 / localhost signed by it, in `dir`. */
function makeCa(dir: string): { ca: string; cert: string; key: string } {
  openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Plugwatch test CA", "-keyout", "ca.key", "-out", "ca.crt");
  openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
  writeFileSync(path.join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "san.ext",
    "-out",
    "server.crt",
  );
  return { ca: path.join(dir, "ca.crt"), cert: path.join(dir, "server.crt"), key: path.join(dir, "server.key") };
}

function status(get: typeof httpsGet, url: string, opts: Record<string, unknown>): Promise<number | string> {
  return new Promise((resolve) => {
    const req = get(url, { ...opts, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.on("timeout", () => req.destroy(new Error("timeout")));
  });
}

describe("TLS: MQTT over TLS to Mosquitto and HTTPS for Node-RED, with a CA made by openssl", function () {
  this.timeout(90_000);
  const td = new Teardown();
  let dir: string;
  let files: { ca: string; cert: string; key: string };
  let tlsPort: number;
  let red: NodeRedInstance;
  const root = uniqueRoot("pwtls");
  after(async () => {
    await td.run();
    rmSync(dir, { recursive: true, force: true });
  });

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-tls-"));
    files = makeCa(dir);
    tlsPort = await freePort();
    td.add(
      await startMosquitto({
        extraConfig: [`listener ${tlsPort} 127.0.0.1`, `cafile ${files.ca}`, `certfile ${files.cert}`, `keyfile ${files.key}`, "tls_version tlsv1.2"],
      }),
      (m) => m.stop(),
    );
    const flows: FlowNode[] = [
      { id: "t", type: "tab", label: "tls" },
      {
        id: "tls",
        type: "tls-config",
        name: "test CA",
        cert: "",
        key: "",
        ca: files.ca,
        certname: "",
        keyname: "",
        caname: "",
        servername: "",
        verifyservercert: true,
      },
      {
        id: "b",
        type: "mqtt-broker",
        name: "TLS broker",
        broker: "127.0.0.1",
        port: String(tlsPort),
        usetls: true,
        tls: "tls",
        clientid: "",
        autoConnect: true,
        protocolVersion: "4",
        keepalive: "15",
        cleansession: true,
      },
      {
        id: "in",
        type: "mqtt in",
        z: "t",
        topic: `${root}/in`,
        qos: "1",
        datatype: "utf8",
        broker: "b",
        nl: false,
        rap: true,
        rh: 0,
        inputs: 0,
        x: 100,
        y: 100,
        wires: [["out"]],
      },
      { id: "out", type: "mqtt out", z: "t", topic: `${root}/out`, qos: "1", retain: "false", broker: "b", x: 300, y: 100, wires: [] },
    ];
    red = td.add(await startNodeRed({ flows, https: { key: files.key, cert: files.cert, ca: files.ca } }), (r) => r.stop());
  });

  it("Node-RED serves HTTPS to a client that trusts the CA; one that does not, and plain HTTP, get nothing", async function () {
    assert.match(red.url, /^https:/);
    assert.equal(await status(httpsGet, `${red.url}/settings`, { ca: readFileSync(files.ca) }), 200);
    assert.equal(await status(httpsGet, `${red.url}/settings`, {}), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    assert.notEqual(await status(httpGet, `http://127.0.0.1:${red.port}/settings`, {}), 200);
  });

  it("Node-RED's MQTT connection runs over TLS: a message makes the round trip through the flow", async function () {
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { ca: readFileSync(files.ca), reconnectPeriod: 0, connectTimeout: 5000 });
    td.add(client, (c) => c.endAsync(true));
    await client.subscribeAsync(`${root}/out`, { qos: 1 });
    const got = new Promise<string>((resolve) => client.on("message", (_t, p) => resolve(p.toString())));
    // Node-RED subscribes once its TLS connection is up: publish until the flow answers.
    let answer: string | undefined;
    void got.then((a) => (answer = a));
    for (let i = 0; i < 100 && answer === undefined; i++) {
      await client.publishAsync(`${root}/in`, "over tls", { qos: 1 });
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(answer, "over tls");
    assert.match(red.log(), /Connected to broker: .*mqtts:\/\/127\.0\.0\.1/);
  });

  it("a client that does not trust the CA cannot connect to the TLS listener", async function () {
    await assert.rejects(
      mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { reconnectPeriod: 0, connectTimeout: 5000 }),
      /self-signed|unable to (verify|get)/i,
    );
  });
});
