// `npm start` over HTTPS (issue 19, docs/deployment.md): with PLUGWATCH_HTTPS_KEY/CERT set, scripts/start.ts waits for
// Node-RED on https (it used to probe plain http and shut the demo down), prints https URLs, and the REST API answers
// a client trusting the CA made by openssl (deploy/octopus/make-certs.sh). A client without the CA, and plain HTTP,
// get nothing. Real influxd (started by start.ts itself on free ports), no simulated plugs.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../scripts/harness/nodered";
import { freePort } from "../../scripts/harness/ports";
import { waitFor } from "../../scripts/harness/wait";

/** GET `url`: the status, or the error code (a TLS refusal, a reset). */
function get(url: string, ca?: Buffer): Promise<number | string> {
  return new Promise((resolve) => {
    const done = (res: { statusCode?: number | undefined; resume(): void }) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    };
    const req = url.startsWith("https:") ? httpsGet(url, { timeout: 10000, ...(ca ? { ca } : {}) }, done) : httpGet(url, { timeout: 10000 }, done);
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
  });
}

describe("npm start over HTTPS: start.ts probes and prints https, the API answers clients trusting the CA only", function () {
  this.timeout(120000);
  let dir: string;
  let proc: ChildProcess | undefined;
  let out = "";
  let port: number;
  let ca: Buffer;

  before(async function () {
    dir = mkdtempSync(path.join(os.tmpdir(), "pw-start-https-"));
    execFileSync("sh", [path.join(repoRoot(), "deploy", "octopus", "make-certs.sh"), path.join(dir, "tls"), "127.0.0.1"], { stdio: "ignore" });
    ca = readFileSync(path.join(dir, "tls", "ca.crt"));
    port = await freePort();
    const [influx, rpc, mqttPort] = [await freePort(), await freePort(), await freePort()];
    proc = spawn(process.execPath, [path.join(repoRoot(), "dist", "scripts", "start.js")], {
      cwd: repoRoot(),
      env: {
        ...process.env,
        PORT: String(port),
        PLUGWATCH_USER_DIR: path.join(dir, "user"),
        PLUGWATCH_SIMULATE: "false",
        PLUGWATCH_INFLUX_URL: `http://127.0.0.1:${influx}`,
        PLUGWATCH_INFLUX_RPC_PORT: String(rpc),
        PLUGWATCH_MQTT_PORT: String(mqttPort),
        PLUGWATCH_HTTPS_KEY: path.join(dir, "tls", "server.key"),
        PLUGWATCH_HTTPS_CERT: path.join(dir, "tls", "server.crt"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    proc.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    proc.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    await waitFor("the demo's banner", () => out.includes("Plugwatch demo") || proc!.exitCode !== null, 90000);
    assert.equal(proc.exitCode, null, `start.ts exited:\n${out.slice(-3000)}`);
  });

  after(async function () {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc!.once("exit", r));
      proc.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20000))]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the editor, dashboard and REST API on https", () => {
    assert.match(out, new RegExp(`editor +https://127\\.0\\.0\\.1:${port}/`));
    assert.match(out, new RegExp(`REST API +https://127\\.0\\.0\\.1:${port}/api/v1`));
    assert.doesNotMatch(out, /did not answer/);
  });

  it("the API answers a client trusting the CA; one without it and plain HTTP get nothing", async () => {
    assert.equal(await get(`https://127.0.0.1:${port}/api/v1/openapi.json`, ca), 200);
    const untrusted = await get(`https://127.0.0.1:${port}/api/v1/openapi.json`);
    assert.equal(typeof untrusted, "string", `without the CA: ${untrusted}`);
    assert.match(String(untrusted), /CERT|SIGNATURE|SELF_SIGNED/);
    const plain = await get(`http://127.0.0.1:${port}/api/v1/openapi.json`);
    assert.notEqual(plain, 200, "plain HTTP must not be served");
  });
});
