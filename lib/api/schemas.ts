// Response bodies of the REST API, composed from the contract schemas (lib/contracts): the types, the checks in tests and the OpenAPI document.
import { AuditRecord } from "../contracts/command";
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { AlertEvent } from "../contracts/alert";
import { Action, CommandResult } from "../contracts/command";
import { EpochMs } from "../contracts/common";
import { DeviceEntry } from "../contracts/device";
import { QueryData } from "../contracts/query";
import { ALERT_STATES } from "./params";

const Nullable = <S extends TSchema>(s: S, description: string) => Type.Union([s, Type.Null()], { description });

// A device is never a strip: a strip's entry became one device per outlet, each naming its strip.
const { outlets: _outlets, ...deviceProperties } = DeviceEntry.properties;

export const DeviceView = Type.Object(
  {
    ...deviceProperties,
    strip: Type.Optional(
      Type.Object(
        { id: Type.String({ description: "Registry id of the strip" }), index: Type.Integer({ minimum: 0, description: "0-based outlet index" }) },
        { additionalProperties: false, description: "Set on an outlet of a power strip (HS300)" },
      ),
    ),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: "TCP port" }),
    online: Nullable(Type.Boolean(), "Last availability reported by the collector; null = never reported"),
    since: Nullable(EpochMs, "When the availability last changed (epoch ms)"),
    reason: Nullable(Type.String(), "Reason given with the last availability change"),
    lastSeen: Nullable(EpochMs, "Time of the newest reading seen on MQTT since the API started (epoch ms)"),
  },
  { additionalProperties: false, description: "A registry device with its live state" },
);
export type DeviceView = Static<typeof DeviceView>;

export const DeviceList = Type.Object(
  { count: Type.Integer({ minimum: 0 }), devices: Type.Array(DeviceView) },
  { additionalProperties: false, description: "Devices matching the filters" },
);
export type DeviceList = Static<typeof DeviceList>;

/** A device id seen in well-formed readings but not in the registry (lib/pending.ts). Times in epoch ms. */
export const UnknownDeviceView = Type.Object(
  {
    id: Type.String({ description: "Device id the readings carry" }),
    state: Type.Union([Type.Literal("pending"), Type.Literal("approved"), Type.Literal("rejected")], {
      description: "pending: readings stored with the tag pending=true; approved: stored without it; rejected: refused (UNKNOWN_DEVICE)",
    }),
    firstSeen: EpochMs,
    lastSeen: EpochMs,
    readings: Type.Integer({ minimum: 0, description: "Readings stored so far" }),
    refused: Type.Integer({ minimum: 0, description: "Readings refused since it was rejected" }),
  },
  { additionalProperties: false, description: "A device not in the registry" },
);
export type UnknownDeviceView = Static<typeof UnknownDeviceView>;

export const UnknownDeviceList = Type.Object(
  {
    state: Type.Union([Type.Literal("pending"), Type.Literal("approved"), Type.Literal("rejected")]),
    policy: Type.Union([Type.Literal("reject"), Type.Literal("pending"), Type.Literal("accept")], { description: "The registry's policy for unknown devices" }),
    count: Type.Integer({ minimum: 0 }),
    devices: Type.Array(UnknownDeviceView),
  },
  { additionalProperties: false, description: "Devices not in the registry, in one state (GET /devices?state=pending)" },
);
export type UnknownDeviceList = Static<typeof UnknownDeviceList>;

const [RangeData, LatestData, LatestNData, EnergyData, CostData] = QueryData.anyOf;
export { RangeData, LatestData, LatestNData, EnergyData, CostData };

export const CommandOutcome = Type.Object(
  {
    ok: Type.Boolean({ description: "true when every selected device succeeded" }),
    action: Action,
    requestId: Type.String({ description: "id of the MQTT command request" }),
    results: Type.Array(CommandResult, { description: "One result per device, with the relay state read back" }),
    expiresAt: Type.Optional(EpochMs),
  },
  {
    additionalProperties: false,
    description: "Per-device results of a power command; with queue, devices that did not answer are `queued` until `expiresAt` (GET /commands/{requestId})",
  },
);
export type CommandOutcome = Static<typeof CommandOutcome>;

export const AlertList = Type.Object(
  {
    state: Type.Union(ALERT_STATES.map((s) => Type.Literal(s))),
    count: Type.Integer({ minimum: 0 }),
    alerts: Type.Array(AlertEvent),
    historySize: Type.Integer({ minimum: 1, description: "Most events kept in memory for state=all" }),
  },
  { additionalProperties: false, description: "Active alerts (newest first) or the event history (oldest first)" },
);
export type AlertList = Static<typeof AlertList>;

export const AuditList = Type.Object(
  {
    count: Type.Integer({ minimum: 0 }),
    records: Type.Array(AuditRecord),
    historySize: Type.Integer({ minimum: 1, description: "Most records kept in memory (oldest first; lost on restart)" }),
  },
  { additionalProperties: false },
);
export type AuditList = Static<typeof AuditList>;

const Peer = Type.Object(
  {
    answering: Type.Boolean({ description: "A reply arrived recently or to a probe sent now" }),
    lastReplyAt: Nullable(Type.Integer(), "Time of the last reply received (epoch ms)"),
    probed: Type.Boolean({ description: "true when this check sent a probe request" }),
  },
  { additionalProperties: false },
);

export const HEALTH_STATES = ["ok", "degraded", "down"] as const;
export const Health = Type.Object(
  {
    status: Type.Union(
      HEALTH_STATES.map((s) => Type.Literal(s)),
      {
        description:
          "ok; degraded = a peer does not answer, no registry, or storage has a problem (spool full, over 90 % full, writes failing); down = broker not connected",
      },
    ),
    ts: Type.Integer(),
    broker: Type.Object({ connected: Type.Boolean() }, { additionalProperties: false }),
    registry: Type.Object({ loaded: Type.Boolean(), devices: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
    query: Peer,
    control: Peer,
    storage: Type.Object(
      {
        backlog: Nullable(Type.Number({ minimum: 0 }), "Points waiting in the plugwatch-influx-hook spool; null = not reported"),
        components: Type.Array(
          Type.Object(
            {
              component: Type.String(),
              backlog: Type.Number(),
              ts: Type.Number(),
              fill: Type.Optional(Type.Number({ description: "Spool fill level (0..1)" })),
              oldestAgeMs: Type.Optional(Type.Number({ description: "Age of the oldest unsent reading (ms)" })),
              writeErrors: Type.Optional(Type.Number({ description: "Failed database write attempts since the component started" })),
              spoolFull: Type.Optional(Type.Boolean({ description: "The SPOOL_FULL alert is raised" })),
              retrying: Type.Optional(Type.Boolean({ description: "Database writes are failing and being retried" })),
              retention: Type.Optional(
                Type.Object(
                  {
                    state: Type.String({ description: "Retention tiers: pending, applied, failed or unsupported (docs/retention.md)" }),
                    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false })),
                  },
                  { additionalProperties: false },
                ),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        problem: Nullable(Type.String(), "Why storage makes the status degraded (spool full, over 90 % full, writes failing); null = fine"),
        oldestAgeMs: Nullable(Type.Number({ minimum: 0 }), "Age of the oldest unsent reading over all components (ms); null = nothing waits or not reported"),
      },
      { additionalProperties: false },
    ),
    api: Type.Object(
      {
        pending: Type.Integer({ minimum: 0 }),
        delivered: Type.Integer({ minimum: 0 }),
        timedOut: Type.Integer({ minimum: 0 }),
        dropped: Type.Integer({ minimum: 0 }),
        invalidMessages: Type.Integer({ minimum: 0 }),
        collapsed: Type.Integer({ minimum: 0, description: "Data requests that shared the reply of an identical request already in flight" }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, description: "Health of the API and of the parts it depends on" },
);
export type Health = Static<typeof Health>;

export const OpenApiDocument = Type.Object({ openapi: Type.String() }, { description: "This OpenAPI 3.1 document" });
