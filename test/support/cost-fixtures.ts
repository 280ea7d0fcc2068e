// Fixtures shared by the energy/cost e2e tests: the three-device Paris registry and the three-period tariff.
import type { DeviceEntry } from "../../lib/contracts";
import type { RollupSettings } from "../../lib/influx/resolution";
import { buildRegistry, type Registry } from "../../lib/registry";

/** Rollups on: raw kept 30 days, 1-minute rollups 730 days, 1-hour rollups forever. */
export const ROLLUPS: RollupSettings = { enabled: true, retentionDays: { raw: 30, "1m": 730, "1h": 0 } };

/** An HS110 workplace plug on floor 1 of building hq. */
export const dev = (id: string, room: string, port: number): DeviceEntry => ({
  id,
  name: id,
  model: "HS110",
  host: "127.0.0.1",
  port,
  kind: "workplace",
  location: { building: "hq", floor: "1", room },
});

/** Devices a, b (room r1) and c (room r2) in building hq (Europe/Paris), on ports basePort+1..3. */
export function parisRegistry(basePort: number): Registry {
  return buildRegistry({
    version: 1,
    timezone: "UTC",
    buildings: { hq: { timezone: "Europe/Paris" } },
    devices: [dev("a", "r1", basePort + 1), dev("b", "r1", basePort + 2), dev("c", "r2", basePort + 3)],
  });
}

const EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** Tariff config: every day night 00:00-02:30 (0.10), early 02:30-07:00 (0.15), day 07:00-24:00 (0.30); 0.46 per day. */
export function threePeriodTariff(name: string) {
  return {
    tariffs: {
      [name]: {
        currency: "EUR",
        versions: [
          {
            standingChargePerDay: 0.46,
            periods: { night: { pricePerKWh: 0.1 }, early: { pricePerKWh: 0.15 }, day: { pricePerKWh: 0.3 } },
            rules: [
              { days: EVERY_DAY, from: "00:00", to: "02:30", period: "night" },
              { days: EVERY_DAY, from: "02:30", to: "07:00", period: "early" },
              { days: EVERY_DAY, from: "07:00", to: "24:00", period: "day" },
            ],
          },
        ],
      },
    },
    default: name,
  };
}
