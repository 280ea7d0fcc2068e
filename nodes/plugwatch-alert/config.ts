// plugwatch-alert's editor config → typed config: topic root, tick, parsed rules, registry id, persistence.
import { AlertRulesError, parseRules } from "../../lib/alerts/rules";
import { tickMs } from "../../lib/alerts/tick";
import { parseSelfAlertSettings, type SelfAlertSettings } from "../../lib/metrics/self-alerts";
import { checkRoot, DEFAULT_ROOT } from "../../lib/topics";
import { ConfigError } from "../shared/kit";
import type { PlugwatchAlertNodeDef } from "./types";

export interface AlertConfig {
  root: string;
  tickMs: number;
  rules: ReturnType<typeof parseRules>;
  registry: string;
  persist: boolean;
  self: SelfAlertSettings;
}

export function parseAlertConfig(def: PlugwatchAlertNodeDef): AlertConfig {
  try {
    return {
      root: checkRoot((def.root || DEFAULT_ROOT).trim()),
      tickMs: tickMs(def.tickInterval),
      rules: parseRules(def.rules ?? "[]"),
      registry: def.registry,
      persist: def.persist !== false && String(def.persist) !== "false",
      self: parseSelfAlertSettings({ ...def, enabled: def.selfAlerts }),
    };
  } catch (err) {
    // Every rule problem in one message (the rules error itself names only the first three).
    if (err instanceof AlertRulesError)
      throw new ConfigError(`invalid alert rules: ${(err.details ?? []).map((i) => `${i.path}: ${i.message}`).join("; ")}`, "status.invalidRules");
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
}
