// plugwatch-influx-backup: glue between Node-RED and lib/backup (schedule or input → influxd backup → retention → status, health).
import type { NodeAPI, NodeMessage } from "node-red";
import { backupHealth } from "../../lib/backup/health";
import { BackupJob } from "../../lib/backup/job";
import type { BackupResult } from "../../lib/backup/runner";
import { asPlugwatchError } from "../../lib/contracts/errors";
import { defineNode, errorText } from "../shared/kit";
import { parseBackupConfig } from "./config";

const hhmm = (t: number): string => new Date(t).toTimeString().slice(0, 5);

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-influx-backup", parseBackupConfig, (node, config, kit) => {
    const { device, topic } = config;
    let lastOk: BackupResult | undefined;
    const idleStatus = (due = job.nextDue()): void => {
      if (lastOk) kit.status.show("ok", "status.ok", { time: hhmm(lastOk.startedAt) });
      else if (due) kit.status.show("idle", "status.next", { time: hhmm(due) });
      else kit.status.show("idle", "status.manual");
    };

    /** One backup reported: status and the (retained) health message, with the input message's properties. */
    const report = (backup: Promise<BackupResult>, send: (m: NodeMessage) => void, msg: object = {}): Promise<void> => {
      kit.status.show("busy", "status.running");
      return backup.then(
        (result) => {
          lastOk = result;
          kit.status.show("ok", "status.ok", { time: hhmm(result.startedAt) });
          send({ ...msg, topic, payload: backupHealth(device, kit.clock.now()), qos: 1, retain: true, backup: result });
        },
        (err: unknown) => {
          const e = asPlugwatchError(err);
          kit.status.show("error", "status.failed", { code: errorText(e) });
          const out = {
            ...msg,
            topic,
            payload: backupHealth(device, kit.clock.now(), e),
            qos: 1,
            retain: true,
            backup: { error: { code: e.code, message: e.message } },
          };
          send(out);
          throw Object.assign(e, { health: out });
        },
      );
    };

    const job: BackupJob = new BackupJob({
      run: () => config.runner.backup(),
      schedule: config.schedule,
      clock: kit.clock,
      // A scheduled failure reaches Catch nodes with the health message.
      onScheduled: (backup) =>
        void kit.track(
          report(backup, (m) => !kit.closing && node.send(m)).then(
            () => idleStatus(),
            (e: Error & { health?: NodeMessage }) => !kit.closing && node.error(e, e.health),
          ),
        ),
      onOverlap: () => node.warn(kit.t("errors.overlap")),
    });
    idleStatus();
    job.start();

    kit.onInput(async (msg, send, done) => {
      if (job.running) return done(asPlugwatchError(new Error(kit.t("errors.busy")), "INVALID_REQUEST"));
      await report(job.run(), send, msg).then(() => done(), done);
    });

    kit.onClose(() => {
      config.runner.cancel();
      return job.stop();
    });
  });
