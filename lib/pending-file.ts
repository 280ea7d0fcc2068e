// The unknown-device list of a registry config node, kept in a JSON file in the Node-RED user directory between restarts.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseUnknownDevicePolicy, UnknownDevices, type UnknownDeviceStore } from "./pending";

/** A store in `file`: a missing or damaged file is an empty list (reported through `warn`); saves are atomic (write + rename). */
export function fileStore(file: string, warn: (m: string) => void): UnknownDeviceStore {
  return {
    load() {
      try {
        return JSON.parse(readFileSync(file, "utf8")) as unknown;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") warn(`${file}: ${(err as Error).message}; starting with an empty list of unknown devices`);
        return [];
      }
    },
    save(devices) {
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(`${file}.tmp`, JSON.stringify(devices, null, 1));
        renameSync(`${file}.tmp`, file);
      } catch (err) {
        warn(`${file}: cannot save the unknown devices: ${(err as Error).message}`);
      }
    },
  };
}

/** The unknown devices of the registry config node `nodeId` with the saved policy; the list persists under userDir when there is one. */
export function unknownDevicesFor(policy: unknown, userDir: string | undefined, nodeId: string, warn: (m: string) => void): UnknownDevices {
  let p;
  try {
    p = parseUnknownDevicePolicy(policy);
  } catch (err) {
    warn(`${(err as Error).message}: using reject`);
    p = "reject" as const;
  }
  const store =
    p === "pending" && userDir ? fileStore(path.join(userDir, `plugwatch-unknown-${nodeId.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`), warn) : undefined;
  return new UnknownDevices({ policy: p, store });
}
