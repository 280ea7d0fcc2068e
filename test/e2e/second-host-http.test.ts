// A second host for the HTTP side (issue 14): a network namespace joined to this host by a veth pair, with private
// 10.214.x.0/24 addresses that exist only for the test. From that host: Node-RED on its default (loopback) address is
// unreachable; exposed on the LAN address without an admin login it refuses to start; exposed with one, the editor's
// admin API requires a login and the REST API answers 401 without a token. Needs root (ip netns); all is removed after.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";

const ip = (...args: string[]): string => execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const TOKEN = "second-host-read-token-0123456789";

/** One HTTP request made from inside `ns`: status, content type and body (or the connection error). */
function fetchFrom(ns: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const script = `fetch(${JSON.stringify(url)}, ${JSON.stringify(init)}).then(async (r) => console.log(JSON.stringify({status: r.status, type: r.headers.get("content-type"), body: await r.text()})), (e) => console.log(JSON.stringify({error: String(e.cause?.code ?? e.message)})))`;
  return new Promise<{ status?: number; type?: string; body?: string; error?: string }>((resolve, reject) => {
    execFile("ip", ["netns", "exec", ns, process.execPath, "-e", script], { timeout: 20_000 }, (err, stdout) => {
      if (err && !stdout) return reject(new Error(`probe in ${ns} failed: ${err.message}`));
      resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { status?: number });
    });
  });
}

function apiFlow(tokens?: string): FlowNode[] {
  return [
    { id: "t", type: "tab", label: "second host" },
    { id: "reg", type: "plugwatch-registry", source: "json", json: JSON.stringify({ devices: [] }) },
    {
      id: "api",
      type: "plugwatch-http-api",
      z: "t",
      registry: "reg",
      broker: "",
      root: "plugwatch",
      basePath: "/api/v1",
      timeoutMs: 2000,
      inactiveAfterDays: 30,
      historySize: 10,
      auth: "tokens",
      openHealth: false,
      openSpec: true,
      x: 200,
      y: 100,
      wires: [],
      ...(tokens ? { credentials: { tokens } } : {}),
    },
  ];
}

describe("second host in a network namespace: Node-RED's editor and REST API from the LAN", function () {
  this.timeout(120_000);
  const tag = randomBytes(3).toString("hex");
  const nsB = `pwhttp-b-${tag}`;
  const devA = `pwha${tag}`;
  const net = `10.214.${1 + (parseInt(tag, 16) % 250)}`;
  const addrA = `${net}.1`;
  const running: NodeRedInstance[] = [];

  before(function () {
    if (process.getuid?.() !== 0) throw new Error("this test needs root (ip netns add); run the suite as root");
    ip("netns", "add", nsB);
    ip("link", "add", devA, "type", "veth", "peer", "name", `pwhb${tag}`);
    ip("link", "set", `pwhb${tag}`, "netns", nsB);
    ip("addr", "add", `${addrA}/24`, "dev", devA);
    ip("-n", nsB, "addr", "add", `${net}.2/24`, "dev", `pwhb${tag}`);
    ip("link", "set", devA, "up");
    ip("-n", nsB, "link", "set", "lo", "up");
    ip("-n", nsB, "link", "set", `pwhb${tag}`, "up");
  });

  afterEach(async function () {
    for (const r of running.splice(0)) await r.stop();
  });

  after(function () {
    try {
      ip("netns", "del", nsB); // removes its veth end, and with it the peer on this host
    } catch {
      /* already gone */
    }
    try {
      ip("link", "del", devA);
    } catch {
      /* gone with the namespace */
    }
  });

  it("default listen address (loopback): the editor is unreachable from the other host", async function () {
    const red = await startNodeRed({ flows: apiFlow() });
    running.push(red);
    assert.equal((await red.request("/settings")).status, 200, "served on this host's loopback");
    const fromB = await fetchFrom(nsB, `http://${addrA}:${red.port}/settings`);
    assert.equal(fromB.error, "ECONNREFUSED");
  });

  it("exposed on the LAN without an admin login: settings.js refuses to start and names the variables", async function () {
    await assert.rejects(
      startNodeRed({ flows: apiFlow(), host: addrA, timeoutMs: 15_000 }),
      /exposes the editor and admin API beyond loopback without a login: set PLUGWATCH_ADMIN_USER and PLUGWATCH_ADMIN_PASSWORD_HASH/,
    );
  });

  it("exposed with an admin login: the admin API needs a login and the REST API answers 401 without a token", async function () {
    const red = await startNodeRed({ host: addrA, admin: { user: "admin", password: "second-host-admin-pw" } });
    running.push(red);
    // Deployed through the admin API (with the harness's login) so the token is stored as a credential, as the editor does.
    await red.deploy(apiFlow(`${TOKEN} read wall`));
    const base = `http://${addrA}:${red.port}`;
    const login = await fetchFrom(nsB, `${base}/auth/login`);
    assert.equal(login.status, 200);
    assert.equal((JSON.parse(login.body ?? "{}") as { type?: string }).type, "credentials", "the editor asks for a login");
    assert.equal((await fetchFrom(nsB, `${base}/flows`)).status, 401, "no flows without a login");
    const wrong = await fetchFrom(nsB, `${base}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: "node-red-editor", grant_type: "password", scope: "*", username: "admin", password: "guess" }),
    });
    assert.ok(wrong.status === 401 || wrong.status === 403, `a wrong password gets no token (${wrong.status})`);
    const right = await fetchFrom(nsB, `${base}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: "node-red-editor", grant_type: "password", scope: "*", username: "admin", password: "second-host-admin-pw" }),
    });
    assert.equal(right.status, 200, "the admin's password gets a token");

    const noToken = await fetchFrom(nsB, `${base}/api/v1/devices`);
    assert.equal(noToken.status, 401);
    assert.match(noToken.type ?? "", /application\/problem\+json/);
    assert.match(noToken.body ?? "", /UNAUTHORIZED/);
    const withToken = await fetchFrom(nsB, `${base}/api/v1/devices`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.notEqual(withToken.status, 401, "a read token is accepted from the other host");
  });
});
