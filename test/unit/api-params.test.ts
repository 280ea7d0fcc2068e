// Unit tests of the REST API's parameter parsing: times (ISO, relative, now), limits, filters, bodies.
import assert from "node:assert/strict";
import {
  DEFAULT_LIMITS,
  parseAlertParams,
  parseBulkPowerBody,
  parseEnergyParams,
  parseInterval,
  parseLatestNParams,
  parseLatestParams,
  parsePowerBody,
  parseRangeParams,
  parseTime,
  queryParamsOf,
} from "../../lib/api/params";
import { ApiError } from "../../lib/api/problem";

const NOW = Date.UTC(2025, 10, 24, 12, 0, 0); // 2025-11-24T12:00:00Z
const H = 3_600_000;
const D = 24 * H;
const q = (s: string) => queryParamsOf(new URLSearchParams(s));

function throwsCode(fn: () => unknown, code: string, status?: number): ApiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (status !== undefined) assert.equal(err.status, status);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe("api params: parseTime", () => {
  it("accepts now and relative times", () => {
    assert.equal(parseTime("now", NOW), NOW);
    assert.equal(parseTime("-24h", NOW), NOW - D);
    assert.equal(parseTime("now-7d", NOW), NOW - 7 * D);
    assert.equal(parseTime("+30m", NOW), NOW + 30 * 60_000);
    assert.equal(parseTime("-90s", NOW), NOW - 90_000);
    assert.equal(parseTime("-2w", NOW), NOW - 14 * D);
    assert.equal(parseTime("-500ms", NOW), NOW - 500);
  });
  it("accepts ISO 8601 with a zone, dates as UTC midnight, and epoch ms", () => {
    assert.equal(parseTime("2025-11-24T08:00:00Z", NOW), Date.UTC(2025, 10, 24, 8));
    assert.equal(parseTime("2025-11-24T09:00+01:00", NOW), Date.UTC(2025, 10, 24, 8));
    assert.equal(parseTime("2025-11-24T08:00:00.250Z", NOW), Date.UTC(2025, 10, 24, 8) + 250);
    assert.equal(parseTime("2025-11-24", NOW), Date.UTC(2025, 10, 24));
    assert.equal(parseTime("1764000000000", NOW), 1764000000000);
  });
  it("refuses bad, zoneless, impossible and out-of-range times with INVALID_REQUEST (400)", () => {
    for (const bad of ["yesterday", "-24", "24h", "now-", "2025-11-24T08:00:00", "2025-02-30", "2025-13-01", "2025-01-01T25:00Z", "1999-12-31", "", "-1x"]) {
      throwsCode(() => parseTime(bad, NOW, "from"), "INVALID_REQUEST", 400);
    }
    const e = throwsCode(() => parseTime("2025-11-24T08:00:00", NOW, "from"), "INVALID_REQUEST");
    assert.match(e.message, /no time zone/);
    assert.deepEqual(e.details?.[0]?.path, "$.query.from");
  });
  it("parses intervals", () => {
    assert.equal(parseInterval("1m"), 60_000);
    assert.equal(parseInterval("30s"), 30_000);
    assert.equal(parseInterval("1d"), D);
    throwsCode(() => parseInterval("0m"), "INVALID_REQUEST");
    throwsCode(() => parseInterval("1w"), "INVALID_REQUEST");
  });
});

describe("api params: range query", () => {
  it("defaults to the last 24 h for one device", () => {
    assert.deepEqual(parseRangeParams("ws-1", q(""), NOW), { type: "range", target: { device: "ws-1" }, from: NOW - D, to: NOW });
  });
  it("builds an aggregated query; interval alone means mean", () => {
    const r = parseRangeParams("ws-1", q("from=-24h&to=now&fields=power,energy&interval=1m&limit=2000"), NOW);
    assert.deepEqual(r, {
      type: "range",
      target: { device: "ws-1" },
      from: NOW - D,
      to: NOW,
      fields: ["power", "energy"],
      aggregate: "mean",
      interval: "1m",
      limit: 2000,
    });
    assert.equal(parseRangeParams("ws-1", q("interval=1h&aggregate=max"), NOW).aggregate, "max");
  });
  it("refuses aggregate without interval, unknown params, repeats and bad fields (400)", () => {
    throwsCode(() => parseRangeParams("ws-1", q("aggregate=mean"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseRangeParams("ws-1", q("frm=-1h"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseRangeParams("ws-1", q("from=-1h&from=-2h"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseRangeParams("ws-1", q("fields=power;drop"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseRangeParams("ws-1", q("fields=power,power"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseRangeParams("ws-1", q("aggregate=median&interval=1m"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseRangeParams("ws-1", q("limit=abc"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseRangeParams("ws-1", q("limit=0"), NOW), "INVALID_REQUEST");
  });
  it("refuses from >= to (INVALID_QUERY) and spans or limits over the bounds (LIMIT_EXCEEDED, 422)", () => {
    throwsCode(() => parseRangeParams("ws-1", q("from=now&to=-1h"), NOW), "INVALID_QUERY", 422);
    throwsCode(() => parseRangeParams("ws-1", q("from=-32d"), NOW), "LIMIT_EXCEEDED", 422);
    assert.equal(parseRangeParams("ws-1", q("from=-31d"), NOW).from, NOW - 31 * D);
    assert.equal(parseRangeParams("ws-1", q("from=-366d&interval=1h"), NOW).from, NOW - 366 * D);
    throwsCode(() => parseRangeParams("ws-1", q("from=-367d&interval=1d"), NOW), "LIMIT_EXCEEDED", 422);
    throwsCode(() => parseRangeParams("ws-1", q("from=-300d&interval=1m"), NOW), "LIMIT_EXCEEDED", 422); // 432000 buckets
    throwsCode(() => parseRangeParams("ws-1", q(`limit=${DEFAULT_LIMITS.maxLimit + 1}`), NOW), "LIMIT_EXCEEDED", 422);
  });
});

describe("api params: latest, energy, alerts", () => {
  it("latestN defaults to 1440 and bounds the limit", () => {
    assert.deepEqual(parseLatestNParams("ws-1", q("")), { type: "latestN", device: "ws-1", limit: 1440 });
    assert.equal(parseLatestNParams("ws-1", q("limit=5")).limit, 5);
    throwsCode(() => parseLatestNParams("ws-1", q("limit=100001")), "LIMIT_EXCEEDED");
    throwsCode(() => parseLatestNParams("ws-1", q("from=-1h")), "INVALID_REQUEST");
  });
  it("latest carries all, inactiveAfterDays and a filter target", () => {
    assert.deepEqual(parseLatestParams(q("all=true"), 30), { type: "latest", all: true, inactiveAfterDays: 30 });
    assert.deepEqual(parseLatestParams(q("kind=printer"), 7), { type: "latest", all: false, inactiveAfterDays: 7, target: { kind: "printer" } });
    assert.deepEqual(parseLatestParams(q("building=hq&floor=2"), 7).target, { building: "hq", floor: "2" });
    throwsCode(() => parseLatestParams(q("all=yes"), 30), "INVALID_REQUEST");
  });
  it("latest and latestN read another measurement (a generic reading's) when asked, and reject a bad name", () => {
    assert.deepEqual(parseLatestParams(q("measurement=isems&all=true"), 30), { type: "latest", all: true, inactiveAfterDays: 30, measurement: "isems" });
    assert.deepEqual(parseLatestNParams("solar-2", q("measurement=isems&limit=3")), { type: "latestN", device: "solar-2", limit: 3, measurement: "isems" });
    throwsCode(() => parseLatestParams(q("measurement=plug;DROP"), 30), "INVALID_REQUEST");
    throwsCode(() => parseLatestNParams("solar-2", q("measurement=Isems")), "INVALID_REQUEST");
    throwsCode(() => parseRangeParams("ws-1", q("measurement=a b"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseLatestParams(q("floor=2"), 30), "INVALID_REQUEST");
    throwsCode(() => parseLatestParams(q("kind=toaster"), 30), "INVALID_REQUEST");
  });
  it("energy defaults to 7 days per day by device; bounds the span", () => {
    assert.deepEqual(parseEnergyParams(q(""), NOW), { type: "energy", groupBy: "device", from: NOW - 7 * D, to: NOW, interval: "1d" });
    assert.equal(parseEnergyParams(q("groupBy=room&interval=1h&from=2025-11-01"), NOW).groupBy, "room");
    throwsCode(() => parseEnergyParams(q("groupBy=team"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseEnergyParams(q("from=-400d"), NOW), "LIMIT_EXCEEDED");
  });
  it("energy per calendar period: calendar and tz (a checked IANA zone), never with interval", () => {
    assert.deepEqual(parseEnergyParams(q("calendar=day&tz=Europe/Paris&groupBy=room"), NOW), {
      type: "energy",
      groupBy: "room",
      from: NOW - 7 * D,
      to: NOW,
      calendar: "day",
      tz: "Europe/Paris",
    });
    assert.equal(parseEnergyParams(q("calendar=month&from=-365d"), NOW).tz, undefined); // the building's zone, chosen by the component
    throwsCode(() => parseEnergyParams(q("calendar=fortnight"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseEnergyParams(q("calendar=day&interval=1d"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseEnergyParams(q("tz=Europe/Paris"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseEnergyParams(q("calendar=day&tz=Europe/Pariss"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseEnergyParams(q("calendar=hour&from=-400d"), NOW), "LIMIT_EXCEEDED");
  });
  it("alerts: active by default, history with from", () => {
    assert.deepEqual(parseAlertParams(q(""), NOW), { state: "active" });
    assert.deepEqual(parseAlertParams(q("state=all&from=-1h&device=p-1"), NOW), { state: "all", from: NOW - H, device: "p-1" });
    throwsCode(() => parseAlertParams(q("from=-1h"), NOW), "INVALID_REQUEST");
    throwsCode(() => parseAlertParams(q("state=open"), NOW), "INVALID_REQUEST");
  });
});

describe("api params: power bodies", () => {
  it("single: state on/off/toggle only", () => {
    assert.deepEqual(parsePowerBody({ state: "off" }), { state: "off" });
    throwsCode(() => parsePowerBody({ state: "status" }), "INVALID_REQUEST");
    throwsCode(() => parsePowerBody({ state: "on", force: true }), "INVALID_REQUEST");
    throwsCode(() => parsePowerBody("on"), "INVALID_REQUEST");
  });
  it("bulk: exactly one selector style", () => {
    assert.deepEqual(parseBulkPowerBody({ state: "off", kind: "printer" }), { action: "off", target: { kind: "printer" } });
    assert.deepEqual(parseBulkPowerBody({ state: "on", building: "hq", floor: "2", kind: "workplace" }), {
      action: "on",
      target: { building: "hq", floor: "2", kind: "workplace" },
    });
    assert.deepEqual(parseBulkPowerBody({ state: "toggle", devices: ["a", "b"] }), { action: "toggle", target: { devices: ["a", "b"] } });
    assert.deepEqual(parseBulkPowerBody({ state: "off", all: true }), { action: "off", target: { all: true } });
    throwsCode(() => parseBulkPowerBody({ state: "off" }), "INVALID_REQUEST");
    throwsCode(() => parseBulkPowerBody({ state: "off", kind: "printer", all: true }), "INVALID_REQUEST");
    throwsCode(() => parseBulkPowerBody({ state: "off", room: "r1" }), "INVALID_REQUEST");
    throwsCode(() => parseBulkPowerBody({ state: "off", building: "HQ!" }), "INVALID_REQUEST");
  });
});
