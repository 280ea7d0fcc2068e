// Device registry contract: what one plug is (id, model, address, kind, location) and the registry file.
import { Type, type Static } from "@sinclair/typebox";
import { Slug } from "./common";

export const DEVICE_KINDS = ["workplace", "meeting-room", "printer", "other"] as const;
export const DeviceKind = Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k)), { description: "What the plug powers" });
export type DeviceKind = Static<typeof DeviceKind>;

export const SUPPORTED_MODELS = ["HS110", "HS110v2", "KP115", "HS300"] as const;

export const Location = Type.Object(
  {
    building: Slug,
    floor: Slug,
    room: Slug,
  },
  { additionalProperties: false, description: "Where the plug is; each part is a topic level" },
);
export type Location = Static<typeof Location>;

export const DeviceEntry = Type.Object(
  {
    id: Slug,
    name: Type.String({ minLength: 1, maxLength: 128, description: "Display name" }),
    model: Type.String({ minLength: 1, maxLength: 32, description: "Plug model, e.g. HS110" }),
    host: Type.String({ minLength: 1, maxLength: 253, pattern: "^[A-Za-z0-9.:\\-\\[\\]]+$", description: "IP address or host name" }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 9999, description: "TCP port (default 9999)" })),
    kind: DeviceKind,
    location: Location,
    tags: Type.Optional(Type.Record(Type.String({ pattern: "^[a-z][a-z0-9_]{0,31}$" }), Type.String({ maxLength: 128 }), { additionalProperties: false, description: "Free tags (stored as InfluxDB tags)" })),
    idleWatts: Type.Optional(Type.Number({ minimum: 0, maximum: 10000, description: "Expected idle draw in W (used by power-waste alerts)" })),
  },
  { additionalProperties: false },
);
export type DeviceEntry = Static<typeof DeviceEntry>;

/** A registry entry after defaults are applied. */
export type Device = Omit<DeviceEntry, "port"> & { port: number };

export const RegistryFile = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    version: Type.Optional(Type.Literal(1)),
    measurements: Type.Optional(
      Type.Array(Type.String({ pattern: "^[a-z][a-z0-9_]{0,62}$" }), {
        maxItems: 64,
        uniqueItems: true,
        description: "InfluxDB measurements generic readings may use besides the hook's own (default: none); anything else is rejected",
      }),
    ),
    devices: Type.Array(DeviceEntry, { maxItems: 10000 }),
  },
  { additionalProperties: false, description: "Plugwatch device registry file" },
);
export type RegistryFile = Static<typeof RegistryFile>;

/** Selects devices: one id, a kind, or a location prefix (building, optionally floor, optionally room). */
export const Target = Type.Union(
  [
    Type.Object({ device: Slug }, { additionalProperties: false }),
    Type.Object({ devices: Type.Array(Slug, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
    Type.Object({ kind: DeviceKind }, { additionalProperties: false }),
    Type.Object(
      { building: Slug, floor: Type.Optional(Slug), room: Type.Optional(Slug), kind: Type.Optional(DeviceKind) },
      { additionalProperties: false },
    ),
    Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
  ],
  { description: "Which devices: {device}, {devices}, {kind}, {building[,floor[,room]][,kind]} or {all:true}" },
);
export type Target = Static<typeof Target>;
