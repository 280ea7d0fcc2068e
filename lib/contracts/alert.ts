// Alert event contract: published on {root}/alerts/{device}, retained while raised, cleared once.
import { Type, type Static } from "@sinclair/typebox";
import { EpochMs, Slug, Version } from "./common";

export const SEVERITIES = ["info", "warning", "critical"] as const;
export const Severity = Type.Union(SEVERITIES.map((s) => Type.Literal(s)));
export type Severity = Static<typeof Severity>;

export const AlertEvent = Type.Object(
  {
    v: Version,
    id: Type.String({ pattern: "^[a-z0-9_-]+:[a-z0-9_-]+$", description: "<rule>:<device>, stable across raise and clear" }),
    device: Slug,
    rule: Slug,
    severity: Severity,
    state: Type.Union([Type.Literal("raised"), Type.Literal("cleared")]),
    ts: EpochMs,
    value: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    message: Type.String({ maxLength: 512 }),
  },
  { additionalProperties: false, description: "An alert raised or cleared" },
);
export type AlertEvent = Static<typeof AlertEvent>;
