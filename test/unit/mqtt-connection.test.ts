// MqttConnection against a real Mosquitto and the embedded aedes broker: status, dispatch by ref, PUBACK, outages, bad input.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import type { MqttClient } from "mqtt";
import { startEmbeddedBroker } from "../../lib/broker/embedded";
import { hashPassword } from "../../lib/broker/passwd";
import { PlugwatchError } from "../../lib/contracts/errors";
import { MqttConnection, NotConnectedError, USER_STATUS, type MqttConnectionOptions, type MqttUser, type UserStatus } from "../../lib/mqtt/connection";
import { startAedes, startMosquitto, type MosquittoInstance } from "../../scripts/harness/mosquitto";
import { freePort } from "../../scripts/harness/ports";
import { connectClient, nextMessage, Teardown, uniqueRoot } from "../../scripts/harness/services";
import { FakeTime } from "../support/fake-time";
import { selfSignedCert, tlsMosquitto } from "../support/self-signed";
import { waitFor } from "../support/node-helper";

/** The embedded broker's topic root: its `runtime` identity may read and write `{R}/api/reply/#`. */
const R = "pwmq";
const USER = "runtime";
const PASSWORD = "runtime-pass-0123456789";

interface TestBroker {
  port: number;
  protocolVersion: 4 | 5;
  /** Options an outside client needs (the embedded broker's runtime identity). */
  auth: { username?: string; password?: string };
  /** Stops the broker and starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function mosquitto(protocolVersion: 4 | 5): Promise<TestBroker> {
  let m = await startMosquitto();
  const port = m.port;
  return {
    port,
    protocolVersion,
    auth: {},
    restart: async () => {
      await m.stop();
      m = await startMosquitto({ port });
    },
    stop: () => m.stop(),
  };
}

const BROKERS: Record<string, () => Promise<TestBroker>> = {
  "mosquitto (MQTT 3.1.1)": () => mosquitto(4),
  "mosquitto (MQTT 5)": () => mosquitto(5),
  "embedded aedes (MQTT 3.1.1)": async () => {
    const port = await freePort();
    const options = { port, hosts: ["127.0.0.1"], root: R, users: new Map([[USER, hashPassword(PASSWORD, 1000)]]) };
    let b = await startEmbeddedBroker(options);
    return {
      port,
      protocolVersion: 4,
      auth: { username: USER, password: PASSWORD },
      restart: async () => {
        await b.close();
        b = await startEmbeddedBroker(options);
      },
      stop: () => b.close(),
    };
  },
};

/** A user that records the statuses it is told. */
function user(id: string): MqttUser & { seen: UserStatus[] } {
  const seen: UserStatus[] = [];
  return { id, seen, status: (s) => seen.push(s) };
}

for (const [kind, start] of Object.entries(BROKERS)) {
  describe(`MqttConnection (lib/mqtt/connection) with ${kind}`, function () {
    this.timeout(30000);
    let broker: TestBroker;
    let td: Teardown;
    let base: string;
    let errors: string[];

    before(async function () {
      broker = await start();
    });
    after(async function () {
      await broker?.stop();
    });
    beforeEach(function () {
      td = new Teardown();
      base = `${R}/api/reply/${uniqueRoot("c")}`;
      errors = [];
    });
    afterEach(async function () {
      await td.run();
    });

    function connection(extra: Partial<MqttConnectionOptions> = {}): MqttConnection {
      const conn = new MqttConnection({
        host: "127.0.0.1",
        port: broker.port,
        clientId: `pwtest_${Math.random().toString(16).slice(2, 10)}`,
        protocolVersion: broker.protocolVersion,
        reconnectPeriodMs: 100,
        connectTimeoutMs: 5000,
        ...broker.auth,
        log: { info: () => undefined, error: (m) => errors.push(m) },
        ...extra,
      });
      return td.add(conn, (c) => c.close());
    }
    const outside = (): Promise<MqttClient> => connectClient(td, `mqtt://127.0.0.1:${broker.port}`, { ...broker.auth, protocolVersion: 4 });
    const publish = (conn: MqttConnection, topic: string, payload: string | Buffer, qos: 0 | 1 = 1): Promise<void> =>
      new Promise((resolve, reject) => conn.publish({ topic, payload, qos, retain: false }, (err) => (err ? reject(err) : resolve())));

    it("connects when the first user registers, tells users connected/disconnected, and ends with the last one", async function () {
      const conn = connection();
      const a = user("a");
      const b = user("b");
      assert.equal(conn.connected, false);
      conn.register(a);
      await waitFor("connected", () => conn.connected);
      conn.register(b);
      await waitFor("b told connected", () => b.seen.at(-1)?.text === USER_STATUS.connected.text);
      assert.deepEqual(a.seen.at(-1), USER_STATUS.connected);
      // a leaves: the connection stays for b.
      await new Promise<void>((resolve) => conn.deregister(a, resolve, true));
      assert.deepEqual(a.seen.at(-1), USER_STATUS.disconnected);
      assert.equal(conn.connected, true);
      // b, the last user, leaves with autoDisconnect: the client ends.
      await new Promise<void>((resolve) => conn.deregister(b, resolve, true));
      assert.equal(conn.connected, false);
      assert.deepEqual(b.seen.at(-1), USER_STATUS.disconnected);
      assert.deepEqual(errors, []);
    });

    it("dispatches each message to every ref whose filter matches; unsubscribing one ref keeps the other", async function () {
      const conn = connection();
      conn.register(user("u"));
      const got: Record<string, string[]> = { all: [], y: [], y2: [] };
      const reset = (): void => {
        for (const k of Object.keys(got)) got[k] = [];
      };
      const record = (name: string) => (topic: string, payload: Buffer) => got[name]!.push(`${topic.slice(base.length + 1)}=${payload.toString()}`);
      // Subscribed before the connection is up: made on connect.
      conn.subscribe(`${base}/#`, { qos: 1 }, record("all"), "ref-all");
      conn.subscribe(`${base}/+/y`, { qos: 1 }, record("y"), "ref-y");
      conn.subscribe(`${base}/+/y`, { qos: 0 }, record("y2"), "ref-y2");
      await waitFor("connected", () => conn.connected);
      const client = await outside();
      // The outside client's own echo marks when the broker has processed the SUBSCRIBEs before it.
      await client.subscribeAsync(`${base}/#`, { qos: 1 });
      await client.publishAsync(`${base}/x/y`, "1", { qos: 1 });
      await client.publishAsync(`${base}/x/z`, "2", { qos: 1 });
      // The broker keeps the order of one client's messages: once the marker is in, every copy before it is too.
      await client.publishAsync(`${base}/marker`, "m1", { qos: 1 });
      await waitFor("marker 1", () => got.all!.includes("marker=m1"));
      // Exactly once each, also with MQTT 5, where Mosquitto sends one copy per matching subscription.
      assert.deepEqual(got, { all: ["x/y=1", "x/z=2", "marker=m1"], y: ["x/y=1"], y2: ["x/y=1"] });

      conn.unsubscribe(`${base}/+/y`, "ref-y");
      reset();
      await client.publishAsync(`${base}/q/y`, "3", { qos: 1 });
      await client.publishAsync(`${base}/marker`, "m2", { qos: 1 });
      await waitFor("marker 2", () => got.all.includes("marker=m2"));
      assert.deepEqual(got, { all: ["q/y=3", "marker=m2"], y: [], y2: ["q/y=3"] });

      // The last ref of a filter gone: the broker subscription goes too, ref-all still gets its messages.
      conn.unsubscribe(`${base}/+/y`, "ref-y2");
      reset();
      await client.publishAsync(`${base}/r/y`, "4", { qos: 1 });
      await client.publishAsync(`${base}/marker`, "m3", { qos: 1 });
      await waitFor("marker 3", () => got.all.includes("marker=m3"));
      assert.deepEqual(got, { all: ["r/y=4", "marker=m3"], y: [], y2: [] });
      assert.deepEqual(errors, []);
    });

    it("resolves a QoS 1 publish on PUBACK and the message reaches another client with its payload", async function () {
      const conn = connection();
      conn.register(user("u"));
      await waitFor("connected", () => conn.connected);
      const client = await outside();
      await client.subscribeAsync(`${base}/out`, { qos: 1 });
      const arrived = nextMessage(client, `${base}/out`);
      await publish(conn, `${base}/out`, Buffer.from([0, 1, 2, 255]));
      assert.deepEqual((await arrived).payload, Buffer.from([0, 1, 2, 255]));
      const text = nextMessage(client, `${base}/out`);
      await publish(conn, `${base}/out`, '{"v":1}', 0);
      assert.equal((await text).payload.toString(), '{"v":1}');
    });

    it("fails a publish at once while not connected, and reconnects and subscribes again after the broker restarts", async function () {
      const conn = connection();
      const u = user("u");
      // Never registered: not connected, the callback runs before publish returns.
      let early: Error | undefined;
      conn.publish({ topic: `${base}/x`, payload: "p", qos: 1, retain: false }, (err) => (early = err));
      assert.ok(early instanceof NotConnectedError, String(early));
      assert.match(early.message, new RegExp(`not connected to the MQTT broker mqtt://127.0.0.1:${broker.port}`));

      const got: string[] = [];
      conn.subscribe(`${base}/again/+`, { qos: 1 }, (topic, payload) => got.push(`${topic.slice(base.length + 1)}=${payload.toString()}`), "ref");
      conn.register(u);
      await waitFor("connected", () => conn.connected);
      const restarted = broker.restart();
      await waitFor("disconnected", () => !conn.connected);
      assert.deepEqual(u.seen.at(-1)?.fill === "red" || u.seen.at(-1)?.fill === "yellow", true);
      let down: Error | undefined;
      conn.publish({ topic: `${base}/x`, payload: "p", qos: 1, retain: false }, (err) => (down = err));
      assert.ok(down instanceof NotConnectedError, String(down));
      await restarted;
      await waitFor("reconnected", () => conn.connected, 15000);
      assert.deepEqual(u.seen.at(-1), USER_STATUS.connected);
      assert.ok(
        u.seen.some((s) => s.text === USER_STATUS.disconnected.text),
        JSON.stringify(u.seen),
      );
      // The subscription was made again on the new session: a message from outside arrives.
      const client = await outside();
      await waitFor(
        "message after the restart",
        async () => {
          await client.publishAsync(`${base}/again/1`, "back", { qos: 1 });
          return got.length > 0;
        },
        10000,
      );
      assert.equal(got[0], "again/1=back");
    });

    it("refuses bad input with INVALID_REQUEST errors, never a crash", async function () {
      const conn = connection();
      conn.register(user("u"));
      await waitFor("connected", () => conn.connected);
      const invalid = (re: RegExp) => (err: unknown) => err instanceof PlugwatchError && err.code === "INVALID_REQUEST" && re.test(err.message);
      const publishError = (msg: unknown): Promise<Error | undefined> => new Promise((resolve) => conn.publish(msg as never, (err) => resolve(err)));
      assert.ok(invalid(/must not contain the wildcards/)(await publishError({ topic: `${base}/+`, payload: "x", qos: 1 })));
      assert.ok(invalid(/publish topic must be a string/)(await publishError({ topic: 7, payload: "x", qos: 1 })));
      assert.ok(invalid(/must be a string or a Buffer \(got object\)/)(await publishError({ topic: `${base}/a`, payload: { a: 1 }, qos: 1 })));
      assert.ok(invalid(/QoS must be 0, 1 or 2/)(await publishError({ topic: `${base}/a`, payload: "x", qos: 3 })));
      assert.ok(invalid(/message object/)(await publishError(null)));
      assert.throws(() => conn.subscribe(`${base}/#/x`, { qos: 1 }, () => undefined, "r"), invalid(/'#' must be the last level/));
      assert.throws(() => conn.subscribe(5 as never, { qos: 1 }, () => undefined, "r"), invalid(/topic filter must be a string/));
      assert.throws(() => conn.subscribe(`${base}/x`, { qos: 1 }, "nope" as never, "r"), invalid(/callback function/));
      // Without a done callback the error goes to the log.
      conn.publish({ topic: `${base}/#`, payload: "x", qos: 0 });
      assert.match(errors.join("\n"), /publish failed: publish topic .* must not contain the wildcards/);
      // A throwing handler is logged; the connection and the other handlers go on.
      const got: string[] = [];
      conn.subscribe(
        `${base}/h`,
        { qos: 1 },
        () => {
          throw new Error("handler broke");
        },
        "bad",
      );
      conn.subscribe(`${base}/h`, { qos: 1 }, (_t, p) => got.push(p.toString()), "good");
      await publish(conn, `${base}/h`, "ok");
      await waitFor("good handler", () => got.includes("ok"));
      assert.match(errors.join("\n"), /handler of '.*\/h' failed: handler broke/);
      assert.equal(conn.connected, true);
    });
  });
}

describe("MqttConnection (lib/mqtt/connection) without a broker", function () {
  this.timeout(15000);

  for (const tls of [false, true]) {
    it(`logs ECONNREFUSED${tls ? " over TLS" : ""} through its error callback and keeps retrying, no uncaught exception`, async function () {
      const port = await freePort();
      const errors: string[] = [];
      const conn = new MqttConnection({
        host: "127.0.0.1",
        port,
        clientId: "pwtest_refused",
        reconnectPeriodMs: 50,
        ...(tls ? { tls: { rejectUnauthorized: true } } : {}),
        log: { info: () => undefined, error: (m) => errors.push(m) },
      });
      const u = user("u");
      try {
        conn.register(u);
        await waitFor("two refused attempts", () => errors.filter((e) => e.includes("ECONNREFUSED")).length >= 2);
        assert.match(errors[0]!, new RegExp(`^mqtts?://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`));
        assert.equal(conn.connected, false);
        assert.deepEqual(u.seen[0], USER_STATUS.connecting);
      } finally {
        await conn.close();
      }
    });
  }
});

describe("MqttConnection (lib/mqtt/connection) over TLS with Mosquitto", function () {
  this.timeout(30000);
  let dir: string;
  let m: MosquittoInstance;
  let tlsPort: number;
  const td = new Teardown();

  before(async function () {
    ({ dir } = selfSignedCert("pw-mqtls-"));
    ({ mosquitto: m, tlsPort } = await tlsMosquitto(dir));
  });
  after(async function () {
    await td.run();
    await m?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = (ca: Buffer, errors: string[]): MqttConnection =>
    td.add(
      new MqttConnection({
        host: "127.0.0.1",
        port: tlsPort,
        tls: { ca, servername: "localhost" },
        clientId: `pwtest_tls_${Math.random().toString(16).slice(2, 8)}`,
        reconnectPeriodMs: 100,
        log: { info: () => undefined, error: (e) => errors.push(e) },
      }),
      (c) => c.close(),
    );

  it("connects with the broker's CA, subscribes and publishes (QoS 1) over TLS", async function () {
    const errors: string[] = [];
    const conn = connect(readFileSync(path.join(dir, "cert.pem")), errors);
    const got: string[] = [];
    conn.subscribe("pwtls/+", { qos: 1 }, (topic, payload) => got.push(`${topic}=${payload.toString()}`), "r");
    conn.register(user("u"));
    await waitFor("connected over TLS", () => conn.connected);
    await new Promise<void>((resolve, reject) => conn.publish({ topic: "pwtls/a", payload: "secret", qos: 1 }, (err) => (err ? reject(err) : resolve())));
    await waitFor("own message back", () => got.length > 0);
    assert.deepEqual(got, ["pwtls/a=secret"]);
    assert.deepEqual(errors, []);
    assert.equal(conn.where, `mqtts://127.0.0.1:${tlsPort}`);
  });

  it("refuses a server certificate its CA list does not vouch for, logs it, and stays disconnected", async function () {
    const errors: string[] = [];
    // Any other self-signed certificate: the broker's is not signed by it.
    const other = execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/dev/null", "-days", "1", "-subj", "/CN=other"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const conn = connect(other, errors);
    conn.register(user("u"));
    await waitFor("certificate error logged", () => errors.length > 0);
    assert.match(errors[0]!, /self[- ]signed certificate|unable to verify/i);
    assert.equal(conn.connected, false);
  });
});

describe("MqttConnection (lib/mqtt/connection) close with a publish still unacknowledged", function () {
  this.timeout(15000);

  it("waits endTimeoutMs for the PUBACK, then ends: the publish fails, close resolves", async function () {
    // A broker that never authorizes the publish, so its PUBACK never comes.
    const b = await startAedes({ options: { authorizePublish: () => undefined } });
    const fake = new FakeTime();
    const conn = new MqttConnection({ host: "127.0.0.1", port: b.port, clientId: "pwtest_inflight", endTimeoutMs: 2000, timers: fake.asClock });
    try {
      conn.register(user("u"));
      await waitFor("connected", () => conn.connected);
      const outcome: { done: boolean; err?: Error | undefined } = { done: false };
      conn.publish({ topic: "pw/x", payload: "p", qos: 1 }, (err) => Object.assign(outcome, { done: true, err }));
      let closed = false;
      const closing = conn.close().then(() => (closed = true));
      await fake.advance(1999);
      assert.equal(outcome.done, false);
      assert.equal(closed, false);
      await fake.advance(1);
      await closing;
      assert.equal(outcome.done, true);
      assert.equal(outcome.err?.message, `connection to mqtt://127.0.0.1:${b.port} closed before the broker acknowledged the publish`);
      assert.equal(conn.connected, false);
    } finally {
      await conn.close();
      await b.stop();
    }
  });
});
