// Why a tariff's "Holidays of" schedule cannot be used, as an i18n key of the tariff's catalogue and its substitutions:
// a node that exists but is of another type, did not start or whose document cannot be loaded is named with the reason,
// never reported as "none selected".

/** What the runtime knows about the node a tariff names (undefined: no such node is running). */
export interface LinkedNode {
  type: string;
  name?: string | undefined;
  /** Set when the node (a plugwatch-schedule) did not start: its configuration problem. */
  startError?: string | undefined;
}

export type ScheduleLinkKey = "errors.scheduleMissing" | "errors.scheduleWrongType" | "errors.scheduleNotStarted" | "errors.scheduleUnreadable";

export interface ScheduleLinkProblem {
  key: ScheduleLinkKey;
  subs: Record<string, string>;
}

/** The node type a tariff's "Holidays of" must name. */
export const SCHEDULE_TYPE = "plugwatch-schedule";

/**
 * The problem with the schedule `id` a tariff names, or undefined when its holidays can be used.
 * `loadProblem` is why the schedule document could not be read or parsed, when no good calendar was ever loaded.
 */
export function scheduleLinkProblem(id: string, found: LinkedNode | undefined, loadProblem?: string): ScheduleLinkProblem | undefined {
  // No running node under that id: deleted, disabled, or on a disabled flow.
  if (!found) return { key: "errors.scheduleMissing", subs: { id } };
  const name = found.name || id;
  if (found.type !== SCHEDULE_TYPE) return { key: "errors.scheduleWrongType", subs: { id, name, type: found.type } };
  if (found.startError !== undefined) return { key: "errors.scheduleNotStarted", subs: { id, name, reason: found.startError } };
  if (loadProblem !== undefined) return { key: "errors.scheduleUnreadable", subs: { id, name, reason: loadProblem } };
  return undefined;
}
