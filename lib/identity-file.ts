// First-seen plug identities of one collector, kept in a JSON file in the Node-RED user directory between restarts.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { IdentityStore, PlugIdentity } from "./plausibility";

/** A store in `file`: missing → empty; damaged → empty, reported through `warn`; saves are atomic (write + rename). */
export function identityFile(file: string, warn: (m: string) => void): IdentityStore {
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") warn(`${file}: ${(err as Error).message}; plug identities start empty`);
        return {};
      }
      try {
        const v = JSON.parse(text) as unknown;
        if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, PlugIdentity>;
        throw new Error("not an object");
      } catch (err) {
        warn(`${file}: unreadable (${(err as Error).message}); plug identities start empty`);
        return {};
      }
    },
    save(all) {
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(`${file}.tmp`, JSON.stringify(all, null, 1));
        renameSync(`${file}.tmp`, file);
      } catch (err) {
        warn(`${file}: cannot save plug identities: ${(err as Error).message}`);
      }
    },
  };
}
