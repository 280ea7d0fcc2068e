// Schedule contracts: the schedule document (plugwatch-schedule config node, file or API), its MQTT request/reply
// on {root}/api/request/schedule, and the savings report. One schema each: types, validation and OpenAPI come from here.
import { Type, type Static } from "@sinclair/typebox";
import { RequestId, ReplyTopic, Slug, Version } from "../contracts/common";
import { DeviceKind, Target } from "../contracts/device";
import { ErrorBody } from "../contracts/errors";
import { WEEKDAYS } from "../contracts/alert";

/** Local wall-clock time HH:MM (00:00 … 23:59). */
export const ClockTime = Type.String({ pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$", description: "Local time HH:MM (24 h) in the building's time zone" });
const LocalDateText = Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$", description: "Local date YYYY-MM-DD" });
const Name = Type.String({
  pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$",
  description: "Rule name (letters, digits, '_', '.', '-'; at most 48): audited as schedule:<name>",
});

/** Devices by tag: every device whose registry `tags` hold all the given key/value pairs. */
export const TagTarget = Type.Object(
  {
    tags: Type.Record(Type.String({ pattern: "^[a-z][a-z0-9_]{0,31}$" }), Type.String({ maxLength: 128 }), {
      minProperties: 1,
      maxProperties: 8,
      description: "Registry tags that must all match",
    }),
  },
  { additionalProperties: false },
);
export const ScheduleTarget = Type.Union([...Target.anyOf, TagTarget], {
  description: "{device}, {devices}, {kind}, {building[,floor[,room]][,kind]}, {all:true} or {tags:{key:value}}",
});
export type ScheduleTarget = Static<typeof ScheduleTarget>;

export const ScheduleRule = Type.Object(
  {
    name: Name,
    target: ScheduleTarget,
    days: Type.Optional(
      Type.Array(Type.Union(WEEKDAYS.map((d) => Type.Literal(d))), {
        minItems: 1,
        maxItems: 7,
        uniqueItems: true,
        description: "Weekdays the rule runs (default every day)",
      }),
    ),
    on: Type.Optional(ClockTime),
    off: Type.Optional(ClockTime),
    skipHolidays: Type.Optional(Type.Boolean({ description: "Do nothing on a holiday of the calendar (default true)" })),
    enabled: Type.Optional(Type.Boolean({ description: "Default true" })),
  },
  { additionalProperties: false, description: "Switch the target on and/or off at local times on some weekdays" },
);
export type ScheduleRule = Static<typeof ScheduleRule>;

export const StandbyRule = Type.Object(
  {
    name: Name,
    kind: DeviceKind,
    belowW: Type.Number({ exclusiveMinimum: 0, maximum: 10_000, description: "Idle threshold, W: the device counts as idle below it" }),
    minutes: Type.Integer({ minimum: 1, maximum: 24 * 60, description: "Idle this long (minutes, relay on) → switched off once" }),
    enabled: Type.Optional(Type.Boolean({ description: "Default true" })),
  },
  { additionalProperties: false, description: "Standby cut-off: off after N minutes below X W, once per idle stretch" },
);
export type StandbyRule = Static<typeof StandbyRule>;

const Holiday = Type.Union([
  LocalDateText,
  Type.Object({ date: LocalDateText, name: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false }),
]);

export const ScheduleDocument = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    version: Type.Optional(Type.Literal(1)),
    holidays: Type.Optional(Type.Array(Holiday, { maxItems: 2000, description: "Holidays as local dates (the buildings' zones)" })),
    holidayFiles: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        maxItems: 16,
        description: "iCalendar (.ics) files of holidays, relative to the Node-RED user directory",
      }),
    ),
    schedules: Type.Optional(Type.Array(ScheduleRule, { maxItems: 500 })),
    standby: Type.Optional(Type.Array(StandbyRule, { maxItems: 100 })),
    neverOff: Type.Optional(Type.Array(Slug, { maxItems: 10_000, uniqueItems: true, description: "Devices no schedule or cut-off ever switches off" })),
    standbyEstimateW: Type.Optional(
      Type.Record(Type.String(), Type.Number({ minimum: 0, maximum: 10_000 }), {
        description: "Standby power in W per kind, used for savings when no reading before the off is known (else the device's idleWatts, else 0)",
      }),
    ),
    price: Type.Optional(
      Type.Object(
        {
          perKWh: Type.Number({ minimum: 0, maximum: 100 }),
          currency: Type.String({ pattern: "^[A-Z]{3}$", description: "ISO 4217 code, e.g. EUR" }),
        },
        { additionalProperties: false, description: "Flat energy price for savings when no tariff is joined" },
      ),
    ),
  },
  { additionalProperties: false, description: "Plugwatch schedules, standby cut-offs, holidays and protections" },
);
export type ScheduleDocument = Static<typeof ScheduleDocument>;

/** One room's savings in one local calendar month. */
export const SavingsRow = Type.Object(
  {
    month: Type.String({ pattern: "^\\d{4}-\\d{2}$", description: "Local calendar month YYYY-MM (building time zone)" }),
    building: Slug,
    floor: Slug,
    room: Slug,
    offs: Type.Integer({ minimum: 0, description: "Automatic offs whose off stretch overlaps the month" }),
    hoursOff: Type.Number({ minimum: 0, description: "Device-hours kept off by them in the month" }),
    kWh: Type.Number({ minimum: 0, description: "Estimated energy avoided, kWh (standby W × hours off)" }),
    cost: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: "Estimated cost avoided, null when no price is known" }),
    currency: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type SavingsRow = Static<typeof SavingsRow>;

export const SavingsReport = Type.Object(
  {
    ts: Type.Integer({ description: "When the report was computed (epoch ms); open off stretches count up to it" }),
    rows: Type.Array(SavingsRow),
    totalKWh: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false, description: "Energy and cost avoided by automatic offs, per room and month" },
);
export type SavingsReport = Static<typeof SavingsReport>;

export const SCHEDULE_OPS = ["list", "put", "savings"] as const;

export const ScheduleRequest = Type.Object(
  {
    v: Version,
    id: RequestId,
    replyTo: ReplyTopic,
    op: Type.Union(SCHEDULE_OPS.map((o) => Type.Literal(o))),
    document: Type.Optional(Type.Unknown({ description: "op put: the new schedule document (validated by the schedule node)" })),
    month: Type.Optional(Type.String({ pattern: "^\\d{4}-\\d{2}$", description: "op savings: only this month" })),
    building: Type.Optional(Slug),
    by: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false, description: "Read or replace the schedules, or read the savings" },
);
export type ScheduleRequest = Static<typeof ScheduleRequest>;

/** What GET/PUT /schedules answer: the document in force and where it is kept. */
export const ScheduleState = Type.Object(
  {
    document: ScheduleDocument,
    source: Type.String({ description: "Where the document in force comes from (file path or inline config)" }),
    updatedAt: Type.Union([Type.Integer(), Type.Null()], { description: "When it was last replaced through the API (epoch ms)" }),
    updatedBy: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ScheduleState = Static<typeof ScheduleState>;

export const ScheduleReply = Type.Object(
  {
    v: Version,
    id: RequestId,
    ok: Type.Boolean(),
    schedules: Type.Optional(ScheduleState),
    savings: Type.Optional(SavingsReport),
    error: Type.Optional(ErrorBody),
  },
  { additionalProperties: false },
);
export type ScheduleReply = Static<typeof ScheduleReply>;

export const scheduleRequestTopic = (root: string): string => `${root}/api/request/schedule`;
