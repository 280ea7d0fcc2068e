// plugwatch-collector edge parsing: the editor config, validated into typed values (input commands: lib/collector-commands.ts).
import * as os from "node:os";
import * as path from "node:path";
import { DEVICE_KINDS, type DeviceKind } from "../../lib/contracts/device";
import { Slug } from "../../lib/contracts/common";
import { PlugwatchError } from "../../lib/contracts/errors";
import type { DeviceFilter } from "../../lib/registry";
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

export function parseCollectorConfig(def: PlugwatchCollectorNodeDef, env: { userDir?: string | undefined } = {}): CollectorNodeConfig {
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
  for (const place of ["building", "floor", "room"] as const) {
    const v = slugOrEmpty(place, def[place]);
    if (v) filter[place] = v;
  }
  return {
    root,
    filter,
    intervalMs: Math.round(numberIn("interval", def.interval, LIMITS.intervalS, false, " s") * 1000),
    timeoutMs: numberIn("timeout", def.timeout, LIMITS.timeoutMs, true, " ms"),
    concurrency: numberIn("concurrency", def.concurrency, LIMITS.concurrency, true, ""),
    offlineAfter: numberIn("offlineAfter", def.offlineAfter, LIMITS.offlineAfter, true, ""),
  };
}
