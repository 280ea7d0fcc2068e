// Which message a tariff gives when its "Holidays of" schedule cannot be used (lib/tariff/schedule-link.ts): a node that
// exists is always named with the reason, never reported as "none selected"; every key is in both locales.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { scheduleLinkProblem, type ScheduleLinkKey } from "../../lib/tariff/schedule-link";
import { ScheduleHolidays } from "../../lib/tariff/schedule-holidays";
import { member } from "../support/checked";

const catalogue = (lang: string): Record<string, string> =>
  (
    JSON.parse(readFileSync(path.join(__dirname, "..", "..", "..", "nodes", "plugwatch-tariff", "locales", lang, "plugwatch-tariff.json"), "utf8")) as {
      "plugwatch-tariff": { errors: Record<string, string> };
    }
  )["plugwatch-tariff"].errors;

describe("tariff → schedule link problems (lib/tariff/schedule-link.ts)", function () {
  it("no running node under the id: scheduleMissing with the id", function () {
    assert.deepEqual(scheduleLinkProblem("s1", undefined), { key: "errors.scheduleMissing", subs: { id: "s1" } });
  });

  it("a node of another type under the id (e.g. the scheduler): scheduleWrongType naming it and its type", function () {
    assert.deepEqual(scheduleLinkProblem("sched", { type: "plugwatch-scheduler", name: "office" }), {
      key: "errors.scheduleWrongType",
      subs: { id: "sched", name: "office", type: "plugwatch-scheduler" },
    });
    // An unnamed node is named by its id.
    assert.equal(scheduleLinkProblem("sched", { type: "plugwatch-registry" })?.subs.name, "sched");
  });

  it("a schedule that did not start: scheduleNotStarted with its reason, before any load problem", function () {
    assert.deepEqual(scheduleLinkProblem("s1", { type: "plugwatch-schedule", name: "hq", startError: "no file is set" }, "ENOENT"), {
      key: "errors.scheduleNotStarted",
      subs: { id: "s1", name: "hq", reason: "no file is set" },
    });
  });

  it("a started schedule whose document never loaded: scheduleUnreadable with the reason; a loaded one: no problem", function () {
    assert.deepEqual(scheduleLinkProblem("s1", { type: "plugwatch-schedule", name: "hq" }, "s.json: $.holidays[0]: not a date"), {
      key: "errors.scheduleUnreadable",
      subs: { id: "s1", name: "hq", reason: "s.json: $.holidays[0]: not a date" },
    });
    assert.equal(scheduleLinkProblem("s1", { type: "plugwatch-schedule", name: "hq" }), undefined);
  });

  it("every key is translated in en-US and es-ES with the substitutions it is given", function () {
    const keys: [ScheduleLinkKey, string[]][] = [
      ["errors.scheduleMissing", ["id"]],
      ["errors.scheduleWrongType", ["id", "name", "type"]],
      ["errors.scheduleNotStarted", ["id", "name", "reason"]],
      ["errors.scheduleUnreadable", ["id", "name", "reason"]],
    ];
    for (const lang of ["en-US", "es-ES"]) {
      const errors = catalogue(lang);
      for (const [key, subs] of keys) {
        const text = member(errors, key.replace("errors.", ""), `${lang} ${key}`);
        assert.equal(typeof text, "string", `${lang} ${key}`);
        for (const s of subs) assert.ok(text.includes(`__${s}__`), `${lang} ${key} uses __${s}__`);
        assert.doesNotMatch(text, /no .* selected|ningún nodo de configuración/, `${lang} ${key} never claims none is selected`);
      }
    }
  });

  it("ScheduleHolidays.unavailable: the reason while no calendar ever loaded, cleared by a good one, not set by a later bad one", function () {
    let text = "{not json";
    const warnings: string[] = [];
    const h = new ScheduleHolidays({ read: () => ({ text, label: "s.json" }), readFile: () => "", warn: (m) => warnings.push(m) });
    h.refresh();
    assert.match(h.unavailable ?? "", /^s\.json/);
    assert.deepEqual(warnings, [], "reported through `unavailable`, not as a warning");
    text = JSON.stringify({ holidays: ["2026-05-08"] });
    h.refresh();
    assert.equal(h.unavailable, undefined);
    text = "{not json";
    h.refresh();
    assert.equal(h.unavailable, undefined, "the last good calendar stays in force");
    assert.equal(h.isHoliday("2026-05-08"), true);
    assert.equal(warnings.length, 1);
  });
});
