// Topic templates with named levels ("office/{room}/{device}/{attribute}"): plain MQTT values (23.5, true, {"value":…}) on matching topics → generic readings.
import { itemAt } from "./arrays";
import { SLUG_PATTERN } from "./contracts/common";
import { PlugwatchError } from "./contracts/errors";
import { FIELD_NAME_PATTERN, GenericReading } from "./contracts/reading";
import { validate } from "./contracts/validate";

const NAME = /^[a-z][a-z0-9_]{0,31}$/;
const SLUG = new RegExp(SLUG_PATTERN);
const FIELD = new RegExp(FIELD_NAME_PATTERN);
/** The level whose value names the field; without it the field is `value`. */
export const ATTRIBUTE = "attribute";

export type TemplateLevel = { literal: string } | { name: string };

export interface TopicTemplate {
  source: string;
  levels: TemplateLevel[];
}

const bad = (message: string): PlugwatchError => new PlugwatchError("INVALID_REQUEST", message);

/** `home/{room}/{attribute}` → levels; names are lower-case identifiers, each used once; no MQTT wildcards. */
export function parseTopicTemplate(source: string): TopicTemplate {
  const text = source.trim();
  if (text === "") throw bad("topic template is empty (e.g. office/{room}/{device}/{attribute})");
  const seen = new Set<string>();
  const levels = text.split("/").map((level): TemplateLevel => {
    const [, name] = /^\{(.*)\}$/.exec(level) ?? [];
    if (name !== undefined) {
      if (!NAME.test(name)) throw bad(`topic template '${text}': '{${name}}' is not a level name (a-z, 0-9, _; starting with a letter)`);
      if (seen.has(name)) throw bad(`topic template '${text}': {${name}} appears twice`);
      seen.add(name);
      return { name };
    }
    if (level === "" || /[+#{}]/.test(level)) throw bad(`topic template '${text}': level '${level}' must be a literal without + # { } or a {name}`);
    return { literal: level };
  });
  if (seen.size === 0) throw bad(`topic template '${text}' names no level: write e.g. home/{room}/{attribute}`);
  return { source: text, levels };
}

/** The MQTT subscription matching the template: named levels become `+`. */
export function subscriptionOf(t: TopicTemplate): string {
  return t.levels.map((l) => ("name" in l ? "+" : l.literal)).join("/");
}

/** The named levels of a topic, or undefined when it does not match the template. */
export function matchTopic(t: TopicTemplate, topic: string): Record<string, string> | undefined {
  const parts = topic.split("/");
  if (parts.length !== t.levels.length) return undefined;
  const out: Record<string, string> = {};
  for (const [i, p] of parts.entries()) {
    const l = itemAt(t.levels, i); // same length: checked above
    if ("literal" in l) {
      if (l.literal !== p) return undefined;
    } else {
      if (p === "") return undefined;
      out[l.name] = p;
    }
  }
  return out;
}

export interface TopicMapOptions {
  template: TopicTemplate;
  /** Device id from the levels, e.g. `{room}-{device}` (default: every named level but the attribute, joined by `-`). */
  device?: string | undefined;
  /** Measurement of the readings (default: none, plugwatch-influx-hook's). */
  measurement?: string | undefined;
}

/** Lower-cases a level value and turns anything a slug does not allow into '-'. */
function slugPart(v: string): string {
  return v
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "");
}

/** The device id for a topic's levels (checked as a registry slug). */
export function deviceIdOf(opts: TopicMapOptions, levels: Record<string, string>): string {
  const names = opts.template.levels.flatMap((l) => ("name" in l && l.name !== ATTRIBUTE ? [l.name] : []));
  const pattern = opts.device?.trim() || names.map((n) => `{${n}}`).join("-");
  const id = pattern.replace(/\{([a-z][a-z0-9_]*)\}/g, (_m, n: string) => {
    const v = levels[n];
    if (v === undefined) throw bad(`device template '${pattern}': the topic template has no level {${n}}`);
    return slugPart(v);
  });
  if (!SLUG.test(id))
    throw new PlugwatchError("INVALID_READING", `device id '${id}' from the topic is not a slug (lower-case letters, digits, '-', '_'; 1-64)`);
  return id;
}

type Value = number | boolean;

/** A plain payload → its fields: a number, true/false, numeric text, {"value":…,"ts":…} or an object of named values. */
function decodeValue(payload: unknown, field: string): { fields: Record<string, Value>; ts?: number } {
  let v: unknown = Buffer.isBuffer(payload) ? payload.toString("utf8") : payload;
  if (typeof v === "string") {
    const text = v.trim();
    if (text === "true" || text === "false") return { fields: { [field]: text === "true" } };
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) v = Number(text);
    else {
      try {
        v = JSON.parse(text) as unknown;
      } catch {
        throw new PlugwatchError("INVALID_READING", `payload '${text.slice(0, 40)}' is not a number, true/false or JSON`);
      }
    }
  }
  const ok = (x: unknown): x is Value => typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x));
  if (ok(v)) return { fields: { [field]: v } };
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if ("value" in o) {
      if (!ok(o.value)) throw new PlugwatchError("INVALID_READING", `'value' must be a finite number or a boolean`);
      if (o.ts !== undefined && (typeof o.ts !== "number" || !Number.isInteger(o.ts)))
        throw new PlugwatchError("INVALID_READING", `'ts' must be epoch milliseconds`);
      return o.ts === undefined ? { fields: { [field]: o.value } } : { fields: { [field]: o.value }, ts: o.ts };
    }
    const fields: Record<string, Value> = {};
    for (const [k, x] of Object.entries(o)) {
      if (!FIELD.test(k) || !ok(x)) throw new PlugwatchError("INVALID_READING", `'${k}' is not a field name with a finite number or boolean`);
      fields[k] = x;
    }
    if (Object.keys(fields).length > 0) return { fields };
  }
  throw new PlugwatchError("INVALID_READING", `payload is not a number, a boolean, {"value":…} or an object of values`);
}

/**
 * The topic to publish a mapped reading on, from a template with the topic's levels and `{id}` (the device id),
 * e.g. `plugwatch/home/0/{room}/{id}/reading`; level values are made slugs. Empty template: undefined.
 */
export function outputTopic(template: string, source: TopicTemplate, topic: string, id: string): string | undefined {
  const t = template.trim();
  if (t === "") return undefined;
  const levels = matchTopic(source, topic) ?? {};
  const out = t.replace(/\{([a-z][a-z0-9_]*)\}/g, (_m, n: string) => {
    if (n === "id") return id;
    const v = levels[n];
    if (v === undefined) throw bad(`output topic '${t}': the topic template has no level {${n}}`);
    return slugPart(v);
  });
  if (out.split("/").some((p) => p === "") || /[+#]/.test(out))
    throw new PlugwatchError("INVALID_READING", `output topic '${out}' has an empty level or a wildcard`);
  return out;
}

/** Is this payload already a contract reading (plug or generic)? Those pass through unchanged. */
export function isReading(payload: unknown): boolean {
  return typeof payload === "object" && payload !== null && !Array.isArray(payload) && !Buffer.isBuffer(payload) && "v" in payload && "device" in payload;
}

/**
 * A message on a topic matching the template → a generic reading (validated): the device id from the levels, the
 * field named by `{attribute}` (or `value`), the other levels as tags, `ts` from the payload or `now` (epoch ms).
 */
export function readingFromTopic(opts: TopicMapOptions, topic: string, payload: unknown, now: number): GenericReading {
  const levels = matchTopic(opts.template, topic);
  if (!levels) throw new PlugwatchError("INVALID_READING", `topic '${topic}' does not match ${opts.template.source}`);
  const field = levels[ATTRIBUTE] ?? "value";
  if (!FIELD.test(field)) throw new PlugwatchError("INVALID_READING", `attribute '${field}' is not a field name (a letter, then letters, digits or _)`);
  const device = deviceIdOf(opts, levels);
  const { fields, ts } = decodeValue(payload, field);
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(levels)) if (k !== ATTRIBUTE && k !== "device" && v.length <= 128) tags[k] = v;
  const reading: GenericReading = {
    v: 1,
    device,
    ts: ts ?? now,
    fields,
    ...(Object.keys(tags).length ? { tags } : {}),
    ...(opts.measurement ? { measurement: opts.measurement } : {}),
  };
  const r = validate(GenericReading, reading);
  if (!r.ok) throw new PlugwatchError("INVALID_READING", `${r.issues[0]?.path ?? "$"}: ${r.issues[0]?.message ?? "invalid"}`, r.issues);
  return r.value;
}
