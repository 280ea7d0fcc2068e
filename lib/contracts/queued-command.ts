// Queued commands: a switching command held for an unreachable plug until it answers or the queue time runs out, and the lookup of its outcome.
import { Type, type Static } from "@sinclair/typebox";
import { EpochMs, ReplyTopic, RequestId, Slug, Version } from "./common";
import { ErrorBody } from "./errors";

/** Longest a command may wait for its plug: 7 days. */
export const MAX_QUEUE_MS = 7 * 24 * 3600_000;
/** Shortest queue time: 1 s. */
export const MIN_QUEUE_MS = 1000;

/** ISO 8601 duration without years or months (their length varies): weeks, days, hours, minutes, seconds. */
export const QUEUE_DURATION_PATTERN = "^P(?!$)(\\d{1,4}W)?(\\d{1,4}D)?(T(?=\\d)(\\d{1,6}H)?(\\d{1,6}M)?(\\d{1,7}S)?)?$";
export const QueueDuration = Type.String({
  pattern: QUEUE_DURATION_PATTERN,
  maxLength: 32,
  description:
    "Queue the command for plugs that do not answer, at most this long (ISO 8601 duration such as PT1H, P1D; from PT1S to P7D; on and off only); see GET /commands/{id}",
});

export const QUEUE_STATES = ["queued", "delivered", "expired", "superseded", "failed"] as const;
export type QueueState = (typeof QUEUE_STATES)[number];
const lit = <T extends string>(xs: readonly T[]) => xs.map((x) => Type.Literal(x));

/** One device of a queued command. Times in epoch ms. */
export const QueuedDevice = Type.Object(
  {
    device: Slug,
    state: Type.Union(lit(QUEUE_STATES), {
      description:
        "queued: waiting for the plug; delivered: switched and confirmed; expired: the plug did not answer in time; superseded: a later command for this device replaced it; failed: the plug answered but the command failed (see error)",
    }),
    at: EpochMs,
    attempts: Type.Integer({ minimum: 0, description: "Delivery attempts after the first one (each a status probe of the plug)" }),
    relay: Type.Optional(Type.Boolean({ description: "Relay state read back on delivery" })),
    error: Type.Optional(ErrorBody),
    supersededBy: Type.Optional(RequestId),
  },
  { additionalProperties: false },
);
export type QueuedDevice = Static<typeof QueuedDevice>;

export const QueuedCommand = Type.Object(
  {
    id: RequestId,
    action: Type.Union([Type.Literal("on"), Type.Literal("off")]),
    by: Type.Optional(Type.String({ maxLength: 64, description: "Who asked (token name from the REST API, homeassistant, …)" })),
    queuedAt: EpochMs,
    expiresAt: EpochMs,
    state: Type.Union([...lit(QUEUE_STATES), Type.Literal("mixed")], {
      description: "queued while any device waits; otherwise the devices' common final state, or mixed",
    }),
    devices: Type.Array(QueuedDevice, { minItems: 1 }),
  },
  { additionalProperties: false, description: "A command sent with a queue time, and where each of its devices stands" },
);
export type QueuedCommand = Static<typeof QueuedCommand>;

/** Asks the control agent about a command sent with a queue time (on {root}/api/request/command, like commands). */
export const CommandLookupRequest = Type.Object(
  { v: Version, id: RequestId, replyTo: ReplyTopic, command: RequestId },
  { additionalProperties: false, description: "Where does the queued command `command` stand?" },
);
export type CommandLookupRequest = Static<typeof CommandLookupRequest>;

export const CommandLookupReply = Type.Object(
  { v: Version, id: RequestId, ok: Type.Boolean(), command: Type.Optional(QueuedCommand), error: Type.Optional(ErrorBody) },
  { additionalProperties: false, description: "The queued command, or UNKNOWN_COMMAND" },
);
export type CommandLookupReply = Static<typeof CommandLookupReply>;
