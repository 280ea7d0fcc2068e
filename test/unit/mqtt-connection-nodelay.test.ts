// TCP_NODELAY on the sockets of lib/mqtt/connection, read back from the kernel with getsockopt (plain TCP and TLS).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as tls from "node:tls";
import { openNoDelaySocket } from "../../lib/mqtt/connection";
import { selfSignedCert } from "../support/self-signed";

/**
 * Node has no getsockopt. A child process receives a duplicate of the socket's descriptor through spawn's documented
 * `stdio` (a Socket there is shared as fd 3), so it reads the option of the very same kernel socket: Perl's getsockopt.
 */
function readNoDelay(socket: net.Socket): Promise<number> {
  const script =
    'open(my $s, "+<&=3") or die "fd 3: $!"; my $v = getsockopt($s, IPPROTO_TCP, TCP_NODELAY); defined $v or die "getsockopt: $!"; print unpack("i", $v)';
  return new Promise((resolve, reject) => {
    const child = spawn("perl", ["-MSocket=IPPROTO_TCP,TCP_NODELAY", "-e", script], { stdio: ["ignore", "pipe", "pipe", socket] });
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`perl exited ${code}: ${err}`))));
  });
}

const once = (emitter: NodeJS.EventEmitter, event: string): Promise<void> => new Promise((resolve) => emitter.once(event, () => resolve()));

describe("TCP_NODELAY on MqttConnection sockets (lib/mqtt/connection openNoDelaySocket)", function () {
  this.timeout(20000);
  let dir: string;
  let plain: net.Server;
  let secure: tls.Server;
  const sockets: net.Socket[] = [];

  before(async function () {
    ({ dir } = selfSignedCert("pw-nodelay-"));
    plain = net.createServer((s) => sockets.push(s)).listen(0, "127.0.0.1");
    secure = tls
      .createServer({ key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) }, (s) => sockets.push(s))
      .listen(0, "127.0.0.1");
    await Promise.all([once(plain, "listening"), once(secure, "listening")]);
  });
  after(async function () {
    for (const s of sockets) s.destroy();
    await Promise.all([new Promise((r) => plain.close(r)), new Promise((r) => secure.close(r))]);
    rmSync(dir, { recursive: true, force: true });
  });
  const portOf = (server: net.Server): number => (server.address() as net.AddressInfo).port;

  it("a plain socket's option reads 0 (the check can tell the difference)", async function () {
    const s = net.connect({ host: "127.0.0.1", port: portOf(plain) });
    sockets.push(s);
    await once(s, "connect");
    assert.equal(await readNoDelay(s), 0);
  });

  it("the TCP socket mqtt.js gets has TCP_NODELAY set", async function () {
    const { stream, tcp } = openNoDelaySocket({ host: "127.0.0.1", port: portOf(plain) });
    sockets.push(tcp);
    assert.equal(stream, tcp);
    await once(tcp, "connect");
    assert.equal(await readNoDelay(tcp), 1);
  });

  it("with TLS, the TCP socket under the TLS stream has TCP_NODELAY set", async function () {
    const { stream, tcp } = openNoDelaySocket({
      host: "127.0.0.1",
      port: portOf(secure),
      tls: { ca: readFileSync(path.join(dir, "cert.pem")), servername: "localhost" },
    });
    sockets.push(stream, tcp);
    assert.ok(stream instanceof tls.TLSSocket);
    await once(stream, "secureConnect");
    assert.equal(stream.authorized, true);
    assert.equal(await readNoDelay(tcp), 1);
  });
});
