// influxd backup/restore command lines (InfluxDB 1.x, portable format): validated arguments, never a shell string.

export interface ProcessCommand {
  command: string;
  args: string[];
}

export const DEFAULT_INFLUXD = "influxd";
export const DEFAULT_RPC_HOST = "127.0.0.1:8088";

/** "host:port" of the influxd RPC service (IPv6 as [addr]:port); throws a RangeError naming the problem. */
export function checkRpcHost(value: unknown): string {
  const s = typeof value === "string" ? value.trim() : "";
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new RangeError(`RPC host must be host:port of influxd's bind-address (e.g. ${DEFAULT_RPC_HOST}), got '${String(value)}'`);
  }
  return s;
}

/** An InfluxDB database name as a command argument: 1-255 printable characters, no leading '-', no '/' or quotes. */
export function checkDatabase(value: unknown, what = "database"): string {
  const s = typeof value === "string" ? value.trim() : "";
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/.test(s)) {
    throw new RangeError(`${what} name must be letters, digits, '_', '.', '-' (not starting with '-' or '.'), got '${String(value)}'`);
  }
  return s;
}

/** Path of the influxd binary: a bare name looked up in PATH or an absolute path. */
export function checkInfluxd(value: unknown): string {
  const s = typeof value === "string" && value.trim() !== "" ? value.trim() : DEFAULT_INFLUXD;
  if (s.startsWith("-") || /[\0\n]/.test(s)) throw new RangeError(`invalid influxd path '${s}'`);
  return s;
}

export interface BackupCommandOptions {
  influxd?: string | undefined;
  host: string;
  /** Database to back up; absent = every database. */
  database?: string | undefined;
  /** The new backup folder (influxd creates it). */
  target: string;
}

/** `influxd backup -portable -host H [-db D] TARGET` */
export function backupCommand(o: BackupCommandOptions): ProcessCommand {
  const args = ["backup", "-portable", "-host", checkRpcHost(o.host)];
  if (o.database !== undefined && o.database !== "") args.push("-db", checkDatabase(o.database));
  args.push(o.target);
  return { command: checkInfluxd(o.influxd), args };
}

export interface RestoreCommandOptions {
  influxd?: string | undefined;
  host: string;
  /** Database name inside the backup. */
  database: string;
  /** Restore under this name (must not exist yet); absent = the original name (which must not exist either). */
  newDatabase?: string | undefined;
  /** The backup folder. */
  source: string;
}

/** `influxd restore -portable -host H -db D [-newdb N] SOURCE` */
export function restoreCommand(o: RestoreCommandOptions): ProcessCommand {
  const args = ["restore", "-portable", "-host", checkRpcHost(o.host), "-db", checkDatabase(o.database)];
  if (o.newDatabase !== undefined && o.newDatabase !== "") args.push("-newdb", checkDatabase(o.newDatabase, "new database"));
  args.push(o.source);
  return { command: checkInfluxd(o.influxd), args };
}

/** Shell-quoted command line, for logs and docs only (the command itself is run without a shell). */
export function commandLine(c: ProcessCommand): string {
  return [c.command, ...c.args].map((a) => (/^[A-Za-z0-9_./:=@-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}
