// Seeded fuzz test of spool recovery: random corruption (overwrite, zero-fill, insert, truncate) of a spool on disk
// must never crash recovery, and every record the corruption did not touch is delivered exactly once.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Spool, HEADER_BYTES, QUARANTINE_DIR } from "../../lib/spool";
import { nth } from "../support/checked";

/** Small, well-known PRNG: the same seed gives the same cases. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.PLUGWATCH_FUZZ_SEED ?? 20261204);
const CASES = Number(process.env.PLUGWATCH_FUZZ_CASES ?? 1000);

interface Rec {
  seg: string;
  offset: number;
  end: number;
  firstSeq: number;
  lines: string[];
}

type Corruption =
  | { kind: "overwrite" | "zero"; seg: string; at: number; len: number }
  | { kind: "insert"; seg: string; at: number; len: number }
  | { kind: "truncate"; seg: string; at: number };

const bodyLines = (b: Buffer) => b.toString("utf8").split("\n").filter(Boolean);

/** Reads everything as the InfluxDB writer does: batches from a cursor, next cursor = fromSeq + count (no ack). */
async function drain(s: Spool): Promise<string[]> {
  const out: string[] = [];
  for (let cursor = 0, b = await s.peek(cursor, 7); b; b = await s.peek(cursor, 7)) {
    const ls = bodyLines(b.body);
    assert.equal(ls.length, b.count, "a batch holds count lines");
    out.push(...ls);
    cursor = b.fromSeq + b.count;
  }
  return out;
}

describe("spool recovery fuzz (seeded)", function () {
  this.timeout(120_000);
  let root: string;
  const original = new Map<string, Buffer>();
  const records: Rec[] = [];
  let totalLines = 0;

  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), "plugwatch-spool-fuzz-"));
    const dir = path.join(root, "original");
    const rnd = mulberry32(SEED ^ 0x5eed);
    const s = await Spool.open({ dir, maxBytes: 1e7, segmentBytes: 1500, flushMs: 0, fsync: false });
    for (let r = 0; r < 60; r++) {
      const n = 1 + Math.floor(rnd() * 6);
      const ls = Array.from({ length: n }, (_, i) => `power,device=d${r % 7} w=${totalLines + i}.5,tag="PWS1 in text" ${1700000000000 + totalLines + i}`);
      totalLines += n;
      await s.appendAsync(ls);
    }
    await s.close();
    for (const f of readdirSync(dir)
      .filter((x) => x.endsWith(".seg"))
      .sort()) {
      const data = readFileSync(path.join(dir, f));
      original.set(f, data);
      for (let off = 0; off < data.length;) {
        const len = data.readUInt32BE(off + 4);
        const firstSeq = data.readDoubleBE(off + 12);
        records.push({
          seg: f,
          offset: off,
          end: off + HEADER_BYTES + len,
          firstSeq,
          lines: bodyLines(data.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len)),
        });
        off += HEADER_BYTES + len;
      }
    }
    assert.ok(original.size >= 4, `several segments (${original.size})`);
    assert.equal(
      records.reduce((n, r) => n + r.lines.length, 0),
      totalLines,
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const touched = (rec: Rec, cs: Corruption[]) =>
    cs.some((c) => {
      if (c.seg !== rec.seg) return false;
      if (c.kind === "truncate") return rec.end > c.at;
      if (c.kind === "insert") return c.at > rec.offset && c.at < rec.end;
      return c.at < rec.end && c.at + c.len > rec.offset;
    });

  it(`delivers every untouched unacknowledged record exactly once in ${CASES} random corruptions (seed ${SEED})`, async () => {
    const rnd = mulberry32(SEED);
    const int = (n: number) => Math.floor(rnd() * n);
    const segNames = [...original.keys()];
    let lostRecords = 0;
    let keptRecords = 0;
    for (let k = 0; k < CASES; k++) {
      const where = `case ${k} (seed ${SEED})`;
      const dir = path.join(root, `c${k}`);
      mkdirSync(dir);
      const files = new Map<string, Buffer>([...original].map(([n, b]) => [n, Buffer.from(b)]));
      // Ack position: anywhere, often 0, sometimes inside a record.
      const ackedSeq = rnd() < 0.4 ? 0 : int(totalLines);
      if (ackedSeq > 0) writeFileSync(path.join(dir, "ack"), String(ackedSeq));
      const cs: Corruption[] = [];
      const nc = 1 + int(3);
      for (let i = 0; i < nc; i++) {
        const seg = nth(segNames, int(segNames.length), "segment");
        const buf = files.get(seg) as Buffer;
        const kindRoll = rnd();
        const at = int(buf.length + 1);
        if (kindRoll < 0.45) {
          const len = 1 + int(rnd() < 0.7 ? 64 : 600);
          const end = Math.min(buf.length, at + len);
          for (let p = at; p < end; p++) buf[p] = int(256);
          cs.push({ kind: "overwrite", seg, at, len: end - at });
        } else if (kindRoll < 0.65) {
          const end = Math.min(buf.length, at + 1 + int(100));
          buf.fill(0, at, end);
          cs.push({ kind: "zero", seg, at, len: end - at });
        } else if (kindRoll < 0.85) {
          const len = 1 + int(80);
          const junk = Buffer.from(Array.from({ length: len }, () => int(256)));
          if (rnd() < 0.3) junk.write("PWS1", 0, "latin1"); // a fake magic at the start of the junk
          files.set(seg, Buffer.concat([buf.subarray(0, at), junk, buf.subarray(at)]));
          // Offsets after an insertion move: later corruptions in this segment would need remapping, so stop here.
          cs.push({ kind: "insert", seg, at, len });
          break;
        } else {
          files.set(seg, buf.subarray(0, at));
          cs.push({ kind: "truncate", seg, at });
          break;
        }
      }
      for (const [n, b] of files) writeFileSync(path.join(dir, n), b);

      const logs: string[] = [];
      let s: Spool;
      try {
        s = await Spool.open({ dir, maxBytes: 1e7, flushMs: 0, fsync: false, log: (m) => logs.push(m) });
      } catch (err) {
        assert.fail(`${where}: recovery threw ${(err as Error).stack}\n${JSON.stringify(cs)}`);
      }
      const got = await drain(s);
      assert.equal(s.backlogLines, got.length, `${where}: backlog counts only deliverable lines`);
      const seen = new Map<string, number>();
      for (const l of got) seen.set(l, (seen.get(l) ?? 0) + 1);
      for (const [l, n] of seen) assert.equal(n, 1, `${where}: line delivered ${n} times: ${l}\n${JSON.stringify(cs)}`);
      const valid = new Map<string, number>();
      for (const r of records) r.lines.forEach((l, i) => valid.set(l, r.firstSeq + i));
      for (const l of got) {
        const seq = valid.get(l);
        assert.ok(seq !== undefined, `${where}: unknown line delivered: ${l}`);
        assert.ok(seq >= ackedSeq, `${where}: acknowledged line ${seq} re-delivered (ack ${ackedSeq})`);
      }
      for (const r of records) {
        if (r.firstSeq + r.lines.length <= ackedSeq) continue;
        if (touched(r, cs)) {
          lostRecords++;
          continue;
        }
        keptRecords++;
        r.lines.forEach((l, i) => {
          if (r.firstSeq + i >= ackedSeq)
            assert.equal(
              seen.get(l),
              1,
              `${where}: untouched line ${r.firstSeq + i} of ${r.seg}@${r.offset} not delivered\n${JSON.stringify(cs)}\n${logs.join("\n")}`,
            );
        });
      }
      // Delivery is in sequence order.
      const seqs = got.map((l) => valid.get(l) as number);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `${where}: out of order`,
      );
      // Corrupt regions are reported and quarantined, never silently dropped.
      if (s.recovery.corruptRegions > 0) {
        assert.ok(existsSync(path.join(dir, QUARANTINE_DIR)), `${where}: quarantine written`);
        assert.ok(
          logs.some((m) => /corrupt bytes at offset \d+ quarantined; .* line\(s\) lost/.test(m)),
          `${where}: loss logged`,
        );
      }
      // The spool stays usable: new lines go after everything recovered; a second recovery changes nothing.
      if (k % 10 === 0) {
        await s.appendAsync(["new v=1 1"]);
        await s.close();
        const again = await Spool.open({ dir, maxBytes: 1e7, flushMs: 0, fsync: false });
        assert.deepEqual(await drain(again), [...got, "new v=1 1"], `${where}: second recovery`);
        assert.equal(again.recovery.corruptRegions, 0, `${where}: nothing left to quarantine`);
        await again.close();
      } else await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
    // The campaign exercised both outcomes.
    assert.ok(keptRecords > lostRecords * 5, `kept ${keptRecords}, lost ${lostRecords}`);
    assert.ok(lostRecords > 100, `corruption hit records (${lostRecords})`);
  });
});
