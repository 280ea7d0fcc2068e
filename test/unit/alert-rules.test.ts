// Rule list parsing (editor config → typed rules) and scope matching.
import assert from "node:assert/strict";
import { AlertRulesError, budgetSubject, inScope, parseRules } from "../../lib/alerts/rules";
import type { BudgetRule } from "../../lib/contracts/alert";

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    parseRules(input, "UTC");
  } catch (err) {
    assert.ok(err instanceof AlertRulesError);
    assert.equal(err.code, "INVALID_REQUEST");
    return err.details ?? [];
  }
  assert.fail("expected AlertRulesError");
}

describe("alert rules", function () {
  it("parses every rule type and applies defaults", function () {
    const rules = parseRules(
      JSON.stringify([
        { id: "hot", type: "threshold", field: "power", op: "above", value: 2000, forSeconds: 30, hysteresis: 100 },
        { id: "stale", type: "stale", afterSeconds: 300, severity: "info" },
        { id: "offline", type: "offline", severity: "critical" },
        { id: "waste", type: "waste", kinds: ["printer"], watts: 20, schedule: { mon: [["08:00", "19:00"]] }, timezone: "Europe/Paris" },
        { id: "budget", type: "budget", kWhPerDay: 5, per: "room" },
      ]),
      "Europe/Berlin",
    );
    assert.deepEqual(
      rules.map((r) => [r.id, r.type, r.severity]),
      [
        ["hot", "threshold", "warning"],
        ["stale", "stale", "info"],
        ["offline", "offline", "critical"],
        ["waste", "waste", "warning"],
        ["budget", "budget", "warning"],
      ],
    );
    const waste = rules[3];
    const budget = rules[4];
    assert.ok(waste?.type === "waste" && budget?.type === "budget");
    assert.equal(waste.timezone, "Europe/Paris");
    assert.equal(budget.timezone, "Europe/Berlin");
    assert.deepEqual(parseRules("", "UTC"), []);
  });

  it("reports every problem with its JSON path", function () {
    assert.deepEqual(
      issuesOf("{not json").map((i) => i.path),
      ["$"],
    );
    assert.match(issuesOf({ id: "x" })[0]?.message ?? "", /expected an array/);
    const issues = issuesOf([
      { id: "a", type: "threshold", field: "power", op: "above" },
      { id: "b", type: "nonsense" },
      { id: "a", type: "offline" },
      { id: "Bad Id", type: "stale", afterSeconds: 10 },
      { id: "w", type: "waste", watts: 20, schedule: { mon: [["08:00", "25:00"]] } },
      { id: "z", type: "budget", kWhPerDay: 2, timezone: "Nowhere/Land" },
      { id: "t", type: "offline", colour: "red" },
    ]);
    const paths = issues.map((i) => i.path);
    assert.ok(paths.includes("$[0].value"), paths.join());
    assert.ok(issues.some((i) => i.path === "$[0].value" && /missing required property 'value'/.test(i.message)));
    assert.ok(issues.some((i) => i.path === "$[1].type" && /one of threshold, stale, offline, waste, budget/.test(i.message)));
    assert.ok(issues.some((i) => i.path === "$[2].id" && /duplicate rule id 'a' \(first at \$\[0\]\)/.test(i.message)));
    assert.ok(paths.includes("$[3].id"));
    assert.ok(paths.includes("$[4].schedule.mon[0][1]"), paths.join());
    assert.ok(issues.some((i) => i.path === "$[5].timezone" && /unknown time zone/.test(i.message)));
    assert.ok(issues.some((i) => i.path === "$[6].colour" && /unknown property 'colour'/.test(i.message)));
  });

  it("matches scope by devices, kinds and location; empty scope matches all", function () {
    const [all, printers, floor2, two] = parseRules(
      [
        { id: "all", type: "offline" },
        { id: "printers", type: "offline", kinds: ["printer"] },
        { id: "floor2", type: "offline", building: "hq", floor: "2" },
        { id: "two", type: "offline", devices: ["a", "b"] },
      ],
      "UTC",
    );
    assert.ok(all && printers && floor2 && two);
    const p = { id: "p1", kind: "printer" as const, location: { building: "hq", floor: "2", room: "copy" } };
    const unknown = { id: "a" };
    assert.deepEqual(
      [all, printers, floor2, two].map((r) => inScope(r, p)),
      [true, true, true, false],
    );
    assert.deepEqual(
      [all, printers, floor2, two].map((r) => inScope(r, unknown)),
      [true, false, false, true],
    );
  });

  it("names budget subjects per device, room or kind", function () {
    const mk = (per: "device" | "room" | "kind") => ({ id: "b", type: "budget", kWhPerDay: 1, per }) as BudgetRule;
    const d = { id: "ws-1", kind: "workplace" as const, location: { building: "hq", floor: "2", room: "open" } };
    assert.equal(budgetSubject(mk("device"), d), "ws-1");
    assert.equal(budgetSubject(mk("room"), d), "hq-2-open");
    assert.equal(budgetSubject(mk("kind"), d), "workplace");
    assert.equal(budgetSubject(mk("room"), { id: "x" }), undefined);
  });
});
