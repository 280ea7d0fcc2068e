// plugwatch-collector edge parsing: the editor config and input messages, validated into typed values.
import * as os from "node:os";
import * as path from "node:path";
import { Type } from "@sinclair/typebox";
import { DEVICE_KINDS, type DeviceKind } from "../../lib/contracts/device";
import { Slug } from "../../lib/contracts/common";
import { PlugwatchError } from "../../lib/contracts/errors";
import { decodePayload, parse, validate } from "../../lib/contracts/validate";
import { friendlyIssues, type DeviceFilter } from "../../lib/registry";
import { checkRoot, DEFAULT_ROOT } from "../../lib/topics";
import type { PlugwatchCollectorNodeDef } from "./types";

export const LIMITS = {
  intervalS: { min: 0.2, max: 86_400, default: 10 },
  timeoutMs: { min: 100, max: 10_000, default: 3000 },
  concurrency: { min: 1, max: 1024, default: 64 },
  offlineAfter: { min: 1, max: 100, default: 3 },
  outboxMB: { min: 1, max: 10_240, default: 64 },
} as const;

export interface CollectorConfig {
  root: string;
  filter: DeviceFilter;
  intervalMs: number;
  timeoutMs: number;
  concurrency: number;
  offlineAfter: number;
}

type Def = Pick<PlugwatchCollectorNodeDef, "root" | "kind" | "building" | "floor" | "room" | "interval" | "timeout" | "concurrency" | "offlineAfter">;

/** A config value as written in a message: strings as they are, anything else as JSON. */
const shown = (raw: unknown): string => (typeof raw === "string" ? raw : (JSON.stringify(raw) ?? typeof raw));

function numberIn(name: string, raw: unknown, lim: { min: number; max: number; default: number }, integer: boolean, unit: string): number {
  if (raw === undefined || raw === null || raw === "") return lim.default;
  const v = typeof raw === "number" ? raw : Number(shown(raw).trim());
  if (!Number.isFinite(v) || v < lim.min || v > lim.max || (integer && !Number.isInteger(v))) {
    throw new PlugwatchError(
      "INVALID_REQUEST",
      `invalid configuration: ${name} must be ${integer ? "an integer" : "a number"} from ${lim.min} to ${lim.max}${unit}, got '${shown(raw)}'`,
    );
  }
  return v;
}

function slugOrEmpty(name: string, raw: unknown): string {
  const v = typeof raw === "string" ? raw.trim() : "";
  if (v && !new RegExp(Slug.pattern as string).test(v)) throw new PlugwatchError("INVALID_REQUEST", `invalid configuration: ${name} '${v}' is not a slug`);
  return v;
}

/** The node's whole config: the typed settings plus the config nodes it uses. */
export interface CollectorNodeConfig extends CollectorConfig {
  registry: string;
  account: string | undefined;
  /** JSON file keeping the first-seen plug identities across restarts. */
  identityFile: string;
  /** Publish through this mqtt-broker config node via a durable outbox (else: readings leave on the output). */
  outbox?: { broker: string; dir: string; maxBytes: number };
}

export function parseCollectorConfig(def: PlugwatchCollectorNodeDef, env: { userDir?: string } = {}): CollectorNodeConfig {
  const userDir = env.userDir || path.join(os.homedir(), ".node-red");
  const identityFile = path.join(userDir, "plugwatch-identity", `${def.id}.json`);
  const config: CollectorNodeConfig = { ...parseConfig(def), registry: def.registry, account: def.account || undefined, identityFile };
  if (def.broker) {
    const mb = numberIn("outboxSize", def.outboxSize, LIMITS.outboxMB, false, " MB");
    config.outbox = { broker: def.broker, dir: path.join(userDir, "plugwatch-outbox", def.id), maxBytes: Math.round(mb * 1024 * 1024) };
  }
  return config;
}

/** Editor config → typed config; throws INVALID_REQUEST naming the bad field. */
export function parseConfig(def: Def): CollectorConfig {
  let root: string;
  try {
    root = checkRoot(typeof def.root === "string" && def.root.trim() ? def.root.trim() : DEFAULT_ROOT);
  } catch (err) {
    throw new PlugwatchError("INVALID_REQUEST", `invalid configuration: ${(err as Error).message}`);
  }
  const kind = typeof def.kind === "string" ? def.kind.trim() : "";
  if (kind && !(DEVICE_KINDS as readonly string[]).includes(kind)) {
    throw new PlugwatchError("INVALID_REQUEST", `invalid configuration: kind '${kind}' is not one of ${DEVICE_KINDS.join(", ")} (or empty for all)`);
  }
  const filter: DeviceFilter = {};
  if (kind) filter.kind = kind as DeviceKind;
  const building = slugOrEmpty("building", def.building);
  const floor = slugOrEmpty("floor", def.floor);
  const room = slugOrEmpty("room", def.room);
  if (building) filter.building = building;
  if (floor) filter.floor = floor;
  if (room) filter.room = room;
  return {
    root,
    filter,
    intervalMs: Math.round(numberIn("interval", def.interval, LIMITS.intervalS, false, " s") * 1000),
    timeoutMs: numberIn("timeout", def.timeout, LIMITS.timeoutMs, true, " ms"),
    concurrency: numberIn("concurrency", def.concurrency, LIMITS.concurrency, true, ""),
    offlineAfter: numberIn("offlineAfter", def.offlineAfter, LIMITS.offlineAfter, true, ""),
  };
}

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
