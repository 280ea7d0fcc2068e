// Backup logic without I/O: folder names, retention, influxd command lines, output parsing, schedules, health messages.
import assert from "node:assert/strict";
import { backupCommand, checkDatabase, checkRpcHost, commandLine, restoreCommand } from "../../lib/backup/command";
import { backupDeviceId, backupHealth, backupHealthTopic } from "../../lib/backup/health";
import { backupName, freeBackupName, parseBackupName, sortBackupNames } from "../../lib/backup/naming";
import { explainFailure, parseManifest } from "../../lib/backup/parse";
import { checkKeep, selectExpired, selectExpiredBackups } from "../../lib/backup/retention";
import { nextRun, parseSchedule } from "../../lib/backup/schedule";
import { Availability } from "../../lib/contracts/reading";
import { validate } from "../../lib/contracts/validate";

const at = (iso: string): number => Date.parse(iso);

describe("backup logic", function () {
  describe("names", function () {
    it("are sortable UTC timestamps, parsed back to the second, with -N for the same second", function () {
      assert.equal(backupName(at("2026-11-25T11:27:41.876Z")), "20261125T112741Z");
      assert.equal(backupName(at("2026-01-02T03:04:05Z"), 2), "20260102T030405Z-2");
      assert.deepEqual(parseBackupName("20261125T112741Z"), { time: at("2026-11-25T11:27:41Z"), seq: 0 });
      assert.deepEqual(parseBackupName("20261125T112741Z-3"), { time: at("2026-11-25T11:27:41Z"), seq: 3 });
      for (const bad of ["20260230T000000Z", "20261125T246000Z", "20261125T112741", "latest", "20261125T112741Z-0", "x20261125T112741Z"]) {
        assert.equal(parseBackupName(bad), undefined, bad);
      }
      const t = at("2026-11-25T11:27:41Z");
      assert.equal(freeBackupName(t, new Set()), "20261125T112741Z");
      assert.equal(freeBackupName(t, new Set(["20261125T112741Z", "20261125T112741Z-1"])), "20261125T112741Z-2");
    });

    it("sort oldest first and drop everything that is not a backup", function () {
      const names = ["20261125T112741Z-1", "notes.txt", "20261124T235959Z", "20261125T112741Z", "20261125T112741Z-10", "20261125T112741Z-2"];
      assert.deepEqual(sortBackupNames(names), ["20261124T235959Z", "20261125T112741Z", "20261125T112741Z-1", "20261125T112741Z-2", "20261125T112741Z-10"]);
    });
  });

  describe("retention", function () {
    const names = ["20261120T020000Z", "20261121T020000Z", "README", "20261122T020000Z", "20261123T020000Z"];

    it("selects the oldest backups beyond the newest N, never other folders", function () {
      assert.deepEqual(selectExpired(names, 2), ["20261120T020000Z", "20261121T020000Z"]);
      assert.deepEqual(selectExpired(names, 4), []);
      assert.deepEqual(selectExpired(names, 1), ["20261120T020000Z", "20261121T020000Z", "20261122T020000Z"]);
      assert.deepEqual(selectExpired([], 3), []);
    });

    it("only complete backups count: a crashed run never pushes a good backup out", function () {
      const e = (name: string, complete = true) => ({ name, complete });
      const entries = [e("20261120T020000Z"), e("20261121T020000Z", false), e("20261122T020000Z"), e("20261123T020000Z", false), e("20261124T020000Z")];
      // keep 2 good ones (22nd, 24th): the older good one and the older incomplete go; the newer incomplete stays
      assert.deepEqual(selectExpiredBackups(entries, 2), ["20261120T020000Z", "20261121T020000Z"]);
      assert.deepEqual(selectExpiredBackups(entries, 1), ["20261120T020000Z", "20261121T020000Z", "20261122T020000Z", "20261123T020000Z"]);
      assert.deepEqual(selectExpiredBackups(entries, 5), []);
      assert.deepEqual(selectExpiredBackups([e("20261121T020000Z", false)], 1), [], "no complete backup: delete nothing");
    });

    it("keep must be a whole number >= 1", function () {
      assert.equal(checkKeep("7"), 7);
      for (const bad of [0, -1, 1.5, "x", "", null, undefined, 10_001]) assert.throws(() => checkKeep(bad), /keep must be a whole number/, String(bad));
    });
  });

  describe("influxd command lines", function () {
    it("backup: portable, RPC host, database, target — as separate arguments, no shell", function () {
      const c = backupCommand({ host: "127.0.0.1:8088", database: "plugwatch", target: "/var/backups/plugwatch/20261125T020000Z" });
      assert.deepEqual(c, {
        command: "influxd",
        args: ["backup", "-portable", "-host", "127.0.0.1:8088", "-db", "plugwatch", "/var/backups/plugwatch/20261125T020000Z"],
      });
      assert.deepEqual(backupCommand({ influxd: "/usr/bin/influxd", host: "[::1]:8088", target: "/b/x" }).args, [
        "backup",
        "-portable",
        "-host",
        "[::1]:8088",
        "/b/x",
      ]);
      assert.equal(commandLine(backupCommand({ host: "db:8088", target: "/b/my dir" })), "influxd backup -portable -host db:8088 '/b/my dir'");
    });

    it("restore: -db, optional -newdb", function () {
      assert.deepEqual(restoreCommand({ host: "127.0.0.1:8088", database: "plugwatch", newDatabase: "plugwatch_restored", source: "/b/x" }).args, [
        "restore",
        "-portable",
        "-host",
        "127.0.0.1:8088",
        "-db",
        "plugwatch",
        "-newdb",
        "plugwatch_restored",
        "/b/x",
      ]);
      assert.deepEqual(restoreCommand({ host: "127.0.0.1:8088", database: "plugwatch", source: "/b/x" }).args, [
        "restore",
        "-portable",
        "-host",
        "127.0.0.1:8088",
        "-db",
        "plugwatch",
        "/b/x",
      ]);
    });

    it("rejects hosts and names that are not what influxd expects", function () {
      for (const bad of ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "-host:1", "a b:1", "", 8088])
        assert.throws(() => checkRpcHost(bad), /RPC host must be host:port/, String(bad));
      for (const bad of ["-db", "", "a b", "x;rm", ".hidden", "a/b", "x'y"]) assert.throws(() => checkDatabase(bad), /database name must be/, bad);
      assert.equal(checkDatabase("plugwatch_2026.v1"), "plugwatch_2026.v1");
    });
  });

  describe("influxd output", function () {
    it("summarises a portable manifest", function () {
      const manifest = JSON.stringify({
        meta: { fileName: "20261125T112741Z.meta", size: 89 },
        limited: false,
        files: [
          { database: "pw", policy: "autogen", shardID: 1, fileName: "20261125T112741Z.s1.tar.gz", size: 2048, lastModified: 0 },
          { database: "pw", policy: "autogen", shardID: 2, fileName: "20261125T112741Z.s2.tar.gz", size: 1024, lastModified: 0 },
          { database: "other", policy: "autogen", shardID: 3, fileName: "20261125T112741Z.s3.tar.gz", size: 512, lastModified: 0 },
          { database: "pw", policy: "plugwatch_1m", shardID: 4, fileName: "20261125T112741Z.s4.tar.gz", size: 256, lastModified: 0 },
        ],
      });
      assert.deepEqual(parseManifest(manifest), {
        databases: ["other", "pw"],
        policies: ["other.autogen", "pw.autogen", "pw.plugwatch_1m"],
        shards: 4,
        bytes: 3840,
      });
      assert.throws(() => parseManifest("{"), /not JSON/);
      assert.throws(() => parseManifest('{"files":[]}'), /no 'meta' and 'files'/);
      assert.throws(() => parseManifest('{"meta":{},"files":[{"size":1}]}'), /without a database name/);
    });

    it("explains failures with a stable code (texts captured from influxd 1.6)", function () {
      const refused =
        "2026/11/25 11:27:41 backing up metastore to /b/meta.00\n2026/11/25 11:27:41 Download shard 0 failed dial tcp 127.0.0.1:18099: connect: connection refused.  Waiting 2s and retrying (0)...\nbackup: dial tcp 127.0.0.1:18099: connect: connection refused\n";
      const r = explainFailure(refused, 1);
      assert.equal(r.code, "STORAGE_UNAVAILABLE");
      assert.match(r.message, /backup: dial tcp 127\.0\.0\.1:18099: connect: connection refused/);
      const eof =
        "2026/11/25 11:27:41 backing up metastore to /b/meta.00\n2026/11/25 11:27:41 backing up db=nope\n2026/11/25 11:27:41 backup failed: EOF\nbackup: EOF\n";
      assert.deepEqual(explainFailure(eof, 1), { code: "INVALID_REQUEST", message: "influxd exited with 1: EOF (the database probably does not exist)" });
      const exists =
        "2026/11/25 11:52:18 error updating meta: DB metadata not changed. database may already exist\nrestore: DB metadata not changed. database may already exist\n";
      assert.deepEqual(explainFailure(exists, 1), {
        code: "INVALID_REQUEST",
        message: "restore: DB metadata not changed. database may already exist (restore under a new name (-newdb), or drop the database first)",
      });
      assert.deepEqual(explainFailure("", null), { code: "INTERNAL", message: "influxd was killed" });
      assert.deepEqual(explainFailure("2026/11/25 11:27:41 something odd\n", 2), { code: "INTERNAL", message: "influxd exited with 2: something odd" });
    });
  });

  describe("schedule", function () {
    it("parses the editor fields", function () {
      assert.deepEqual(parseSchedule("manual", "", "", "UTC"), { kind: "manual" });
      assert.deepEqual(parseSchedule("interval", "90", "", "UTC"), { kind: "interval", everyMs: 90 * 60_000 });
      assert.deepEqual(parseSchedule("interval", 0.05, "", "UTC"), { kind: "interval", everyMs: 3000 });
      assert.deepEqual(parseSchedule("daily", "", "02:30", "Europe/Paris"), { kind: "daily", at: "02:30", timezone: "Europe/Paris" });
      assert.throws(() => parseSchedule("interval", "0", "", "UTC"), /interval must be 0\.05\.\.525600 minutes/);
      assert.throws(() => parseSchedule("daily", "", "24:00", "UTC"), /HH:MM/);
      assert.throws(() => parseSchedule("weekly", "", "", "UTC"), /manual, interval or daily/);
    });

    it("interval: now + N minutes; manual: never", function () {
      assert.equal(nextRun({ kind: "interval", everyMs: 3_600_000 }, 1000), 3_601_000);
      assert.equal(nextRun({ kind: "manual" }, 1000), undefined);
    });

    it("daily: today when still ahead, else tomorrow, on the local clock", function () {
      const daily = { kind: "daily", at: "02:30", timezone: "Europe/Paris" } as const;
      assert.equal(nextRun(daily, at("2026-01-06T00:00:00Z")), at("2026-01-06T01:30:00Z")); // 01:00 → 02:30 CET today
      assert.equal(nextRun(daily, at("2026-01-06T01:30:00Z")), at("2026-01-07T01:30:00Z")); // exactly at it → tomorrow
      assert.equal(nextRun(daily, at("2026-01-06T12:00:00Z")), at("2026-01-07T01:30:00Z"));
      assert.equal(nextRun({ ...daily, at: "00:00" }, at("2026-01-06T22:59:30Z")), at("2026-01-06T23:00:00Z")); // midnight
    });

    it("daily across DST: the missing 02:30 runs at 03:00 CEST, the doubled 02:30 runs once", function () {
      const daily = { kind: "daily", at: "02:30", timezone: "Europe/Paris" } as const;
      // 29 March 2026: 02:00 CET jumps to 03:00 CEST, 02:30 does not exist.
      assert.equal(nextRun(daily, at("2026-03-28T12:00:00Z")), at("2026-03-29T01:00:00Z")); // 03:00 CEST
      assert.equal(nextRun(daily, at("2026-03-29T01:00:00Z")), at("2026-03-30T00:30:00Z")); // then 02:30 CEST next day
      // 25 October 2026: 03:00 CEST falls back to 02:00 CET, 02:30 happens twice.
      assert.equal(nextRun(daily, at("2026-10-24T12:00:00Z")), at("2026-10-25T00:30:00Z")); // first 02:30 (CEST)
      assert.equal(nextRun(daily, at("2026-10-25T00:30:00Z")), at("2026-10-26T01:30:00Z")); // not the second one
    });
  });

  describe("health message", function () {
    it("is a valid availability on a topic the alert node reads", function () {
      assert.equal(backupDeviceId("plugwatch"), "backup-plugwatch");
      assert.equal(backupDeviceId("Plug.Watch_DB"), "backup-plug-watch_db");
      assert.equal(backupDeviceId(""), "backup-all");
      assert.equal(backupHealthTopic("plugwatch", "backup-plugwatch"), "plugwatch/backup/backup-plugwatch/availability");
      const ok = backupHealth("backup-plugwatch", 1_764_000_000_000);
      const bad = backupHealth("backup-plugwatch", 1_764_000_000_000, { code: "STORAGE_UNAVAILABLE", message: "influxd RPC not reachable" });
      assert.deepEqual(ok, { v: 1, device: "backup-plugwatch", online: true, ts: 1_764_000_000_000, reason: "backup ok" });
      assert.deepEqual([bad.online, bad.reason], [false, "STORAGE_UNAVAILABLE: influxd RPC not reachable"]);
      assert.ok(validate(Availability, ok).ok && validate(Availability, bad).ok);
    });
  });
});
