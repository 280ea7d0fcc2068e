// Where the schedule document lives: a file (resolved against the user directory) or the config node's inline JSON;
// a document replaced through the API is written back to that file, or for inline JSON to an override file in userDir.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export interface ScheduleSource {
  source: "file" | "json";
  /** The file (source file, resolved) or a name for messages (source json). */
  label: string;
  /** Inline JSON (source json). */
  json: string;
  /** Where API changes are written: the file itself, or `<userDir>/plugwatch-schedules/<id>.json` for inline JSON. */
  writeTo: string;
}

/** The file-system calls the store makes (injected in tests). */
export interface StoreFs {
  exists(file: string): boolean;
  read(file: string): string;
  /** Atomic write (temporary file + rename). */
  write(file: string, text: string): void;
}

export const nodeFs: StoreFs = {
  exists: (f) => existsSync(f),
  read: (f) => readFileSync(f, "utf8"),
  write: (f, text) => {
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(`${f}.tmp`, text);
    renameSync(`${f}.tmp`, f);
  },
};

/** The source of a plugwatch-schedule config node. */
export function scheduleSource(def: { source?: string; file?: string; json?: string; name?: string }, id: string, userDir: string | undefined): ScheduleSource {
  const dir = userDir ?? process.cwd();
  if (def.source === "file") {
    const file = def.file ? (path.isAbsolute(def.file) ? def.file : path.resolve(dir, def.file)) : "";
    return { source: "file", label: file, json: "", writeTo: file };
  }
  return {
    source: "json",
    label: `schedule '${def.name || id}' (inline JSON)`,
    json: def.json ?? "",
    writeTo: path.join(dir, "plugwatch-schedules", `${id.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`),
  };
}

export class ScheduleStore {
  constructor(
    readonly src: ScheduleSource,
    private readonly fs: StoreFs = nodeFs,
  ) {}

  /** The document text in force and where it came from: the override file wins over inline JSON once the API wrote one. */
  read(): { text: string; label: string } {
    if (this.src.source === "file") {
      if (!this.src.label) throw new Error("no schedule file configured");
      // A file that does not exist yet is an empty document (PUT /schedules creates it).
      return { text: this.fs.exists(this.src.label) ? this.fs.read(this.src.label) : "", label: this.src.label };
    }
    if (this.fs.exists(this.src.writeTo)) return { text: this.fs.read(this.src.writeTo), label: this.src.writeTo };
    return { text: this.src.json, label: this.src.label };
  }

  /** Writes a validated document (pretty JSON). */
  write(doc: unknown): string {
    this.fs.write(this.src.writeTo, JSON.stringify(doc, null, 2) + "\n");
    return this.src.writeTo;
  }
}

/** A JSON file for small state (the savings ledger): missing or damaged reads as undefined (damage reported through `warn`). */
export function jsonFile(file: string, warn: (m: string) => void, fs: StoreFs = nodeFs): { load(): unknown; save(v: unknown): void } {
  return {
    load() {
      if (!fs.exists(file)) return undefined;
      try {
        return JSON.parse(fs.read(file)) as unknown;
      } catch (err) {
        warn(`${file}: ${(err as Error).message}; starting with empty savings`);
        return undefined;
      }
    },
    save(v) {
      try {
        fs.write(file, JSON.stringify(v));
      } catch (err) {
        warn(`${file}: cannot save the savings: ${(err as Error).message}`);
      }
    },
  };
}
