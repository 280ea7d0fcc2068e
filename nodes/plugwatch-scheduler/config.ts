// plugwatch-scheduler's editor config → typed config.
import { checkRoot, DEFAULT_ROOT } from "../../lib/topics";
import { ConfigError } from "../shared/kit";
import type { PlugwatchSchedulerNodeDef } from "./types";

export interface SchedulerConfig {
  registry: string;
  schedule: string;
  tariff: string | undefined;
  root: string;
  clock: "system" | "input";
  tickMs: number;
}

export function parseSchedulerConfig(def: PlugwatchSchedulerNodeDef): SchedulerConfig {
  const tick = def.tick === undefined || def.tick === "" ? 15 : Number(def.tick);
  if (!Number.isInteger(tick) || tick < 1 || tick > 300) throw new ConfigError(`tick must be an integer from 1 to 300 s (got ${String(def.tick)})`);
  if (def.clock !== undefined && def.clock !== "system" && def.clock !== "input")
    throw new ConfigError(`clock must be system or input (got ${String(def.clock)})`);
  let root: string;
  try {
    root = checkRoot((def.root || DEFAULT_ROOT).trim());
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return { registry: def.registry, schedule: def.schedule, tariff: def.tariff || undefined, root, clock: def.clock ?? "system", tickMs: tick * 1000 };
}

/** A clock message's time: epoch ms or an ISO 8601 text with a zone. */
export function clockTime(payload: unknown): number {
  const t = typeof payload === "number" ? payload : typeof payload === "string" ? Date.parse(payload) : NaN;
  if (!Number.isFinite(t)) throw new ConfigError(`a clock message needs payload epoch ms or an ISO time (got ${JSON.stringify(payload)})`);
  return t;
}
