// The plugwatch-collector's input commands (msg.payload → poll, accept-identity or stats), validated into typed values.
import { Type } from "@sinclair/typebox";
import { Slug } from "./contracts/common";
import { PlugwatchError } from "./contracts/errors";
import { decodePayload, parse, validate } from "./contracts/validate";
import { friendlyIssues } from "./registry";

/** A value as written in a message: strings as they are, anything else as JSON. */
const shown = (raw: unknown): string => (typeof raw === "string" ? raw : (JSON.stringify(raw) ?? typeof raw));

export const PollCommand = Type.Object({ action: Type.Literal("poll") }, { additionalProperties: false });
export const StatsCommand = Type.Object(
  {
    action: Type.Literal("stats"),
    device: Slug,
    period: Type.Union([Type.Literal("day"), Type.Literal("month")], { description: "day: one entry per day of a month; month: one per month of a year" }),
    year: Type.Optional(Type.Integer({ minimum: 2000, maximum: 2100 })),
    month: Type.Optional(Type.Integer({ minimum: 1, maximum: 12 })),
  },
  { additionalProperties: false },
);

export const AcceptIdentityCommand = Type.Object({ action: Type.Literal("accept-identity"), device: Slug }, { additionalProperties: false });

export type CollectorCommand =
  | { action: "poll" }
  | { action: "accept-identity"; device: string }
  | { action: "stats"; device: string; period: "day" | "month"; year: number; month?: number };

const USAGE = "expected msg.payload 'poll', {action:'poll'} or {action:'stats', device, period:'day'|'month', year?, month?}";

/** Input msg.payload → command; `now` supplies the default year/month. Throws INVALID_REQUEST. */
export function parseCommand(payload: unknown, now: Date): CollectorCommand {
  if (payload === "poll") return { action: "poll" };
  let value: unknown;
  try {
    value = decodePayload(payload);
  } catch {
    throw new PlugwatchError("INVALID_REQUEST", `${USAGE}; got ${JSON.stringify(String(payload)).slice(0, 60)}`);
  }
  const action = typeof value === "object" && value !== null ? (value as { action?: unknown }).action : undefined;
  if (action === "poll") {
    parse(PollCommand, value);
    return { action: "poll" };
  }
  if (action === "accept-identity") {
    const c = parse(AcceptIdentityCommand, value);
    return { action: "accept-identity", device: c.device };
  }
  if (action === "stats") {
    const checked = validate(StatsCommand, value);
    if (!checked.ok) {
      const issues = friendlyIssues(value, checked.issues).map((i) =>
        i.path === "$.period" && !i.message.startsWith("missing")
          ? { ...i, message: `period must be "day" or "month" (got ${JSON.stringify((value as { period?: unknown }).period)})` }
          : i,
      );
      throw new PlugwatchError("INVALID_REQUEST", `invalid stats request: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
    }
    const c = checked.value;
    const year = c.year ?? now.getFullYear();
    if (c.period === "day") return { action: "stats", device: c.device, period: "day", year, month: c.month ?? now.getMonth() + 1 };
    return { action: "stats", device: c.device, period: "month", year };
  }
  throw new PlugwatchError("INVALID_REQUEST", `${USAGE}; got ${typeof value === "object" ? JSON.stringify(value)?.slice(0, 80) : shown(value).slice(0, 60)}`);
}
