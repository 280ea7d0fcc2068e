// Editor validators (the .html defaults) accept exactly what the runtime parse code accepts, without a browser:
// each node's editor script runs in a sandbox with RED.validators written like @node-red/editor-client's.
import assert from "node:assert/strict";
import { tickMs } from "../../lib/alerts/tick";
import { parseApiConfig } from "../../lib/api/config";
import { checkKeep } from "../../lib/backup/retention";
import { parseSchedule } from "../../lib/backup/schedule";
import { timeoutSeconds } from "../../nodes/plugwatch-influx-backup/config";
import { parseConfig as parseCollectorConfig } from "../../nodes/plugwatch-collector/config";
import { editorAccepts, editorDefaults } from "../support/editor-sandbox";
import { member } from "../support/checked";

const accepts = (f: () => unknown): boolean => {
  try {
    return f() !== undefined;
  } catch {
    return false;
  }
};

/** Values around every range used below, as numbers and as the strings a form gives. */
const NUMBERS = [-1, 0, 0.04, 0.05, 0.1, 0.2, 0.5, 1, 1.5, 3, 7, 99, 100, 100.5, 101, 1024, 1025, 3600, 3600.5, 3650, 3651, 9999, 10_000, 10_001];
const MORE = [86_400, 86_401, 100_000, 100_001, 120_000, 120_001, 525_600, 525_601, 1e9];
const SAMPLES: unknown[] = [...NUMBERS, ...MORE, ...[...NUMBERS, ...MORE].map(String), "abc", "1e2", " 7 ", "0x10", "NaN", "Infinity", "5 s", "-0"];

/** Asserts editor and runtime agree for every sample (blank values excluded: required in the editor, defaulted at run time). */
function agree(name: string, field: string, runtime: (v: unknown) => boolean, node: Record<string, unknown> = {}): void {
  const prop = editorDefaults(name)[field];
  assert.ok(prop, `${name} has ${field}`);
  const mismatches = SAMPLES.filter((v) => editorAccepts(prop, v, node) !== runtime(v)).map((v) => JSON.stringify(v));
  assert.deepEqual(mismatches, [], `${name}.${field}: editor and runtime disagree on these values`);
  assert.ok(editorAccepts(prop, prop.value, node), `${name}.${field}: the default ${String(prop.value)} is valid`);
}

describe("editor validators match the runtime ranges", function () {
  it("alert: tickInterval 0.05–3600 s, default 1 (lib/alerts/tick.ts)", function () {
    const d = editorDefaults("plugwatch-alert");
    assert.equal(d.tickInterval?.value, 1);
    assert.equal(editorAccepts(d.tickInterval, "0.01"), false);
    assert.equal(editorAccepts(d.tickInterval, "7200"), false);
    assert.equal(editorAccepts(d.tickInterval, "0.5"), true);
    agree("plugwatch-alert", "tickInterval", (v) => accepts(() => tickMs(v)));
    assert.equal(tickMs(""), 1000);
  });

  it("alert and plugwatch-influx-backup: topic root as lib/topics checkRoot (no wildcards, no empty level)", function () {
    for (const n of ["plugwatch-alert", "plugwatch-influx-backup"]) {
      const root = member(editorDefaults(n), "root", `${n} root property`);
      assert.equal(editorAccepts(root, "site/plugwatch"), true);
      for (const bad of ["a/+/b", "a/#", "a//b", "/a", "a\u0000b"]) assert.equal(editorAccepts(root, bad), false, `${n} root '${bad}'`);
    }
  });

  it("plugwatch-influx-backup: keep whole 1–10000, interval 0.05–525600 min, timeout 1–86400 s", function () {
    const d = editorDefaults("plugwatch-influx-backup");
    assert.equal(d.keep?.value, 7);
    assert.equal(d.timeout?.value, 600);
    assert.equal(d.interval?.value, 60);
    agree("plugwatch-influx-backup", "keep", (v) => accepts(() => checkKeep(v === "" ? 7 : Number(v))));
    agree("plugwatch-influx-backup", "timeout", (v) => timeoutSeconds(v) !== undefined);
    agree("plugwatch-influx-backup", "interval", (v) => accepts(() => parseSchedule("interval", v, "", "UTC")), { schedule: "interval" });
    // Unused by other schedules: any number or blank passes there, a non-number still does not.
    assert.equal(editorAccepts(d.interval, "", { schedule: "daily" }), true);
    assert.equal(editorAccepts(d.interval, "", { schedule: "interval" }), false);
    assert.equal(editorAccepts(d.interval, "abc", { schedule: "daily" }), false);
    // timeout may be blank (the runtime uses 600 s).
    assert.equal(editorAccepts(d.timeout, ""), true);
    assert.equal(timeoutSeconds(""), 600);
  });

  it("plugwatch-http-api: timeoutMs, inactiveAfterDays, historySize as lib/api/config parseApiConfig", function () {
    for (const field of ["timeoutMs", "inactiveAfterDays", "historySize"]) {
      agree("plugwatch-http-api", field, (v) => accepts(() => parseApiConfig({ [field]: v })));
    }
  });

  it("plugwatch-collector: interval, timeout, concurrency, offlineAfter as its config.ts parseConfig", function () {
    for (const field of ["interval", "timeout", "concurrency", "offlineAfter"]) {
      agree("plugwatch-collector", field, (v) => accepts(() => parseCollectorConfig({ [field]: v } as Parameters<typeof parseCollectorConfig>[0])));
    }
  });
});
