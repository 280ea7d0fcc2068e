// plugwatch-influx-backup: glue between Node-RED and lib/backup (schedule or input → influxd backup → retention → status, health).
import * as path from "node:path";
import type { NodeAPI, NodeMessage, NodeMessageInFlow } from "node-red";
import { backupDeviceId, backupHealth, backupHealthTopic } from "../../lib/backup/health";
import { BackupRunner, type BackupResult } from "../../lib/backup/runner";
import { nextRun, parseSchedule, type BackupSchedule } from "../../lib/backup/schedule";
import { checkTimeZone, hostTimeZone } from "../../lib/alerts/schedule";
import { asPlugwatchError } from "../../lib/contracts/errors";
import { checkRoot, DEFAULT_ROOT } from "../../lib/topics";
import { errorText, status } from "../shared/node-kit";
import { timeoutSeconds } from "./config";
import type { PlugwatchInfluxBackupNode, PlugwatchInfluxBackupNodeDef } from "./types";

/** setTimeout's limit; longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type Send = (msg: NodeMessage) => void;

const hhmm = (t: number): string => new Date(t).toTimeString().slice(0, 5);

export = (RED: NodeAPI) => {
  function InfluxBackup(this: PlugwatchInfluxBackupNode, def: PlugwatchInfluxBackupNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let runner: BackupRunner | undefined;
    let schedule: BackupSchedule = { kind: "manual" };
    let configError: Error | undefined;
    let root = DEFAULT_ROOT;
    try {
      root = checkRoot((def.root || DEFAULT_ROOT).trim());
      const timezone = checkTimeZone((def.timezone || "").trim() || hostTimeZone());
      schedule = parseSchedule(def.schedule || "manual", def.interval, (def.at || "").trim(), timezone);
      const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
      const dir = (def.dir || "").trim();
      if (!dir) throw new RangeError(RED._("plugwatch-influx-backup.errors.noDir"));
      const timeout = timeoutSeconds(def.timeout);
      if (timeout === undefined) throw new RangeError(RED._("plugwatch-influx-backup.errors.timeout"));
      runner = new BackupRunner({
        influxd: (def.influxd || "").trim() || undefined,
        host: (def.host || "").trim() || "127.0.0.1:8088",
        database: (def.database || "").trim() || undefined,
        dir: path.resolve(userDir, dir),
        keep: Number(def.keep === "" || def.keep === undefined ? 7 : def.keep),
        timeoutMs: Math.round(timeout * 1000),
      });
    } catch (err) {
      configError = asPlugwatchError(err, "INVALID_REQUEST");
      node.error(RED._("plugwatch-influx-backup.errors.config", { problem: configError.message }));
      node.status(status.error(RED._("plugwatch-influx-backup.status.badConfig")));
    }

    const device = backupDeviceId((def.database || "").trim());
    const topic = backupHealthTopic(root, device);
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    let running: Promise<void> | undefined;
    let lastOk: BackupResult | undefined;

    const idleStatus = (due?: number) => {
      if (lastOk) node.status(status.ok(RED._("plugwatch-influx-backup.status.ok", { time: hhmm(lastOk.startedAt) })));
      else node.status(status.idle(due ? RED._("plugwatch-influx-backup.status.next", { time: hhmm(due) }) : RED._("plugwatch-influx-backup.status.manual")));
    };

    /** One backup; always sends the health message; reports a failure through done(err) or node.error → Catch. */
    const backup = (send: Send, done?: (err?: Error) => void, msg?: NodeMessageInFlow): Promise<void> => {
      const r = runner as BackupRunner;
      node.status(status.busy(RED._("plugwatch-influx-backup.status.running")));
      const p = r.backup().then(
        (result) => {
          lastOk = result;
          node.status(status.ok(RED._("plugwatch-influx-backup.status.ok", { time: hhmm(result.startedAt) })));
          if (!closed) send({ ...(msg ?? {}), topic, payload: backupHealth(device, Date.now()), qos: 1, retain: true, backup: result } as NodeMessage);
          done?.();
        },
        (err: unknown) => {
          const e = asPlugwatchError(err);
          node.status(status.error(RED._("plugwatch-influx-backup.status.failed", { code: errorText(e) })));
          const out = { ...(msg ?? {}), topic, payload: backupHealth(device, Date.now(), e), qos: 1, retain: true, backup: { error: { code: e.code, message: e.message } } } as NodeMessage;
          if (!closed) send(out);
          // Catch nodes see it either way: with the input message, or with the health message on a scheduled run.
          if (done) done(e);
          else if (!closed) node.error(e, out);
        },
      );
      running = p.finally(() => {
        running = undefined;
      });
      return running;
    };

    const arm = () => {
      if (closed || !runner) return;
      const due = nextRun(schedule, Date.now());
      if (due === undefined) return;
      const wait = () => {
        const left = due - Date.now();
        timer = setTimeout(
          () => {
            timer = undefined;
            if (left > MAX_TIMER_MS) return wait();
            if (running) {
              node.warn(RED._("plugwatch-influx-backup.errors.overlap"));
              return arm();
            }
            void backup((m) => node.send(m)).then(arm);
          },
          Math.max(0, Math.min(left, MAX_TIMER_MS)),
        );
      };
      wait();
      if (!running) idleStatus(due);
    };
    if (runner) {
      idleStatus(nextRun(schedule, Date.now()));
      arm();
    }

    node.on("input", (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
      if (!runner) return done(asPlugwatchError(configError ?? new Error("invalid configuration"), "INVALID_REQUEST"));
      if (running) return done(asPlugwatchError(new Error(RED._("plugwatch-influx-backup.errors.busy")), "INVALID_REQUEST"));
      void backup(send, done, msg);
    });

    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      runner?.cancel();
      void (running ?? Promise.resolve()).finally(done);
    });
  }
  RED.nodes.registerType("plugwatch-influx-backup", InfluxBackup);
};
