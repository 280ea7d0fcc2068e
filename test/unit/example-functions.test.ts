// The function nodes of examples/iotitan-processors.json, examples/octopus-portal.json and examples/ecodevices-teleinfo.json,
// run from the example files in a Node-RED-like sandbox with a fake clock: window stats, the ThingSpeak bridge's queue,
// rate limit and retries, log rotation, the Octopus live view, and the teleinfo mapping feeding the
// alert engine with the example's own rules.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import { AlertEngine } from "../../lib/alerts/engine";
import { parseRules } from "../../lib/alerts/rules";
import { GenericReading } from "../../lib/contracts/reading";
import { validate } from "../../lib/contracts/validate";
import { repoRoot } from "../../scripts/harness/nodered";
import { nth } from "../support/checked";

interface FunctionNode {
  id: string;
  type: string;
  func: string;
  initialize: string;
}

function functionNode(file: string, id: string): FunctionNode {
  const flow = JSON.parse(readFileSync(path.join(repoRoot(), "examples", file), "utf8")) as FunctionNode[];
  const node = flow.find((n) => n.id === id);
  if (!node || node.type !== "function") throw new Error(`${file}: no function node ${id}`);
  return node;
}

type Msg = Record<string, unknown>;

/** Objects made inside the sandbox have its realm's prototypes; a JSON copy makes them comparable with deepStrictEqual. */
const plain = <T>(v: T): T => (v === undefined || v === null ? v : (JSON.parse(JSON.stringify(v)) as T));

/**
 * What a function node sees in Node-RED (node, context, flow, env, Buffer, timers, Date), with a clock the test
 * moves: `advance(ms)` fires the intervals that fall due, in time order.
 */
class Sandbox {
  now = Date.UTC(2026, 0, 5, 9, 0, 0);
  readonly sent: unknown[] = [];
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  readonly statuses: { fill?: string; text?: string }[] = [];
  readonly contextStore = new Map<string, unknown>();
  readonly flowStore = new Map<string, unknown>();
  private intervals: { fn: () => void; ms: number; next: number }[] = [];
  private readonly ctx: vm.Context;

  /** `saved`: node context left by an earlier run (context stores are not told apart here). */
  constructor(
    private readonly fn: FunctionNode,
    env: Record<string, string> = {},
    saved: Record<string, unknown> = {},
  ) {
    for (const [k, v] of Object.entries(saved)) this.contextStore.set(k, v);
    const fakeNow = () => this.now;
    class FakeDate extends Date {
      constructor(...args: unknown[]) {
        if (args.length === 0) super(fakeNow());
        else super(...(args as [number]));
      }
      static override now(): number {
        return fakeNow();
      }
    }
    this.ctx = vm.createContext({
      node: {
        send: (m: unknown) => this.sent.push(plain(m)),
        error: (e: unknown) => this.errors.push(String(e)),
        warn: (w: unknown) => this.warnings.push(String(w)),
        status: (s: { fill?: string; text?: string }) => this.statuses.push(s),
        log: () => undefined,
      },
      context: { get: (k: string) => this.contextStore.get(k), set: (k: string, v: unknown) => void this.contextStore.set(k, v) },
      flow: { get: (k: string) => this.flowStore.get(k), set: (k: string, v: unknown) => void this.flowStore.set(k, v) },
      env: { get: (k: string) => env[k] },
      Buffer,
      Date: FakeDate,
      setInterval: (f: () => void, ms: number) => this.intervals.push({ fn: f, ms, next: this.now + ms }),
      console,
    });
    if (fn.initialize) vm.runInContext(`(async function () {\n${fn.initialize}\n})()`, this.ctx);
  }

  get timers(): number {
    return this.intervals.length;
  }

  input(msg: Msg): unknown {
    this.ctx.__msg = msg;
    return plain(vm.runInContext(`(function (msg) {\n${this.fn.func}\n})(__msg)`, this.ctx) as unknown);
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = this.intervals.filter((t) => t.next <= until).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.now = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.now = until;
  }

  take(): unknown[] {
    return this.sent.splice(0);
  }
}

const plug = (device: string, power: number, voltage = 230) => ({ v: 1, device, ts: 1, power, voltage, current: power / voltage, energy: 12.5, relay: true });

describe("example function nodes", function () {
  describe("IoTitan windowed stats", function () {
    const fn = functionNode("iotitan-processors.json", "iotitan-stats");

    it("emits min/max/mean/count per device and field at the end of each window, then starts over", function () {
      const box = new Sandbox(fn, { IOTITAN_STATS_WINDOW_S: "10" });
      assert.equal(box.timers, 1);
      const start = box.now;
      for (const p of [10, 30, 20]) box.input({ topic: "plugwatch/hq/1/open-1/ws-a/reading", payload: plug("ws-a", p) });
      box.input({
        topic: "site/plugwatch/lab/0/bench/th-1/reading",
        payload: { v: 1, device: "th-1", ts: 1, measurement: "climate", fields: { temperature: 20.5, on: true } },
      });
      box.input({ topic: "site/plugwatch/lab/0/bench/th-1/reading", payload: { v: 1, device: "th-1", ts: 2, fields: { temperature: 21.5 } } });
      box.advance(9999);
      assert.deepEqual(box.take(), [], "nothing before the window ends");
      box.advance(1);
      const batch = nth(box.take() as Msg[][][], 0, "sent batch");
      const byTopic = new Map(
        nth(batch, 0, "output 1 messages").map((m) => [
          m.topic as string,
          m.payload as { fields: Record<string, number>; tags: Record<string, string>; ts: number },
        ]),
      );
      assert.deepEqual([...byTopic.keys()].sort(), [
        "plugwatch/stats/ws-a/current",
        "plugwatch/stats/ws-a/power",
        "plugwatch/stats/ws-a/voltage",
        "site/plugwatch/stats/th-1/temperature",
      ]);
      assert.deepEqual(byTopic.get("plugwatch/stats/ws-a/power"), {
        v: 1,
        device: "ws-a",
        ts: start + 10000,
        measurement: "stats",
        fields: { min: 10, max: 30, mean: 20, count: 3 },
        tags: { field: "power", window: "10s", building: "hq", floor: "1", room: "open-1" },
      });
      assert.deepEqual(byTopic.get("site/plugwatch/stats/th-1/temperature")!.fields, { min: 20.5, max: 21.5, mean: 21, count: 2 });
      assert.deepEqual(byTopic.get("site/plugwatch/stats/th-1/temperature")!.tags, {
        field: "temperature",
        window: "10s",
        building: "lab",
        floor: "0",
        room: "bench",
      });

      box.advance(10000);
      assert.deepEqual(box.take(), [], "an empty window sends nothing");
      box.input({ topic: "plugwatch/hq/1/open-1/ws-a/reading", payload: plug("ws-a", 5) });
      box.advance(10000);
      const next = nth(box.take() as Msg[][][], 0, "sent batch");
      assert.deepEqual((nth(next, 0, "output 1 messages").find((m) => m.topic === "plugwatch/stats/ws-a/power")!.payload as { fields: unknown }).fields, {
        min: 5,
        max: 5,
        mean: 5,
        count: 1,
      });
    });

    it("takes the plug fields from IOTITAN_STATS_FIELDS and reports bad input to Catch nodes", function () {
      const box = new Sandbox(fn, { IOTITAN_STATS_WINDOW_S: "1", IOTITAN_STATS_FIELDS: "power" });
      assert.equal(box.input({ topic: "plugwatch/hq/1/r/ws-a/availability", payload: plug("ws-a", 1) }), null);
      box.input({ topic: "plugwatch/hq/1/r/ws-a/reading", payload: "not json" });
      box.input({ topic: "plugwatch/hq/1/r/Bad Id/reading", payload: plug("Bad Id", 1) });
      box.input({ topic: "plugwatch/hq/1/r/ws-a/reading", payload: { v: 1, device: "ws-a", ts: 1, fields: { label: "x" } } });
      assert.equal(box.errors.length, 4);
      assert.match(nth(box.errors, 0), /not a reading/);
      assert.match(nth(box.errors, 3), /no numeric field/);
      box.input({ topic: "plugwatch/hq/1/r/ws-a/reading", payload: plug("ws-a", 7) });
      box.advance(1000);
      const batch = nth(box.take() as Msg[][][], 0, "sent batch");
      assert.deepEqual(
        nth(batch, 0, "output 1 messages").map((m) => m.topic),
        ["plugwatch/stats/ws-a/power"],
      );
    });

    it("resumes the open window after a restart", function () {
      const first = new Sandbox(fn, { IOTITAN_STATS_WINDOW_S: "10" });
      first.input({ topic: "plugwatch/hq/1/r/ws-a/reading", payload: plug("ws-a", 4) });
      const second = new Sandbox(fn, { IOTITAN_STATS_WINDOW_S: "10", IOTITAN_STATS_FIELDS: "power" }, plain(Object.fromEntries(first.contextStore)));
      second.input({ topic: "plugwatch/hq/1/r/ws-a/reading", payload: plug("ws-a", 6) });
      second.advance(10000);
      const batch = nth(second.take() as Msg[][][], 0, "sent batch");
      const power = nth(batch, 0, "output 1 messages").find((m) => m.topic === "plugwatch/stats/ws-a/power")!.payload as { fields: unknown };
      assert.deepEqual(power.fields, { min: 4, max: 6, mean: 5, count: 2 });
    });

    it("refuses a bad window length without starting a timer", function () {
      const box = new Sandbox(fn, { IOTITAN_STATS_WINDOW_S: "0" });
      assert.equal(box.timers, 0);
      assert.match(nth(box.errors, 0), /IOTITAN_STATS_WINDOW_S must be/);
      assert.equal(box.statuses.at(-1)?.fill, "red");
    });
  });

  describe("IoTitan ThingSpeak bridge", function () {
    const fn = functionNode("iotitan-processors.json", "iotitan-bridge");
    const env = {
      THINGSPEAK_URL: "http://cloud.test/",
      THINGSPEAK_API_KEY: "KEY",
      THINGSPEAK_FIELDS: "ws-a/power,ws-b/power",
      THINGSPEAK_MIN_INTERVAL_S: "15",
      THINGSPEAK_RETRY_S: "5",
    };
    const stats = (device: string, ts: number, mean: number, field = "power") => ({
      topic: `plugwatch/stats/${device}/${field}`,
      payload: { v: 1, device, ts, measurement: "stats", fields: { min: mean, max: mean, mean, count: 1 }, tags: { field, window: "60s" } },
    });
    const answer = (request: Msg, statusCode: number | string, payload: string) => ({ ...request, statusCode, payload });

    it("sends one entry per window with a field per sensor, waits for the entry id, and keeps the minimum interval", function () {
      const box = new Sandbox(fn, env);
      const t1 = box.now - 60000;
      box.input(stats("ws-a", t1, 1.5));
      box.input(stats("ws-b", t1, 2.25));
      box.input(stats("ws-c", t1, 9)); // not forwarded
      box.input(stats("ws-a", t1, 7, "voltage")); // not forwarded
      box.advance(100);
      const first = nth(box.take() as Msg[], 0, "request");
      assert.deepEqual(
        { url: first.url, method: first.method, headers: first.headers, payload: first.payload },
        {
          url: "http://cloud.test/update",
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          payload: { api_key: "KEY", created_at: new Date(t1).toISOString(), field1: "1.5", field2: "2.25" },
        },
      );
      const t2 = t1 + 60000;
      box.input(stats("ws-a", t2, 3));
      box.input(stats("ws-b", t2, 4));
      box.advance(5000);
      assert.deepEqual(box.take(), [], "one request at a time");
      box.input(answer(first, 200, "41"));
      box.advance(14800);
      assert.deepEqual(box.take(), [], "not before the minimum interval");
      box.advance(200);
      const second = nth(box.take() as Msg[], 0, "request");
      assert.deepEqual(second.payload, { api_key: "KEY", created_at: new Date(t2).toISOString(), field1: "3", field2: "4" });
      box.input(answer(second, 200, "42"));
      box.advance(60000);
      assert.deepEqual(box.take(), [], "queue empty");
      assert.match(box.statuses.at(-1)!.text!, /entry 42, 0 queued/);
    });

    it("keeps an entry while the cloud is unreachable or refuses it, retrying after THINGSPEAK_RETRY_S / the minimum interval", function () {
      const box = new Sandbox(fn, env);
      const t1 = box.now - 60000;
      box.input(stats("ws-a", t1, 1));
      box.input(stats("ws-b", t1, 2));
      box.advance(100);
      let req = nth(box.take() as Msg[], 0, "request");
      box.input(answer(req, "ECONNREFUSED", "RequestError: connect ECONNREFUSED"));
      assert.equal(box.statuses.at(-1)!.fill, "red");
      box.advance(4900);
      assert.deepEqual(box.take(), []);
      box.advance(200);
      req = nth(box.take() as Msg[], 0, "request");
      assert.equal((req.payload as Msg).created_at, new Date(t1).toISOString(), "the same entry again");
      box.input(answer(req, 200, "0")); // rate limited by the cloud
      box.advance(14900);
      assert.deepEqual(box.take(), []);
      box.advance(200);
      req = nth(box.take() as Msg[], 0, "request");
      assert.equal((req.payload as Msg).created_at, new Date(t1).toISOString());
      assert.deepEqual(box.errors, [], "connection errors are the http request node's to report");
      box.input(answer(req, 503, "busy"));
      box.advance(5100);
      req = nth(box.take() as Msg[], 0, "request");
      box.input(answer(req, 503, "busy"));
      assert.equal(box.errors.length, 1, "an HTTP error status is reported once while it repeats");
      assert.match(nth(box.errors, 0), /ThingSpeak answered HTTP 503 \(busy\); keeping 1 entries and retrying/);
      box.advance(5100);
      req = nth(box.take() as Msg[], 0, "request");
      box.input(answer(req, 200, "7"));
      assert.match(box.statuses.at(-1)!.text!, /entry 7, 0 queued/);
      box.input(answer(req, 200, "8")); // a duplicate answer changes nothing
      assert.match(box.statuses.at(-1)!.text!, /entry 7, 0 queued/);
    });

    it("sends a window after 500 ms without the missing sensors, bounds the queue and ignores late answers", function () {
      const box = new Sandbox(fn, { ...env, THINGSPEAK_MAX_QUEUE: "2" });
      const t = box.now - 60000;
      box.input(stats("ws-a", t, 1));
      box.advance(400);
      assert.deepEqual(box.take(), []);
      box.advance(200);
      const partial = nth(box.take() as Msg[], 0, "request");
      assert.deepEqual(partial.payload, { api_key: "KEY", created_at: new Date(t).toISOString(), field1: "1" });
      // The cloud never answers: after 30 s the request counts as lost and the entry goes again.
      box.input(stats("ws-a", t + 60000, 2));
      box.input(stats("ws-a", t + 120000, 3)); // queue full: the oldest (in flight) is dropped, with an error
      assert.match(box.errors.at(-1)!, /queue full \(2 entries\): dropped the entry of/);
      box.advance(30100);
      const next = nth(box.take() as Msg[], 0, "request");
      assert.equal((next.payload as Msg).field1, "2");
      box.input(answer(partial, 200, "99")); // answer to the request given up
      box.advance(1000);
      assert.deepEqual(box.take(), [], "a late answer does not release the entry in flight");
    });

    it("restores its queue after a restart and sends the entry that was in flight again", function () {
      const first = new Sandbox(fn, env);
      const t = first.now - 120000;
      first.input(stats("ws-a", t, 1));
      first.input(stats("ws-b", t, 2));
      first.input(stats("ws-a", t + 60000, 3));
      first.advance(600);
      assert.equal(first.take().length, 1, "the first entry is in flight when Node-RED stops");
      const saved = plain(Object.fromEntries(first.contextStore));
      const second = new Sandbox(fn, env, saved);
      second.advance(100);
      const again = nth(second.take() as Msg[], 0, "request");
      assert.deepEqual(again.payload, { api_key: "KEY", created_at: new Date(t).toISOString(), field1: "1", field2: "2" });
      second.input(answer(again, 200, "5"));
      second.advance(15000);
      const next = nth(second.take() as Msg[], 0, "request");
      assert.deepEqual(next.payload, { api_key: "KEY", created_at: new Date(t + 60000).toISOString(), field1: "3" });
    });

    it("stays idle without an API key and refuses a bad sensor list", function () {
      const idle = new Sandbox(fn, {});
      assert.equal(idle.timers, 0);
      assert.match(nth(idle.warnings, 0), /THINGSPEAK_API_KEY/);
      assert.equal(idle.input(stats("ws-a", 1, 1)), null);
      const bad = new Sandbox(fn, { THINGSPEAK_API_KEY: "K", THINGSPEAK_FIELDS: "ws-a" });
      assert.equal(bad.timers, 0);
      assert.match(nth(bad.errors, 0), /'ws-a' is not device\/field/);
      const slow = new Sandbox(fn, { THINGSPEAK_API_KEY: "K", THINGSPEAK_FIELDS: "a/power", THINGSPEAK_MIN_INTERVAL_S: "-1" });
      assert.match(nth(slow.errors, 0), /THINGSPEAK_MIN_INTERVAL_S must be a number/);
    });
  });

  describe("IoTitan logger", function () {
    const fn = functionNode("iotitan-processors.json", "iotitan-logger");

    it("writes one line per message and rotates segments by size, deleting all but the newest LOG_KEEP", function () {
      const box = new Sandbox(fn, { IOTITAN_LOG_DIR: "/var/log/pw/", IOTITAN_LOG_MAX_BYTES: "300", IOTITAN_LOG_KEEP: "2" });
      const files: string[] = [];
      const deleted: string[] = [];
      for (let i = 0; i < 12; i++) {
        const out = box.input({
          topic: `plugwatch/hq/1/r/d${i}/reading`,
          payload: i % 2 ? Buffer.from(`{"i":${i},"pad":"${"x".repeat(40)}"}`) : `line\n${i}`,
        }) as [Msg, Msg[] | null];
        const write = out[0];
        assert.equal(
          write.payload,
          `${new Date(box.now).toISOString()} plugwatch/hq/1/r/d${i}/reading ${i % 2 ? `{"i":${i},"pad":"${"x".repeat(40)}"}` : `line\\n${i}`}`,
        );
        if (!files.includes(write.filename as string)) files.push(write.filename as string);
        for (const d of out[1] ?? []) {
          deleted.push(d.filename as string);
          assert.equal(box.input({ ...d }), null, "the delete node hands the message back: confirmed");
        }
        box.advance(1);
      }
      for (const f of files) assert.match(f, /^\/var\/log\/pw\/plugwatch-\d{8}T\d{9}Z-\d{6}\.log$/);
      assert.ok(files.length >= 3, `${files.length} segments`);
      assert.deepEqual(deleted, files.slice(0, files.length - 2), "all but the two newest deleted, oldest first");
      assert.deepEqual([...files].sort(), files, "names sort in time order");
    });

    it("counts a segment's size in UTF-8 bytes, newline included", function () {
      const box = new Sandbox(fn, { IOTITAN_LOG_DIR: "/l" });
      const out = box.input({ topic: "plugwatch/é", payload: "€ 😀 ok" }) as [Msg, null];
      assert.equal((box.contextStore.get("segment") as { bytes: number }).bytes, Buffer.byteLength(out[0].payload as string, "utf8") + 1);
    });

    it("sends a delete again until it is confirmed, e.g. when a stop cut it short", function () {
      const env = { IOTITAN_LOG_DIR: "/l", IOTITAN_LOG_MAX_BYTES: "256", IOTITAN_LOG_KEEP: "1" };
      const box = new Sandbox(fn, env);
      const write = (c: string) => box.input({ topic: "t", payload: c.repeat(150) }) as [Msg, Msg[] | null];
      const [first] = write("a");
      const [, d1] = write("b"); // rotation: delete the first segment (never confirmed)
      assert.deepEqual(d1, [{ filename: first.filename, logRotation: "delete" }]);
      const restarted = new Sandbox(fn, env, plain(Object.fromEntries(box.contextStore)));
      const [third, d2] = restarted.input({ topic: "t", payload: "c".repeat(150) }) as [Msg, Msg[]];
      assert.equal(d2.length, 2, "the unconfirmed delete goes again with the new one");
      assert.equal(nth(d2, 0).filename, first.filename);
      for (const d of d2) restarted.input({ ...d, error: { message: "ENOENT" } }); // a failed delete (caught) also settles it
      const [, d3] = restarted.input({ topic: "t", payload: "d".repeat(150) }) as [Msg, Msg[]];
      assert.deepEqual(
        d3.map((d) => d.filename),
        [third.filename],
      );
    });

    it("carries on rotating after a restart", function () {
      const env = { IOTITAN_LOG_DIR: "/l", IOTITAN_LOG_MAX_BYTES: "256", IOTITAN_LOG_KEEP: "1" };
      const first = new Sandbox(fn, env);
      const a = (first.input({ topic: "t", payload: "x".repeat(100) }) as [Msg, null])[0].filename;
      const second = new Sandbox(fn, env, plain(Object.fromEntries(first.contextStore)));
      assert.equal((second.input({ topic: "t", payload: "y".repeat(100) }) as [Msg, null])[0].filename, a, "same segment");
      const [write, deletes] = second.input({ topic: "t", payload: "z".repeat(100) }) as [Msg, Msg[]];
      assert.notEqual(write.filename, a);
      assert.deepEqual(deletes, [{ filename: a, logRotation: "delete" }], "the segment from before the restart is deleted in turn");
    });

    it("refuses bad settings per message", function () {
      const box = new Sandbox(fn, { IOTITAN_LOG_MAX_BYTES: "10" });
      assert.equal(box.input({ topic: "t", payload: "x" }), null);
      assert.match(nth(box.errors, 0), /IOTITAN_LOG_MAX_BYTES must be >= 256/);
    });
  });

  describe("Octopus live view", function () {
    const latest = functionNode("octopus-portal.json", "octopus-latest");
    const page = functionNode("octopus-portal.json", "octopus-page");

    it("keeps the newest value per attribute and serves it as JSON and HTML", function () {
      const store = new Sandbox(latest, {});
      const reading = (ts: number, fields: Record<string, number | boolean>) => ({
        topic: "plugwatch/acme/0/meeting-1/acme-sensor-1/reading",
        payload: { v: 1, device: "acme-sensor-1", ts, measurement: "octopus", fields, tags: { office: "acme" } },
      });
      // Each change goes to the live stream (plugwatch-sse) as the device's whole record, keyed by the device.
      assert.deepEqual(plain(store.input(reading(2000, { temperature: 22 }))), {
        topic: "acme-sensor-1",
        payload: { device: "acme-sensor-1", office: "acme", room: "meeting-1", ts: 2000, values: { temperature: { value: 22, ts: 2000 } } },
      });
      const second = plain(store.input(reading(1000, { temperature: 18, co2: 700 }))) as Msg; // older temperature: kept out
      assert.deepEqual((second.payload as Msg).values, { temperature: { value: 22, ts: 2000 }, co2: { value: 700, ts: 1000 } });
      assert.equal(store.input(reading(1500, { temperature: 19 })), null, "nothing newer: nothing pushed");
      const view = new Sandbox(page, {});
      for (const [k, v] of store.flowStore) view.flowStore.set(k, v);
      const json = view.input({ req: { path: "/octopus/latest.json" } }) as Msg;
      assert.deepEqual(json.payload, {
        devices: [
          {
            device: "acme-sensor-1",
            office: "acme",
            room: "meeting-1",
            ts: 2000,
            values: { temperature: { value: 22, ts: 2000 }, co2: { value: 700, ts: 1000 } },
          },
        ],
      });
      const html = view.input({ req: { path: "/octopus" } }) as Msg;
      assert.match(String((html.headers as Msg)["content-type"]), /text\/html/);
      assert.ok(String(html.payload).includes('data-device="acme-sensor-1" data-attribute="temperature">22<'));
      assert.ok(String(html.payload).includes('<span id="count">1</span> devices'));
      // Pushed, not polled: no refresh, an EventSource on the stream below the page's own path.
      assert.ok(!/http-equiv="refresh"/.test(String(html.payload)));
      assert.ok(String(html.payload).includes('const url = "/octopus/events";'));
      const under = view.input({ req: { path: "/octopus/", originalUrl: "/portal/octopus/?x=1" } }) as Msg;
      assert.ok(String(under.payload).includes('const url = "/portal/octopus/events";'), "under httpNodeRoot /portal, trailing slash");
      // A value cannot close the state's script element.
      view.flowStore.set("octopusLatest", { x: { device: "x", office: "</script><b>", room: "r", ts: 1, values: {} } });
      assert.ok(!String((view.input({ req: { path: "/octopus" } }) as Msg).payload).includes("</script><b>"));
    });
  });

  describe("ecodevices-teleinfo: teleinfo → readings (ecodev.map) → alert engine with the example's rules", function () {
    const env = {
      ECODEVICES_LOCATION: "hq/0/basement",
      ECODEVICES_MAX_FAILURES: "3",
      TELEINFO_T1_DEVICE: "teleinfo-main",
      ECODEVICES_COUNTERS_DEVICE: "ecodevices-counters",
      TOPIC_ROOT: "energy",
    };
    const answer = (papp: number) => ({
      statusCode: 200,
      payload: { product: "Eco-devices", T1_PTEC: "TH..", T1_PAPP: papp, T1_BASE: 12_345_678, T2_PTEC: "----", INDEX_C1: 287_000, INDEX_C2: 10 },
    });
    const exampleRules = () => {
      const flow = JSON.parse(readFileSync(path.join(repoRoot(), "examples", "ecodevices-teleinfo.json"), "utf8")) as { type: string; rules?: string }[];
      return parseRules(flow.find((n) => n.type === "plugwatch-alert")?.rules, "UTC");
    };

    it("has two outputs, readings and availability, with generic readings only (no plug-shaped alert view)", function () {
      const box = new Sandbox(functionNode("ecodevices-teleinfo.json", "ecodev.map"), env);
      const out = box.input(answer(1840)) as [{ topic: string; payload: unknown }[], { payload: { online: boolean } }[]];
      assert.equal(out.length, 2);
      const [readings, availability] = out;
      assert.deepEqual(
        readings.map((r) => r.topic),
        ["energy/hq/0/basement/teleinfo-main/reading", "energy/hq/0/basement/ecodevices-counters/reading"],
      );
      for (const r of readings) assert.ok(validate(GenericReading, r.payload).ok, JSON.stringify(r.payload));
      assert.deepEqual(
        availability.map((a) => a.payload.online),
        [true, true],
      );
      assert.deepEqual(box.errors, []);
    });

    it("the example's extreme-consumption rule raises on the published papp and clears below 6500 VA; counters are not evaluated", function () {
      let now = Date.UTC(2026, 0, 5, 9, 0, 0);
      const engine = new AlertEngine({ rules: exampleRules(), clock: () => now });
      const box = new Sandbox(functionNode("ecodevices-teleinfo.json", "ecodev.map"), env);
      const poll = (papp: number) => {
        now += 1000;
        box.now = now;
        const [readings] = box.input(answer(papp)) as [{ payload: unknown }[]];
        return readings.flatMap((r) => {
          const o = engine.onReading(r.payload);
          assert.ok(o.accepted);
          assert.deepEqual(o.warnings, []);
          return o.events.map((e) => `${e.state} ${e.id} ${e.value} ${e.message}`);
        });
      };
      assert.deepEqual(poll(1840), []);
      assert.deepEqual(poll(9200), ["raised extreme-consumption:teleinfo-main 9200 teleinfo-main papp 9200 VA above 7000 VA"]);
      assert.deepEqual(poll(6800), []);
      assert.deepEqual(poll(6500), ["cleared extreme-consumption:teleinfo-main 6500 teleinfo-main papp back to 6500 VA (limit 7000 VA)"]);
      assert.deepEqual(engine.activeAlerts(), []);
    });
  });
  describe("ISEMS collector API and log import (isems-solar.json)", function () {
    const format = functionNode("isems-solar.json", "isems.api-format");
    const query = functionNode("isems-solar.json", "isems.api-query");
    const importer = functionNode("isems-solar.json", "isems.reading");
    /** One InfluxDB answer (epoch=ms) with these rows, grouped by node id as the latest query does. */
    const influx = (rows: Record<string, unknown>[]) => ({
      statusCode: 200,
      isems: { latest: true },
      payload: {
        results: [
          {
            statement_id: 0,
            series: rows.map((r) => {
              const { node_id, ...rest } = r;
              return { name: "isems", tags: { node_id }, columns: Object.keys(rest), values: [Object.values(rest)] };
            }),
          },
        ],
      },
    });

    it("writes floats, strings and times as the collector's Flask app does", function () {
      const box = new Sandbox(format, {});
      // 2026-01-05 09:00 UTC is 10:00 in Berlin (CET); 2025-07-01 12:00:00.250 UTC is 14:00 CEST.
      const out = box.input(
        influx([
          {
            node_id: 'Nöde"1',
            time: Date.UTC(2026, 0, 5, 9),
            id: 7,
            battery_voltage: 1e-5,
            charge_state: 87,
            next_reboot: 1e16,
            latitude: 0.0001,
            longitude: -2.5,
            status_code: 0xfff,
            power_save: true,
          },
          { node_id: "a", time: Date.UTC(2025, 6, 1, 12, 0, 0, 250), id: 8, battery_voltage: 123.456, firmware: "FW" },
        ]),
      ) as { statusCode: number; payload: string };
      assert.equal(out.statusCode, 200);
      const [m1, m2] = (JSON.parse(out.payload) as { measurements: Record<string, unknown>[] }).measurements;
      assert.equal(m1?.nodeId, 'Nöde"1');
      assert.match(out.payload, /"nodeId":"N\\u00f6de\\"1"/);
      assert.match(out.payload, /"batteryVoltage":1e-05,"id":7,"isPowerSaveMode":true,/);
      assert.match(out.payload, /"batteryChargeEstimate":87\.0,/);
      assert.match(out.payload, /"timeToShutdown":1e\+16,"timestamp":"2026-01-05T10:00:00"/);
      assert.match(out.payload, /"latitude":0\.0001,"longitude":-2\.5,/);
      assert.equal(m1?.status, "0xfff");
      assert.equal(m2?.timestamp, "2025-07-01T14:00:00.250000");
      assert.equal(m2?.status, "0x000");
      assert.match(out.payload, /"batteryVoltage":123\.456,/);
      assert.ok(out.payload.endsWith("]}\n"));
    });

    it("writes HTTP dates with ISEMS_DATETIME=http and the wall clock of ISEMS_TIMEZONE", function () {
      const box = new Sandbox(format, { ISEMS_DATETIME: "http", ISEMS_TIMEZONE: "UTC" });
      const out = box.input(influx([{ node_id: "a", time: Date.UTC(2026, 0, 5, 9, 30, 5), id: 1 }])) as { payload: string };
      assert.match(out.payload, /"timestamp":"Mon, 05 Jan 2026 09:30:05 GMT"/);
      const bad = new Sandbox(format, { ISEMS_TIMEZONE: "Mars/Olympus" });
      assert.equal((bad.input(influx([])) as { statusCode: number }).statusCode, 500);
    });

    it("asks for nodes heard within HIDE_INACTIVE_AFTER_DAYS, or all, or one node's latest 1440", function () {
      const q = (env: Record<string, string>, req: Msg) => {
        const box = new Sandbox(query, { INFLUX_URL: "http://influx:8086/", INFLUX_DB: "solar", ...env });
        const out = box.input({ req }) as { url: string };
        return decodeURIComponent(new URL(out.url).searchParams.get("q") ?? "");
      };
      const now = Date.UTC(2026, 0, 5, 9);
      assert.equal(
        q({}, { params: {}, query: {} }),
        `SELECT * FROM "isems" WHERE time > ${now - 30 * 86400000}ms GROUP BY "node_id" ORDER BY time DESC LIMIT 1`,
      );
      assert.equal(
        q({ HIDE_INACTIVE_AFTER_DAYS: " 7 " }, { params: {}, query: {} }),
        `SELECT * FROM "isems" WHERE time > ${now - 7 * 86400000}ms GROUP BY "node_id" ORDER BY time DESC LIMIT 1`,
      );
      assert.match(q({ HIDE_INACTIVE_AFTER_DAYS: "7.5" }, { params: {}, query: {} }), new RegExp(`time > ${now - 30 * 86400000}ms`));
      assert.equal(q({}, { params: {}, query: { all: "true" } }), `SELECT * FROM "isems" GROUP BY "node_id" ORDER BY time DESC LIMIT 1`);
      assert.match(q({}, { params: {}, query: { all: "True" } }), /WHERE time/);
      assert.equal(q({}, { params: { node_id: "it's\\" }, query: {} }), `SELECT * FROM "isems" WHERE "node_id" = 'it\\'s\\\\' ORDER BY time DESC LIMIT 1440`);
    });

    it("imports only data sets not stored and not just imported, numbering them after the highest stored id", function () {
      const box = new Sandbox(importer, { ISEMS_LOCATION: "mesh/0/outdoor" });
      const set = (ts: number) => ({ nodeId: "Solar-9", revision: "1", ts, firmware: "", values: { charge_state: ts % 100 } });
      const answer = (storedTs: number[], maxId: number) => ({
        statusCode: 200,
        node: "http://n",
        datasets: [set(100), set(160), set(220)],
        payload: { results: [{ series: storedTs.length ? [{ values: storedTs.map((t, i) => [t, i + 1]) }] : [] }, { series: [{ values: [[0, maxId]] }] }] },
      });
      const [first] = box.input(answer([100], 41)) as Msg[][];
      assert.deepEqual(
        first?.map((m) => [(m.payload as GenericReading).ts, (m.payload as GenericReading).fields.id, m.topic]),
        [
          [160000, 42, "solar/mesh/0/outdoor/solar-9/reading"],
          [220000, 43, "solar/mesh/0/outdoor/solar-9/reading"],
        ],
      );
      assert.deepEqual((first?.[0]?.payload as GenericReading).tags, { source: "isems", node_id: "Solar-9", isems_revision: "1" });
      // The next poll's answer predates the write: the data sets just imported are not imported again.
      assert.deepEqual(box.input(answer([100], 41)), [[]]);
      // InfluxDB unreachable: nothing imported, an error for Catch nodes.
      assert.equal(box.input({ statusCode: "ECONNREFUSED", node: "http://n", datasets: [set(300)], payload: "" }), undefined);
      assert.equal(box.errors.length, 1);
    });
  });
});
