// Command contract: switch one plug or a group (request on {root}/api/request/command, reply on replyTo).
import { Type, type Static } from "@sinclair/typebox";
import { ReplyTopic, RequestId, Slug, Version } from "./common";
import { Target } from "./device";
import { ErrorBody } from "./errors";

export const ACTIONS = ["on", "off", "toggle", "status"] as const;
export const Action = Type.Union(ACTIONS.map((a) => Type.Literal(a)), { description: "on | off | toggle | status (read only)" });
export type Action = Static<typeof Action>;

export const CommandRequest = Type.Object(
  {
    v: Version,
    id: RequestId,
    replyTo: ReplyTopic,
    action: Action,
    target: Target,
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
  },
  { additionalProperties: false, description: "Per-device results of a command" },
);
export type CommandReply = Static<typeof CommandReply>;
