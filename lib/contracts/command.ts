// Command contract: switch one plug or a group (request on {root}/api/request/command, reply on replyTo).
import { Type, type Static } from "@sinclair/typebox";
import { EpochMs, ReplyTopic, RequestId, Slug, Version } from "./common";
import { Target } from "./device";
import { ErrorBody } from "./errors";
import { QueueDuration } from "./queued-command";

export const ACTIONS = ["on", "off", "toggle", "status"] as const;
export const Action = Type.Union(
  ACTIONS.map((a) => Type.Literal(a)),
  { description: "on | off | toggle | status (read only)" },
);
export type Action = Static<typeof Action>;

export const CommandRequest = Type.Object(
  {
    v: Version,
    id: RequestId,
    replyTo: ReplyTopic,
    action: Action,
    target: Target,
    by: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
        description: "Who asks (the REST API puts the token's name here, never the token); recorded in the audit trail",
      }),
    ),
    queue: Type.Optional(QueueDuration),
  },
  { additionalProperties: false, description: "Switch or read plugs" },
);
export type CommandRequest = Static<typeof CommandRequest>;

export const CommandResult = Type.Object(
  {
    device: Slug,
    ok: Type.Boolean(),
    relay: Type.Optional(Type.Boolean({ description: "Relay state read back after the action" })),
    error: Type.Optional(ErrorBody),
    queued: Type.Optional(Type.Boolean({ description: "The plug did not answer and the command waits for it (request sent with queue)" })),
    skipped: Type.Optional(
      Type.Object(
        { code: Type.Literal("CRITICAL_DEVICE"), message: Type.String() },
        {
          additionalProperties: false,
          description: "Set (with ok true) when the device was deliberately not switched: a critical device in a group, schedule or cut-off command",
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CommandResult = Static<typeof CommandResult>;

export const CommandReply = Type.Object(
  {
    v: Version,
    id: RequestId,
    ok: Type.Boolean({ description: "true when every selected device succeeded" }),
    results: Type.Array(CommandResult),
    error: Type.Optional(ErrorBody),
    expiresAt: Type.Optional(EpochMs),
  },
  { additionalProperties: false, description: "Per-device results of a command; expiresAt when a device's command was queued" },
);
export type CommandReply = Static<typeof CommandReply>;

/** One control action as the agent records it on {root}/audit/command (who, what, when, result). */
export const AuditRecord = Type.Object(
  {
    v: Version,
    ts: Type.Integer({ minimum: 0, description: "When the action finished, epoch ms" }),
    id: RequestId,
    by: Type.Optional(Type.String({ maxLength: 64, description: "Who asked (token name from the REST API), when known" })),
    action: Action,
    target: Target,
    ok: Type.Boolean(),
    results: Type.Array(
      Type.Object(
        {
          device: Slug,
          ok: Type.Boolean(),
          relay: Type.Optional(Type.Boolean()),
          code: Type.Optional(Type.String({ maxLength: 64 })),
          skipped: Type.Optional(Type.Boolean({ description: "Not switched on purpose (code CRITICAL_DEVICE)" })),
        },
        { additionalProperties: false },
      ),
    ),
    error: Type.Optional(Type.String({ maxLength: 64, description: "Error code of a request refused as a whole" })),
  },
  { additionalProperties: false, description: "Audit record of one switching action" },
);
export type AuditRecord = Static<typeof AuditRecord>;

export const auditTopic = (root: string): string => `${root}/audit/command`;
