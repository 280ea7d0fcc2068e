// Tariff definition, period resolution and pricing: boundaries, DST both ways (Europe/Paris 2026), holidays, effective dates.
// Every expected figure is computed by hand in the comments next to it (literal numbers, not re-derived by the code under test).
import { strict as assert } from "node:assert";
import { buildTariffs, loadTariffSource, TariffError, type TariffBook } from "../../lib/tariff/load";
import { priceDeltas, standingCharges, type EnergyDelta } from "../../lib/tariff/price";
import { TariffClock } from "../../lib/tariff/timeline";
import { calendarPeriods } from "../../lib/tz";
import { member, nth } from "../support/checked";

const PARIS = "Europe/Paris";
const MIN = 60_000;
const H = 60 * MIN;
const at = (iso: string): number => Date.parse(iso);
const near = (actual: number, expected: number, what: string): void => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

/** French HC/HP-like tariff: weekdays 06:00-22:00 peak (hp), nights and weekends off-peak (hc); prices change on 1 March 2026. */
const HCHP = {
  currency: "EUR",
  holidays: { dates: ["2026-05-01", "2026-12-25"], priceAs: "sun" },
  versions: [
    {
      standingChargePerDay: 0.5,
      periods: { hp: { pricePerKWh: 0.25 }, hc: { pricePerKWh: 0.18 } },
      rules: [
        { days: ["mon", "tue", "wed", "thu", "fri"], from: "06:00", to: "22:00", period: "hp" },
        { days: ["mon", "tue", "wed", "thu", "fri"], from: "22:00", to: "06:00", period: "hc" },
        { days: ["sat", "sun"], from: "00:00", to: "24:00", period: "hc" },
      ],
    },
    {
      from: "2026-03-01",
      standingChargePerDay: 0.6,
      periods: { hp: { pricePerKWh: 0.3 }, hc: { pricePerKWh: 0.2 } },
      rules: [
        { days: ["mon", "tue", "wed", "thu", "fri"], from: "06:00", to: "22:00", period: "hp" },
        { days: ["mon", "tue", "wed", "thu", "fri"], from: "22:00", to: "06:00", period: "hc" },
        { days: ["sat", "sun"], from: "00:00", to: "24:00", period: "hc" },
      ],
    },
  ],
  teleinfo: { hchc: "hc", hchp: "hp" },
};

/** Every day alike, with boundaries inside the DST hours: night 00:00-02:30, early 02:30-07:00, day 07:00-24:00. */
const THREE = {
  currency: "EUR",
  versions: [
    {
      standingChargePerDay: 0.46,
      periods: { night: { pricePerKWh: 0.1 }, early: { pricePerKWh: 0.15 }, day: { pricePerKWh: 0.3 } },
      rules: [
        { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], from: "00:00", to: "02:30", period: "night" },
        { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], from: "02:30", to: "07:00", period: "early" },
        { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], from: "07:00", to: "24:00", period: "day" },
      ],
    },
  ],
};

const book = (): TariffBook => buildTariffs({ tariffs: { hchp: HCHP, three: THREE }, default: "hchp", buildings: { lab: "three" } }, "tariffs.json");

/** 1-minute deltas of a constant power over [from, to): kW × 1/60 h each. */
function constant(from: number, to: number, kW: number, step = MIN): EnergyDelta[] {
  const out: EnergyDelta[] = [];
  for (let t = from; t < to; t += step) out.push({ start: t, end: Math.min(to, t + step), kWh: (kW * (Math.min(to, t + step) - t)) / H });
  return out;
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TariffError, String(err));
    assert.equal(err.code, "TARIFF_INVALID");
    return err.issues.map((i) => `${i.file} ${i.path}: ${i.message}`);
  }
  assert.fail("expected a TariffError");
}

describe("tariff: definition and validation", () => {
  it("loads a valid file and picks a building's tariff or the default", () => {
    const b = book();
    assert.equal(b.forBuilding("lab").name, "three");
    assert.equal(b.forBuilding("hq").name, "hchp");
    assert.equal(b.forBuilding("hq").currency, "EUR");
    const only = buildTariffs({ tariffs: { t: THREE } });
    assert.equal(only.forBuilding("anything").name, "t"); // a single tariff without buildings is everyone's
    const none = buildTariffs({ tariffs: { a: THREE, b: THREE }, buildings: { hq: "a" } });
    assert.throws(() => none.forBuilding("annex"), /no tariff for building 'annex'/);
  });

  it("reports gaps and overlaps in the week with the file, the JSON path and the day and time", () => {
    const gap = structuredClone(THREE);
    nth(nth(gap.versions, 0).rules, 2).from = "08:00";
    assert.deepEqual(issuesOf(() => buildTariffs({ tariffs: { t: gap } }, "t.json")).slice(0, 2), [
      "t.json $.tariffs.t.versions[0].rules: mon 07:00-08:00 is not covered by any rule (the week must be covered without gaps)",
      "t.json $.tariffs.t.versions[0].rules: tue 07:00-08:00 is not covered by any rule (the week must be covered without gaps)",
    ]);
    const overlap = structuredClone(HCHP);
    nth(nth(overlap.versions, 1).rules, 2).days = ["fri", "sat", "sun"];
    assert.deepEqual(
      issuesOf(() => buildTariffs({ tariffs: { t: overlap } }, "t.json")),
      ["t.json $.tariffs.t.versions[1].rules[2]: fri 00:00 is already covered by rules[1] (periods must not overlap)"],
    );
  });

  it("reports unknown periods, bad currencies, dates and version order, and dangling tariff names", () => {
    const t = structuredClone(HCHP) as Record<string, unknown> & typeof HCHP;
    t.currency = "EUX";
    nth(nth(t.versions, 0).rules, 0).period = "peak";
    nth(t.versions, 1).from = "2026-02-30";
    t.holidays.dates = ["2026-13-01"];
    const issues = issuesOf(() => buildTariffs({ tariffs: { t }, default: "x", buildings: { hq: "y" } }, "t.json"));
    assert.deepEqual(issues, ["t.json $.tariffs.t.holidays.dates[0]: must be a local date YYYY-MM-DD"]); // schema pattern
    const semantic = issuesOf(() => {
      t.holidays.dates = [];
      buildTariffs({ tariffs: { t }, default: "x", buildings: { hq: "y" } }, "t.json");
    });
    assert.deepEqual(semantic, [
      "t.json $.tariffs.t.currency: 'EUX' is not an ISO 4217 currency code (e.g. EUR, USD, GBP, CHF)",
      "t.json $.tariffs.t.versions[0].rules[0].period: unknown period 'peak' (periods: hp, hc)",
      "t.json $.tariffs.t.versions[1].from: '2026-02-30' is not a calendar date",
      "t.json $.default: unknown tariff 'x' (tariffs: t)",
      "t.json $.buildings.hq: unknown tariff 'y' (tariffs: t)",
    ]);
    const order = structuredClone(HCHP);
    order.versions.push({ ...structuredClone(nth(HCHP.versions, 1)), from: "2026-01-01" });
    assert.deepEqual(
      issuesOf(() => buildTariffs({ tariffs: { t: order } }, "t.json")),
      ["t.json $.tariffs.t.versions[2].from: '2026-01-01' must be after the previous version's from ('2026-03-01')"],
    );
  });

  it("reports schema problems (missing and unknown properties, bad times) and bad JSON with line and column", () => {
    const issues = issuesOf(() =>
      buildTariffs(
        { tariffs: { t: { versions: [{ periods: {}, rules: [{ days: ["mon"], from: "25:00", to: "06:00", period: "x" }] }] } }, extra: 1 },
        "t.json",
      ),
    );
    assert.ok(issues.includes("t.json $.tariffs.t.currency: missing required property 'currency'"), issues.join("\n"));
    assert.ok(issues.includes("t.json $.extra: unknown property 'extra'"), issues.join("\n"));
    assert.ok(issues.includes("t.json $.tariffs.t.versions[0].rules[0].from: must be a local time HH:MM from 00:00 to 24:00"), issues.join("\n"));
    const json = issuesOf(() => loadTariffSource({ source: "json", label: "inline", json: '{\n "tariffs": ,\n}' }));
    assert.equal(json.length, 1);
    assert.match(nth(json, 0), /^inline \$: not valid JSON: /);
    assert.deepEqual(
      issuesOf(() => loadTariffSource({ source: "file", label: "/nowhere/t.json", json: "" })).map((s) => s.split(":")[0]),
      ["/nowhere/t.json $"],
    );
  });

  it("requires holiday rules to be used and covered when holidays are priced as their own day type", () => {
    const t = structuredClone(THREE) as typeof THREE & { holidays?: unknown };
    t.holidays = { dates: ["2026-05-01"], priceAs: "holiday" };
    assert.deepEqual(
      issuesOf(() => buildTariffs({ tariffs: { t } }, "t.json")),
      ["t.json $.tariffs.t.versions[0].rules: holiday 00:00-24:00 is not covered by any rule (the week must be covered without gaps)"],
    );
    const u = structuredClone(THREE) as typeof THREE & { holidays?: unknown };
    nth(u.versions, 0).rules.push({ days: ["holiday"], from: "00:00", to: "24:00", period: "night" });
    u.holidays = { priceAs: "sun" };
    assert.deepEqual(
      issuesOf(() => buildTariffs({ tariffs: { u } }, "t.json")),
      ["t.json $.tariffs.u.holidays.priceAs: rules name 'holiday' but holidays are priced as 'sun': set priceAs to holiday or drop those rules"],
    );
  });
});

describe("tariff: period resolution", () => {
  const hq = (): TariffClock => new TariffClock(book().forBuilding("hq"), PARIS);

  it("resolves the instants either side of each boundary (Paris winter, UTC+1)", () => {
    const c = hq();
    // Wednesday 2026-01-14: 06:00 local = 05:00Z, 22:00 local = 21:00Z.
    assert.deepEqual(
      [at("2026-01-14T04:59:59.999Z"), at("2026-01-14T05:00:00Z"), at("2026-01-14T20:59:59.999Z"), at("2026-01-14T21:00:00Z")].map((t) => {
        const r = c.resolve(t);
        return [r.period, r.pricePerKWh, r.version, r.dayType];
      }),
      [
        ["hc", 0.18, 0, "wed"],
        ["hp", 0.25, 0, "wed"],
        ["hp", 0.25, 0, "wed"],
        ["hc", 0.18, 0, "wed"],
      ],
    );
    // Friday 22:00 → Saturday: off-peak all weekend; Monday 06:00 (summer, UTC+2 → 04:00Z) peak again at the new price.
    assert.equal(c.resolve(at("2026-01-16T23:30:00Z")).dayType, "sat");
    assert.deepEqual([c.resolve(at("2026-06-08T03:59:00Z")).period, c.resolve(at("2026-06-08T04:00:00Z")).period], ["hc", "hp"]);
    assert.equal(c.resolve(at("2026-06-08T04:00:00Z")).pricePerKWh, 0.3);
  });

  it("switches version at local midnight of its from date (2026-03-01 00:00 Paris = 2026-02-28T23:00Z)", () => {
    const c = hq();
    assert.deepEqual([c.resolve(at("2026-02-28T22:59:59.999Z")).version, c.resolve(at("2026-02-28T23:00:00Z")).version], [0, 1]);
    assert.deepEqual([c.resolve(at("2026-02-28T22:59:59.999Z")).pricePerKWh, c.resolve(at("2026-02-28T23:00:00Z")).pricePerKWh], [0.18, 0.2]);
  });

  it("spring forward (2026-03-29, 23 h): 02:00-03:00 does not exist, 02:30 is never seen", () => {
    const c = new TariffClock(book().forBuilding("lab"), PARIS);
    const day = c.day(at("2026-03-29T10:00:00Z"));
    assert.equal((day.end - day.start) / H, 23);
    // Local 00:00 CET = 23:00Z; 02:00 CET jumps to 03:00 CEST at 01:00Z; 07:00 CEST = 05:00Z; 24:00 CEST = 22:00Z.
    assert.deepEqual(
      day.segments.map((s) => [s.period, new Date(s.start).toISOString(), (s.end - s.start) / H]),
      [
        ["night", "2026-03-28T23:00:00.000Z", 2],
        ["early", "2026-03-29T01:00:00.000Z", 4],
        ["day", "2026-03-29T05:00:00.000Z", 17],
      ],
    );
  });

  it("fall back (2026-10-25, 25 h): the repeated 02:00-03:00 is priced by its wall time both times", () => {
    const c = new TariffClock(book().forBuilding("lab"), PARIS);
    const day = c.day(at("2026-10-25T10:00:00Z"));
    assert.equal((day.end - day.start) / H, 25);
    // 00:00 CEST = 22:00Z (24th). 02:30 CEST = 00:30Z → early; 03:00 CEST = 01:00Z becomes 02:00 CET → night again until
    // 02:30 CET = 01:30Z; early until 07:00 CET = 06:00Z; day until 24:00 CET = 23:00Z.
    assert.deepEqual(
      day.segments.map((s) => [s.period, new Date(s.start).toISOString(), (s.end - s.start) / H]),
      [
        ["night", "2026-10-24T22:00:00.000Z", 2.5],
        ["early", "2026-10-25T00:30:00.000Z", 0.5],
        ["night", "2026-10-25T01:00:00.000Z", 0.5],
        ["early", "2026-10-25T01:30:00.000Z", 4.5],
        ["day", "2026-10-25T06:00:00.000Z", 17],
      ],
    );
  });

  it("prices holidays as their day type: from the file, or from an injected calendar", () => {
    const c = hq();
    // Friday 2026-05-01 is a holiday priced as a Sunday: 10:00 local is off-peak; Friday 2026-05-08 10:00 is peak.
    assert.deepEqual([c.resolve(at("2026-05-01T08:00:00Z")).period, c.resolve(at("2026-05-01T08:00:00Z")).dayType], ["hc", "sun"]);
    assert.equal(c.resolve(at("2026-05-08T08:00:00Z")).period, "hp");
    const withCalendar = new TariffClock(book().forBuilding("hq"), PARIS, (d) => d === "2026-05-08");
    assert.equal(withCalendar.resolve(at("2026-05-08T08:00:00Z")).period, "hc");
    const joined = book().withHolidays((d) => d === "2026-05-08");
    assert.equal(new TariffClock(joined.forBuilding("hq"), PARIS, joined.isHoliday).resolve(at("2026-05-08T08:00:00Z")).dayType, "sun");
  });

  it("prices holidays in a period of their own when rules name them", () => {
    const t = structuredClone(THREE) as typeof THREE & { holidays?: unknown };
    (nth(t.versions, 0).periods as Record<string, { pricePerKWh: number }>).holiday = { pricePerKWh: 0.05 };
    nth(t.versions, 0).rules.push({ days: ["holiday"], from: "00:00", to: "24:00", period: "holiday" });
    t.holidays = { dates: ["2026-12-25"] }; // priceAs defaults to holiday when rules name it
    const c = new TariffClock(buildTariffs({ tariffs: { t } }).forBuilding("x"), PARIS);
    assert.deepEqual([c.resolve(at("2026-12-25T12:00:00Z")).period, c.resolve(at("2026-12-25T12:00:00Z")).pricePerKWh], ["holiday", 0.05]);
    assert.equal(c.resolve(at("2026-12-24T12:00:00Z")).period, "day");
  });
});

/**
 * Prices a constant 1 kW over [from, to) of `building` in calendar buckets of `unit`, asserts that the range is one
 * bucket, and checks its kWh, cost, the named periods' figures and the standing charge against the hand-priced values.
 */
function assertOneBucket(
  building: string,
  fromIso: string,
  toIso: string,
  unit: "day" | "week",
  want: { kWh: number; cost: number; periods: Record<string, { kWh?: number; cost: number }>; standing: number },
): void {
  const c = new TariffClock(book().forBuilding(building), PARIS);
  const from = at(fromIso);
  const to = at(toIso);
  const buckets = calendarPeriods(PARIS, from, to, unit);
  assert.equal(buckets.length, 1);
  const b = priceDeltas(c, constant(from, to, 1), buckets).get(from);
  assert.ok(b);
  near(b.kWh, want.kWh, "kWh");
  near(b.cost, want.cost, "cost");
  for (const [period, w] of Object.entries(want.periods)) {
    if (w.kWh !== undefined) near(member(b.periods, period).kWh, w.kWh, `${period} kWh`);
    near(member(b.periods, period).cost, w.cost, `${period} cost`);
  }
  near(standingCharges(c, buckets, from, to).get(from) as number, want.standing, "standing");
}

describe("tariff: pricing energy deltas (synthetic days priced by hand)", () => {
  it("a spring-forward day at a constant 1 kW, from 1-minute deltas", () => {
    // By hand: night 2 h × 1 kW = 2 kWh × 0.10 = 0.20; early 4 kWh × 0.15 = 0.60; day 17 kWh × 0.30 = 5.10.
    // Total 23 kWh, 5.90 EUR. Standing charge: one day, 0.46.
    assertOneBucket("lab", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", "day", {
      kWh: 23,
      cost: 5.9,
      periods: { night: { kWh: 2, cost: 0.2 }, early: { cost: 0.6 }, day: { cost: 5.1 } },
      standing: 0.46,
    });
  });

  it("a fall-back day at a constant 1 kW, from 15-minute deltas, in hourly buckets", () => {
    const c = new TariffClock(book().forBuilding("lab"), PARIS);
    const from = at("2026-10-24T22:00:00Z");
    const to = at("2026-10-25T23:00:00Z");
    const buckets = calendarPeriods(PARIS, from, to, "hour");
    assert.equal(buckets.length, 25);
    const priced = priceDeltas(c, constant(from, to, 1, 15 * MIN), buckets);
    const sum = (k: "kWh" | "cost") => [...priced.values()].reduce((s, x) => s + x[k], 0);
    // By hand: night 3 kWh × 0.10 = 0.30; early 5 kWh × 0.15 = 0.75; day 17 kWh × 0.30 = 5.10. Total 25 kWh, 6.15 EUR.
    near(sum("kWh"), 25, "kWh");
    near(sum("cost"), 6.15, "cost");
    // The second 02:00 hour (01:00Z-02:00Z): 30 min night (0.05) + 30 min early (0.075) = 0.125 EUR.
    near(priced.get(at("2026-10-25T01:00:00Z"))?.cost as number, 0.125, "repeated hour");
    // Standing: 0.46 over 25 hourly buckets → 0.0184 each.
    const standing = standingCharges(c, buckets, from, to);
    near(standing.get(at("2026-10-25T01:00:00Z")) as number, 0.0184, "standing per hour");
    near(
      [...standing.values()].reduce((s, x) => s + x, 0),
      0.46,
      "standing per day",
    );
  });

  it("a week across the 1 March price change: one bucket, two versions", () => {
    // Week of Monday 2026-02-23 (00:00 CET = 2026-02-22T23:00Z) to Monday 2026-03-02.
    // By hand at 1 kW: Mon-Fri 23-27 Feb: 16 h hp × 0.25 = 4.00 + 8 h hc × 0.18 = 1.44 → 5.44/day, 27.20.
    // Sat 28 Feb: 24 h hc × 0.18 = 4.32. Sun 1 Mar (new prices): 24 h hc × 0.20 = 4.80. Total 168 kWh, 36.32 EUR.
    // hp: 80 kWh, 20.00; hc: 40 + 24 + 24 = 88 kWh, 7.20 + 4.32 + 4.80 = 16.32.
    // Standing: 6 days × 0.50 + 1 day × 0.60 = 3.60.
    assertOneBucket("hq", "2026-02-22T23:00:00Z", "2026-03-01T23:00:00Z", "week", {
      kWh: 168,
      cost: 36.32,
      periods: { hp: { kWh: 80, cost: 20 }, hc: { kWh: 88, cost: 16.32 } },
      standing: 3.6,
    });
  });

  it("months either side of the change: standing charges per local day", () => {
    const c = new TariffClock(book().forBuilding("hq"), PARIS);
    const from = at("2026-01-31T23:00:00Z"); // 1 Feb 00:00 CET
    const to = at("2026-03-31T22:00:00Z"); // 1 Apr 00:00 CEST
    const buckets = calendarPeriods(PARIS, from, to, "month");
    const s = standingCharges(c, buckets, from, to);
    // February: 28 × 0.50 = 14.00; March: 31 × 0.60 = 18.60 (the 23-hour 29 March counts as one day).
    near(s.get(from) as number, 14, "February");
    near(s.get(at("2026-02-28T23:00:00Z")) as number, 18.6, "March");
  });

  it("splits a delta across a period boundary in proportion to time, and a holiday at the holiday's price", () => {
    const c = new TariffClock(book().forBuilding("hq"), PARIS);
    // Tuesday 2026-06-09, 21:50-22:05 CEST (19:50Z-20:05Z), 0.5 kWh: 10 min hp, 5 min hc.
    const d = { start: at("2026-06-09T19:50:00Z"), end: at("2026-06-09T20:05:00Z"), kWh: 0.5 };
    const buckets = calendarPeriods(PARIS, d.start, d.end, "day");
    const b = priceDeltas(c, [d], buckets).get(nth(buckets, 0).start);
    // By hand: hp 0.5 × 10/15 = 0.333333 kWh × 0.30 = 0.10; hc 0.5 × 5/15 = 0.166667 kWh × 0.20 = 0.033333. Total 0.133333.
    near(b?.periods.hp?.cost as number, 0.1, "hp");
    near(b?.periods.hc?.kWh as number, 0.5 / 3, "hc kWh");
    near(b?.cost as number, 0.1 + 0.2 / 6, "total");
    // Friday 1 May 2026 (holiday, priced as Sunday) at 1 kW: 24 kWh × 0.20 = 4.80. Friday 8 May: 16 × 0.30 + 8 × 0.20 = 6.40.
    const day = (iso: string) => {
      const s = at(iso);
      const bs = calendarPeriods(PARIS, s, s + 24 * H, "day");
      return priceDeltas(c, constant(s, s + 24 * H, 1), bs).get(s)?.cost as number;
    };
    near(day("2026-04-30T22:00:00Z"), 4.8, "1 May");
    near(day("2026-05-07T22:00:00Z"), 6.4, "8 May");
  });

  it("refuses to price a day before the first version", () => {
    const t = structuredClone(THREE) as typeof THREE & { versions: { from?: string }[] };
    nth(t.versions, 0).from = "2026-01-01";
    const c = new TariffClock(buildTariffs({ tariffs: { t } }).forBuilding("x"), PARIS);
    assert.throws(
      () => c.resolve(at("2025-12-31T12:00:00Z")),
      (e: Error & { code?: string }) => e.code === "TARIFF_INVALID" && /no version in effect on 2025-12-31/.test(e.message),
    );
    assert.equal(c.resolve(at("2025-12-31T23:00:00Z")).period, "night");
  });
});
