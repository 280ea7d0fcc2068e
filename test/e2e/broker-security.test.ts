// The brokers' security over TCP: the embedded aedes broker (lib/broker/embedded) and a real Mosquitto with the generated
// deploy/mosquitto/acl, a mosquitto_passwd file and max_packet_size: anonymous is read-only, identities get their ACL,
// wrong passwords and oversized packets are refused, and the broker keeps serving.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { DEPLOY_USERS, mosquittoAcl, type GrantedDevice } from "../../lib/broker/acl";
import { startEmbeddedBroker } from "../../lib/broker/embedded";
import { parsePasswd } from "../../lib/broker/passwd";
import { startMosquitto } from "../../scripts/harness/mosquitto";
import { freePort } from "../../scripts/harness/ports";
import { Teardown } from "../../scripts/harness/services";
import { nth } from "../support/checked";

const R = "plugwatch";
const READING = `${R}/hq/1/open-1/ws-1-01/reading`;
const USERS = { runtime: "rt-pass-0123456789", readonly: "ro-pass-0123456789", "desk-app": "desk-pass-0123456789", collector: "co-pass-0123456789" };
/** The registry both brokers are configured with: the collector identity may publish these two devices only. */
const REGISTERED: GrantedDevice[] = [
  { id: "ws-1-01", location: { building: "hq", floor: "1", room: "open-1" } },
  { id: "ws-1-02", location: { building: "hq", floor: "1", room: "open-1" } },
];

function passwdFile(dir: string): string {
  const file = path.join(dir, "passwd");
  for (const [i, [u, p]] of Object.entries(USERS).entries()) execFileSync("mosquitto_passwd", [...(i === 0 ? ["-c"] : []), "-b", file, u, p]);
  return file;
}

/** Connects; resolves the client, or rejects with the CONNACK refusal. */
function connect(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts });
}

/** Waits for a message on `topic` at `client`, or resolves undefined after `ms` (absence checks are bounded waits). */
function next(client: MqttClient, topic: string, ms: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off("message", on);
      resolve(undefined);
    }, ms);
    const on = (t: string, p: Buffer): void => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off("message", on);
      resolve(p.toString());
    };
    client.on("message", on);
  });
}

for (const kind of ["aedes", "mosquitto"] as const) {
  describe(`broker security over TCP: ${kind === "aedes" ? "embedded aedes (plugwatch-broker)" : "Mosquitto with deploy/mosquitto/acl"}`, function () {
    this.timeout(30_000);
    const td = new Teardown();
    let url: string;
    let refusedPackets = (): number => -1;
    let refusedPublishes = (): number => -1;
    const refusals: { what: string; detail: string; code?: string | undefined }[] = [];

    before(async function () {
      const dir = td.add(mkdtempSync(path.join(os.tmpdir(), "pw-brokersec-")), (d) => rmSync(d, { recursive: true, force: true }));
      const passwd = passwdFile(dir);
      if (kind === "aedes") {
        const port = await freePort();
        const b = await startEmbeddedBroker({
          port,
          root: R,
          users: parsePasswd((await import("node:fs")).readFileSync(passwd, "utf8")),
          roles: { "desk-app": "client" },
          collectorDevices: REGISTERED,
          onRefused: (what, detail, code) => refusals.push({ what, detail, code }),
        });
        td.add(b, (x) => x.close());
        url = `mqtt://127.0.0.1:${port}`;
        refusedPackets = () => b.refused.packet;
        refusedPublishes = () => b.refused.publish;
      } else {
        const acl = path.join(dir, "acl");
        writeFileSync(acl, mosquittoAcl(R, { ...DEPLOY_USERS, "desk-app": "client" }, { collectorDevices: REGISTERED }));
        const m = await startMosquitto({ passwordFile: passwd, aclFile: acl, allowAnonymous: true, extraConfig: ["max_packet_size 262144"] });
        td.add(m, (x) => x.stop());
        url = m.url;
      }
    });
    after(async function () {
      await td.run();
    });

    it("a wrong password is refused at CONNECT", async function () {
      await assert.rejects(connect(url, { username: "runtime", password: "wrong" }), /Bad username or password|Not authorized|not authorized/i);
    });

    it("anonymous reads readings but its command and reading publishes reach no one; a client reads only its own replies", async function () {
      const runtime = td.add(await connect(url, { username: "runtime", password: USERS.runtime }), (c) => c.endAsync(true));
      await runtime.subscribeAsync([`${R}/api/request/command`, READING], { qos: 1 });
      const anon = td.add(await connect(url), (c) => c.endAsync(true));
      await anon.subscribeAsync(READING, { qos: 1 });
      if (kind === "aedes") {
        // aedes refuses the subscription itself (SUBACK 0x80); Mosquitto grants it and filters on delivery (below).
        for (const f of [`${R}/api/request/command`, "#"]) await assert.rejects(anon.subscribeAsync(f, { qos: 1 }), /Subscribe error/);
      } else await anon.subscribeAsync([`${R}/api/request/command`, "#"], { qos: 1 });
      // Commands reach the control identity, never an anonymous subscriber.
      const leaked = next(anon, `${R}/api/request/command`, 800);
      await runtime.publishAsync(`${R}/api/request/command`, "{}", { qos: 1 });
      assert.equal(await leaked, undefined, "an anonymous client received a command");
      // Anonymous publishes: aedes closes the connection, Mosquitto drops them silently; either way nobody receives.
      const cmd = next(runtime, `${R}/api/request/command`, 800);
      anon.publish(`${R}/api/request/command`, JSON.stringify({ v: 1, id: "anon", replyTo: "clients/x/1", action: "off", target: { all: true } }), { qos: 0 });
      anon.publish(READING, "{}", { qos: 0 });
      assert.equal(await cmd, undefined, "an anonymous command was delivered");
      // The runtime's reading reaches a (fresh) anonymous reader.
      const reader = td.add(await connect(url), (c) => c.endAsync(true));
      await reader.subscribeAsync(`${R}/+/+/+/+/reading`, { qos: 1 });
      const got = next(reader, READING, 5000);
      await runtime.publishAsync(READING, '{"ok":1}', { qos: 1 });
      assert.equal(await got, '{"ok":1}');
      // A client identity reads its own per-identity reply prefix only.
      const desk = td.add(await connect(url, { username: "desk-app", password: USERS["desk-app"] }), (c) => c.endAsync(true));
      await desk.subscribeAsync("clients/desk-app/#", { qos: 1 });
      if (kind === "aedes") await assert.rejects(desk.subscribeAsync("clients/other/#", { qos: 1 }), /Subscribe error/);
      else await desk.subscribeAsync("clients/other/#", { qos: 1 });
      const other = next(desk, "clients/other/1", 800);
      await runtime.publishAsync("clients/other/1", "theirs", { qos: 1 });
      assert.equal(await other, undefined, "a client read another client's reply");
      const own = next(desk, "clients/desk-app/1", 5000);
      await runtime.publishAsync("clients/desk-app/1", "mine", { qos: 1 });
      assert.equal(await own, "mine");
      const readonly = td.add(await connect(url, { username: "readonly", password: USERS.readonly }), (c) => c.endAsync(true));
      const cmd2 = next(runtime, `${R}/api/request/command`, 800);
      readonly.publish(`${R}/api/request/command`, "{}", { qos: 0 });
      assert.equal(await cmd2, undefined, "a readonly identity's command was delivered");
    });

    it("the collector identity publishes its registry's devices only: an unregistered id reaches no subscriber and is not retained", async function () {
      const watcher = td.add(await connect(url, { username: "runtime", password: USERS.runtime }), (c) => c.endAsync(true));
      await watcher.subscribeAsync(`${R}/+/+/+/+/+`, { qos: 1 });
      const collector = td.add(await connect(url, { username: "collector", password: USERS.collector }), (c) => c.endAsync(true));
      const registered = `${R}/hq/1/open-1/ws-1-02/reading`;
      const got = next(watcher, registered, 5000);
      await collector.publishAsync(registered, '{"device":"ws-1-02"}', { qos: 1 });
      assert.equal(await got, '{"device":"ws-1-02"}', "a registered device's reading was not delivered");

      const before = refusedPublishes();
      const intruder = `${R}/hq/1/open-1/intruder-9/reading`;
      const intruderAvail = `${R}/hq/1/open-1/intruder-9/availability`;
      const moved = `${R}/hq/9/elsewhere/ws-1-01/reading`;
      const leaked = new Promise<string[]>((resolve) => {
        const seen: string[] = [];
        const on = (t: string): void => void (t.includes("intruder-9") || t === moved ? seen.push(t) : undefined);
        watcher.on("message", on);
        setTimeout(() => (watcher.off("message", on), resolve(seen)), 1500);
      });
      if (kind === "aedes") {
        // Refused like every other ACL refusal on aedes: the publisher's connection is closed, nothing forwarded.
        for (const [topic, retain] of [
          [intruder, false],
          [intruderAvail, true],
          [moved, false],
        ] as const) {
          const c = td.add(await connect(url, { username: "collector", password: USERS.collector }), (x) => x.endAsync(true));
          const closed = new Promise<void>((resolve) => c.once("close", () => resolve()));
          c.publish(topic, '{"online":false,"reason":"spoofed"}', { qos: 1, retain });
          await closed;
        }
      } else {
        // Mosquitto (MQTT 3.1.1) acknowledges and drops a denied publish.
        await collector.publishAsync(intruder, '{"device":"intruder-9"}', { qos: 1 });
        await collector.publishAsync(intruderAvail, '{"online":false,"reason":"spoofed"}', { qos: 1, retain: true });
        await collector.publishAsync(moved, '{"device":"ws-1-01"}', { qos: 1 });
      }
      assert.deepEqual(await leaked, [], "an unregistered device's message reached a subscriber");
      // Nothing retained: a fresh subscriber gets no availability for the unregistered id.
      const fresh = td.add(await connect(url, { username: "runtime", password: USERS.runtime }), (c) => c.endAsync(true));
      const retained = next(fresh, intruderAvail, 800);
      await fresh.subscribeAsync(intruderAvail, { qos: 1 });
      assert.equal(await retained, undefined, "the spoofed availability was retained");
      if (kind === "aedes") {
        assert.equal(refusedPublishes() - before, 3);
        const coded = refusals.filter((r) => r.what === "publish").slice(-3);
        assert.deepEqual(
          coded.map((r) => r.code),
          ["UNKNOWN_DEVICE", "UNKNOWN_DEVICE", undefined],
        );
        assert.match(
          nth(coded, 0).detail,
          /collector \(collector\) may not publish to plugwatch\/hq\/1\/open-1\/intruder-9\/reading: device 'intruder-9' is not in the broker's registry/,
        );
        assert.match(nth(coded, 2).detail, /not the registered location of device 'ws-1-01'/);
      }
      // The refusals leave the registered path working (on aedes through a fresh connection).
      const again = kind === "aedes" ? td.add(await connect(url, { username: "collector", password: USERS.collector }), (c) => c.endAsync(true)) : collector;
      const ok = next(watcher, `${R}/hq/1/open-1/ws-1-01/availability`, 5000);
      await again.publishAsync(`${R}/hq/1/open-1/ws-1-01/availability`, '{"online":true}', { qos: 1 });
      assert.equal(await ok, '{"online":true}');
    });

    it("a publish over 256 KiB is refused and the connection closed; the broker keeps serving", async function () {
      const big = td.add(await connect(url, { username: "runtime", password: USERS.runtime }), (c) => c.endAsync(true));
      const closed = new Promise<void>((resolve) => big.once("close", () => resolve()));
      const watcher = td.add(await connect(url, { username: "runtime", password: USERS.runtime }), (c) => c.endAsync(true));
      await watcher.subscribeAsync(READING, { qos: 1 });
      const delivered = next(watcher, READING, 1500);
      big.publish(READING, Buffer.alloc(5 * 1024 * 1024, 1), { qos: 0 });
      await closed;
      assert.equal(await delivered, undefined, "the oversized message was delivered");
      if (kind === "aedes") assert.equal(refusedPackets(), 1);
      const got = next(watcher, READING, 5000);
      await watcher.publishAsync(READING, "small", { qos: 1 });
      assert.equal(await got, "small");
    });
  });
}
