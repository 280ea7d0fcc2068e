// A second host (issue 14): two network namespaces joined by a veth pair, private 10.213.x.0/24 addresses that exist
// only inside them. The embedded broker runs on "host A"; from "host B" the default (loopback) broker is unreachable,
// a LAN broker without a password file refuses to start, and with one an anonymous connection is refused while a
// read-only identity can read readings but not publish commands. Needs root (ip netns); everything is removed after.
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { buildDir } from "../../scripts/harness/nodered";

const ip = (...args: string[]): string => execFileSync("ip", args, { encoding: "utf8" });

describe("second host in a network namespace: the embedded broker is private by default", function () {
  this.timeout(60_000);
  const tag = randomBytes(3).toString("hex");
  const nsA = `pwsec-a-${tag}`;
  const nsB = `pwsec-b-${tag}`;
  const net = `10.213.${1 + (parseInt(tag, 16) % 250)}`;
  const addrA = `${net}.1`;
  const port = 18830 + (parseInt(tag, 16) % 1000);
  const brokerScript = path.join(buildDir(), "test", "support", "netns-broker.js");
  const probeScript = path.join(buildDir(), "test", "support", "netns-probe.js");
  const children: ChildProcess[] = [];
  let dir = "";
  let passwd = "";

  before(function () {
    if (process.getuid?.() !== 0) throw new Error("this test needs root (ip netns add); run the suite as root");
    ip("netns", "add", nsA);
    ip("netns", "add", nsB);
    ip("link", "add", `pwa${tag}`, "type", "veth", "peer", "name", `pwb${tag}`);
    ip("link", "set", `pwa${tag}`, "netns", nsA);
    ip("link", "set", `pwb${tag}`, "netns", nsB);
    ip("-n", nsA, "addr", "add", `${addrA}/24`, "dev", `pwa${tag}`);
    ip("-n", nsB, "addr", "add", `${net}.2/24`, "dev", `pwb${tag}`);
    for (const [ns, dev] of [
      [nsA, `pwa${tag}`],
      [nsB, `pwb${tag}`],
    ] as const) {
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "link", "set", dev, "up");
    }
    dir = mkdtempSync(path.join(os.tmpdir(), "pw-netns-"));
    passwd = path.join(dir, "passwd");
    execFileSync("mosquitto_passwd", ["-c", "-b", passwd, "runtime", "rt-pass-0123456789"]);
    execFileSync("mosquitto_passwd", ["-b", passwd, "readonly", "ro-pass-0123456789"]);
  });

  afterEach(async function () {
    for (const c of children.splice(0)) {
      if (c.exitCode === null) {
        const gone = new Promise((r) => c.once("exit", r));
        c.kill("SIGTERM");
        await gone;
      }
    }
  });

  after(function () {
    for (const ns of [nsA, nsB]) {
      try {
        ip("netns", "del", ns); // removes the veth ends inside it
      } catch {
        /* already gone */
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the broker in host A; resolves with its first line (LISTENING … or REFUSED: …). */
  function broker(env: Record<string, string>): Promise<string> {
    const c = spawn("ip", ["netns", "exec", nsA, process.execPath, brokerScript], {
      env: { ...process.env, PW_PORT: String(port), ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(c);
    return new Promise((resolve, reject) => {
      let text = "";
      c.stdout.on("data", (d: Buffer) => {
        text += d.toString();
        if (text.includes("\n")) resolve(text.trim());
      });
      c.once("exit", (code) => (text ? resolve(text.trim()) : reject(new Error(`broker exited with ${code} and no output`))));
    });
  }

  /** Starts the broker plus a simulated plug and the control agent in host A; `relay()` reads the plug at the simulator. */
  async function brokerWithAgent(env: Record<string, string>): Promise<{ relay(): Promise<string> }> {
    const c = spawn("ip", ["netns", "exec", nsA, process.execPath, brokerScript], {
      env: { ...process.env, PW_PORT: String(port), ...env },
      stdio: ["pipe", "pipe", "inherit"],
    });
    children.push(c);
    const lines: string[] = [];
    let buffer = "";
    c.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      lines.push(...parts);
    });
    const next = async (re: RegExp, from: number): Promise<string> => {
      for (let t = 0; t < 300; t++) {
        const hit = lines.slice(from).find((l) => re.test(l));
        if (hit) return hit;
        if (c.exitCode !== null) throw new Error(`broker exited: ${lines.join(" | ")}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no line matching ${String(re)}: ${lines.join(" | ")}`);
    };
    assert.match(await next(/^(LISTENING|REFUSED)/, 0), /^LISTENING 10\.213\./);
    await next(/^AGENT READY/, 0);
    return {
      relay: async () => {
        const from = lines.length;
        c.stdin.write("relay\n");
        return (await next(/^RELAY /, from)).slice("RELAY ".length);
      },
    };
  }

  /** Runs one MQTT probe in `ns`; resolves with what it saw. */
  function probe(ns: string, env: Record<string, string>): Promise<{ connected: boolean; error?: string; subscribed?: boolean; closedAfterPublish?: boolean }> {
    return new Promise((resolve, reject) => {
      execFile("ip", ["netns", "exec", ns, process.execPath, probeScript], { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout) => {
        if (err && !stdout) return reject(new Error(`probe in ${ns} failed: ${err.message}`, { cause: err }));
        resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { connected: boolean });
      });
    });
  }

  it("default (loopback) broker: serves host A itself, unreachable from host B", async function () {
    assert.match(await broker({ PW_HOSTS: "" }), /^LISTENING 127\.0\.0\.1/);
    assert.equal((await probe(nsA, { PW_URL: `mqtt://127.0.0.1:${port}` })).connected, true);
    const fromB = await probe(nsB, { PW_URL: `mqtt://${addrA}:${port}` });
    assert.equal(fromB.connected, false);
    assert.match(fromB.error ?? "", /ECONNREFUSED/);
  });

  it("LAN mode without a password file refuses to start and names the setting", async function () {
    const line = await broker({ PW_HOSTS: addrA });
    assert.match(line, /^REFUSED: .*PLUGWATCH_BROKER_PASSWD/);
  });

  it("LAN mode with a password file: anonymous refused from host B; read-only reads readings, cannot publish commands", async function () {
    assert.match(await broker({ PW_HOSTS: addrA, PW_PASSWD: passwd }), /^LISTENING 10\.213\./);
    const url = `mqtt://${addrA}:${port}`;
    const anon = await probe(nsB, { PW_URL: url });
    assert.equal(anon.connected, false);
    assert.match(anon.error ?? "", /Not authorized|Bad username/i);
    const wrong = await probe(nsB, { PW_URL: url, PW_USER: "readonly", PW_PASS: "nope" });
    assert.equal(wrong.connected, false);
    const reads = await probe(nsB, { PW_URL: url, PW_USER: "readonly", PW_PASS: "ro-pass-0123456789", PW_SUB: "plugwatch/+/+/+/+/reading" });
    assert.deepEqual([reads.connected, reads.subscribed], [true, true]);
    const noCmdSub = await probe(nsB, { PW_URL: url, PW_USER: "readonly", PW_PASS: "ro-pass-0123456789", PW_SUB: "plugwatch/api/request/command" });
    assert.equal(noCmdSub.subscribed, false);
    const cmd = await probe(nsB, { PW_URL: url, PW_USER: "readonly", PW_PASS: "ro-pass-0123456789", PW_PUB: "plugwatch/api/request/command" });
    assert.equal(cmd.closedAfterPublish, true, "the broker refused the read-only identity's command");
  });

  it("LAN mode: the read-only identity's command and API-request publishes change no plug (checked at the simulator); the runtime's do", async function () {
    const host = await brokerWithAgent({ PW_HOSTS: addrA, PW_PASSWD: passwd, PW_AGENT_PASS: "rt-pass-0123456789" });
    const url = `mqtt://${addrA}:${port}`;
    const off = JSON.stringify({ v: 1, id: "ro-1", replyTo: "clients/readonly/r", action: "off", target: { device: "pr-1" } });
    assert.equal(await host.relay(), "on");
    const ro = { PW_URL: url, PW_USER: "readonly", PW_PASS: "ro-pass-0123456789", PW_PAYLOAD: off };
    for (const topic of ["plugwatch/api/request/command", "plugwatch/api/request/query", "plugwatch/api/request/schedule"]) {
      const r = await probe(nsB, { ...ro, PW_PUB: topic });
      assert.equal(r.connected, true);
      assert.equal(r.closedAfterPublish, true, `the broker refused the read-only identity's publish on ${topic}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await host.relay(), "on", "no plug changed at the simulator");
    // The same command from the runtime identity reaches the agent and switches the plug: the path above was live.
    const rt = await probe(nsB, { PW_URL: url, PW_USER: "runtime", PW_PASS: "rt-pass-0123456789", PW_PUB: "plugwatch/api/request/command", PW_PAYLOAD: off });
    assert.equal(rt.closedAfterPublish, false);
    let relay = "on";
    for (let t = 0; t < 60 && relay === "on"; t++) {
      await new Promise((r) => setTimeout(r, 100));
      relay = await host.relay();
    }
    assert.equal(relay, "off", "the runtime identity's command switched the plug");
  });
});
