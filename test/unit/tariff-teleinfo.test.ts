// Teleinfo counters that carry their own tariff period (HC/HP, EJP, Tempo) are priced in the matching tariff period:
// indexes read from the Eco-Devices simulator (scripts/sim/ecodevices.ts) on an injected clock, priced by hand.
import { strict as assert } from "node:assert";
import { PERIOD_OF_INDEX, SimulatedEcoDevices } from "../../scripts/sim/ecodevices";
import { buildTariffs } from "../../lib/tariff/load";
import { priceTeleinfo, TELEINFO_PERIODS, type TeleinfoReading } from "../../lib/tariff/teleinfo";
import { TariffClock } from "../../lib/tariff/timeline";
import { calendarPeriods } from "../../lib/tz";
import { lastOf, nth } from "../support/checked";

const PARIS = "Europe/Paris";
const at = (iso: string): number => Date.parse(iso);
const near = (actual: number | undefined, expected: number, what: string): void =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: ${String(actual)} ≠ ${expected}`);

const WEEK = ["mon", "tue", "wed", "thu", "fri"];
const rules = [
  { days: WEEK, from: "06:00", to: "22:00", period: "hp" },
  { days: WEEK, from: "22:00", to: "06:00", period: "hc" },
  { days: ["sat", "sun"], from: "00:00", to: "24:00", period: "hc" },
];
const tariff = () =>
  buildTariffs({
    tariffs: {
      edf: {
        currency: "EUR",
        versions: [
          { periods: { hp: { pricePerKWh: 0.25 }, hc: { pricePerKWh: 0.18 } }, rules },
          { from: "2026-03-01", periods: { hp: { pricePerKWh: 0.3 }, hc: { pricePerKWh: 0.2 } }, rules },
        ],
        teleinfo: { hchc: "hc", hchp: "hp" },
      },
    },
  }).forBuilding("hq");

/** The simulator's T1 indexes as the ecodevices-teleinfo example stores them: lower-case fields, Wh. */
function reading(sim: SimulatedEcoDevices, ts: number): TeleinfoReading {
  const indexes: Record<string, number> = {};
  for (const [k, v] of Object.entries(sim.snapshot())) {
    const m = /^T1_(.+)$/.exec(k);
    const index = m?.[1];
    if (index !== undefined && index in PERIOD_OF_INDEX && typeof v === "number") indexes[index.toLowerCase()] = v;
  }
  return { ts, indexes };
}

describe("tariff: Eco-Devices teleinfo indexes priced in their own periods", function () {
  let sim: SimulatedEcoDevices | undefined;
  afterEach(async function () {
    await sim?.stop();
  });

  it("maps every index the simulator knows (BASE, HC, EJP, Tempo) to a default period", function () {
    assert.deepEqual(
      Object.keys(PERIOD_OF_INDEX)
        .map((k) => k.toLowerCase())
        .filter((k) => !(k in TELEINFO_PERIODS)),
      [],
    );
  });

  it("prices HC/HP indexes as the meter says, across the 1 March price change", async function () {
    let now = at("2026-02-27T10:00:00Z"); // Friday 11:00 CET
    sim = await SimulatedEcoDevices.start({ now: () => now });
    sim.setTariff("T1", "HC", { period: "HC..", indexes: { HCHC: 1_000_000, HCHP: 2_000_000 } });
    sim.set({ T1_PAPP: 1500 });
    const readings = [reading(sim, now)];
    // 11:00-13:00 CET at 1500 VA in HC.. (the meter's off-peak, though the time-of-use rules say hp): +3000 Wh hchc.
    now = at("2026-02-27T12:00:00Z");
    readings.push(reading(sim, now));
    sim.set({ T1_PTEC: "HP..", T1_PAPP: 2000 });
    // 13:00-14:00 CET at 2000 VA in HP..: +2000 Wh hchp.
    now = at("2026-02-27T13:00:00Z");
    readings.push(reading(sim, now));
    sim.set({ T1_PAPP: 0 });
    // Saturday 23:00 CET to Sunday 1 March 01:00 CET at 1000 VA in HC..: +2000 Wh hchc, half before midnight.
    now = at("2026-02-28T22:00:00Z");
    sim.set({ T1_PTEC: "HC..", T1_PAPP: 1000 });
    readings.push(reading(sim, now));
    now = at("2026-03-01T00:00:00Z");
    readings.push(reading(sim, now));
    assert.deepEqual(lastOf(readings).indexes, { hchc: 1_005_000, hchp: 2_002_000 });

    const clock = new TariffClock(tariff(), PARIS);
    const buckets = calendarPeriods(PARIS, nth(readings, 0).ts, now + 1, "month");
    const priced = priceTeleinfo(clock, readings, buckets);
    const feb = priced.get(at("2026-01-31T23:00:00Z"));
    const mar = priced.get(at("2026-02-28T23:00:00Z"));
    // By hand. February: hc 3 kWh × 0.18 = 0.54 plus 1 kWh (23:00-24:00 on the 28th) × 0.18 = 0.18 → 4 kWh, 0.72;
    // hp 2 kWh × 0.25 = 0.50. March: hc 1 kWh (00:00-01:00 on the 1st) × 0.20 = 0.20. Total 7 kWh, 1.42 EUR.
    near(feb?.periods.hc?.kWh, 4, "Feb hc kWh");
    near(feb?.periods.hc?.cost, 0.72, "Feb hc cost");
    near(feb?.periods.hp?.kWh, 2, "Feb hp kWh");
    near(feb?.periods.hp?.cost, 0.5, "Feb hp cost");
    near(mar?.periods.hc?.kWh, 1, "Mar hc kWh");
    near(mar?.cost, 0.2, "Mar cost");
    near((feb?.cost ?? 0) + (mar?.cost ?? 0), 1.42, "total");
  });

  it("refuses an index mapped to a period the tariff does not price", function () {
    const clock = new TariffClock(tariff(), PARIS);
    const readings: TeleinfoReading[] = [
      { ts: at("2026-02-27T10:00:00Z"), indexes: { bbrhpjr: 100 } },
      { ts: at("2026-02-27T11:00:00Z"), indexes: { bbrhpjr: 1100 } },
    ];
    const [from, to] = [nth(readings, 0).ts, nth(readings, 1).ts];
    assert.throws(
      () => priceTeleinfo(clock, readings, calendarPeriods(PARIS, from, to, "day")),
      (e: Error & { code?: string }) => e.code === "TARIFF_INVALID" && /period 'tempo-red-hp' has no price/.test(e.message),
    );
  });
});
