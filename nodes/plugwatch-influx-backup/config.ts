// plugwatch-influx-backup's editor config → typed config (the editor checks the same timeout range).
import * as path from "node:path";
import { checkTimeZone, hostTimeZone } from "../../lib/alerts/schedule";
import { backupDeviceId, backupHealthTopic } from "../../lib/backup/health";
import { BackupRunner } from "../../lib/backup/runner";
import { parseSchedule, type BackupSchedule } from "../../lib/backup/schedule";
import { checkRoot, DEFAULT_ROOT } from "../../lib/topics";
import { ConfigError, type ParseEnv } from "../shared/kit";
import type { PlugwatchInfluxBackupNodeDef } from "./types";

/** influxd timeout in seconds: default (empty value) and bounds. */
export const TIMEOUT_SECONDS = { default: 600, min: 1, max: 86_400 } as const;

/** Editor value → seconds, or undefined when out of range or not a number. */
export function timeoutSeconds(raw: unknown): number | undefined {
  const s = raw === undefined || raw === null || raw === "" ? TIMEOUT_SECONDS.default : Number(raw);
  return Number.isFinite(s) && s >= TIMEOUT_SECONDS.min && s <= TIMEOUT_SECONDS.max ? s : undefined;
}

export interface BackupNodeConfig {
  /** Checked on creation (RPC host, keep): a bad value is a config error, not a failed backup. */
  runner: BackupRunner;
  schedule: BackupSchedule;
  /** Device id and topic of the health message. */
  device: string;
  topic: string;
}

export function parseBackupConfig(def: PlugwatchInfluxBackupNodeDef, env: ParseEnv): BackupNodeConfig {
  const root = checkRoot((def.root || DEFAULT_ROOT).trim());
  const timezone = checkTimeZone((def.timezone || "").trim() || hostTimeZone());
  const schedule = parseSchedule(def.schedule || "manual", def.interval, (def.at || "").trim(), timezone);
  const dir = (def.dir || "").trim();
  if (!dir) throw new ConfigError(env.t("errors.noDir"));
  const timeout = timeoutSeconds(def.timeout);
  if (timeout === undefined) throw new ConfigError(env.t("errors.timeout"));
  const device = backupDeviceId((def.database || "").trim());
  const runner = new BackupRunner({
    influxd: (def.influxd || "").trim() || undefined,
    host: (def.host || "").trim() || "127.0.0.1:8088",
    database: (def.database || "").trim() || undefined,
    dir: path.resolve(env.userDir ?? process.cwd(), dir),
    keep: Number(def.keep === "" || def.keep === undefined ? 7 : def.keep),
    timeoutMs: Math.round(timeout * 1000),
  });
  return { runner, schedule, device, topic: backupHealthTopic(root, device) };
}
