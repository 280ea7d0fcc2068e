// plugwatch-influx-hook, plugwatch-influx-query and plugwatch-influx: the editor's validators accept exactly what the runtime parse accepts,
// so a deploy that the editor allows never ends in a node that refuses every message. Runs the editor scripts in a sandbox.
import assert from "node:assert/strict";
import { parseHookOptions } from "../../nodes/plugwatch-influx-hook/config";
import { parseQueryOptions } from "../../lib/influx/query-service";
import { influxSettingsFromConfig } from "../../lib/influx/settings";
import { editorAccepts, editorDefaults } from "../support/editor-sandbox";
import { member } from "../support/checked";

const accepts = (f: () => unknown): boolean => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};

const NUMBERS = [
  -1, 0, 0.5, 1, 1.5, 15, 16, 17, 63, 64, 65, 99, 100, 101, 3660, 3661, 86_400, 86_401, 100_000, 100_001, 600_000, 600_001, 1_000_000, 1_000_001, 3_600_000,
  3_600_001, 1e9,
];
const SAMPLES: unknown[] = [...NUMBERS, ...NUMBERS.map(String), "abc", "1e2", " 7 ", "0x10", "NaN", "Infinity", "5 s", "-0", "1.0"];

function agree(name: string, field: string, runtime: (v: unknown) => boolean, dflt: number): void {
  const prop = editorDefaults(name)[field];
  assert.ok(prop, `${name} has ${field}`);
  const mismatches = SAMPLES.filter((v) => editorAccepts(prop, v) !== runtime(v)).map((v) => JSON.stringify(v));
  assert.deepEqual(mismatches, [], `${name}.${field}: editor and runtime disagree on these values`);
  assert.equal(prop.value, dflt, `${name}.${field}: editor default equals the runtime default`);
  assert.ok(editorAccepts(prop, prop.value), `${name}.${field}: the default is valid`);
}

describe("influx editor validators match the runtime ranges", function () {
  it("plugwatch-influx-hook: batchSize, flushInterval, maxSpoolMB, maxInFlight, statsInterval as parseHookOptions (defaults equal)", function () {
    const blank = parseHookOptions({});
    const defaults: Record<string, number> = {
      batchSize: blank.batchSize,
      flushInterval: blank.flushIntervalMs,
      maxSpoolMB: blank.maxBytes / 1024 / 1024,
      maxInFlight: blank.maxInFlight,
      statsInterval: blank.statsIntervalMs / 1000,
    };
    for (const [field, dflt] of Object.entries(defaults)) agree("plugwatch-influx-hook", field, (v) => accepts(() => parseHookOptions({ [field]: v })), dflt);
  });

  it("plugwatch-influx-query: maxSpanDays, maxRawSpanDays, maxRows, timeout, concurrency as parseQueryOptions (defaults equal)", function () {
    const blank = parseQueryOptions({});
    const defaults: Record<string, number> = { ...blank.limits, timeout: blank.timeoutMs, concurrency: blank.concurrency };
    for (const field of ["maxSpanDays", "maxRawSpanDays", "maxRows", "timeout", "concurrency"] as const) {
      agree("plugwatch-influx-query", field, (v) => accepts(() => parseQueryOptions({ [field]: v })), member(defaults, field));
    }
  });

  it("plugwatch-influx: timeout 100–600000 ms as influxSettingsFromConfig (default 10000)", function () {
    agree(
      "plugwatch-influx",
      "timeout",
      (v) => accepts(() => influxSettingsFromConfig({ url: "http://127.0.0.1:8086", database: "x", timeout: v })),
      influxSettingsFromConfig({ url: "http://127.0.0.1:8086", database: "x" }).timeoutMs,
    );
  });

  it("plugwatch-influx: the editor refuses a URL with user:password, like the runtime", function () {
    const url = member(editorDefaults("plugwatch-influx"), "url", "plugwatch-influx url property");
    const runtime = (u: string) => accepts(() => influxSettingsFromConfig({ url: u, database: "x" }));
    for (const u of ["http://127.0.0.1:8086", "https://db.example:8443/influx", "http://[::1]:8086", "http://h:1/p?q=a@b"]) {
      assert.equal(editorAccepts(url, u), true, u);
      assert.equal(runtime(u), true, u);
    }
    for (const u of ["http://admin:S3cret@127.0.0.1:8086", "http://admin@127.0.0.1:8086", "ftp://127.0.0.1", "127.0.0.1:8086", ""]) {
      assert.equal(editorAccepts(url, u), false, u);
      assert.equal(runtime(u), false, u);
    }
    assert.equal(editorAccepts(url, "${PLUGWATCH_INFLUX_URL}"), true);
    assert.equal(editorAccepts(url, url.value), true);
  });
});
