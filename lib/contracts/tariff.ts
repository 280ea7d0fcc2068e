// Tariff contract: currencies, time-of-use periods and prices per kWh, holidays, standing charges and effective dates.
import { Type, type Static } from "@sinclair/typebox";
import { Slug, SLUG_PATTERN } from "./common";

const SLUG_SCHEMA = { pattern: SLUG_PATTERN, minLength: 1, maxLength: 64 };

/** Day types a time-of-use rule applies to: ISO weekdays, plus `holiday` (days of the holiday calendar). */
export const DAY_TYPES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"] as const;
export type DayType = (typeof DAY_TYPES)[number];
export const WEEK_DAYS = DAY_TYPES.slice(0, 7) as readonly DayType[];

export const LOCAL_DATE_PATTERN = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
const localDate = (description: string) => Type.String({ pattern: LOCAL_DATE_PATTERN, description });
export const LocalDate = localDate("Local calendar date YYYY-MM-DD in the building's time zone");
export const ClockTime = Type.String({
  pattern: "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
  description: "Local wall-clock time HH:MM (24:00 = end of the day)",
});
export const PeriodName = Type.String({
  pattern: "^[a-z][a-z0-9_-]{0,31}$",
  description: "Name of a tariff period, e.g. peak, off-peak, hc, hp (lower-case, 1-32 characters)",
});
export const Money = Type.Number({ minimum: 0, maximum: 1_000_000, description: "Amount in the tariff's currency" });

export const TouRule = Type.Object(
  {
    days: Type.Array(Type.Union(DAY_TYPES.map((d) => Type.Literal(d))), { minItems: 1, maxItems: 8, uniqueItems: true }),
    from: ClockTime,
    to: ClockTime,
    period: PeriodName,
  },
  {
    additionalProperties: false,
    description:
      "Local times [from, to) of the listed day types priced in `period`. from > to wraps inside the same day: 22:00-06:00 is 00:00-06:00 and 22:00-24:00 of that day.",
  },
);
export type TouRule = Static<typeof TouRule>;

export const TariffVersion = Type.Object(
  {
    from: Type.Optional(localDate("First local day this version applies to (absent on the first: always)")),
    standingChargePerDay: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000, description: "Fixed charge per local day (default 0)" })),
    periods: Type.Record(PeriodName, Type.Object({ pricePerKWh: Money }, { additionalProperties: false }), {
      description: "Every period and its price per kWh",
    }),
    rules: Type.Array(TouRule, { minItems: 1, maxItems: 500, description: "Time-of-use rules; every minute of every day type in use is covered exactly once" }),
  },
  { additionalProperties: false, description: "Prices in effect from a local date until the next version" },
);
export type TariffVersion = Static<typeof TariffVersion>;

export const Tariff = Type.Object(
  {
    currency: Type.String({ pattern: "^[A-Z]{3}$", description: "ISO 4217 currency code, e.g. EUR" }),
    holidays: Type.Optional(
      Type.Object(
        {
          dates: Type.Optional(Type.Array(LocalDate, { maxItems: 5000, uniqueItems: true, description: "Local dates of public holidays" })),
          priceAs: Type.Optional(
            Type.Union(
              DAY_TYPES.map((d) => Type.Literal(d)),
              { description: "Day type a holiday is priced as (default holiday when rules name it, else sun)" },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    versions: Type.Array(TariffVersion, { minItems: 1, maxItems: 200, description: "Versions in order of their `from` dates" }),
    teleinfo: Type.Optional(
      Type.Record(Type.String({ pattern: "^[a-z][a-z0-9_]{0,31}$" }), PeriodName, {
        description: "Teleinfo index field (hchc, hchp, ejphn, bbrhcjb, …) → the period its energy is priced in",
      }),
    ),
  },
  { additionalProperties: false, description: "One tariff" },
);
export type Tariff = Static<typeof Tariff>;

export const TariffFile = Type.Object(
  {
    version: Type.Optional(Type.Literal(1)),
    tariffs: Type.Record(Slug, Tariff, { description: "Tariffs by name" }),
    default: Type.Optional(Type.String({ ...SLUG_SCHEMA, description: "Tariff of buildings not listed in `buildings`" })),
    buildings: Type.Optional(Type.Record(Slug, Slug, { description: "Building → tariff name" })),
  },
  { additionalProperties: false, description: "Plugwatch tariff file (plugwatch-tariff config node)" },
);
export type TariffFile = Static<typeof TariffFile>;
