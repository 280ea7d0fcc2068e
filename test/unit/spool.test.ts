// Unit tests for lib/spool.ts on real temp dirs: order, ack, restart recovery, torn tail, size bound policies.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync, appendFileSync, truncateSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Spool, HEADER_BYTES } from "../../lib/spool";
import { PlugwatchError } from "../../lib/contracts/errors";

const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `m v=${from + i} ${1700000000000 + from + i}`);
const bodyLines = (b: Buffer) => b.toString("utf8").split("\n").filter(Boolean);

describe("spool", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-spool-test-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("returns appended lines in order, across records, with partial peeks and acks", async () => {
    const s = await Spool.open({ dir, maxBytes: 1e6, flushMs: 0 });
    await s.appendAsync(lines(0, 3));
    await s.appendAsync(lines(3, 4));
    assert.equal(s.backlogLines, 7);
    const b1 = await s.peek(0, 5);
    assert.deepEqual([b1?.fromSeq, b1?.count], [0, 5]);
    assert.deepEqual(bodyLines(b1!.body), lines(0, 5));
    const b2 = await s.peek(5, 5);
    assert.deepEqual(bodyLines(b2!.body), lines(5, 2));
    s.ack(2);
    assert.equal(s.backlogLines, 5);
    const b3 = await s.peek(0, 2); // clamped to the head
    assert.deepEqual([b3?.fromSeq, ...bodyLines(b3!.body)], [2, ...lines(2, 2)]);
    s.ack(7);
    assert.equal(s.backlogLines, 0);
    assert.equal(await s.peek(7, 10), undefined);
    assert.equal(s.stats().ackedLines, 7);
    await s.close();
  });

  it("group-commits concurrent appends into one record and calls every callback", async () => {
    const s = await Spool.open({ dir, maxBytes: 1e6, flushMs: 5 });
    await Promise.all([s.appendAsync(lines(0, 2)), s.appendAsync(lines(2, 2)), s.appendAsync(lines(4, 2))]);
    assert.equal(s.stats().appendedLines, 6);
    assert.equal(s.stats().recovery.records, 0);
    await s.close();
    const again = await Spool.open({ dir, maxBytes: 1e6 });
    assert.equal(again.recovery.records, 1, "three appends within flushMs → one record");
    assert.deepEqual(bodyLines((await again.peek(0, 100))!.body), lines(0, 6));
    await again.close();
  });

  it("recovers the unacknowledged backlog after a restart, in order, without acked lines", async () => {
    const s = await Spool.open({ dir, maxBytes: 1e6, flushMs: 0 });
    await s.appendAsync(lines(0, 10));
    await s.appendAsync(lines(10, 10));
    s.ack(13);
    await s.close();
    const r = await Spool.open({ dir, maxBytes: 1e6, flushMs: 0 });
    assert.equal(r.headSeq, 13);
    assert.equal(r.backlogLines, 7);
    assert.deepEqual(bodyLines((await r.peek(0, 100))!.body), lines(13, 7));
    await r.appendAsync(lines(20, 1));
    assert.deepEqual(bodyLines((await r.peek(0, 100))!.body), lines(13, 8));
    r.ack(21);
    await r.close();
    const empty = await Spool.open({ dir, maxBytes: 1e6 });
    assert.equal(empty.backlogLines, 0);
    assert.equal(empty.tailSeq, 21);
    await empty.close();
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith(".seg")),
      [],
      "fully acked segments are deleted",
    );
  });

  it("detects and drops a torn tail (partial header, partial payload, bad checksum)", async () => {
    for (const tear of ["header", "payload", "crc"] as const) {
      rmSync(dir, { recursive: true, force: true });
      const s = await Spool.open({ dir, maxBytes: 1e6, flushMs: 0 });
      await s.appendAsync(lines(0, 5));
      await s.appendAsync(lines(5, 5));
      await s.close();
      const seg = path.join(dir, readdirSync(dir).find((f) => f.endsWith(".seg")) as string);
      const size = statSync(seg).size;
      const recordBytes = size / 2;
      if (tear === "header") appendFileSync(seg, Buffer.from([0x50, 0x57, 0x53])); // crash after 3 header bytes
      if (tear === "payload") truncateSync(seg, size - 7); // crash in the middle of the second payload
      if (tear === "crc") {
        const fs = await import("node:fs");
        const fd = fs.openSync(seg, "r+");
        fs.writeSync(fd, Buffer.from("X"), 0, 1, recordBytes + HEADER_BYTES + 3); // a flipped byte in record 2
        fs.closeSync(fd);
      }
      const r = await Spool.open({ dir, maxBytes: 1e6 });
      const expected = tear === "header" ? lines(0, 10) : lines(0, 5);
      assert.deepEqual(bodyLines((await r.peek(0, 100))!.body), expected, tear);
      assert.ok(r.recovery.skippedBytes > 0, `${tear}: skipped bytes reported`);
      assert.equal(statSync(seg).size, tear === "header" ? size : recordBytes, `${tear}: torn data truncated`);
      await r.close();
    }
  });

  it("salvages past corruption in acknowledged records: quarantines the bad bytes, keeps every intact unsent record, logs the loss", async () => {
    const s = await Spool.open({ dir, maxBytes: 1e6, flushMs: 0, fsync: false });
    for (let i = 0; i < 20; i++) await s.appendAsync(lines(i * 5, 5));
    s.ack(40); // records 0..7 delivered
    await s.close();
    const seg = path.join(dir, readdirSync(dir).find((f) => f.endsWith(".seg")) as string);
    const size = statSync(seg).size;
    const rec = size / 20;
    const fs = await import("node:fs");
    const fd = fs.openSync(seg, "r+");
    fs.writeSync(fd, Buffer.alloc(64, 0x41), 0, 64, rec * 3 + 10); // 64 bytes inside delivered records 3-4
    fs.writeSync(fd, Buffer.alloc(8, 0x42), 0, 8, rec * 12 + 30); // and inside unsent record 12 (lines 60..64)
    fs.closeSync(fd);
    appendFileSync(seg, Buffer.from([0x50, 0x57, 0x53, 0x31, 0, 0])); // plus a torn tail
    const logs: string[] = [];
    const r = await Spool.open({ dir, maxBytes: 1e6, log: (m) => logs.push(m) });
    const first = await r.peek(0, 1000);
    assert.deepEqual([first?.fromSeq, first?.count], [40, 20], "a batch stops at the gap");
    const second = await r.peek(60, 1000);
    assert.deepEqual([second?.fromSeq, second?.count], [65, 35], "a cursor inside the gap moves to the next record");
    assert.deepEqual([...bodyLines(first!.body), ...bodyLines(second!.body)], [...lines(40, 20), ...lines(65, 35)]);
    assert.deepEqual([r.recovery.corruptRegions, r.recovery.lostLines, r.recovery.tornBytes], [2, 5, 6]);
    assert.ok(
      logs.some((m) => /5 unsent line\(s\) lost; kept 11 record\(s\) with 55 unsent line\(s\)/.test(m)),
      logs.join("\n"),
    );
    const q = readdirSync(path.join(dir, "quarantine"));
    assert.equal(q.length, 2, "both corrupt regions kept for inspection");
    await r.close();
    const again = await Spool.open({ dir, maxBytes: 1e6 });
    assert.equal(again.recovery.corruptRegions, 0, "compacted: nothing reported twice");
    assert.equal(again.backlogLines, 55);
    await again.close();
  });

  it("policy reject: refuses with SPOOL_FULL, keeps everything accepted before", async () => {
    const s = await Spool.open({ dir, maxBytes: 2000, flushMs: 0 });
    let accepted = 0;
    let err: unknown;
    for (let i = 0; i < 100 && !err; i++) {
      try {
        await s.appendAsync(lines(i * 5, 5));
        accepted += 5;
      } catch (e) {
        err = e;
      }
    }
    assert.ok(err instanceof PlugwatchError && err.code === "SPOOL_FULL", String(err));
    assert.ok(accepted > 0);
    assert.equal(s.stats().rejectedLines, 5);
    assert.equal(s.backlogLines, accepted);
    assert.deepEqual(bodyLines((await s.peek(0, 1e6))!.body), lines(0, accepted));
    s.ack(5); // room again after the head is acknowledged
    await s.appendAsync(lines(1000, 1));
    await s.close();
  });

  it("policy drop-oldest: discards whole oldest records and counts them", async () => {
    const s = await Spool.open({ dir, maxBytes: 2000, flushMs: 0, policy: "drop-oldest" });
    for (let i = 0; i < 40; i++) await s.appendAsync(lines(i * 5, 5));
    const st = s.stats();
    assert.ok(st.droppedLines > 0);
    assert.equal(st.droppedLines % 5, 0);
    assert.ok(st.backlogBytes <= 2000);
    const body = bodyLines((await s.peek(0, 1e6))!.body);
    assert.equal(body.length + st.droppedLines, 200);
    assert.deepEqual(body, lines(st.droppedLines, 200 - st.droppedLines), "the newest lines survive, in order");
    await s.close();
  });

  it("fair share: a flooding key is capped once the spool is half full; other keys keep room (both policies)", async () => {
    for (const policy of ["reject", "drop-oldest"] as const) {
      rmSync(dir, { recursive: true, force: true });
      const s = await Spool.open({ dir, maxBytes: 8000, flushMs: 0, fsync: false, policy });
      let flooded = 0;
      let refusal: unknown;
      for (let i = 0; i < 200 && !refusal; i++) {
        try {
          await s.appendAsync(lines(i * 2, 2), "flooder");
          flooded += 2;
        } catch (e) {
          refusal = e;
        }
      }
      assert.ok(refusal instanceof PlugwatchError && refusal.code === "SPOOL_FULL", `${policy}: ${String(refusal)}`);
      assert.match((refusal as Error).message, /^spool fair share: 'flooder' holds \d+ of its 4000 bytes \(1 active key/);
      assert.ok(s.keyBacklogBytes("flooder") <= 4000, `${policy}: flooder within half`);
      // Ten genuine devices each get readings in while the flooder keeps trying.
      for (let round = 0; round < 5; round++) {
        for (let d = 0; d < 10; d++) await s.appendAsync([`plug,device=d${d} power=${round} ${round}`], `d${d}`);
        await assert.rejects(s.appendAsync(lines(9000 + round, 2), "flooder"), /fair share/);
      }
      const st = s.stats();
      assert.equal(st.keys, 11);
      assert.equal(st.droppedLines, 0, `${policy}: nothing genuine dropped`);
      assert.ok(st.fairShareRejectedLines >= 12);
      const body = bodyLines((await s.peek(0, 1e6))!.body);
      assert.equal(body.filter((l) => l.startsWith("plug,device=")).length, 50, `${policy}: every genuine reading kept`);
      assert.ok((s as unknown as { shares: unknown[] }).shares.length <= 1 + 50, "the flood's appends are merged into one entry");
      // Acknowledging the flooder's backlog gives its share back.
      s.ack(flooded);
      assert.equal(s.keyBacklogBytes("flooder"), 0);
      await s.appendAsync(lines(20000, 2), "flooder");
      await s.close();
    }
  });

  it("rolls segments and deletes them once acknowledged", async () => {
    const s = await Spool.open({ dir, maxBytes: 1e7, segmentBytes: 1024, flushMs: 0 });
    for (let i = 0; i < 50; i++) await s.appendAsync(lines(i * 10, 10));
    const segs = readdirSync(dir).filter((f) => f.endsWith(".seg")).length;
    assert.ok(segs > 10, `expected many segments, got ${segs}`);
    const b = await s.peek(0, 1e6);
    assert.deepEqual(bodyLines(b!.body), lines(0, 500));
    s.ack(490);
    assert.ok(readdirSync(dir).filter((f) => f.endsWith(".seg")).length <= 2);
    await s.close();
  });

  it("reads payloads back from disk when they are not cached", async () => {
    const s = await Spool.open({ dir, maxBytes: 1e6, flushMs: 0, cacheBytes: 0 });
    await s.appendAsync(lines(0, 3));
    assert.deepEqual(bodyLines((await s.peek(1, 10))!.body), lines(1, 2));
    await s.close();
  });
});
