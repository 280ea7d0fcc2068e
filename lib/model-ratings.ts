// The one table of plug model ratings (W, A, V) from the datasheets. The collector (lib/plausibility.ts) and the
// storage hook (lib/influx/reading-guard.ts) each apply their own documented margin above it.

/** Electrical rating of a plug model: the most it is built to carry (W, A) and the highest mains it may see (V). */
export interface ModelRating {
  maxPowerW: number;
  maxCurrentA: number;
  maxVoltageV: number;
}

/**
 * Datasheet ratings, keyed by upper-case model name without hardware revision or market suffix: HS110, P110 and
 * P115 (EU, 16 A / 3680 W), KP115 (sold as EU 16 A and US 15 A: the larger), HS300 (US strip, 15 A / 1800 W for the
 * whole strip). The model name does not tell the market, so the voltage bound is the highest mains of any market
 * (250 V) for every model: a 230 V reading from an "HS300" is odd but not forged.
 */
export const MODEL_RATINGS: Readonly<Record<string, ModelRating>> = {
  HS110: { maxPowerW: 3680, maxCurrentA: 16, maxVoltageV: 250 },
  KP115: { maxPowerW: 3680, maxCurrentA: 16, maxVoltageV: 250 },
  P110: { maxPowerW: 3680, maxCurrentA: 16, maxVoltageV: 250 },
  P115: { maxPowerW: 3680, maxCurrentA: 16, maxVoltageV: 250 },
  HS300: { maxPowerW: 1800, maxCurrentA: 15, maxVoltageV: 250 },
};

/** For a model not in the table, where a bound is still wanted: the largest rating of any supported plug. */
export const LARGEST_RATING: ModelRating = { maxPowerW: 3680, maxCurrentA: 16, maxVoltageV: 250 };

/** The rating of a registry model string ("HS110", "HS110v2", "hs110(EU)", "P110"…), or undefined for an unknown model. */
export function ratingOf(model: string | undefined): ModelRating | undefined {
  const base = model ? /^[A-Za-z]+\d+/.exec(model.trim()) : null;
  return base ? MODEL_RATINGS[base[0].toUpperCase()] : undefined;
}
