// Persisted engine state: active alerts, condition timers and counters, saved in the Node-RED context across restarts.
import { Type, type Static } from "@sinclair/typebox";
import { AlertEvent } from "../contracts/alert";
import { DeviceKind, Location } from "../contracts/device";

export const ENGINE_STATE_VERSION = 1 as const;

export const EngineState = Type.Object(
  {
    v: Type.Literal(ENGINE_STATE_VERSION),
    savedAt: Type.Number(),
    /** Active alerts: the raised event, when it was raised and when it was last (re-)emitted, epoch ms. */
    active: Type.Array(Type.Object({ event: AlertEvent, raisedAt: Type.Number(), lastEmitAt: Type.Number() })),
    /** Conditions waiting for their duration: alert id, which transition, since when (epoch ms). */
    timers: Type.Array(Type.Object({ id: Type.String(), phase: Type.Union([Type.Literal("raise"), Type.Literal("clear")]), since: Type.Number() })),
    /** Devices seen (id, kind, location) with the time of their last valid reading, epoch ms (absent = none yet). */
    devices: Type.Array(
      Type.Object({ id: Type.String(), kind: Type.Optional(DeviceKind), location: Type.Optional(Location), lastSeen: Type.Optional(Type.Number()) }),
    ),
    /** Last energy counter per device, kWh (baseline of the next budget delta). */
    energy: Type.Record(Type.String(), Type.Number()),
    /** Energy used today per budget rule and subject, kWh, with the local date it belongs to. */
    budgets: Type.Array(Type.Object({ rule: Type.String(), subject: Type.String(), date: Type.String(), kWh: Type.Number() })),
  },
  { description: "Alert engine snapshot" },
);
export type EngineState = Static<typeof EngineState>;
