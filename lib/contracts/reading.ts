// Reading and availability contracts: what the collector publishes for every poll and every online/offline change.
import { Type, type Static } from "@sinclair/typebox";
import { EpochMs, Slug, Version } from "./common";
import { DeviceKind } from "./device";

/** Upper bounds that make a value absurd for a mains plug (rejected as INVALID_READING). */
export const LIMITS = { powerW: 100_000, voltageV: 1_000, currentA: 200, energyKWh: 1e9 } as const;

export const Reading = Type.Object(
  {
    v: Version,
    device: Slug,
    ts: EpochMs,
    power: Type.Number({ minimum: 0, maximum: LIMITS.powerW, description: "Active power in W" }),
    voltage: Type.Number({ minimum: 0, maximum: LIMITS.voltageV, description: "RMS voltage in V" }),
    current: Type.Number({ minimum: 0, maximum: LIMITS.currentA, description: "RMS current in A" }),
    energy: Type.Number({ minimum: 0, maximum: LIMITS.energyKWh, description: "Cumulative energy counter in kWh (resets when the plug's counter resets)" }),
    relay: Type.Boolean({ description: "Relay state: true = on" }),
    kind: Type.Optional(DeviceKind),
  },
  { additionalProperties: false, description: "One poll of one smart plug" },
);
export type Reading = Static<typeof Reading>;

/** Name of a generic reading's field (also what a threshold alert rule may name). */
export const FIELD_NAME_PATTERN = "^[a-zA-Z][a-zA-Z0-9_]{0,62}$";

/** Generic reading: any device or middleware stores data through plugwatch-influx-hook with this shape. */
export const GenericReading = Type.Object(
  {
    v: Version,
    device: Slug,
    ts: EpochMs,
    measurement: Type.Optional(Type.String({ pattern: "^[a-z][a-z0-9_]{0,62}$", description: "InfluxDB measurement (default: plug)" })),
    fields: Type.Record(Type.String({ pattern: FIELD_NAME_PATTERN }), Type.Union([Type.Number(), Type.Boolean()]), {
      minProperties: 1,
      maxProperties: 64,
      // A key that does not match the name pattern is an error, not an unchecked extra field.
      additionalProperties: false,
      description: "Numeric or boolean fields",
    }),
    tags: Type.Optional(
      Type.Record(Type.String({ pattern: "^[a-z][a-z0-9_]{0,31}$" }), Type.String({ minLength: 1, maxLength: 128 }), {
        maxProperties: 16,
        additionalProperties: false,
      }),
    ),
  },
  { additionalProperties: false, description: "A reading from any device, stored through plugwatch-influx-hook" },
);
export type GenericReading = Static<typeof GenericReading>;

export const Availability = Type.Object(
  {
    v: Version,
    device: Slug,
    online: Type.Boolean(),
    ts: EpochMs,
    reason: Type.String({ maxLength: 256, description: "Why the state changed, e.g. 'poll ok' or 'DEVICE_UNREACHABLE: connect ECONNREFUSED'" }),
    data: Type.Optional(
      Type.Union([Type.Literal("ok"), Type.Literal("implausible"), Type.Literal("identity-changed")], {
        description:
          "Online but its data held back: implausible (IMPLAUSIBLE_READING) or identity-changed (IDENTITY_CHANGED); 'ok' when that ends. Absent = ok",
      }),
    ),
  },
  { additionalProperties: false, description: "Online/offline state of a device; published retained" },
);
export type Availability = Static<typeof Availability>;
