// Types of the plugwatch-influx-backup node: what the editor saves and the runtime instance.
import type { Node, NodeDef } from "node-red";

export const BACKUP_SCHEDULES = ["manual", "interval", "daily"] as const;
export type BackupScheduleKind = (typeof BACKUP_SCHEDULES)[number];

export interface PlugwatchInfluxBackupNodeDef extends NodeDef {
  /** influxd binary: a name in PATH or an absolute path (default influxd). */
  influxd: string;
  /** host:port of influxd's RPC service (its top-level bind-address, default 127.0.0.1:8088). */
  host: string;
  /** Database to back up; empty = every database. */
  database: string;
  /** Folder holding one sub-folder per backup; relative to the Node-RED user directory. */
  dir: string;
  /** Backups to keep; older ones are deleted after a successful backup. */
  keep: number | string;
  /** manual (on input only), interval (every N minutes) or daily (at HH:MM). */
  schedule: BackupScheduleKind;
  /** Minutes between backups (schedule interval). */
  interval: number | string;
  /** Local time HH:MM (schedule daily). */
  at: string;
  /** IANA time zone of `at`; empty = the host's. */
  timezone: string;
  /** Kill influxd after this many seconds. */
  timeout: number | string;
  /** MQTT topic root of the health message ({root}/backup/backup-<db>/availability). */
  root: string;
}

export type PlugwatchInfluxBackupNode = Node;
