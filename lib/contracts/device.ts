// Device registry contract: what one plug is (id, model, address, kind, location) and the registry file.
import { Type, type Static } from "@sinclair/typebox";
import { SLUG_PATTERN, Slug } from "./common";

export const DEVICE_KINDS = ["workplace", "meeting-room", "printer", "other"] as const;
export const DeviceKind = Type.Union(
  DEVICE_KINDS.map((k) => Type.Literal(k)),
  { description: "What the plug powers" },
);
export type DeviceKind = Static<typeof DeviceKind>;

export const SUPPORTED_MODELS = ["HS110", "HS110v2", "KP115", "HS300", "P110", "P115"] as const;

/** How Plugwatch talks to a plug (docs/registry.md#protocols). */
export const PROTOCOLS = ["auto", "legacy", "klap", "tapo"] as const;
const PROTOCOL_DESCRIPTION =
  "legacy: XOR JSON on TCP 9999; klap: Kasa JSON over KLAP (HTTP 80, HS110 hw 4+, KP115, HS300 2.0); tapo: Tapo SMART over KLAP (P110/P115); auto: probe once (legacy, then KLAP on port 80) and remember";
export const Protocol = Type.Union(
  PROTOCOLS.map((p) => Type.Literal(p)),
  { description: PROTOCOL_DESCRIPTION },
);
export type Protocol = Static<typeof Protocol>;

/** Default TCP port of each protocol. */
export const PROTOCOL_PORTS: Readonly<Record<Protocol, number>> = { auto: 9999, legacy: 9999, klap: 80, tapo: 80 };

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
    tags: Type.Optional(
      Type.Record(Type.String({ pattern: "^[a-z][a-z0-9_]{0,31}$" }), Type.String({ maxLength: 128 }), {
        additionalProperties: false,
        description: "Free tags (stored as InfluxDB tags)",
      }),
    ),
    idleWatts: Type.Optional(Type.Number({ minimum: 0, maximum: 10000, description: "Expected idle draw in W (used by power-waste alerts)" })),
    mac: Type.Optional(
      Type.String({
        pattern: "^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$",
        description: "The plug's MAC (e.g. 50:C7:BF:01:02:03): a plug answering with another one is flagged IDENTITY_CHANGED and its readings held back",
      }),
    ),
    critical: Type.Optional(
      Type.Boolean({
        description: "Never switched by a schedule, a standby cut-off or a group (bulk) command: servers, fridges, network gear. Default false",
      }),
    ),
    protocol: Type.Optional(
      Type.Union(
        PROTOCOLS.map((p) => Type.Literal(p)),
        { description: PROTOCOL_DESCRIPTION, default: "legacy" },
      ),
    ),
    outlets: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: Type.Optional(Slug),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            kind: Type.Optional(DeviceKind),
            location: Type.Optional(Location),
            idleWatts: Type.Optional(Type.Number({ minimum: 0, maximum: 10000 })),
            critical: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        {
          minItems: 1,
          maxItems: 16,
          description:
            "A power strip (HS300): one entry per outlet, in outlet order; each becomes a device '<id>-<n>' (n from 1) unless it names its own id, and inherits the strip's name, kind and location unless it sets them",
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type DeviceEntry = Static<typeof DeviceEntry>;

/** Which strip an outlet device belongs to. */
export interface StripRef {
  /** The strip's registry id. */
  id: string;
  /** 0-based outlet index. */
  index: number;
}

/** A registry entry after defaults are applied (a strip's entry becomes one device per outlet, each with `strip`). */
export type Device = Omit<DeviceEntry, "port" | "outlets"> & { port: number; strip?: StripRef };

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
    timezone: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "IANA time zone of the buildings (e.g. Europe/Paris) for calendar periods, tariffs and schedules; default: the host's zone",
      }),
    ),
    buildings: Type.Optional(
      Type.Record(
        Type.String({ pattern: SLUG_PATTERN }),
        Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "IANA time zone of this building (overrides the file's)" })),
          },
          { additionalProperties: false },
        ),
        { description: "Per-building settings, by building slug" },
      ),
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
    Type.Object({ building: Slug, floor: Type.Optional(Slug), room: Type.Optional(Slug), kind: Type.Optional(DeviceKind) }, { additionalProperties: false }),
    Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
  ],
  { description: "Which devices: {device}, {devices}, {kind}, {building[,floor[,room]][,kind]} or {all:true}" },
);
export type Target = Static<typeof Target>;
