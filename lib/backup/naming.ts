// Backup folder names: a sortable UTC timestamp (YYYYMMDDTHHMMSSZ), with "-N" when two backups share a second.
const NAME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-([1-9]\d{0,2}))?$/;

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** The folder name of a backup started at `epochMs`, e.g. 20261125T113000Z; `seq` > 0 appends "-seq". */
export function backupName(epochMs: number, seq = 0): string {
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) throw new RangeError(`invalid backup time ${epochMs}`);
  const base = `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return seq > 0 ? `${base}-${seq}` : base;
}

export interface ParsedBackupName {
  /** Start of the backup, epoch ms (second precision). */
  time: number;
  seq: number;
}

/** Parses a backup folder name; undefined for anything else (such folders are never listed or deleted). */
export function parseBackupName(name: string): ParsedBackupName | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const time = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(time);
  // Reject impossible dates (20260230T…) instead of letting Date roll them over.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return { time, seq: m[7] ? Number(m[7]) : 0 };
}

/** Backup names only (others dropped), oldest first. */
export function sortBackupNames(names: readonly string[]): string[] {
  return names
    .map((name) => ({ name, parsed: parseBackupName(name) }))
    .filter((x): x is { name: string; parsed: ParsedBackupName } => x.parsed !== undefined)
    .sort((a, b) => a.parsed.time - b.parsed.time || a.parsed.seq - b.parsed.seq)
    .map((x) => x.name);
}

/** A name for a backup at `epochMs` that is not in `taken` (adds -1, -2… within the same second). */
export function freeBackupName(epochMs: number, taken: ReadonlySet<string>): string {
  for (let seq = 0; seq < 1000; seq++) {
    const name = backupName(epochMs, seq);
    if (!taken.has(name)) return name;
  }
  throw new Error(`more than 1000 backups started in the same second (${backupName(epochMs)})`);
}
