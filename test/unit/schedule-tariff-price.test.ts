// Savings priced with the time-of-use tariff: the avoided energy split across peak/off-peak periods, with the
// schedule's holidays joined to the tariff's. Hand-computed figures.
import assert from "node:assert/strict";
import { tariffPrice } from "../../lib/schedule/tariff-price";
import { buildTariffs } from "../../lib/tariff/load";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"];
const HCHP = {
  currency: "EUR",
  holidays: { dates: ["2026-05-01"], priceAs: "sun" },
  versions: [
    {
      standingChargePerDay: 0.6,
      periods: { hp: { pricePerKWh: 0.3 }, hc: { pricePerKWh: 0.2 } },
      rules: [
        { days: WEEKDAYS, from: "06:00", to: "22:00", period: "hp" },
        { days: WEEKDAYS, from: "22:00", to: "06:00", period: "hc" },
        { days: ["sat", "sun"], from: "00:00", to: "24:00", period: "hc" },
      ],
    },
  ],
};
const near = (a: number | undefined, e: number): void => assert.ok(a !== undefined && Math.abs(a - e) < 1e-9, `${a} ≠ ${e}`);
// Wednesday 15 April 2026 20:00 → Thursday 07:30 in Paris (CEST, UTC+2): 11.5 h at 10 W = 0.115 kWh.
const q = { device: "pr-1", building: "hq", from: Date.parse("2026-04-15T18:00:00Z"), to: Date.parse("2026-04-16T05:30:00Z"), watts: 10, kWh: 0.115 };

describe("savings priced with the tariff (lib/schedule/tariff-price.ts)", function () {
  it("splits an evening-to-morning off stretch across peak and off-peak", function () {
    const price = tariffPrice(buildTariffs({ tariffs: { hchp: HCHP }, default: "hchp" }), () => "Europe/Paris");
    // hp 20:00-22:00 and 06:00-07:30 = 3.5 h = 0.035 kWh × 0.30 = 0.0105; hc 22:00-06:00 = 8 h = 0.08 kWh × 0.20 = 0.016.
    const r = price(q);
    near(r?.cost, 0.0265);
    assert.equal(r?.currency, "EUR");
  });

  it("prices a day of the schedule's holiday calendar as the tariff's holidays (off-peak all day)", function () {
    const price = tariffPrice(
      buildTariffs({ tariffs: { hchp: HCHP }, default: "hchp" }),
      () => "Europe/Paris",
      (d) => d === "2026-04-16",
    );
    // Wed 20:00-22:00 hp 0.02 kWh × 0.30 = 0.006; Wed 22:00-24:00 hc 0.02 × 0.20 = 0.004; Thu (holiday) 00:00-07:30 hc 0.075 × 0.20 = 0.015.
    near(price(q)?.cost, 0.025);
  });

  it("gives no price for a building without a tariff (cost stays null), and 0 for no energy", function () {
    const price = tariffPrice(buildTariffs({ tariffs: { hchp: HCHP }, buildings: { lab: "hchp" } }), () => "Europe/Paris");
    assert.equal(price(q), undefined);
    near(price({ ...q, building: "lab", kWh: 0 })?.cost, 0);
  });
});
