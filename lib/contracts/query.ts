// Query contract: structured data queries (request on {root}/api/request/query, reply on replyTo). No query text.
import { Type, type Static } from "@sinclair/typebox";
import { EpochMs, ReplyTopic, RequestId, Slug, Version } from "./common";
import { Target } from "./device";
import { ErrorBody } from "./errors";

export const AGGREGATES = ["mean", "min", "max", "sum", "last", "count"] as const;
export const GROUP_BY = ["device", "room", "kind", "floor", "building"] as const;
export const FieldName = Type.String({ pattern: "^[a-zA-Z][a-zA-Z0-9_]{0,62}$", description: "Field name (identifier)" });
export const MeasurementName = Type.String({ pattern: "^[a-z][a-z0-9_]{0,62}$", description: "Measurement (default plug)" });
export const Interval = Type.String({ pattern: "^[1-9][0-9]{0,5}(s|m|h|d)$", description: "Duration such as 30s, 1m, 1h, 1d" });
/** Storage tier that served a reply (lib/influx/rollup-schema.ts TIERS): raw readings, 1-minute or 1-hour rollups. */
export const RESOLUTIONS = ["raw", "1m", "1h"] as const;
export const Resolution = Type.Union(
  RESOLUTIONS.map((r) => Type.Literal(r)),
  { description: "Which storage tier served the reply: raw readings, 1-minute or 1-hour rollups (the newest minutes always come from raw)" },
);
export const CALENDAR = ["hour", "day", "week", "month"] as const;
export const TimeZoneName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: "^[A-Za-z][A-Za-z0-9_+/-]{0,63}$",
  description: "IANA time zone such as Europe/Paris",
});

export const RangeQuery = Type.Object(
  {
    type: Type.Literal("range"),
    target: Type.Optional(Target),
    measurement: Type.Optional(MeasurementName),
    fields: Type.Optional(Type.Array(FieldName, { minItems: 1, maxItems: 16, uniqueItems: true })),
    from: EpochMs,
    to: EpochMs,
    aggregate: Type.Optional(Type.Union(AGGREGATES.map((a) => Type.Literal(a)))),
    interval: Type.Optional(Interval),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  },
  { additionalProperties: false, description: "Readings in [from, to), raw or aggregated per interval" },
);

export const LatestQuery = Type.Object(
  {
    type: Type.Literal("latest"),
    target: Type.Optional(Target),
    measurement: Type.Optional(MeasurementName),
    all: Type.Optional(Type.Boolean({ description: "Include devices silent for longer than inactiveAfterDays" })),
    inactiveAfterDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, default: 30 })),
  },
  { additionalProperties: false, description: "Latest reading per device" },
);

export const LatestNQuery = Type.Object(
  {
    type: Type.Literal("latestN"),
    device: Slug,
    measurement: Type.Optional(MeasurementName),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 1440 })),
  },
  { additionalProperties: false, description: "Latest N readings of one device, newest first" },
);

export const EnergyQuery = Type.Object(
  {
    type: Type.Literal("energy"),
    target: Type.Optional(Target),
    groupBy: Type.Optional(
      Type.Union(
        GROUP_BY.map((g) => Type.Literal(g)),
        { default: "device" },
      ),
    ),
    from: EpochMs,
    to: EpochMs,
    interval: Type.Optional(Interval),
    calendar: Type.Optional(
      Type.Union(
        CALENDAR.map((c) => Type.Literal(c)),
        { description: "Calendar periods in tz instead of a fixed interval: local hours, days (23/24/25 h), ISO weeks, months" },
      ),
    ),
    tz: Type.Optional(TimeZoneName),
  },
  { additionalProperties: false, description: "kWh consumed per group and interval (or calendar period in tz), robust to counter resets" },
);

export const COST_INTERVALS = ["hour", "day", "week", "month"] as const;
export const CostQuery = Type.Object(
  {
    type: Type.Literal("cost"),
    target: Type.Optional(Target),
    groupBy: Type.Optional(
      Type.Union(
        GROUP_BY.map((g) => Type.Literal(g)),
        { default: "device" },
      ),
    ),
    from: EpochMs,
    to: EpochMs,
    interval: Type.Optional(
      Type.Union(
        COST_INTERVALS.map((i) => Type.Literal(i)),
        { default: "day", description: "Calendar buckets (local hours, days, ISO weeks, months)" },
      ),
    ),
    tz: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "IANA time zone of the buckets (default: each building's zone); prices always follow the building's zone",
      }),
    ),
  },
  { additionalProperties: false, description: "Energy cost per group and calendar interval under the buildings' tariffs, split by tariff period" },
);

export const QueryBody = Type.Union([RangeQuery, LatestQuery, LatestNQuery, EnergyQuery, CostQuery]);
export type QueryBody = Static<typeof QueryBody>;
export type RangeQuery = Static<typeof RangeQuery>;
export type LatestQuery = Static<typeof LatestQuery>;
export type LatestNQuery = Static<typeof LatestNQuery>;
export type EnergyQuery = Static<typeof EnergyQuery>;
export type CostQuery = Static<typeof CostQuery>;

export const QueryRequest = Type.Object(
  { v: Version, id: RequestId, replyTo: ReplyTopic, query: QueryBody },
  { additionalProperties: false, description: "A data query" },
);
export type QueryRequest = Static<typeof QueryRequest>;

const PeriodAmounts = Type.Record(Type.String(), Type.Object({ kWh: Type.Number(), cost: Type.Number() }, { additionalProperties: false }), {
  description: "kWh and energy cost per tariff period (e.g. hp, hc)",
});

/** Reply of a cost query: energy cost per group and bucket, standing charges per building and bucket, totals. */
export const CostData = Type.Object(
  {
    type: Type.Literal("cost"),
    groupBy: Type.String(),
    interval: Type.String(),
    currency: Type.String({ description: "ISO 4217 currency of every amount" }),
    rows: Type.Array(
      Type.Object(
        {
          group: Type.String(),
          ts: Type.Integer({ description: "Bucket start, epoch ms" }),
          end: Type.Integer({ description: "Bucket end (exclusive), epoch ms" }),
          kWh: Type.Number(),
          cost: Type.Number({ description: "Energy cost (standing charges are in `standing`)" }),
          periods: PeriodAmounts,
        },
        { additionalProperties: false },
      ),
    ),
    standing: Type.Array(
      Type.Object(
        {
          building: Type.String(),
          tariff: Type.String(),
          ts: Type.Integer(),
          end: Type.Integer(),
          amount: Type.Number({ description: "Standing charge of the bucket: each local day's charge pro rata" }),
        },
        { additionalProperties: false },
      ),
      { description: "Standing charges per building and bucket (a building's charge is not split over devices)" },
    ),
    total: Type.Object(
      {
        kWh: Type.Number(),
        energyCost: Type.Number(),
        standingCharge: Type.Number(),
        cost: Type.Number({ description: "energyCost + standingCharge" }),
        periods: PeriodAmounts,
      },
      { additionalProperties: false },
    ),

    resolution: Type.Optional(Resolution),
  },
  { additionalProperties: false },
);
export type CostData = Static<typeof CostData>;

const Point = Type.Record(Type.String(), Type.Union([Type.Number(), Type.Boolean(), Type.String(), Type.Null()]), {
  description: "One row: ts (epoch ms) plus the selected fields",
});
export const QueryData = Type.Union([
  Type.Object({
    type: Type.Literal("range"),
    series: Type.Array(Type.Object({ device: Slug, points: Type.Array(Point) })),
    resolution: Type.Optional(Resolution),
  }),
  Type.Object({ type: Type.Literal("latest"), readings: Type.Array(Point) }),
  Type.Object({ type: Type.Literal("latestN"), device: Slug, readings: Type.Array(Point) }),
  Type.Object({
    type: Type.Literal("energy"),
    groupBy: Type.String(),
    rows: Type.Array(Type.Object({ group: Type.String(), ts: Type.Integer(), kWh: Type.Number() })),
    resolution: Type.Optional(Resolution),
    calendar: Type.Optional(Type.Union(CALENDAR.map((c) => Type.Literal(c)))),
    tz: Type.Optional(TimeZoneName),
  }),
  CostData,
]);
export type QueryData = Static<typeof QueryData>;

export const QueryReply = Type.Object(
  { v: Version, id: RequestId, ok: Type.Boolean(), data: Type.Optional(QueryData), error: Type.Optional(ErrorBody) },
  { additionalProperties: false, description: "Query result (ok + data) or error" },
);
export type QueryReply = Static<typeof QueryReply>;
