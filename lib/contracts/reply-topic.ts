// Where a reply may be published: the one check of every `replyTo` (control agent, query component, REST API).
//
// A reply topic is chosen by whoever sends the request, so the agent must never publish where it is told without
// checking: a reply on `$SYS/…` makes aedes close the agent's connection (and mqtt.js re-sends the unacknowledged
// reply on every reconnect, for ever), a reply on `{root}/alerts/…` or a device topic spoofs an alert or a reading.
// A reply topic is therefore accepted only under an allowed reply prefix, followed by the requester's own level:
//   `{root}/api/reply/<clientId>/…`  (the REST API and any MQTT client), and
//   `clients/<name>/…`              (per-identity prefix; the broker ACL lets only <name> subscribe to it).
// It never contains `$`, `+`, `#`, NUL or another control character, an empty level, more than
// REPLY_TOPIC_MAX_LEVELS levels or more than REPLY_TOPIC_MAX_BYTES bytes.
import { Type } from "@sinclair/typebox";
import { PlugwatchError } from "./errors";

export const REPLY_TOPIC_MAX_BYTES = 512;
export const REPLY_TOPIC_MAX_LEVELS = 16;
/** The documented per-identity reply prefix (docs/contracts.md): `clients/<name>/…`. */
export const DEFAULT_CLIENT_REPLY_PREFIXES: readonly string[] = ["clients"];

/** Characters never allowed in a reply topic: `$` (system topics), wildcards, NUL and other control characters. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern must find
const FORBIDDEN = /[$+#\u0000-\u001f\u007f]/;

/**
 * Schema part of the rule (what does not depend on the topic root): used by the request contracts, so the JSON
 * Schemas and the OpenAPI document say it too. The prefix rule is checked by checkReplyTopic.
 */
export const ReplyTopic = Type.String({
  minLength: 1,
  maxLength: REPLY_TOPIC_MAX_BYTES,
  pattern: "^[^$+#\\u0000-\\u001f\\u007f]+$",
  description: "MQTT topic for the reply: under {root}/api/reply/<clientId>/ or clients/<name>/; no '$', wildcards or control characters",
});

/** Topic the REST API (one node instance) receives its replies on. */
export const replyTopicOf = (root: string, instanceId: string): string => `${root}/api/reply/${instanceId}`;

export const REPLY_TOPIC_PROBLEMS = [
  "MISSING",
  "NOT_STRING",
  "EMPTY",
  "TOO_LONG",
  "SYSTEM_TOPIC",
  "WILDCARD",
  "CONTROL_CHAR",
  "EMPTY_LEVEL",
  "TOO_DEEP",
  "OUTSIDE_REPLY_PREFIX",
] as const;
export type ReplyTopicProblem = (typeof REPLY_TOPIC_PROBLEMS)[number];

export interface ReplyTopicPolicy {
  /** Allowed prefixes as topic levels, e.g. [["plugwatch","api","reply"], ["clients"]]. */
  readonly prefixes: readonly (readonly string[])[];
  readonly maxLevels: number;
}

export type ReplyTopicCheck = { ok: true; topic: string } | { ok: false; problem: ReplyTopicProblem; message: string };

function charProblem(topic: string): ReplyTopicProblem | undefined {
  const m = FORBIDDEN.exec(topic);
  if (!m) return undefined;
  if (m[0] === "$") return "SYSTEM_TOPIC";
  if (m[0] === "+" || m[0] === "#") return "WILDCARD";
  return "CONTROL_CHAR";
}

/**
 * The reply policy for a topic root. `clientPrefixes` are the per-identity prefixes (default `clients`); each must be
 * a plain topic outside `{root}/` (so no reply can land on readings, availability, alerts, requests or status).
 * Throws an Error naming the bad prefix.
 */
export function replyTopicPolicy(root: string, opts: { clientPrefixes?: readonly string[]; maxLevels?: number } = {}): ReplyTopicPolicy {
  const maxLevels = opts.maxLevels ?? REPLY_TOPIC_MAX_LEVELS;
  if (!Number.isInteger(maxLevels) || maxLevels < 2 || maxLevels > 64)
    throw new Error(`reply topic maxLevels must be an integer from 2 to 64 (got ${String(maxLevels)})`);
  const prefixes: string[][] = [[...root.split("/"), "api", "reply"]];
  for (const p of opts.clientPrefixes ?? DEFAULT_CLIENT_REPLY_PREFIXES) {
    const levels = typeof p === "string" ? p.replace(/\/+$/, "").split("/") : [];
    if (typeof p !== "string" || !p || charProblem(p) || levels.some((l) => l === "")) {
      throw new Error(`reply prefix '${String(p)}' must be a topic without '$', '+', '#', control characters or empty levels (e.g. 'clients')`);
    }
    if (levels[0] === root.split("/")[0])
      throw new Error(`reply prefix '${p}' must lie outside the topic root '${root}/' (readings, alerts and requests live there)`);
    if (levels.length >= maxLevels) throw new Error(`reply prefix '${p}' leaves no level for the client name (at most ${maxLevels} levels)`);
    prefixes.push(levels);
  }
  return { prefixes, maxLevels };
}

/** Checks a requester-chosen reply topic against the policy; never throws. */
export function checkReplyTopic(value: unknown, policy: ReplyTopicPolicy): ReplyTopicCheck {
  const no = (problem: ReplyTopicProblem, message: string): ReplyTopicCheck => ({ ok: false, problem, message });
  if (value === undefined || value === null) return no("MISSING", "no reply topic");
  if (typeof value !== "string") return no("NOT_STRING", `reply topic must be a string, got ${Array.isArray(value) ? "an array" : typeof value}`);
  if (value === "") return no("EMPTY", "reply topic is empty");
  if (Buffer.byteLength(value, "utf8") > REPLY_TOPIC_MAX_BYTES) return no("TOO_LONG", `reply topic is longer than ${REPLY_TOPIC_MAX_BYTES} bytes`);
  const bad = charProblem(value);
  if (bad === "SYSTEM_TOPIC") return no(bad, "reply topic contains '$' (broker system topics are never a reply topic)");
  if (bad === "WILDCARD") return no(bad, "reply topic contains a wildcard ('+' or '#')");
  if (bad) return no(bad, "reply topic contains a NUL or control character");
  const levels = value.split("/");
  if (levels.length > policy.maxLevels) return no("TOO_DEEP", `reply topic has ${levels.length} levels (at most ${policy.maxLevels})`);
  if (levels.some((l) => l === "")) return no("EMPTY_LEVEL", "reply topic has an empty level (leading, trailing or double '/')");
  const under = policy.prefixes.some((p) => levels.length > p.length && p.every((l, i) => levels[i] === l));
  if (!under) {
    const allowed = policy.prefixes.map((p) => `${p.join("/")}/<name>/…`).join(" or ");
    return no("OUTSIDE_REPLY_PREFIX", `reply topic must lie under ${allowed}`);
  }
  return { ok: true, topic: value };
}

/** The topic root of a request topic `{root}/api/request/{kind}`, or undefined for any other topic. */
export function requestRoot(topic: unknown): string | undefined {
  if (typeof topic !== "string") return undefined;
  const m = /^(.+)\/api\/request\/(?:command|query)$/.exec(topic);
  if (!m || !m[1] || charProblem(m[1]) || m[1].split("/").some((l) => l === "")) return undefined;
  return m[1];
}

/**
 * The guard an agent keeps: checks reply topics with one policy per topic root (root taken from the request topic,
 * `defaultRoot` otherwise) and counts refusals per problem for status, health and metrics.
 */
export class ReplyTopicGuard {
  private readonly policies = new Map<string, ReplyTopicPolicy>();
  private readonly counts = new Map<ReplyTopicProblem, number>();
  private total = 0;

  constructor(
    private readonly defaultRoot: string,
    private readonly opts: { clientPrefixes?: readonly string[]; maxLevels?: number } = {},
  ) {
    this.policyFor(defaultRoot); // fails at construction on a bad configuration
  }

  policyFor(root: string): ReplyTopicPolicy {
    let p = this.policies.get(root);
    if (!p) {
      p = replyTopicPolicy(root, this.opts);
      // Bounded: roots come from subscribed request topics, but a wildcard subscription could bring many.
      if (this.policies.size < 64) this.policies.set(root, p);
    }
    return p;
  }

  /** Checks `replyTo` of a request that arrived on `requestTopic`; a refusal is counted. */
  check(replyTo: unknown, requestTopic?: unknown): ReplyTopicCheck {
    const r = checkReplyTopic(replyTo, this.policyFor(requestRoot(requestTopic) ?? this.defaultRoot));
    if (!r.ok) this.refused(r.problem);
    return r;
  }

  /** Counts a refusal found elsewhere (e.g. by a request parser using the same rules). */
  refused(problem: ReplyTopicProblem): void {
    this.total++;
    this.counts.set(problem, (this.counts.get(problem) ?? 0) + 1);
  }

  get refusedTotal(): number {
    return this.total;
  }

  /** Refusals per problem, e.g. {SYSTEM_TOPIC: 3}. */
  refusedByProblem(): Partial<Record<ReplyTopicProblem, number>> {
    return Object.fromEntries(this.counts);
  }
}

/** A request whose reply topic is refused: it is neither run nor answered (counted and logged at a limited rate). */
export class ReplyTopicRefused extends PlugwatchError {
  constructor(
    readonly problem: ReplyTopicProblem,
    message: string,
  ) {
    super("INVALID_REQUEST", `refused, not answered: $.replyTo: ${message}`, [{ path: "$.replyTo", message }]);
  }
}

/** The guard configured by settings.js `plugwatch: { replyPrefixes: ["clients"] }` (the per-identity prefixes). */
export function replyTopicGuardFromSettings(settings: unknown, defaultRoot: string): ReplyTopicGuard {
  const pw = typeof settings === "object" && settings !== null ? (settings as { plugwatch?: { replyPrefixes?: unknown } }).plugwatch : undefined;
  const prefixes = pw?.replyPrefixes;
  if (prefixes !== undefined && !(Array.isArray(prefixes) && prefixes.every((p) => typeof p === "string"))) {
    throw new Error('settings.js plugwatch.replyPrefixes must be a list of topic prefixes, e.g. ["clients"]');
  }
  return new ReplyTopicGuard(defaultRoot, prefixes ? { clientPrefixes: prefixes } : {});
}
