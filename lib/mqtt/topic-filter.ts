// MQTT topic names and filters for our own client: validation (publish topics, subscription filters) and matching.
import { filterMatches } from "../broker/acl";
import { PlugwatchError } from "../contracts/errors";

/**
 * True when the subscription filter matches the topic name (`+` one level, `#` the rest, including the parent level;
 * a wildcard first level never matches a `$` topic; a shared subscription `$share/{group}/{filter}` matches as its
 * filter). One matcher for the project: the broker ACL's.
 */
export const topicMatches = (filter: string, topic: string): boolean => filterMatches(filter.replace(/^\$share\/[^/]+\//, ""), topic);

/** MQTT strings are UTF-8 of at most 65535 bytes and never hold NUL. */
function checkString(what: string, value: unknown): string {
  if (typeof value !== "string") throw new PlugwatchError("INVALID_REQUEST", `${what} must be a string (got ${value === null ? "null" : typeof value})`);
  if (value.length === 0) throw new PlugwatchError("INVALID_REQUEST", `${what} must not be empty`);
  if (value.includes("\u0000")) throw new PlugwatchError("INVALID_REQUEST", `${what} must not contain NUL`);
  if (Buffer.byteLength(value, "utf8") > 65535) throw new PlugwatchError("INVALID_REQUEST", `${what} is longer than 65535 bytes`);
  return value;
}

/** A topic name to publish to: no `+` or `#` (INVALID_REQUEST otherwise). */
export function checkPublishTopic(topic: unknown): string {
  const t = checkString("publish topic", topic);
  if (/[+#]/.test(t)) throw new PlugwatchError("INVALID_REQUEST", `publish topic '${t}' must not contain the wildcards '+' or '#'`);
  return t;
}

/** A subscription filter: `+` and `#` only as whole levels, `#` only last (INVALID_REQUEST otherwise). */
export function checkFilter(filter: unknown): string {
  const f = checkString("topic filter", filter);
  const levels = f.split("/");
  levels.forEach((level, i) => {
    if (level.length > 1 && /[+#]/.test(level)) throw new PlugwatchError("INVALID_REQUEST", `topic filter '${f}': '+' and '#' must be a whole level`);
    if (level === "#" && i !== levels.length - 1) throw new PlugwatchError("INVALID_REQUEST", `topic filter '${f}': '#' must be the last level`);
  });
  return f;
}
