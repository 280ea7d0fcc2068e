// plugwatch-influx-hook's editor config → runtime options, with the ranges the editor's validators (plugwatch-influx-hook.html) repeat.
import * as os from "node:os";
import * as path from "node:path";
import { SPOOL_POLICIES, type SpoolPolicy } from "../../lib/spool";
import { DEFAULT_ROOT, checkRoot } from "../../lib/topics";
import { ConfigError, type ParseEnv } from "../shared/kit";
import type { PlugwatchInfluxHookNodeDef } from "./types";

export interface HookOptions {
  measurement: string;
  batchSize: number;
  flushIntervalMs: number;
  maxBytes: number;
  policy: SpoolPolicy;
  acceptUnknown: boolean;
  maxInFlight: number;
  createDatabase: boolean;
  statsIntervalMs: number;
  root: string;
}

/** The node's whole config: options plus the config nodes it uses and its spool directory. */
export interface HookConfig extends HookOptions {
  influx: string;
  registry: string;
  spoolDir: string;
}

/** Editor config → HookConfig; a bad field is a ConfigError naming it. */
export function parseHookConfig(def: PlugwatchInfluxHookNodeDef, env: ParseEnv): HookConfig {
  let opts: HookOptions;
  try {
    opts = parseHookOptions(def);
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  const userDir = env.userDir || path.join(os.homedir(), ".node-red");
  const spoolDir = (def.spoolDir ?? "").trim() || path.join(userDir, "plugwatch-spool", def.id);
  return { ...opts, influx: def.influx, registry: def.registry, spoolDir };
}

function int(name: string, raw: unknown, dflt: number, min: number, max: number): number {
  const v = raw === undefined || raw === "" ? dflt : Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name}: must be an integer between ${min} and ${max} (got '${String(raw)}')`);
  return v;
}

/** Editor config → options; throws an Error naming the bad field. */
export function parseHookOptions(def: Partial<PlugwatchInfluxHookNodeDef>): HookOptions {
  const measurement = (def.measurement ?? "").trim() || "plug";
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(measurement)) throw new Error(`measurement: use lower-case letters, digits and '_' (got '${measurement}')`);
  const policy: SpoolPolicy = def.spoolPolicy || "reject";
  if (!SPOOL_POLICIES.includes(policy)) throw new Error(`spoolPolicy: must be one of ${SPOOL_POLICIES.join(", ")}`);
  return {
    measurement,
    batchSize: int("batchSize", def.batchSize, 5000, 1, 100_000),
    flushIntervalMs: int("flushInterval", def.flushInterval, 1000, 0, 3_600_000),
    maxBytes: int("maxSpoolMB", def.maxSpoolMB, 512, 1, 1_000_000) * 1024 * 1024,
    policy,
    acceptUnknown: def.acceptUnknown === true,
    maxInFlight: int("maxInFlight", def.maxInFlight, 1, 1, 16),
    createDatabase: def.createDatabase !== false,
    statsIntervalMs: int("statsInterval", def.statsInterval, 0, 0, 86_400) * 1000,
    root: checkRoot((def.topicRoot ?? "").trim() || DEFAULT_ROOT),
  };
}
