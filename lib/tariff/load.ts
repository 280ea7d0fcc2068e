// Tariff file: parses and validates it (file, JSON path, reason, like the registry) into compiled tariffs per building.
import { readFileSync } from "node:fs";
import { PlugwatchError } from "../contracts/errors";
import { DAY_TYPES, TariffFile, WEEK_DAYS, type DayType, type Tariff, type TouRule } from "../contracts/tariff";
import { validate, type Issue } from "../contracts/validate";
import { FileIssuesError } from "../file-issues";
import { friendlyIssues, lineColumn, MAX_ISSUES } from "../registry";
import { clockMinutes } from "../alerts/schedule";
import { itemAt } from "../arrays";
import { dateParts } from "../calendar";

/** A tariff problem: which file, where in it (JSON path) and why. */
export interface TariffIssue extends Issue {
  file: string;
}

export class TariffError extends FileIssuesError<TariffIssue> {
  constructor(file: string, issues: TariffIssue[]) {
    super("TARIFF_INVALID", file, issues);
    this.name = "TariffError";
  }
}

/** A run of minutes [start, end) of a day type priced in one period. */
export interface MinuteRun {
  start: number;
  end: number;
  period: string;
}

/** One version, ready to price: its first local date ('' = since always), prices and a minute table per day type. */
export interface CompiledVersion {
  index: number;
  from: string;
  standingChargePerDay: number;
  prices: ReadonlyMap<string, number>;
  days: Readonly<Partial<Record<DayType, readonly MinuteRun[]>>>;
}

export interface CompiledTariff {
  name: string;
  currency: string;
  versions: readonly CompiledVersion[];
  holidays: ReadonlySet<string>;
  /** Day type holidays are priced as. */
  holidayAs: DayType;
  /** Teleinfo index field → period (lib/tariff/teleinfo.ts). */
  teleinfo: Readonly<Record<string, string>>;
}

/** Holidays from elsewhere (the schedule's holiday calendar, lib/calendar.ts), as local dates YYYY-MM-DD. */
export type IsHoliday = (date: string) => boolean;

/** The tariffs of a file and which building uses which. */
export class TariffBook {
  constructor(
    readonly tariffs: ReadonlyMap<string, CompiledTariff>,
    private readonly buildings: ReadonlyMap<string, string>,
    private readonly fallback: string | undefined,
    /** Extra holidays, joined with each tariff's own dates. */
    readonly isHoliday: IsHoliday = () => false,
  ) {}

  /** The tariff of a building (its own, else the default); TARIFF_INVALID when there is none. */
  forBuilding(building: string): CompiledTariff {
    const name = this.buildings.get(building) ?? this.fallback;
    const t = name === undefined ? undefined : this.tariffs.get(name);
    if (!t) throw new PlugwatchError("TARIFF_INVALID", `no tariff for building '${building}' (not in 'buildings' and no 'default')`);
    return t;
  }

  /** The same tariffs with another holiday source (e.g. the schedule's calendar joined at deploy). */
  withHolidays(isHoliday: IsHoliday): TariffBook {
    return new TariffBook(this.tariffs, this.buildings, this.fallback, isHoliday);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const typeName = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);
const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;

/** Whether a YYYY-MM-DD (already matching the pattern) is a real calendar date (no 2026-02-30). */
export function isCalendarDate(date: string): boolean {
  const [y, m, d] = dateParts(date);
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

let currencies: ReadonlySet<string> | undefined;
/** ISO 4217 codes known to the runtime's ICU (undefined when it cannot list them: the pattern check alone applies). */
function knownCurrencies(): ReadonlySet<string> | undefined {
  if (currencies) return currencies;
  const list = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("currency");
  currencies = list ? new Set(list) : undefined;
  return currencies;
}

/** The minutes [start, end) a rule covers: one range, or two when it wraps (22:00-06:00). */
function ruleRanges(rule: TouRule): [number, number][] {
  const from = clockMinutes(rule.from);
  const to = clockMinutes(rule.to);
  if (from < to) return [[from, to]];
  if (to === 0) return [[from, 1440]];
  return [
    [0, to],
    [from, 1440],
  ];
}

/** Validates one tariff beyond its schema; returns its compiled form (undefined when it has issues). */
function compileTariff(name: string, t: Tariff, at: string, add: (path: string, message: string) => void): CompiledTariff | undefined {
  const before = { n: 0 };
  const issue = (path: string, message: string): void => {
    before.n++;
    add(path, message);
  };
  const known = knownCurrencies();
  if (known && !known.has(t.currency)) issue(`${at}.currency`, `'${t.currency}' is not an ISO 4217 currency code (e.g. EUR, USD, GBP, CHF)`);

  const dates = t.holidays?.dates ?? [];
  dates.forEach((d, i) => {
    if (!isCalendarDate(d)) issue(`${at}.holidays.dates[${i}]`, `'${d}' is not a calendar date`);
  });
  const rulesNameHoliday = t.versions.some((v) => v.rules.some((r) => r.days.includes("holiday")));
  const holidayAs: DayType = t.holidays?.priceAs ?? (rulesNameHoliday ? "holiday" : "sun");
  if (rulesNameHoliday && holidayAs !== "holiday")
    issue(`${at}.holidays.priceAs`, `rules name 'holiday' but holidays are priced as '${holidayAs}': set priceAs to holiday or drop those rules`);
  const dayTypes: readonly DayType[] = holidayAs === "holiday" ? DAY_TYPES : WEEK_DAYS;

  const versions: CompiledVersion[] = [];
  let previous = "";
  t.versions.forEach((v, vi) => {
    const vat = `${at}.versions[${vi}]`;
    if (vi === 0 && v.from !== undefined && !isCalendarDate(v.from)) issue(`${vat}.from`, `'${v.from}' is not a calendar date`);
    if (vi > 0) {
      if (v.from === undefined) issue(`${vat}.from`, "missing 'from': every version after the first starts on a local date");
      else if (!isCalendarDate(v.from)) issue(`${vat}.from`, `'${v.from}' is not a calendar date`);
      else if (v.from <= previous) issue(`${vat}.from`, `'${v.from}' must be after the previous version's from ('${previous}')`);
    }
    previous = v.from ?? previous;
    const prices = new Map(Object.entries(v.periods).map(([p, x]) => [p, x.pricePerKWh]));
    if (prices.size === 0) issue(`${vat}.periods`, "at least one period is needed");
    // Minute tables: each minute of each day type in use belongs to exactly one rule.
    const owner: Partial<Record<DayType, Int16Array>> = {};
    for (const d of dayTypes) owner[d] = new Int16Array(1440).fill(-1);
    v.rules.forEach((r, ri) => {
      const rat = `${vat}.rules[${ri}]`;
      if (!prices.has(r.period)) issue(`${rat}.period`, `unknown period '${r.period}' (periods: ${[...prices.keys()].join(", ") || "none"})`);
      if (r.from === r.to || (r.from === "00:00" && r.to === "00:00")) {
        issue(rat, `empty time range ${r.from}-${r.to} (use 00:00-24:00 for a whole day)`);
        return;
      }
      for (const d of r.days) {
        const table = owner[d];
        if (!table) continue; // holiday rules when holidays are priced as another day: reported above
        for (const [s, e] of ruleRanges(r)) {
          for (let m = s; m < e; m++) {
            const prior = table[m];
            if (prior !== undefined && prior >= 0) {
              issue(rat, `${d} ${hhmm(m)} is already covered by rules[${prior}] (periods must not overlap)`);
              break;
            }
            table[m] = ri;
          }
        }
      }
    });
    const days: Partial<Record<DayType, MinuteRun[]>> = {};
    for (const d of dayTypes) {
      const table = owner[d] as Int16Array;
      const runs: MinuteRun[] = [];
      for (let m = 0; m < 1440;) {
        const r = itemAt(table, m);
        let e = m;
        while (e < 1440 && table[e] === r) e++;
        if (r < 0) issue(`${vat}.rules`, `${d} ${hhmm(m)}-${hhmm(e)} is not covered by any rule (the week must be covered without gaps)`);
        else {
          const period = itemAt(v.rules, r).period;
          const last = runs[runs.length - 1];
          if (last && last.period === period && last.end === m) last.end = e;
          else runs.push({ start: m, end: e, period });
        }
        m = e;
      }
      days[d] = runs;
    }
    versions.push({ index: vi, from: v.from ?? "", standingChargePerDay: v.standingChargePerDay ?? 0, prices, days });
  });

  const teleinfo = t.teleinfo ?? {};
  for (const [field, period] of Object.entries(teleinfo)) {
    const missing = t.versions.findIndex((v) => !(period in v.periods));
    if (missing >= 0) issue(`${at}.teleinfo.${field}`, `period '${period}' is not priced in versions[${missing}]`);
  }
  if (before.n) return undefined;
  return { name, currency: t.currency, versions, holidays: new Set(dates), holidayAs, teleinfo };
}

export interface TariffLoadOptions {
  /** Extra holidays (e.g. the schedule's ICS calendar), joined with each tariff's own dates. */
  isHoliday?: IsHoliday;
}

/** Says which format a string breaks (TypeBox only quotes the regular expression). */
function patternIssue(i: Issue): Issue {
  if (!/^Expected string to match/.test(i.message)) return i;
  if (/\.(from|to)$/.test(i.path) && /rules\[\d+\]/.test(i.path)) return { path: i.path, message: "must be a local time HH:MM from 00:00 to 24:00" };
  if (/\.from$|\.dates\[\d+\]$/.test(i.path)) return { path: i.path, message: "must be a local date YYYY-MM-DD" };
  if (/\.currency$/.test(i.path)) return { path: i.path, message: "must be a three-letter ISO 4217 code such as EUR" };
  if (/\.period$|\.teleinfo\./.test(i.path) || /\.periods\./.test(i.path))
    return { path: i.path, message: "must be a period name: lower-case letters, digits, '-' and '_', starting with a letter, at most 32 characters" };
  return i;
}

/** Validates parsed JSON as a tariff file; reports every problem (file, JSON path, reason), never a partial book. */
export function buildTariffs(json: unknown, file = "<tariff>", opts: TariffLoadOptions = {}): TariffBook {
  const issues: TariffIssue[] = [];
  const add = (path: string, message: string): void => {
    issues.push({ file, path, message });
  };
  if (!isObject(json)) throw new TariffError(file, [{ file, path: "$", message: `expected an object with 'tariffs', got ${typeName(json)}` }]);
  const r = validate(TariffFile, json, 50);
  if (!r.ok) {
    for (const i of friendlyIssues(json, r.issues.map(patternIssue))) add(i.path, i.message);
    throw new TariffError(file, issues.slice(0, MAX_ISSUES));
  }
  const doc = r.value;
  const tariffs = new Map<string, CompiledTariff>();
  for (const [name, t] of Object.entries(doc.tariffs)) {
    const c = compileTariff(name, t, `$.tariffs.${name}`, add);
    if (c) tariffs.set(name, c);
  }
  const names = Object.keys(doc.tariffs);
  if (names.length === 0) add("$.tariffs", "at least one tariff is needed");
  if (doc.default !== undefined && !(doc.default in doc.tariffs)) add("$.default", `unknown tariff '${doc.default}' (tariffs: ${names.join(", ")})`);
  for (const [b, name] of Object.entries(doc.buildings ?? {}))
    if (!(name in doc.tariffs)) add(`$.buildings.${b}`, `unknown tariff '${name}' (tariffs: ${names.join(", ")})`);
  // A single tariff with no default and no buildings is everyone's.
  const fallback = doc.default ?? (names.length === 1 && !doc.buildings ? names[0] : undefined);
  if (issues.length) {
    const kept = issues.slice(0, MAX_ISSUES);
    if (issues.length > MAX_ISSUES) kept.push({ file, path: "$", message: `${issues.length - MAX_ISSUES} more problems not shown` });
    throw new TariffError(file, kept);
  }
  return new TariffBook(tariffs, new Map(Object.entries(doc.buildings ?? {})), fallback, opts.isHoliday);
}

/** Where a tariff comes from: a file (resolved against the user directory) or inline JSON. */
export interface TariffSource {
  source: "file" | "json";
  /** The file (source file) or a name for messages (source json). */
  label: string;
  json: string;
}

/** Loads a tariff file or inline JSON; throws TariffError with file, JSON path and reason. */
export function loadTariffSource(src: TariffSource, opts: TariffLoadOptions = {}, read: (f: string) => string = (f) => readFileSync(f, "utf8")): TariffBook {
  let text = src.json;
  if (src.source === "file") {
    if (!src.label) throw new TariffError("(no file)", [{ file: "(no file)", path: "$", message: "no tariff file configured" }]);
    try {
      text = read(src.label);
    } catch (err) {
      throw new TariffError(src.label, [{ file: src.label, path: "$", message: `cannot read file: ${(err as Error).message}` }]);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new TariffError(src.label, [{ file: src.label, path: "$", message: `not valid JSON: ${message}${lineColumn(text, message)}` }]);
  }
  return buildTariffs(json, src.label, opts);
}
