// Saved-config migrations of every node type, in one place: a flow saved by an older release keeps loading.
// A node's `version` default in its .html is the number of steps below; a saved config without one is version 0.
import { PlugwatchError } from "../../lib/contracts/errors";

type Saved = Record<string, unknown>;
type Step = (def: Saved) => Saved;

const numeric = (v: unknown): unknown => (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : v);

/** Steps per node type: STEPS[type][n] turns a version-n config into version n+1. */
export const STEPS: Readonly<Record<string, readonly Step[]>> = {
  "plugwatch-http-api": [
    // 0 → 1: editors before 0.1 saved the numeric fields as typed strings ("5000").
    (def) => ({ ...def, timeoutMs: numeric(def.timeoutMs), inactiveAfterDays: numeric(def.inactiveAfterDays), historySize: numeric(def.historySize) }),
  ],
};

/** The version a config of `type` is migrated to. */
export const currentVersion = (type: string): number => STEPS[type]?.length ?? 0;

/** A copy of `def` migrated to the current version of `type`; refuses a config saved by a newer release. */
export function migrate(type: string, def: object): Saved {
  const steps = STEPS[type] ?? [];
  const raw: unknown = Reflect.get(def, "version");
  const from = raw === undefined || raw === "" ? 0 : Number(raw);
  if (!Number.isInteger(from) || from < 0) throw new PlugwatchError("INVALID_REQUEST", `config version '${String(raw)}' is not a version number`);
  if (from > steps.length)
    throw new PlugwatchError("INVALID_REQUEST", `config version ${from} was saved by a newer release (this one knows up to ${steps.length})`);
  let out: Saved = Object.fromEntries(Object.entries(def));
  for (const step of steps.slice(from)) out = step(out);
  return { ...out, version: steps.length };
}
