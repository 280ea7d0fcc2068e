// Alert event contract: published on {root}/alerts/{device}, retained while raised, cleared once.
import { Type, type Static } from "@sinclair/typebox";
import { EpochMs, Slug, SLUG_PATTERN, Version } from "./common";
import { DeviceKind } from "./device";
import { MeasurementName } from "./query";
import { FIELD_NAME_PATTERN } from "./reading";

export const SEVERITIES = ["info", "warning", "critical"] as const;
export const Severity = Type.Union(SEVERITIES.map((s) => Type.Literal(s)));
export type Severity = Static<typeof Severity>;

export const AlertEvent = Type.Object(
  {
    v: Version,
    id: Type.String({ pattern: "^[a-z0-9_-]+:[a-z0-9_-]+$", description: "<rule>:<device>, stable across raise and clear" }),
    device: Slug,
    rule: Slug,
    severity: Severity,
    state: Type.Union([Type.Literal("raised"), Type.Literal("cleared")]),
    ts: EpochMs,
    value: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    message: Type.String({ maxLength: 512 }),
  },
  { additionalProperties: false, description: "An alert raised or cleared" },
);
export type AlertEvent = Static<typeof AlertEvent>;

// ---------------------------------------------------------------------------------------------------------------
// Alert rule configuration (what the alert node's editor saves in `rules`). Validated on deploy by lib/alerts/rules.

/** "HH:MM" local wall-clock time; "24:00" is allowed as the end of a day. */
export const CLOCK_TIME_PATTERN = "^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$";
export const ClockTime = Type.String({ pattern: CLOCK_TIME_PATTERN, description: "Local time HH:MM (24 h); 24:00 = end of day" });

/** One working period [start, end); when end <= start the period runs past midnight into the next day. */
export const TimeRange = Type.Tuple([ClockTime, ClockTime], { description: "[start, end) local time; end <= start runs past midnight" });

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Weekly working hours: each day lists its periods; a missing day has none (all day outside working hours). */
const DayPeriods = Type.Optional(Type.Array(TimeRange, { maxItems: 8 }));
export const WeeklySchedule = Type.Object(
  { mon: DayPeriods, tue: DayPeriods, wed: DayPeriods, thu: DayPeriods, fri: DayPeriods, sat: DayPeriods, sun: DayPeriods },
  { additionalProperties: false, description: 'Working hours per weekday, e.g. {"mon":[["08:00","19:00"]]}' },
);
export type WeeklySchedule = Static<typeof WeeklySchedule>;

export const RULE_TYPES = ["threshold", "stale", "offline", "waste", "budget"] as const;
export type RuleType = (typeof RULE_TYPES)[number];

const Seconds = (description: string) => Type.Number({ minimum: 0, maximum: 31_536_000, description });

/** Fields every rule has: identity, severity, reminders and the device scope (empty scope = every device). */
const ruleBase = {
  id: Type.String({ pattern: SLUG_PATTERN, maxLength: 64, description: "Rule id (slug): the <rule> in the alert id <rule>:<device> and the last topic level" }),
  severity: Type.Optional(Severity),
  description: Type.Optional(Type.String({ maxLength: 256 })),
  reminderSeconds: Type.Optional(Seconds("Re-emit the raised event every N s while the alert holds (0/absent = never)")),
  devices: Type.Optional(Type.Array(Slug, { maxItems: 10000, description: "Only these device ids" })),
  kinds: Type.Optional(Type.Array(DeviceKind, { description: "Only devices of these kinds" })),
  building: Type.Optional(Slug),
  floor: Type.Optional(Slug),
  room: Type.Optional(Slug),
};

export const ThresholdRule = Type.Object(
  {
    ...ruleBase,
    type: Type.Literal("threshold"),
    field: Type.String({
      pattern: FIELD_NAME_PATTERN,
      description:
        "Field compared: for plug readings power (W), voltage (V), current (A), energy (kWh); for generic readings any name in `fields` (numeric values only)",
    }),
    measurement: Type.Optional({
      ...MeasurementName,
      description: "Only generic readings of this measurement (plug readings count as measurement plug); absent = any reading that has the field",
    }),
    unit: Type.Optional(
      Type.String({ maxLength: 16, description: "Unit shown in messages, e.g. VA or °C (default W/V/A/kWh for the plug fields, none otherwise)" }),
    ),
    op: Type.Union([Type.Literal("above"), Type.Literal("below")]),
    value: Type.Number({ description: "Threshold in the field's unit" }),
    forSeconds: Type.Optional(Seconds("The condition (and the clear condition) must hold this long")),
    hysteresis: Type.Optional(Type.Number({ minimum: 0, description: "Clear only below value-hysteresis (above) / over value+hysteresis (below)" })),
  },
  { additionalProperties: false },
);
export type ThresholdRule = Static<typeof ThresholdRule>;

export const StaleRule = Type.Object(
  {
    ...ruleBase,
    type: Type.Literal("stale"),
    afterSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 31_536_000, description: "Raise when no valid reading arrived for this long" }),
  },
  { additionalProperties: false },
);
export type StaleRule = Static<typeof StaleRule>;

export const OfflineRule = Type.Object(
  { ...ruleBase, type: Type.Literal("offline"), forSeconds: Type.Optional(Seconds("Raise only when offline for this long")) },
  { additionalProperties: false },
);
export type OfflineRule = Static<typeof OfflineRule>;

export const WasteRule = Type.Object(
  {
    ...ruleBase,
    type: Type.Literal("waste"),
    watts: Type.Number({ minimum: 0, description: "Limit in W outside working hours" }),
    schedule: WeeklySchedule,
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "IANA time zone of the schedule (default: the host's)" })),
    useIdleWatts: Type.Optional(Type.Boolean({ description: "Use the registry's idleWatts of each device as the limit when it has one" })),
    forSeconds: Type.Optional(Seconds("The condition (and the clear condition) must hold this long")),
    hysteresis: Type.Optional(Type.Number({ minimum: 0, description: "Clear only at or below limit-hysteresis W" })),
  },
  { additionalProperties: false },
);
export type WasteRule = Static<typeof WasteRule>;

export const BudgetRule = Type.Object(
  {
    ...ruleBase,
    type: Type.Literal("budget"),
    kWhPerDay: Type.Number({ exclusiveMinimum: 0, description: "Energy budget per local day in kWh" }),
    per: Type.Optional(
      Type.Union([Type.Literal("device"), Type.Literal("room"), Type.Literal("kind")], { description: "What the budget applies to (default device)" }),
    ),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "IANA time zone that defines midnight (default: the host's)" })),
  },
  { additionalProperties: false },
);
export type BudgetRule = Static<typeof BudgetRule>;

/** Schema per rule type, so errors point at the rule's own fields rather than "no union member matched". */
export const RULE_SCHEMAS = { threshold: ThresholdRule, stale: StaleRule, offline: OfflineRule, waste: WasteRule, budget: BudgetRule } as const;

export const AlertRule = Type.Union([ThresholdRule, StaleRule, OfflineRule, WasteRule, BudgetRule], { description: "One alert rule" });
export type AlertRule = Static<typeof AlertRule>;

export const AlertRules = Type.Array(AlertRule, { maxItems: 200, description: "The alert node's rules" });
export type AlertRules = Static<typeof AlertRules>;
