// The command queue of a plugwatch-control node, kept in a JSON file in the Node-RED user directory: crash-safe writes (tmp + fsync + rename).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import * as path from "node:path";
import type { QueueStore } from "./command-queue";

/** The file of control node `nodeId` under `userDir`. */
export const queueFileOf = (userDir: string, nodeId: string): string =>
  path.join(userDir, `plugwatch-command-queue-${nodeId.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`);

/**
 * A store in `file`: a missing file is an empty queue, a damaged one too (reported through `warn`). A save is
 * durable before it returns (written to `file.tmp`, fsynced, renamed over `file`, directory fsynced), so a queued
 * command acknowledged to its sender survives a crash, and a crash mid-save leaves the previous file intact.
 */
export function queueFileStore(file: string, warn: (m: string) => void): QueueStore {
  return {
    load() {
      try {
        return JSON.parse(readFileSync(file, "utf8")) as unknown;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") warn(`${file}: ${(err as Error).message}; starting with an empty command queue`);
        return undefined;
      }
    },
    save(snapshot) {
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.tmp`;
        const fd = openSync(tmp, "w");
        try {
          writeSync(fd, JSON.stringify(snapshot));
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, file);
        const dir = openSync(path.dirname(file), "r");
        try {
          fsyncSync(dir);
        } finally {
          closeSync(dir);
        }
      } catch (err) {
        warn(`${file}: cannot save the command queue: ${(err as Error).message}`);
      }
    },
  };
}
