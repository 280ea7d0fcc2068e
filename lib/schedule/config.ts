// The schedule document → a typed, checked configuration (rules, cut-offs, holiday calendar); every problem with file, JSON path and reason.
import * as path from "node:path";
import { CalendarError, calendarFromIcs, HolidayCalendar } from "../calendar";
import { validate, type Issue } from "../contracts/validate";
import { FileIssuesError } from "../file-issues";
import { explainTarget, friendlyIssues, lineColumn, type Registry } from "../registry";
import { ScheduleDocument, ScheduleTarget, type ScheduleRule, type StandbyRule } from "./contract";

/** A schedule document problem: which file (or config), where (JSON path) and why. */
export class ScheduleError extends FileIssuesError {
  constructor(file: string, issues: Issue[]) {
    super("INVALID_SCHEDULE", file, issues);
    this.name = "ScheduleError";
  }
}

export interface ScheduleConfig {
  document: ScheduleDocument;
  calendar: HolidayCalendar;
  /** Enabled rules only. */
  schedules: ScheduleRule[];
  standby: StandbyRule[];
  neverOff: ReadonlySet<string>;
  standbyEstimateW: Readonly<Record<string, number>>;
  price?: { perKWh: number; currency: string };
}

export interface ParseOptions {
  /** Name for messages (file path or "schedule 'x' (inline JSON)"). */
  file: string;
  /** When given, device ids named by targets and neverOff must exist in it. */
  registry?: Registry;
  /** Reads an ICS file (holidayFiles); default: none allowed. */
  readFile?: (file: string) => string;
  /** Directory holidayFiles are relative to (the Node-RED user directory). */
  baseDir?: string | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses JSON text (file or inline config) and checks it; an empty text is an empty document. */
export function parseScheduleText(text: string, opts: ParseOptions): ScheduleConfig {
  if (!text.trim()) return checkScheduleDocument({}, opts);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ScheduleError(opts.file, [{ path: "$", message: `not valid JSON: ${message}${lineColumn(text, message)}` }]);
  }
  return checkScheduleDocument(json, opts);
}

/** Validates a parsed document; reports every problem found, never a partial configuration. */
export function checkScheduleDocument(json: unknown, opts: ParseOptions): ScheduleConfig {
  const issues: Issue[] = [];
  if (!isObject(json)) throw new ScheduleError(opts.file, [{ path: "$", message: "expected an object with 'schedules', 'standby', 'holidays'…" }]);
  const r = validate(ScheduleDocument, json, 50);
  if (!r.ok) {
    // A union says only "Expected union value": explain targets like the control agent does.
    for (const i of friendlyIssues(json, r.issues)) {
      const m = /^\$\.schedules\[(\d+)\]\.target/.exec(i.path);
      if (m && /union/i.test(i.message)) {
        const target = (json.schedules as Record<string, unknown>[])[Number(m[1])]?.target;
        if (isObject(target) && "tags" in target) {
          const t = validate(ScheduleTarget.anyOf[5], target);
          for (const x of t.ok ? [] : friendlyIssues(target, t.issues))
            issues.push({ path: `$.schedules[${m[1]}].target${x.path.slice(1)}`, message: x.message });
        } else for (const x of explainTarget(target)) issues.push({ path: `$.schedules[${m[1]}].target${x.path.slice(1)}`, message: x.message });
      } else issues.push(i);
    }
    throw new ScheduleError(opts.file, dedupe(issues));
  }
  const doc = r.value;
  const names = new Map<string, string>();
  const named = (name: string, at: string): void => {
    const first = names.get(name);
    if (first) issues.push({ path: `${at}.name`, message: `duplicate rule name '${name}' (first at ${first})` });
    else names.set(name, at);
  };
  (doc.schedules ?? []).forEach((s, i) => {
    const at = `$.schedules[${i}]`;
    named(s.name, at);
    if (s.on === undefined && s.off === undefined) issues.push({ path: at, message: "a schedule needs 'on', 'off' or both" });
    if (s.on !== undefined && s.on === s.off) issues.push({ path: `${at}.off`, message: `'on' and 'off' are both ${s.on}` });
    if (opts.registry)
      for (const id of deviceIds(s.target)) if (!opts.registry.get(id)) issues.push({ path: `${at}.target`, message: `unknown device '${id}'` });
  });
  (doc.standby ?? []).forEach((s, i) => named(s.name, `$.standby[${i}]`));
  if (opts.registry)
    (doc.neverOff ?? []).forEach((id, i) => {
      if (!opts.registry?.get(id)) issues.push({ path: `$.neverOff[${i}]`, message: `unknown device '${id}'` });
    });

  let calendar = HolidayCalendar.none;
  try {
    calendar = HolidayCalendar.fromDates(doc.holidays ?? [], "holidays");
  } catch (err) {
    if (!(err instanceof CalendarError)) throw err;
    issues.push({ path: `$.holidays${err.where.slice(1)}`, message: err.details?.[0]?.message ?? err.message });
  }
  (doc.holidayFiles ?? []).forEach((f, i) => {
    const at = `$.holidayFiles[${i}]`;
    if (!opts.readFile) return issues.push({ path: at, message: "holiday files cannot be read here" });
    const file = path.isAbsolute(f) ? f : path.resolve(opts.baseDir ?? process.cwd(), f);
    let text: string;
    try {
      text = opts.readFile(file);
    } catch (err) {
      return issues.push({ path: at, message: `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}` });
    }
    try {
      calendar = calendar.merge(calendarFromIcs(text, file));
    } catch (err) {
      if (!(err instanceof CalendarError)) throw err;
      issues.push({ path: at, message: `${file} ${err.where}: ${err.details?.[0]?.message ?? err.message}` });
    }
  });
  if (issues.length) throw new ScheduleError(opts.file, issues);
  return {
    document: doc,
    calendar,
    schedules: (doc.schedules ?? []).filter((s) => s.enabled !== false),
    standby: (doc.standby ?? []).filter((s) => s.enabled !== false),
    neverOff: new Set(doc.neverOff ?? []),
    standbyEstimateW: doc.standbyEstimateW ?? {},
    ...(doc.price ? { price: doc.price } : {}),
  };
}

function deviceIds(t: ScheduleTarget): string[] {
  if ("device" in t) return [t.device];
  if ("devices" in t) return t.devices;
  return [];
}

function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
