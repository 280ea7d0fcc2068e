// InfluxQL building: whitelisted identifiers, bound parameters for every client string, time literals and limits.
import assert from "node:assert/strict";
import {
  buildEnergyBuckets,
  buildLatest,
  buildLatestN,
  buildRange,
  DAY_MS,
  intervalMs,
  quoteField,
  quoteMeasurement,
  timeLiteral,
  type QueryLimits,
} from "../../lib/influx/query-builder";
import { parseQueryBody, parseQueryOptions, QueryService, type InfluxSeries, type StatementRunner } from "../../lib/influx/query-service";
import type { Statement } from "../../lib/influx/query-builder";
import { buildRegistry } from "../../lib/registry";
import { PlugwatchError } from "../../lib/contracts/errors";

const FROM = 1_764_000_000_000;
const LIMITS: QueryLimits = { maxRawSpanDays: 31, maxSpanDays: 366, maxRows: 100_000 };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof PlugwatchError ? err.code : `not a PlugwatchError: ${String(err)}`;
  }
  return "no error";
}

const HOSTILE = [`x" OR 1=1 --`, `'; DROP DATABASE plugwatch`, `power" FROM plug; DROP SERIES FROM plug; --`, "po\u201dwer", "power\n", "power\\", ""];

describe("query-builder: identifiers and literals", function () {
  it("quotes whitelisted field and measurement names", function () {
    assert.equal(quoteField("power"), `"power"`);
    assert.equal(quoteField("papp_2"), `"papp_2"`);
    assert.equal(quoteMeasurement("teleinfo"), `"teleinfo"`);
  });
  for (const bad of HOSTILE) {
    it(`refuses the identifier ${JSON.stringify(bad)}`, function () {
      assert.equal(
        code(() => quoteField(bad)),
        "INVALID_QUERY",
      );
      assert.equal(
        code(() => quoteMeasurement(bad)),
        "INVALID_QUERY",
      );
    });
  }
  it("parses intervals and refuses anything else", function () {
    assert.equal(intervalMs("30s"), 30_000);
    assert.equal(intervalMs("1m"), 60_000);
    assert.equal(intervalMs("2h"), 7_200_000);
    assert.equal(intervalMs("1d"), DAY_MS);
    for (const bad of ["0m", "1w", "1m; DROP", "1 m", "-1m", "1.5m", "1m\n"])
      assert.equal(
        code(() => intervalMs(bad)),
        "INVALID_QUERY",
        bad,
      );
  });
  it("writes times as integer ms literals only", function () {
    assert.equal(timeLiteral(FROM), `${FROM}ms`);
    for (const bad of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])
      assert.equal(
        code(() => timeLiteral(bad)),
        "INVALID_QUERY",
      );
  });
});

describe("query-builder: statements", function () {
  it("raw range: device ids as bound params, ms time literals, budget + 1 rows per device", function () {
    const s = buildRange({ type: "range", fields: ["power", "voltage"], from: FROM, to: FROM + 3_600_000 }, ["ws-1", "ws-2"], LIMITS);
    assert.equal(
      s.text,
      `SELECT "power", "voltage" FROM "plug" WHERE ("device" = $d0 OR "device" = $d1) AND time >= ${FROM}ms AND time < ${FROM + 3_600_000}ms GROUP BY "device" ORDER BY time ASC LIMIT 50001`,
    );
    assert.deepEqual(s.params, { d0: "ws-1", d1: "ws-2" });
    assert.equal(s.strictLimit, true);
  });

  it("hostile device ids only ever appear in params, never in the text", function () {
    for (const bad of HOSTILE) {
      const s = buildLatest("plug", [bad]);
      assert.ok(!s.text.includes(bad) || bad === "", s.text);
      assert.deepEqual(s.params, { d0: bad });
    }
  });

  it("aggregated range: GROUP BY time(interval), device, fill(none), aliases per field", function () {
    const s = buildRange({ type: "range", fields: ["power"], from: FROM, to: FROM + DAY_MS, aggregate: "max", interval: "1h" }, ["a"], LIMITS);
    assert.equal(
      s.text,
      `SELECT MAX("power") AS "power" FROM "plug" WHERE ("device" = $d0) AND time >= ${FROM}ms AND time < ${FROM + DAY_MS}ms GROUP BY time(3600000ms), "device" fill(none)`,
    );
  });

  it("aggregates without fields use the numeric plug fields (relay cannot be averaged)", function () {
    const s = buildRange({ type: "range", from: FROM, to: FROM + DAY_MS, aggregate: "mean", interval: "1h" }, ["a"], LIMITS);
    assert.match(
      s.text,
      /^SELECT MEAN\("power"\) AS "power", MEAN\("voltage"\) AS "voltage", MEAN\("current"\) AS "current", MEAN\("energy"\) AS "energy" FROM/,
    );
  });

  it("refuses inverted ranges and spans over the limits", function () {
    assert.equal(
      code(() => buildRange({ type: "range", from: FROM, to: FROM }, ["a"], LIMITS)),
      "INVALID_QUERY",
    );
    assert.equal(
      code(() => buildRange({ type: "range", from: FROM, to: FROM + 32 * DAY_MS }, ["a"], LIMITS)),
      "LIMIT_EXCEEDED",
    );
    assert.equal(
      code(() => buildRange({ type: "range", from: FROM, to: FROM + 32 * DAY_MS, aggregate: "mean", interval: "1d" }, ["a"], LIMITS)),
      "no error",
    );
    assert.equal(
      code(() => buildRange({ type: "range", from: FROM, to: FROM + 367 * DAY_MS, aggregate: "mean", interval: "1d" }, ["a"], LIMITS)),
      "LIMIT_EXCEEDED",
    );
  });

  it("bounds points = intervals × devices and limit × devices", function () {
    const q = { type: "range" as const, from: FROM, to: FROM + 30 * DAY_MS, aggregate: "mean" as const, interval: "1m" };
    assert.equal(
      code(() => buildRange(q, ["a"], LIMITS)),
      "no error",
    ); // 43200 points
    assert.equal(
      code(() => buildRange(q, ["a", "b", "c"], LIMITS)),
      "LIMIT_EXCEEDED",
    ); // 129600
    assert.equal(
      code(() => buildRange({ type: "range", from: FROM, to: FROM + DAY_MS, limit: 60_000 }, ["a", "b"], LIMITS)),
      "LIMIT_EXCEEDED",
    );
    assert.equal(
      code(() => buildLatestN("plug", "a", 100_001, LIMITS)),
      "LIMIT_EXCEEDED",
    );
    assert.equal(
      code(() => buildEnergyBuckets(["a"], FROM, FROM + 300 * DAY_MS, 60_000, LIMITS)),
      "LIMIT_EXCEEDED",
    );
  });

  it("latest: newest row per device, optionally since a time", function () {
    const s = buildLatest("plug", ["a"], FROM);
    assert.equal(s.text, `SELECT * FROM "plug" WHERE ("device" = $d0) AND time >= ${FROM}ms GROUP BY "device" ORDER BY time DESC LIMIT 1`);
  });

  it("latestN: newest first with the limit", function () {
    assert.equal(buildLatestN("plug", "a", 1440).text, `SELECT * FROM "plug" WHERE ("device" = $d0) ORDER BY time DESC LIMIT 1440`);
  });
});

describe("query-service: validation and mapping (statements captured, no database)", function () {
  const registry = buildRegistry({
    devices: [
      { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 10001, kind: "workplace", location: { building: "hq", floor: "1", room: "open" } },
      { id: "pr-1", name: "Printer", model: "HS110", host: "127.0.0.1", port: 10002, kind: "printer", location: { building: "hq", floor: "1", room: "copy" } },
    ],
  });
  function service(answer: (s: Statement) => InfluxSeries[] = () => [], now = FROM): { svc: QueryService; seen: Statement[] } {
    const seen: Statement[] = [];
    const run: StatementRunner = (s) => {
      seen.push(s);
      return Promise.resolve(answer(s));
    };
    return { svc: new QueryService({ run, registry: () => registry, now: () => now }), seen };
  }
  const req = (query: unknown, extra: Record<string, unknown> = {}) => ({ v: 1, id: "q1", replyTo: "clients/r/1", query, ...extra });

  it("latest hides devices silent for inactiveAfterDays (clock injected), all shows them", async function () {
    const { svc, seen } = service(() => [], FROM + 40 * DAY_MS);
    await svc.handle(req({ type: "latest" }));
    await svc.handle(req({ type: "latest", inactiveAfterDays: 5 }));
    await svc.handle(req({ type: "latest", all: true }));
    assert.match(seen[0]?.text ?? "", new RegExp(`time >= ${FROM + 10 * DAY_MS}ms`));
    assert.match(seen[1]?.text ?? "", new RegExp(`time >= ${FROM + 35 * DAY_MS}ms`));
    assert.doesNotMatch(seen[2]?.text ?? "", /time >=/);
    assert.deepEqual(seen[0]?.params, { d0: "ws-1", d1: "pr-1" });
  });

  it("maps series to readings with ts and drops absent (null) fields", async function () {
    const { svc } = service(() => [
      { name: "plug", tags: { device: "ws-1" }, columns: ["time", "power", "relay", "kind"], values: [[FROM, 12.5, null, "workplace"]] },
    ]);
    const { reply } = await svc.handle(JSON.stringify(req({ type: "latest", all: true })));
    assert.deepEqual(reply, { v: 1, id: "q1", ok: true, data: { type: "latest", readings: [{ device: "ws-1", ts: FROM, power: 12.5, kind: "workplace" }] } });
  });

  it("errors become replies with stable codes; unreadable id/replyTo throws", async function () {
    const { svc, seen } = service();
    const codeOf = async (p: unknown) => (await svc.handle(p)).reply.error?.code;
    assert.equal(await codeOf(req({ type: "latestN", device: "nope" })), "UNKNOWN_DEVICE");
    assert.equal(await codeOf(req({ type: "range", from: FROM, to: FROM + 1, target: { device: "nope" } })), "UNKNOWN_DEVICE");
    assert.equal(await codeOf(req({ type: "drop" })), "INVALID_QUERY");
    assert.equal(await codeOf(req({ type: "range", from: FROM, to: FROM + 1, fields: [`x" OR 1=1 --`] })), "INVALID_QUERY");
    assert.equal(await codeOf(req({ type: "range", from: FROM, to: FROM + 1, sql: "DROP" })), "INVALID_QUERY");
    assert.equal(await codeOf(req({ type: "latest" }, { v: 2 })), "UNSUPPORTED_VERSION");
    assert.equal(await codeOf(req({ type: "latest" }, { extra: 1 })), "INVALID_REQUEST");
    assert.equal(seen.length, 0, "nothing reached the database");
    await assert.rejects(svc.handle("{not json"), (e: unknown) => e instanceof PlugwatchError && e.code === "INVALID_REQUEST");
    await assert.rejects(svc.handle({ v: 1, replyTo: "clients/r" }), /\$\.id/);
    await assert.rejects(svc.handle({ v: 1, id: "x", replyTo: "a/#" }), /\$\.replyTo/);
    await assert.rejects(svc.handle(null), /object/);
  });

  it("parseQueryBody reports the precise path", function () {
    assert.throws(() => parseQueryBody({ type: "range", from: "yesterday", to: FROM }), /\$\.query\.from/);
  });

  it("parseQueryOptions: defaults, numeric strings, and refusals", function () {
    assert.deepEqual(parseQueryOptions({}), { limits: { maxSpanDays: 366, maxRawSpanDays: 31, maxRows: 100_000 }, timeoutMs: 30_000, concurrency: 8 });
    assert.equal(parseQueryOptions({ maxRows: "500" }).limits.maxRows, 500);
    assert.throws(() => parseQueryOptions({ maxRows: "lots" }), /maxRows/);
    assert.throws(() => parseQueryOptions({ concurrency: 0 }), /concurrency/);
  });
});
