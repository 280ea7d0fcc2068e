// Read collapsing in the API service: identical data queries in flight share one MQTT request and one
// serialised body; distinct queries, later queries and commands are not collapsed; errors are shared.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createHttpHandler } from "../../lib/api/http";
import type { ApiResponse } from "../../lib/api/service";
import { buildRegistry } from "../../lib/registry";
import { SingleFlight } from "../../lib/single-flight";
import { testApiService } from "../support/api-service";
import { nth } from "../support/checked";

const registry = buildRegistry(
  {
    devices: [
      { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 9999, kind: "workplace", location: { building: "hq", floor: "1", room: "open" } },
      { id: "ws-2", name: "Desk 2", model: "HS110", host: "127.0.0.1", port: 9998, kind: "workplace", location: { building: "hq", floor: "1", room: "open" } },
    ],
  },
  "test",
);

/** The part of a range answer's body these tests read. */
interface RangeBody {
  series: { points: { power: number }[] }[];
}

/** The power of the first point of the first series of a range body. */
const firstPower = (body: RangeBody): number => nth(nth(body.series, 0, "first series").points, 0, "first point").power;

interface Sent {
  topic: string;
  msg: { id: string; replyTo: string; query?: { type: string; target?: { device?: string } }; action?: string };
}

function setup(timeoutMs = 10_000, now: () => number = () => Date.UTC(2026, 10, 25, 12)) {
  const sent: Sent[] = [];
  const service = testApiService({
    registry,
    broker: {
      connected: () => true,
      publish: (topic, payload) => {
        sent.push({ topic, msg: JSON.parse(payload) as Sent["msg"] });
        return Promise.resolve();
      },
    },
    timeoutMs,
    now,
  });
  const get = (path: string, search = ""): Promise<ApiResponse> =>
    service.handle({ method: "GET", path, search: new URLSearchParams(search), instance: `/api/v1${path}` });
  const answer = (s: Sent, device: string, power: number) =>
    service.onReply(Buffer.from(JSON.stringify({ v: 1, id: s.msg.id, ok: true, data: { type: "range", series: [{ device, points: [{ ts: 1, power }] }] } })));
  return { service, sent, get, answer };
}

/** Lets the service reach its publish (it awaits nothing before, but keep the tests independent of that). */
const tick = () => new Promise((r) => setImmediate(r));

const RANGE = "from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00Z&fields=power&aggregate=mean&interval=1m";

describe("api read collapsing", function () {
  it("identical range requests in flight publish one query and get the same body", async function () {
    const { sent, get, answer } = setup();
    const rs = [get("/devices/ws-1/measurements", RANGE), get("/devices/ws-1/measurements", RANGE), get("/devices/ws-1/measurements", RANGE)];
    await tick();
    assert.equal(sent.length, 1, "one MQTT request for three identical HTTP requests");
    assert.equal(answer(nth(sent, 0), "ws-1", 42), "delivered");
    const replies = await Promise.all(rs);
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { type: "range", series: [{ device: "ws-1", points: [{ ts: 1, power: 42 }] }] });
    }
    assert.equal(nth(replies, 0).body, nth(replies, 1).body, "the same data object, serialised once by the HTTP layer");
    const health = (await get("/health")).body as { api: { collapsed: number } };
    assert.equal(health.api.collapsed, 2);
  });

  it("relative times are compared as written: two '-24h'…'now' requests ms apart share one query", async function () {
    let t = Date.UTC(2026, 10, 25, 12);
    const { sent, get, answer } = setup(10_000, () => t);
    const a = get("/devices/ws-1/measurements", "from=-24h&fields=power&aggregate=mean&interval=1m");
    t += 7; // a few ms later: the absolute window differs, the request does not
    const b = get("/devices/ws-1/measurements", "aggregate=mean&interval=1m&fields=power&from=-24h");
    await tick();
    assert.equal(sent.length, 1);
    answer(nth(sent, 0), "ws-1", 1);
    assert.equal((await a).body, (await b).body);
    // An absolute window is another request, even when it is the same 24 h.
    const c = get(
      "/devices/ws-1/measurements",
      `from=${new Date(t - 86_400_000).toISOString()}&to=${new Date(t).toISOString()}&fields=power&aggregate=mean&interval=1m`,
    );
    await tick();
    assert.equal(sent.length, 2);
    answer(nth(sent, 1), "ws-1", 2);
    assert.equal((await c).status, 200);
  });

  it("the HTTP adapter serialises a shared body once for every request that got it", async function () {
    const { sent, service, answer } = setup();
    const handler = createHttpHandler(service);
    const stringify = JSON.stringify;
    let serialised = 0;
    JSON.stringify = function (this: unknown, ...args: Parameters<typeof JSON.stringify>) {
      const v = args[0] as { type?: string; series?: unknown } | null;
      if (v && typeof v === "object" && v.type === "range" && "series" in v) serialised++;
      return stringify.apply(JSON, args);
    } as typeof JSON.stringify;
    try {
      const bodies: string[] = [];
      const res = () => {
        const chunks: Buffer[] = [];
        const r = {
          headersSent: false,
          statusCode: 0,
          setHeader: () => undefined,
          end: (b?: Buffer) => void (b && chunks.push(b), bodies.push(Buffer.concat(chunks).toString())),
        };
        return r as unknown as ServerResponse;
      };
      const req = () =>
        Object.assign(new EventEmitter(), { method: "GET", url: `/devices/ws-1/measurements?${RANGE}`, headers: {} }) as unknown as IncomingMessage;
      const done = Promise.all([handler(req(), res()), handler(req(), res()), handler(req(), res())]);
      await tick();
      assert.equal(sent.length, 1);
      answer(nth(sent, 0), "ws-1", 9);
      await done;
      assert.equal(bodies.length, 3);
      assert.ok(bodies.every((b) => b === bodies[0] && firstPower(JSON.parse(b) as RangeBody) === 9));
      assert.equal(serialised, 1, "one JSON.stringify of the range data for three answers");
    } finally {
      JSON.stringify = stringify;
    }
  });

  it("different queries are not collapsed", async function () {
    const { sent, get, answer } = setup();
    const a = get("/devices/ws-1/measurements", RANGE);
    const b = get("/devices/ws-2/measurements", RANGE);
    const c = get("/devices/ws-1/measurements", RANGE.replace("interval=1m", "interval=5m"));
    await tick();
    assert.equal(sent.length, 3);
    answer(nth(sent, 0), "ws-1", 1);
    answer(nth(sent, 1), "ws-2", 2);
    answer(nth(sent, 2), "ws-1", 3);
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    assert.equal(firstPower(ra.body as RangeBody), 1);
    assert.equal(firstPower(rb.body as RangeBody), 2);
    assert.equal(firstPower(rc.body as RangeBody), 3);
  });

  it("nothing is cached: the same request after the reply asks again and gets the new answer", async function () {
    const { sent, get, answer } = setup();
    const first = get("/devices/ws-1/measurements", RANGE);
    await tick();
    answer(nth(sent, 0), "ws-1", 10);
    assert.equal(firstPower((await first).body as RangeBody), 10);
    const second = get("/devices/ws-1/measurements", RANGE);
    await tick();
    assert.equal(sent.length, 2, "a second MQTT request");
    answer(nth(sent, 1), "ws-1", 20);
    assert.equal(firstPower((await second).body as RangeBody), 20);
  });

  it("a timeout is shared by every collapsed request, then forgotten", async function () {
    const { sent, get, answer } = setup(50);
    const rs = await Promise.all([get("/devices/ws-1/measurements", RANGE), get("/devices/ws-1/measurements", RANGE)]);
    assert.deepEqual(
      rs.map((r) => r.status),
      [504, 504],
    );
    assert.equal(sent.length, 1);
    const again = get("/devices/ws-1/measurements", RANGE);
    await tick();
    assert.equal(sent.length, 2, "the failed flight is not reused");
    answer(nth(sent, 1), "ws-1", 5);
    assert.equal((await again).status, 200);
  });

  it("power commands are never collapsed", async function () {
    const { sent, service } = setup(50);
    const post = () =>
      service.handle({
        method: "POST",
        path: "/devices/ws-1/power",
        search: new URLSearchParams(),
        contentType: "application/json",
        body: Buffer.from('{"state":"toggle"}'),
        instance: "/api/v1/devices/ws-1/power",
      });
    const rs = Promise.all([post(), post()]);
    await tick();
    assert.equal(sent.length, 2, "two toggles are two commands");
    await rs;
  });
});

describe("single flight", function () {
  it("a call that throws synchronously rejects and leaves nothing pending", async function () {
    const f = new SingleFlight<number>();
    await assert.rejects(
      f.run("k", () => {
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(f.size, 0);
    assert.equal(await f.run("k", () => Promise.resolve(7)), 7);
  });
});
