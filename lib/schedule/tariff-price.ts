// Savings priced with the building's time-of-use tariff (lib/tariff): the avoided standby energy is spread evenly
// over the off stretch and split across the tariff's periods, versions and holidays, as the cost endpoint prices
// measured energy. The schedule's holiday calendar is joined to the tariff's own holidays.
import type { TariffBook } from "../tariff/load";
import { priceDeltas } from "../tariff/price";
import { TariffClock } from "../tariff/timeline";
import type { PriceFn } from "./savings";

/**
 * A PriceFn over `book`: `zoneOf` gives a building's IANA zone (registry), `isHoliday` the schedule's calendar.
 * A building without a tariff (no entry and no default) prices nothing: its savings keep cost null.
 */
export function tariffPrice(book: TariffBook, zoneOf: (building: string) => string, isHoliday: (date: string) => boolean = () => false): PriceFn {
  const joined = book.withHolidays((date) => book.isHoliday(date) || isHoliday(date));
  const clocks = new Map<string, TariffClock | null>();
  return (q) => {
    let clock = clocks.get(q.building);
    if (clock === undefined) {
      try {
        clock = new TariffClock(joined.forBuilding(q.building), zoneOf(q.building), joined.isHoliday);
      } catch {
        clock = null; // TARIFF_INVALID for this building: no price
      }
      clocks.set(q.building, clock);
    }
    if (!clock || !(q.kWh > 0)) return clock ? { cost: 0, currency: clock.tariff.currency } : undefined;
    const bucket = { start: q.from, end: Math.max(q.to, q.from + 1) };
    const priced = priceDeltas(clock, [{ start: q.from, end: q.to, kWh: q.kWh }], [bucket]);
    return { cost: priced.get(bucket.start)?.cost ?? 0, currency: clock.tariff.currency };
  };
}
