// plugwatch-ha-discovery's editor config → typed config (the rules are lib/ha-discovery.ts's).
import { checkHaOptions, DEFAULT_DISCOVERY_PREFIX, DEFAULT_HA_NODE_ID } from "../../lib/ha-discovery";
import { DEFAULT_ROOT } from "../../lib/topics";
import { ConfigError } from "../shared/kit";
import type { PlugwatchHaDiscoveryNodeDef } from "./types";

export interface HaDiscoveryConfig {
  broker: string;
  registry: string;
  root: string;
  prefix: string;
  nodeId: string;
}

const text = (v: unknown, fallback: string): string => (typeof v === "string" && v.trim() !== "" ? v.trim() : fallback);

export function parseHaDiscoveryConfig(def: PlugwatchHaDiscoveryNodeDef): HaDiscoveryConfig {
  const c = {
    broker: def.broker,
    registry: def.registry,
    root: text(def.root, DEFAULT_ROOT),
    prefix: text(def.prefix, DEFAULT_DISCOVERY_PREFIX),
    nodeId: text(def.nodeId, DEFAULT_HA_NODE_ID),
  };
  const problem = checkHaOptions(c);
  if (problem) throw new ConfigError(problem);
  return c;
}
