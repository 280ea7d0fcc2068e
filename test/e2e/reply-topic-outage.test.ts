// Regression (issue 14): a request whose replyTo is hostile must never be answered, and must leave the runtime connected and
// answering. Before the fix a `"replyTo":"$SYS/x"` made the agent publish there; aedes closed Node-RED's shared client,
// mqtt.js re-sent the reply on every reconnect, and the whole system stayed down. Real aedes and real Mosquitto over TCP,
// a real Node-RED runtime (API + control agent + query component), real influxd and simulated plugs.
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import { BASE, startApiStack, TOKENS, type ApiStack } from "../../scripts/harness/api-stack";
import type { AedesInstance } from "../../scripts/harness/mosquitto";
import { Teardown, type BrokerKind } from "../../scripts/harness/services";

type Json = Record<string, unknown>;

for (const kind of ["aedes", "mosquitto"] as BrokerKind[]) {
  describe(`hostile replyTo over ${kind}: never answered, the runtime stays connected and answering`, function () {
    this.timeout(90_000);
    const td = new Teardown();
    let s: ApiStack;
    /** Disconnections aedes saw during the test, per client id. */
    const dropped: string[] = [];

    before(async function () {
      s = await startApiStack(td, kind);
      if (kind === "aedes") {
        (s.broker as AedesInstance).broker.on("clientDisconnect", (c: { id: string }) => dropped.push(c.id));
      }
    });
    after(async function () {
      await td.run();
    });

    it("refuses $SYS/x, #, +/x, another device's topic, the alerts tree, 1000 levels and an empty string; still switches afterwards", async function () {
      const attacker: MqttClient = s.mqtt;
      const seen: { topic: string; payload: string }[] = [];
      attacker.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString() }));
      // Everything a misdirected reply could land on (aedes and Mosquitto deliver $SYS only to explicit $SYS filters).
      await attacker.subscribeAsync(["#", "$SYS/#"], { qos: 1 });
      const hostile = [
        "$SYS/x",
        "#",
        "+/x",
        `${s.root}/hq/1/open-1/ws-b/reading`,
        `${s.root}/alerts/ws-a/offline`,
        Array.from({ length: 1000 }, (_, i) => `l${i}`).join("/"),
        "",
      ];
      for (const [i, replyTo] of hostile.entries()) {
        await attacker.publishAsync(
          `${s.root}/api/request/command`,
          JSON.stringify({ v: 1, id: `evil-c-${i}`, replyTo, action: "off", target: { device: "pr-1" } }),
          { qos: 1 },
        );
        await attacker.publishAsync(`${s.root}/api/request/query`, JSON.stringify({ v: 1, id: `evil-q-${i}`, replyTo, query: { type: "latest", all: true } }), {
          qos: 1,
        });
      }
      // A well-addressed request after them is answered: the runtime's connection is alive. (Before the fix the
      // reply to $SYS/x got Node-RED kicked off aedes every ~5 s, so this timed out and the API answered 503/504.)
      const replyTo = `${s.root}/api/reply/tester/1`;
      await attacker.publishAsync(
        `${s.root}/api/request/command`,
        JSON.stringify({ v: 1, id: "good-1", replyTo, action: "status", target: { device: "ws-a" } }),
        { qos: 1 },
      );
      const deadline = Date.now() + 10_000;
      while (!seen.some((m) => m.topic === replyTo) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const good = seen.find((m) => m.topic === replyTo);
      assert.ok(good, `no reply to a valid request after the hostile ones (aedes dropped: ${dropped.join(", ") || "none"})`);
      assert.equal((JSON.parse(good.payload) as Json).ok, true);

      // The REST API (same shared MQTT client) still switches a plug and reads back.
      const r = await s.request<Json>("POST", `${BASE}/devices/ws-a/power`, { token: TOKENS.control, body: { state: "off" } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(s.office.plug("ws-a").relay, false);
      const health = await s.request<Json>("GET", `${BASE}/health`);
      assert.equal(health.status, 200, JSON.stringify(health.body));

      // No hostile request was answered or run: no reply with an evil id anywhere, pr-1 still on.
      assert.deepEqual(
        seen.filter((m) => m.payload.includes('"evil-') && !m.topic.includes("/api/request/")).map((m) => m.topic),
        [],
      );
      assert.equal(s.office.plug("pr-1").relay, true, "no hostile command was run");
      if (kind === "aedes") assert.deepEqual(dropped, [], "aedes closed no client");
    });
  });
}
