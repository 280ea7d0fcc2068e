// Durable append-only disk spool of line-protocol batches: group-committed appends, in-order peek/ack, crash recovery, size bound.
import { promises as fsp, constants as fsc } from "node:fs";
import * as fs from "node:fs";
import * as path from "node:path";
import { crc32 } from "node:zlib";
import { itemAt } from "./arrays";
import { PlugwatchError } from "./contracts/errors";

/** What to do when an append would exceed `maxBytes`. */
export const SPOOL_POLICIES = ["reject", "drop-oldest"] as const;
export type SpoolPolicy = (typeof SPOOL_POLICIES)[number];

/** Timer functions, injectable so tests control time. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SpoolOptions {
  /** Directory of this spool (created if missing); one spool per directory. */
  dir: string;
  /** Bound on spooled, not yet acknowledged data in bytes (record headers included). */
  maxBytes: number;
  /** Policy when full (default `reject`). */
  policy?: SpoolPolicy;
  /**
   * Per-key fair share (default true): once the spool is half full, an append with a key (a device id) is refused
   * with SPOOL_FULL when that key already holds more than maxBytes / (active keys + 1), so one flooding publisher
   * cannot take the room the others need. Appends without a key are not limited.
   */
  fairShare?: boolean;
  /** Segment file size in bytes before rolling over (default maxBytes/16, between 64 KiB and 16 MiB). */
  segmentBytes?: number;
  /** Group commit: appends wait at most this long (ms) before their batch is written and fsynced (default 5). */
  flushMs?: number;
  /** Group commit: write as soon as this many lines are buffered (default 20000). */
  flushLines?: number;
  /** fdatasync after each group write (default true). Off = faster but a power loss may lose acknowledged lines. */
  fsync?: boolean;
  /** Record payloads kept in memory for peek (default 64 MiB); older ones are read back from disk. */
  cacheBytes?: number;
  timers?: Timers;
  log?: (msg: string) => void;
}

/** Lines read from the spool for sending: `count` lines starting at sequence number `fromSeq`. */
export interface SpoolBatch {
  fromSeq: number;
  count: number;
  /** Newline-separated line protocol, ending with "\n". */
  body: Buffer;
}

export interface RecoveryReport {
  segments: number;
  records: number;
  lines: number;
  /** Bytes of torn or corrupt data skipped (torn tail and corrupt regions). */
  skippedBytes: number;
  /** Of those, bytes of a torn tail (an append cut by a crash): the only data recovery truncates. */
  tornBytes: number;
  /** Corrupt regions (CRC or framing failures) skipped by resynchronising; their bytes go to `quarantine/`. */
  corruptRegions: number;
  /** Unacknowledged lines lost in corrupt regions (from the sequence gap around them). */
  lostLines: number;
  /** Records kept (holding unacknowledged lines) after recovery. */
  keptRecords: number;
}

export interface SpoolStats {
  /** Lines spooled and not yet acknowledged. */
  backlogLines: number;
  backlogBytes: number;
  /** Size of the segment files on disk. */
  diskBytes: number;
  appendedLines: number;
  ackedLines: number;
  /** Lines refused because the spool was full (policy reject). */
  rejectedLines: number;
  /** Lines discarded to make room (policy drop-oldest). */
  droppedLines: number;
  /** Of rejectedLines, lines refused because their key was over its fair share. */
  fairShareRejectedLines: number;
  /** The size bound (bytes). */
  maxBytes: number;
  /** Keys (devices) holding unsent lines, and the largest one's bytes. */
  keys: number;
  largestKeyBytes: number;
  segments: number;
  recovery: RecoveryReport;
}

/**
 * On-disk record: header then payload.
 *   0  u32 magic "PWS1"    4  u32 payload length   8  u32 line count
 *   12 f64 first sequence  20 u32 crc32(bytes 4..19 + payload)
 */
const MAGIC = 0x50575331;
export const HEADER_BYTES = 24;
const SEGMENT_RE = /^(\d{12})\.seg$/;
const ACK_FILE = "ack";
/** Sub-directory where recovery puts corrupt bytes for inspection (bounded by QUARANTINE_MAX_BYTES). */
export const QUARANTINE_DIR = "quarantine";
const QUARANTINE_MAX_BYTES = 64 * 1024 * 1024;
/** Files a spool owns in its directory; nothing else there is ever deleted. */
const isSpoolFile = (name: string) => SEGMENT_RE.test(name) || name === ACK_FILE || name === `${ACK_FILE}.tmp`;

/** Directories of the spools open in this process: two spools in one directory would corrupt each other. */
const openDirs = new Set<string>();

interface Segment {
  no: number;
  file: string;
  fd?: number | undefined;
  size: number;
}

interface RecordRef {
  seg: Segment;
  /** Offset of the record header in its segment. */
  offset: number;
  length: number;
  firstSeq: number;
  count: number;
  payload?: Buffer;
}

type Callback = (err?: Error) => void;

function encodeHeader(payload: Buffer, count: number, firstSeq: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h.writeUInt32BE(MAGIC, 0);
  h.writeUInt32BE(payload.length, 4);
  h.writeUInt32BE(count, 8);
  h.writeDoubleBE(firstSeq, 12);
  h.writeUInt32BE(crc32(payload, crc32(h.subarray(4, 20))), 20);
  return h;
}

/** Payload length of the valid record (magic, framing and CRC) at `off`, or -1. */
function validRecordAt(data: Buffer, off: number): number {
  if (data.length - off < HEADER_BYTES || data.readUInt32BE(off) !== MAGIC) return -1;
  const len = data.readUInt32BE(off + 4);
  if (off + HEADER_BYTES + len > data.length) return -1;
  const count = data.readUInt32BE(off + 8);
  const firstSeq = data.readDoubleBE(off + 12);
  if (count === 0 || !Number.isSafeInteger(firstSeq) || firstSeq < 0) return -1;
  const crc = crc32(data.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len), crc32(data.subarray(off + 4, off + 20)));
  return crc === data.readUInt32BE(off + 20) ? len : -1;
}

const MAGIC_BYTES = Buffer.from([0x50, 0x57, 0x53, 0x31]);

/** Offset of the next valid record at or after `from`, or -1. */
function nextValidRecord(data: Buffer, from: number): number {
  for (let at = data.indexOf(MAGIC_BYTES, from); at >= 0; at = data.indexOf(MAGIC_BYTES, at + 1)) {
    if (validRecordAt(data, at) >= 0) return at;
  }
  return -1;
}

const segName = (no: number) => `${String(no).padStart(12, "0")}.seg`;

export class Spool {
  private readonly opts: Required<Omit<SpoolOptions, "log">> & { log: (msg: string) => void };
  private readonly records: RecordRef[] = [];
  private readonly segments: Segment[] = [];
  private current?: Segment;
  /** All lines with seq < ackedSeq are acknowledged; nextSeq is the seq of the next appended line. */
  private ackedSeq = 0;
  private nextSeq = 0;
  private backlogBytes = 0;
  /** Sequence ranges [from, to) lost to corruption at recovery: inside the backlog's range but never delivered. */
  private gaps: Array<[number, number]> = [];
  private cachedBytes = 0;
  private buffer: string[] = [];
  private bufferBytes = 0;
  /** Lines/bytes taken from the buffer and being written right now. */
  private writingLines = 0;
  private writingBytes = 0;
  private waiters: Callback[] = [];
  /** Unsent appends in order (durable first, then `pendingShares` not yet written), for the per-key accounting. */
  private shares: Array<{ key: string; lines: number; bytes: number }> = [];
  private pendingShares = 0;
  private readonly keyBytes = new Map<string, number>();
  private flushTimer: unknown;
  private flushing?: Promise<void> | undefined;
  private ackWrite?: Promise<void> | undefined;
  private ackDirty = false;
  private closed = false;
  private readonly counters = { appendedLines: 0, ackedLines: 0, rejectedLines: 0, droppedLines: 0, fairShareRejectedLines: 0 };
  recovery: RecoveryReport = { segments: 0, records: 0, lines: 0, skippedBytes: 0, tornBytes: 0, corruptRegions: 0, lostLines: 0, keptRecords: 0 };
  /** Called after lines are durably appended (the writer uses it to wake up). */
  onAppend?: (() => void) | undefined;

  private constructor(opts: SpoolOptions) {
    const segmentBytes = opts.segmentBytes ?? Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(opts.maxBytes / 16)));
    this.opts = {
      dir: opts.dir,
      maxBytes: opts.maxBytes,
      policy: opts.policy ?? "reject",
      fairShare: opts.fairShare ?? true,
      segmentBytes,
      flushMs: opts.flushMs ?? 5,
      flushLines: opts.flushLines ?? 20000,
      fsync: opts.fsync ?? true,
      cacheBytes: opts.cacheBytes ?? 64 * 1024 * 1024,
      timers: opts.timers ?? realTimers,
      log: opts.log ?? (() => undefined),
    };
  }

  /** Opens (or creates) the spool in `dir` and recovers what a previous process left, dropping a torn tail. */
  static async open(opts: SpoolOptions): Promise<Spool> {
    if (!(opts.maxBytes > 0)) throw new Error(`spool maxBytes must be > 0 (got ${opts.maxBytes})`);
    const dir = path.resolve(opts.dir);
    if (openDirs.has(dir))
      throw new PlugwatchError("INTERNAL", `spool directory ${dir} is already used by another running spool: give each node its own directory`);
    openDirs.add(dir);
    const s = new Spool({ ...opts, dir });
    try {
      await fsp.mkdir(dir, { recursive: true });
      await s.recover();
    } catch (err) {
      openDirs.delete(dir);
      throw err;
    }
    return s;
  }

  /** The (absolute) directory of this spool. */
  get dir(): string {
    return this.opts.dir;
  }

  private async recover(): Promise<void> {
    const dir = this.opts.dir;
    try {
      const n = Number((await fsp.readFile(path.join(dir, ACK_FILE), "utf8")).trim());
      if (Number.isSafeInteger(n) && n >= 0) this.ackedSeq = n;
    } catch {
      /* no ack file: nothing acknowledged yet */
    }
    const names = (await fsp.readdir(dir)).filter((f) => SEGMENT_RE.test(f)).sort();
    let lastNo = 0;
    let maxSeq = this.ackedSeq;
    let coveredEnd = 0;
    /** End sequence of the last valid record seen (any segment): a gap before the next valid record is lost data. */
    let prevEnd = this.ackedSeq;
    let pendingLoss: { name: string; offset: number; bytes: number } | undefined;
    const reportLoss = (nextFirstSeq: number | undefined) => {
      if (!pendingLoss) return;
      // Lines in the gap between the valid records around the bad bytes; acknowledged ones were already delivered.
      const lost = nextFirstSeq === undefined ? undefined : Math.max(0, nextFirstSeq - Math.max(prevEnd, this.ackedSeq));
      if (lost) this.recovery.lostLines += lost;
      this.opts.log(
        `spool ${pendingLoss.name}: ${pendingLoss.bytes} corrupt bytes at offset ${pendingLoss.offset} quarantined; ` +
          `${lost === undefined ? "an unknown number of" : lost} unsent line(s) lost, resynchronised on the next valid record`,
      );
      pendingLoss = undefined;
    };
    for (const name of names) {
      const no = Number((SEGMENT_RE.exec(name) as RegExpExecArray)[1]);
      lastNo = Math.max(lastNo, no);
      const file = path.join(dir, name);
      const data = await fsp.readFile(file);
      const seg: Segment = { no, file, size: data.length };
      let off = 0;
      let live = 0;
      let corrupt = false;
      /** Offsets of the valid records of this segment, and the kept ones (rewritten if the segment is compacted). */
      const spans: number[] = [];
      const kept: RecordRef[] = [];
      while (off < data.length) {
        let len = validRecordAt(data, off);
        if (len < 0) {
          // Not a valid record here: resynchronise on the next valid record boundary, if there is one.
          const next = nextValidRecord(data, off + 1);
          if (next < 0) break; // nothing valid follows: a torn (or corrupt) tail
          const bytes = next - off;
          this.recovery.skippedBytes += bytes;
          this.recovery.corruptRegions++;
          await this.quarantine(name, off, data.subarray(off, next));
          corrupt = true;
          pendingLoss = { name, offset: off, bytes };
          off = next;
          len = validRecordAt(data, off);
        }
        const count = data.readUInt32BE(off + 8);
        const firstSeq = data.readDoubleBE(off + 12);
        reportLoss(firstSeq);
        this.recovery.records++;
        // Keep records that still hold unacknowledged lines, in sequence order (a duplicate is never replayed twice).
        if (firstSeq + count > this.ackedSeq && firstSeq >= coveredEnd) {
          coveredEnd = firstSeq + count;
          const rec: RecordRef = { seg, offset: off, length: len, firstSeq, count };
          this.records.push(rec);
          kept.push(rec);
          this.backlogBytes += HEADER_BYTES + len;
          this.recovery.lines += firstSeq + count - Math.max(firstSeq, this.ackedSeq);
          live++;
        }
        spans.push(off);
        prevEnd = Math.max(prevEnd, firstSeq + count);
        maxSeq = Math.max(maxSeq, firstSeq + count);
        off += HEADER_BYTES + len;
      }
      if (off < data.length) {
        // A torn write from a crash (incomplete last record), or a damaged last record: nothing valid follows,
        // so this is the one case that truncates. A complete-looking but damaged record is quarantined first.
        const tail = data.subarray(off);
        const torn = tail.length < HEADER_BYTES || tail.readUInt32BE(0) !== MAGIC || HEADER_BYTES + tail.readUInt32BE(4) > tail.length;
        this.recovery.skippedBytes += tail.length;
        if (torn) {
          this.recovery.tornBytes += tail.length;
          this.opts.log(`spool ${name}: dropped a torn tail of ${tail.length} bytes at offset ${off} (an append cut by a crash)`);
        } else {
          this.recovery.corruptRegions++;
          await this.quarantine(name, off, tail);
          corrupt = true;
          pendingLoss = { name, offset: off, bytes: tail.length };
        }
        if (!corrupt) {
          await fsp.truncate(file, off);
          seg.size = off;
        }
      }
      if (corrupt && live > 0) {
        // Compact: rewrite the segment with its valid records only (tmp + fsync + rename), so the corrupt bytes
        // (already quarantined) are not found and reported again at the next start.
        const moved = new Map<number, number>();
        const parts: Buffer[] = [];
        let size = 0;
        for (const at of spans) {
          const end = at + HEADER_BYTES + data.readUInt32BE(at + 4);
          moved.set(at, size);
          parts.push(data.subarray(at, end));
          size += end - at;
        }
        const tmp = `${file}.tmp`;
        const fh = await fsp.open(tmp, "w");
        try {
          await fh.writev(parts);
          await fh.datasync();
        } finally {
          await fh.close();
        }
        await fsp.rename(tmp, file);
        for (const r of kept) r.offset = moved.get(r.offset) as number;
        seg.size = size;
      }
      if (live === 0) await fsp.rm(file, { force: true });
      else this.segments.push(seg);
    }
    if (pendingLoss) reportLoss(undefined);
    this.recovery.keptRecords = this.records.length;
    // Sequence holes between kept records (lines lost to corruption, now or at an earlier start) are not backlog.
    let expect = this.ackedSeq;
    for (const r of this.records) {
      if (r.firstSeq > expect) this.gaps.push([expect, r.firstSeq]);
      expect = Math.max(expect, r.firstSeq + r.count);
    }
    if (this.recovery.corruptRegions > 0)
      this.opts.log(
        `spool recovery: ${this.recovery.corruptRegions} corrupt region(s), ${this.recovery.skippedBytes} bytes skipped, ` +
          `${this.recovery.lostLines} unsent line(s) lost; kept ${this.records.length} record(s) with ${this.recovery.lines} unsent line(s)`,
      );
    this.recovery.segments = this.segments.length;
    this.nextSeq = maxSeq;
    // The recovered backlog has no keys: it counts as one unkeyed share (never limited).
    const recovered = this.backlogLines;
    if (recovered > 0) this.addShare("", recovered, this.backlogBytes);
    // Always append to a fresh segment: a recovered tail is never written into again.
    this.current = { no: lastNo + 1, file: path.join(dir, segName(lastNo + 1)), size: 0 };
  }

  /** Copies corrupt bytes to quarantine/<segment>@<offset>.bad for inspection (bounded; never fatal). */
  private async quarantine(segment: string, offset: number, bytes: Buffer): Promise<void> {
    const qdir = path.join(this.opts.dir, QUARANTINE_DIR);
    try {
      await fsp.mkdir(qdir, { recursive: true });
      let used = 0;
      for (const f of await fsp.readdir(qdir)) used += (await fsp.stat(path.join(qdir, f))).size;
      if (used + bytes.length > QUARANTINE_MAX_BYTES) {
        this.opts.log(`spool: quarantine ${qdir} is full (${used} bytes); ${bytes.length} corrupt bytes of ${segment} not kept`);
        return;
      }
      await fsp.writeFile(path.join(qdir, `${segment}@${offset}.bad`), bytes);
    } catch (err) {
      this.opts.log(`spool: cannot quarantine corrupt bytes of ${segment}: ${(err as Error).message}`);
    }
  }

  /** Lines waiting in the spool (acknowledged lines excluded), including ones still being written. */
  get backlogLines(): number {
    return this.nextSeq - this.ackedSeq - this.gapLines(this.ackedSeq, this.nextSeq) + this.writingLines + this.buffer.length;
  }

  /** Lost sequence numbers in [from, to). */
  private gapLines(from: number, to: number): number {
    let n = 0;
    for (const [a, b] of this.gaps) n += Math.max(0, Math.min(b, to) - Math.max(a, from));
    return n;
  }
  /** Sequence number of the first unacknowledged line. */
  get headSeq(): number {
    return this.ackedSeq;
  }
  /** Sequence number after the last durably spooled line. */
  get tailSeq(): number {
    return this.nextSeq;
  }

  private addShare(key: string, lines: number, bytes: number): void {
    this.shares.push({ key, lines, bytes });
    this.keyBytes.set(key, (this.keyBytes.get(key) ?? 0) + bytes);
  }

  private subShare(key: string, bytes: number): void {
    const left = (this.keyBytes.get(key) ?? 0) - bytes;
    if (left > 0) this.keyBytes.set(key, left);
    else this.keyBytes.delete(key);
  }

  /**
   * The oldest `n` pending shares are now durable: consecutive ones of the same key are merged, so a flood costs
   * one entry however many appends it made (memory: one small entry per run of same-key appends).
   */
  private commitShares(n: number): void {
    const first = this.shares.length - this.pendingShares;
    const batch = this.shares.splice(first, n);
    const stillPending = this.shares.splice(first);
    for (const sh of batch) {
      const last = this.shares[this.shares.length - 1];
      if (last && last.key === sh.key) {
        last.lines += sh.lines;
        last.bytes += sh.bytes;
      } else this.shares.push(sh);
    }
    for (const sh of stillPending) this.shares.push(sh);
    this.pendingShares -= n;
  }

  /** Removes `n` lines from the front of the share list (they were acknowledged or dropped). */
  private consumeShares(n: number): void {
    while (n > 0 && this.shares.length > this.pendingShares) {
      const sh = itemAt(this.shares, 0);
      if (sh.lines <= n) {
        n -= sh.lines;
        this.shares.shift();
        this.subShare(sh.key, sh.bytes);
      } else {
        const b = Math.floor((sh.bytes * n) / sh.lines);
        sh.lines -= n;
        sh.bytes -= b;
        this.subShare(sh.key, b);
        n = 0;
      }
    }
  }

  /** Bytes of unsent lines appended with `key`. */
  keyBacklogBytes(key: string): number {
    return this.keyBytes.get(key) ?? 0;
  }

  stats(): SpoolStats {
    let largestKeyBytes = 0;
    let keys = 0;
    for (const [k, b] of this.keyBytes)
      if (k !== "") {
        keys++;
        largestKeyBytes = Math.max(largestKeyBytes, b);
      }
    let diskBytes = 0;
    for (const s of this.segments) diskBytes += s.size;
    if (this.current && !this.segments.includes(this.current)) diskBytes += this.current.size;
    return {
      backlogLines: this.backlogLines,
      backlogBytes: this.backlogBytes + this.writingBytes + this.bufferBytes,
      diskBytes,
      ...this.counters,
      maxBytes: this.opts.maxBytes,
      keys,
      largestKeyBytes,
      segments: this.segments.length,
      recovery: this.recovery,
    };
  }

  /**
   * Appends lines; `cb()` runs once they are written and fsynced (then they are "accepted"). When the bound is
   * reached, `cb(SPOOL_FULL)` (policy reject: nothing of this call is stored) or the oldest records are discarded
   * (policy drop-oldest, counted in droppedLines).
   */
  append(lines: readonly string[], cb: Callback, key = ""): void {
    if (this.closed) return cb(new PlugwatchError("INTERNAL", "spool is closed"));
    if (lines.length === 0) return cb();
    let bytes = HEADER_BYTES; // as if this append became its own record: the bound holds whatever group commit does
    for (const l of lines) bytes += l.length + 1;
    const used = this.backlogBytes + this.writingBytes + this.bufferBytes;
    if (key !== "" && this.opts.fairShare && used + bytes > this.opts.maxBytes / 2) {
      let active = this.keyBytes.has(key) ? 0 : 1;
      for (const k of this.keyBytes.keys()) if (k !== "") active++;
      const share = Math.floor(this.opts.maxBytes / (active + 1));
      const mine = this.keyBytes.get(key) ?? 0;
      if (mine + bytes > share) {
        this.counters.rejectedLines += lines.length;
        this.counters.fairShareRejectedLines += lines.length;
        return cb(
          new PlugwatchError(
            "SPOOL_FULL",
            `spool fair share: '${key}' holds ${mine} of its ${share} bytes (${active} active key(s), spool ${used} of ${this.opts.maxBytes} bytes); ${lines.length} line(s) refused`,
          ),
        );
      }
    }
    if (this.backlogBytes + this.writingBytes + this.bufferBytes + bytes > this.opts.maxBytes) {
      if (this.opts.policy === "drop-oldest") this.dropOldest(bytes);
      if (this.backlogBytes + this.writingBytes + this.bufferBytes + bytes > this.opts.maxBytes) {
        this.counters.rejectedLines += lines.length;
        return cb(
          new PlugwatchError(
            "SPOOL_FULL",
            `spool full: ${this.backlogBytes + this.writingBytes + this.bufferBytes} of ${this.opts.maxBytes} bytes used by ${this.backlogLines} unsent lines; ${lines.length} line(s) refused`,
          ),
        );
      }
    }
    for (const l of lines) this.buffer.push(l);
    this.bufferBytes += bytes;
    this.waiters.push(cb);
    this.addShare(key, lines.length, bytes);
    this.pendingShares++;
    if (this.buffer.length >= this.opts.flushLines) this.kick(0);
    else this.kick(this.opts.flushMs);
  }

  appendAsync(lines: readonly string[], key?: string): Promise<void> {
    return new Promise((resolve, reject) => this.append(lines, (err) => (err ? reject(err) : resolve()), key));
  }

  private kick(delay: number): void {
    if (this.flushing) return; // the running flush picks the buffer up when it ends
    if (this.flushTimer !== undefined) {
      if (delay > 0) return;
      this.opts.timers.clearTimeout(this.flushTimer);
    }
    this.flushTimer = this.opts.timers.setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, delay);
  }

  /** Writes and fsyncs everything buffered now (group commit). Resolves when the buffer is durable. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.buffer.length ? this.flush() : undefined));
    if (this.buffer.length === 0) return Promise.resolve();
    if (this.flushTimer !== undefined) {
      this.opts.timers.clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    const lines = this.buffer;
    const waiters = this.waiters;
    this.writingLines = lines.length;
    this.writingBytes = this.bufferBytes;
    this.buffer = [];
    this.waiters = [];
    this.bufferBytes = 0;
    this.flushing = this.writeRecord(lines).then(
      () => {
        this.flushing = undefined;
        this.writingLines = this.writingBytes = 0;
        this.commitShares(waiters.length);
        for (const w of waiters) w();
        this.onAppend?.();
        if (this.buffer.length) this.kick(this.buffer.length >= this.opts.flushLines ? 0 : this.opts.flushMs);
      },
      (err: Error) => {
        this.flushing = undefined;
        this.writingLines = this.writingBytes = 0;
        this.counters.rejectedLines += lines.length;
        // The failed appends are the oldest pending shares: they are not in the spool.
        const first = this.shares.length - this.pendingShares;
        for (const sh of this.shares.splice(first, waiters.length)) this.subShare(sh.key, sh.bytes);
        this.pendingShares -= waiters.length;
        const e = new PlugwatchError((err as NodeJS.ErrnoException).code === "ENOSPC" ? "SPOOL_FULL" : "INTERNAL", `spool write failed: ${err.message}`);
        for (const w of waiters) w(e);
        if (this.buffer.length) this.kick(this.opts.flushMs);
      },
    );
    return this.flushing;
  }

  private async writeRecord(lines: string[]): Promise<void> {
    const payload = Buffer.from(lines.join("\n") + "\n", "utf8");
    const firstSeq = this.nextSeq;
    const header = encodeHeader(payload, lines.length, firstSeq);
    let seg = this.current as Segment;
    if (seg.size > 0 && seg.size + HEADER_BYTES + payload.length > this.opts.segmentBytes) seg = await this.roll();
    if (seg.fd === undefined) {
      seg.fd = await new Promise<number>((res, rej) => fs.open(seg.file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND, 0o644, (e, fd) => (e ? rej(e) : res(fd))));
      if (!this.segments.includes(seg)) this.segments.push(seg);
    }
    const fd = seg.fd;
    const offset = seg.size;
    try {
      await new Promise<void>((res, rej) => fs.writev(fd, [header, payload], (e) => (e ? rej(e) : res())));
      if (this.opts.fsync) await new Promise<void>((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
    } catch (err) {
      // The segment may now end in a partial record: never append after it again.
      seg.size += HEADER_BYTES + payload.length;
      await this.roll();
      throw err;
    }
    seg.size += HEADER_BYTES + payload.length;
    const rec: RecordRef = { seg, offset, length: payload.length, firstSeq, count: lines.length };
    if (this.cachedBytes + payload.length <= this.opts.cacheBytes) {
      rec.payload = payload;
      this.cachedBytes += payload.length;
    }
    this.records.push(rec);
    this.nextSeq = firstSeq + lines.length;
    this.backlogBytes += HEADER_BYTES + payload.length;
    this.counters.appendedLines += lines.length;
  }

  private async roll(): Promise<Segment> {
    const old = this.current as Segment;
    if (old.fd !== undefined) {
      const fd = old.fd;
      old.fd = undefined;
      await new Promise<void>((res) => fs.close(fd, () => res()));
    }
    if (old.size > 0 && !this.segments.includes(old)) this.segments.push(old);
    this.current = { no: old.no + 1, file: path.join(this.opts.dir, segName(old.no + 1)), size: 0 };
    this.reapSegments();
    return this.current;
  }

  private dropOldest(needed: number): void {
    for (
      let r = this.records[0];
      r !== undefined && this.backlogBytes + this.writingBytes + this.bufferBytes + needed > this.opts.maxBytes;
      r = this.records[0]
    ) {
      const end = r.firstSeq + r.count;
      this.counters.droppedLines += end - Math.max(r.firstSeq, this.ackedSeq);
      this.ack(end);
      if (this.records[0] === r) return; // nothing acknowledged (a closed spool): stop instead of spinning
    }
  }

  /**
   * Reads up to `maxLines` lines starting at `fromSeq` (clamped to the head). Returns undefined when nothing is
   * spooled at or after `fromSeq`. Lines are returned in append order.
   */
  async peek(fromSeq: number, maxLines: number): Promise<SpoolBatch | undefined> {
    let start = Math.max(fromSeq, this.ackedSeq);
    if (start >= this.nextSeq || maxLines <= 0) return undefined;
    const parts: Buffer[] = [];
    let count = 0;
    let i = this.indexOf(start);
    // A start inside a gap left by corruption moves to the next record; a batch never spans a gap, so
    // fromSeq + count is always the sequence after its last line.
    const at = this.records[i];
    if (at !== undefined) start = Math.max(start, at.firstSeq);
    for (let r = at; r !== undefined && count < maxLines; r = this.records[i]) {
      if (count > 0 && r.firstSeq !== start + count) break;
      let data = r.payload ?? (await this.readPayload(r));
      const skip = Math.max(0, start + count - r.firstSeq);
      let take = r.count - skip;
      if (skip > 0) data = data.subarray(nthLineStart(data, skip));
      if (take > maxLines - count) {
        take = maxLines - count;
        data = data.subarray(0, nthLineStart(data, take));
      }
      parts.push(data);
      count += take;
      i++;
    }
    const [first] = parts;
    if (count === 0 || first === undefined) return undefined;
    return { fromSeq: start, count, body: parts.length === 1 ? first : Buffer.concat(parts) };
  }

  private indexOf(seq: number): number {
    let lo = 0;
    let hi = this.records.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = itemAt(this.records, mid);
      if (r.firstSeq + r.count <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private async readPayload(r: RecordRef): Promise<Buffer> {
    const fh = await fsp.open(r.seg.file, "r");
    try {
      const buf = Buffer.allocUnsafe(r.length);
      const { bytesRead } = await fh.read(buf, 0, r.length, r.offset + HEADER_BYTES);
      if (bytesRead !== r.length) throw new Error(`spool segment ${r.seg.file} is shorter than expected`);
      return buf;
    } finally {
      await fh.close();
    }
  }

  /** Acknowledges every line with seq < `uptoSeq` (idempotent; never moves backwards). Fully acked segments are deleted. */
  ack(uptoSeq: number): void {
    const upto = Math.min(uptoSeq, this.nextSeq);
    if (upto <= this.ackedSeq || this.closed) return;
    const consumed = upto - this.ackedSeq - this.gapLines(this.ackedSeq, upto);
    this.counters.ackedLines += consumed;
    this.consumeShares(consumed);
    this.ackedSeq = upto;
    if (this.gaps.length) this.gaps = this.gaps.filter(([, b]) => b > upto);
    for (let r = this.records[0]; r !== undefined && r.firstSeq + r.count <= upto; r = this.records[0]) {
      this.records.shift();
      this.backlogBytes -= HEADER_BYTES + r.length;
      if (r.payload) this.cachedBytes -= r.length;
    }
    this.reapSegments();
    this.ackDirty = true;
    void this.persistAck();
  }

  /** Deletes segments that hold no unacknowledged record (never the one being written). */
  private reapSegments(): void {
    const live = new Set<Segment>();
    for (const r of this.records) live.add(r.seg);
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = itemAt(this.segments, i);
      if (s === this.current || live.has(s)) continue;
      this.segments.splice(i, 1);
      const fd = s.fd;
      s.fd = undefined;
      // Synchronous on purpose: a few unlinks per segment (MiBs of data), and the directory is exact right after ack().
      try {
        if (fd !== undefined) fs.closeSync(fd);
        fs.rmSync(s.file, { force: true });
      } catch (err) {
        this.opts.log(`spool: cannot delete ${s.file}: ${(err as Error).message}`);
      }
    }
  }

  /** Writes the ack position (tmp + rename). Losing the newest one in a crash only re-sends lines: writes are idempotent. */
  private persistAck(): Promise<void> {
    if (this.ackWrite) return this.ackWrite;
    if (!this.ackDirty) return Promise.resolve();
    this.ackDirty = false;
    const file = path.join(this.opts.dir, ACK_FILE);
    const tmp = `${file}.tmp`;
    this.ackWrite = fsp
      .writeFile(tmp, String(this.ackedSeq))
      .then(() => fsp.rename(tmp, file))
      .catch((err: Error) => this.opts.log(`spool: cannot save ack position: ${err.message}`))
      .finally(() => {
        this.ackWrite = undefined;
        if (this.ackDirty) void this.persistAck();
      });
    return this.ackWrite;
  }

  /** Flushes and fsyncs pending appends, saves the ack position and closes files. Unsent lines stay for the next open. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      openDirs.delete(this.opts.dir);
    }
    if (this.flushTimer !== undefined) this.opts.timers.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    while (this.ackWrite || this.ackDirty) await (this.ackWrite ?? this.persistAck());
    for (const s of [...this.segments, this.current]) {
      if (s?.fd !== undefined) {
        const fd = s.fd;
        s.fd = undefined;
        await new Promise<void>((res) => fs.close(fd, () => res()));
      }
    }
    this.reapSegments();
  }

  /**
   * Closes the spool, then deletes its own files (segments, ack position) — unsent lines included — and the
   * directory only if nothing else is left in it. Other files in the directory are never touched.
   */
  async removeFiles(): Promise<void> {
    await this.close();
    const dir = this.opts.dir;
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return; // already gone
    }
    for (const name of names.filter(isSpoolFile)) await fsp.rm(path.join(dir, name), { force: true });
    try {
      await fsp.rmdir(dir); // fails (and is meant to) when other files remain
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "ENOENT") this.opts.log(`spool: cannot remove ${dir}: ${(err as Error).message}`);
    }
  }
}

/** Byte offset where line `n` (0-based) starts in a newline-terminated buffer. */
function nthLineStart(buf: Buffer, n: number): number {
  let off = 0;
  for (let i = 0; i < n; i++) {
    const nl = buf.indexOf(10, off);
    if (nl < 0) return buf.length;
    off = nl + 1;
  }
  return off;
}
