// Eco-Devices teleinfo meters already say which tariff period their energy belongs to: each index (hchc, hchp, ejphn,
// bbrhcjb, …) only grows in its own period. Their rises are priced in the period the tariff maps the index to, at the
// price of the version in effect, instead of by the time-of-use rules.
import { PlugwatchError } from "../contracts/errors";
import type { Bucket, PricedBucket } from "./price";
import type { TariffClock } from "./timeline";

/**
 * The index fields the ecodevices-teleinfo example stores (lower case, Wh) and the period name each maps to when the
 * tariff's `teleinfo` does not say otherwise: HC/HP → hc/hp, EJP → normal/peak, Tempo → hc/hp per day colour.
 */
export const TELEINFO_PERIODS: Readonly<Record<string, string>> = {
  base: "base",
  hchc: "hc",
  hchp: "hp",
  ejphn: "ejp-normal",
  ejphpm: "ejp-peak",
  bbrhcjb: "tempo-blue-hc",
  bbrhpjb: "tempo-blue-hp",
  bbrhcjw: "tempo-white-hc",
  bbrhpjw: "tempo-white-hp",
  bbrhcjr: "tempo-red-hc",
  bbrhpjr: "tempo-red-hp",
};

/** One stored teleinfo reading: its time and the index fields it carries (Wh). */
export interface TeleinfoReading {
  ts: number;
  indexes: Readonly<Record<string, number>>;
}

/** The period an index is priced in: the tariff's mapping, else the default one; TARIFF_INVALID when neither. */
export function periodOfIndex(clock: TariffClock, field: string): string {
  const p = clock.tariff.teleinfo[field] ?? TELEINFO_PERIODS[field];
  if (p === undefined)
    throw new PlugwatchError("TARIFF_INVALID", `teleinfo index '${field}' is not mapped to a period (tariff '${clock.tariff.name}', 'teleinfo')`);
  return p;
}

/**
 * Prices the rises of every index between consecutive readings, each in its mapped period, split over the local
 * days (and so the tariff versions) and the buckets it spans in proportion to time. A falling index (a meter
 * replaced or reset) adds nothing for that step, like the teleinfo Grafana board. Adds into `into`.
 */
export function priceTeleinfo(
  clock: TariffClock,
  readings: readonly TeleinfoReading[],
  buckets: readonly Bucket[],
  into = new Map<number, PricedBucket>(),
): Map<number, PricedBucket> {
  const sorted = [...readings].sort((a, b) => a.ts - b.ts);
  for (const [i, cur] of sorted.entries()) {
    const prev = sorted[i - 1];
    if (prev === undefined) continue; // the first reading only starts the indexes
    for (const [field, value] of Object.entries(cur.indexes)) {
      const before = prev.indexes[field];
      if (before === undefined || !(value > before)) continue;
      const kWh = (value - before) / 1000;
      const period = periodOfIndex(clock, field);
      const span = Math.max(1, cur.ts - prev.ts);
      for (const b of buckets) {
        for (let t = Math.max(b.start, prev.ts); t < Math.min(b.end, cur.ts);) {
          const day = clock.day(t);
          const end = Math.min(day.end, b.end, cur.ts);
          const price = day.version.prices.get(period);
          if (price === undefined)
            throw new PlugwatchError("TARIFF_INVALID", `period '${period}' has no price in version ${day.version.index} of tariff '${clock.tariff.name}'`);
          const part = (kWh * (end - t)) / span;
          let acc = into.get(b.start);
          if (!acc) into.set(b.start, (acc = { start: b.start, end: b.end, kWh: 0, cost: 0, periods: {} }));
          const p = (acc.periods[period] ??= { kWh: 0, cost: 0 });
          p.kWh += part;
          p.cost += part * price;
          acc.kWh += part;
          acc.cost += part * price;
          t = end;
        }
      }
    }
  }
  return into;
}
