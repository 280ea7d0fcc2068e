// Alert rules: parses the editor's rule list (unknown JSON) into typed rules with defaults, and answers scope questions.
import { RULE_SCHEMAS, RULE_TYPES, type AlertRule, type BudgetRule, type RuleType, type Severity } from "../contracts/alert";
import { PlugwatchError } from "../contracts/errors";
import { validate, type Issue } from "../contracts/validate";
import { checkTimeZone, hostTimeZone } from "./schedule";
import type { DeviceInfo } from "./types";

export const DEFAULT_SEVERITY: Severity = "warning";

/** The rule list is invalid; `details` lists every problem with its JSON path (e.g. `$[2].value`). */
export class AlertRulesError extends PlugwatchError {
  constructor(issues: Issue[]) {
    const head = issues
      .slice(0, 3)
      .map((i) => `${i.path}: ${i.message}`)
      .join("; ");
    super("INVALID_REQUEST", `invalid alert rules: ${head}${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ""}`, issues);
    this.name = "AlertRulesError";
  }
}

/**
 * Parses and validates a rule list (an array, or its JSON text). Applies defaults (severity `warning`,
 * time zone = host zone) and checks what a schema cannot: unique ids, known IANA time zones.
 * Throws AlertRulesError listing every problem; never returns a partial list.
 */
export function parseRules(input: unknown, defaultTimeZone: string = hostTimeZone()): AlertRule[] {
  let json = input;
  if (typeof json === "string") {
    try {
      json = JSON.parse(json.trim() === "" ? "[]" : json);
    } catch (err) {
      throw new AlertRulesError([{ path: "$", message: `not valid JSON: ${(err as Error).message}` }]);
    }
  }
  if (!Array.isArray(json)) throw new AlertRulesError([{ path: "$", message: "expected an array of rules" }]);
  const issues: Issue[] = [];
  const rules: AlertRule[] = [];
  const ids = new Map<string, number>();
  json.forEach((entry: unknown, i: number) => {
    const at = `$[${i}]`;
    const id = entry !== null && typeof entry === "object" ? (entry as { id?: unknown }).id : undefined;
    if (typeof id === "string") {
      const seen = ids.get(id);
      if (seen !== undefined) issues.push({ path: `${at}.id`, message: `duplicate rule id '${id}' (first at $[${seen}])` });
      else ids.set(id, i);
    }
    const type = entry !== null && typeof entry === "object" ? (entry as { type?: unknown }).type : undefined;
    if (typeof type !== "string" || !(RULE_TYPES as readonly string[]).includes(type)) {
      issues.push({ path: `${at}.type`, message: `type must be one of ${RULE_TYPES.join(", ")}` });
      return;
    }
    const r = validate(RULE_SCHEMAS[type as RuleType], entry, 10);
    if (!r.ok) {
      issues.push(...r.issues.map((x) => ({ path: at + x.path.slice(1), message: explain(x) })));
      return;
    }
    const rule = { ...r.value, severity: r.value.severity ?? DEFAULT_SEVERITY } as AlertRule;
    if (rule.type === "waste" || rule.type === "budget") {
      rule.timezone = rule.timezone ?? defaultTimeZone;
      try {
        checkTimeZone(rule.timezone);
      } catch (err) {
        issues.push({ path: `${at}.timezone`, message: (err as Error).message });
      }
    }
    rules.push(rule);
  });
  if (issues.length) throw new AlertRulesError(issues);
  return rules;
}

function explain(issue: Issue): string {
  if (/required property/i.test(issue.message)) return `missing required property '${issue.path.split(".").pop()}'`;
  if (/Unexpected property/i.test(issue.message)) return `unknown property '${issue.path.split(".").pop()}'`;
  return issue.message;
}

/** True when the rule's scope (devices, kinds, building/floor/room; empty = all) covers the device. */
export function inScope(rule: AlertRule, device: DeviceInfo): boolean {
  if (rule.devices && rule.devices.length && !rule.devices.includes(device.id)) return false;
  if (rule.kinds && rule.kinds.length && (!device.kind || !rule.kinds.includes(device.kind))) return false;
  const loc = device.location;
  if (rule.building && loc?.building !== rule.building) return false;
  if (rule.floor && loc?.floor !== rule.floor) return false;
  if (rule.room && loc?.room !== rule.room) return false;
  return true;
}

/**
 * What a budget is counted for: the device id, the room (`<building>-<floor>-<room>`, cut to a 64-char slug)
 * or the kind. This subject takes the device's place in the alert id and topic. Undefined when unknown.
 */
export function budgetSubject(rule: BudgetRule, device: DeviceInfo): string | undefined {
  switch (rule.per ?? "device") {
    case "device":
      return device.id;
    case "kind":
      return device.kind;
    case "room": {
      const l = device.location;
      return l ? `${l.building}-${l.floor}-${l.room}`.slice(0, 64).replace(/[-_]+$/, "") : undefined;
    }
  }
}
