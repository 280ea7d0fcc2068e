// An independent reader of the Prometheus text format for tests (parse-prometheus-text-format, prom2json's shape), typed.
import { createRequire } from "node:module";

export interface PromSample {
  labels?: Record<string, string>;
  /** Counters, gauges, untyped: the value as text ("12", "+Inf"). */
  value?: string;
  /** Histograms: cumulative counts by upper bound, and count/sum as text. */
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
export interface PromFamily {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: PromSample[];
}

const parse = createRequire(__filename)("parse-prometheus-text-format") as (text: string) => PromFamily[];

/** Parses an exposition; throws (from the parser) on malformed text. */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  return new Map(parse(text).map((f) => [f.name, f]));
}

/** The sample of `family` whose labels include `labels`, or undefined. */
export function sample(family: PromFamily | undefined, labels: Record<string, string> = {}): PromSample | undefined {
  return family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

/** The numeric value of that sample (histograms: its count), or undefined. */
export function valueOf(family: PromFamily | undefined, labels: Record<string, string> = {}): number | undefined {
  const s = sample(family, labels);
  if (!s) return undefined;
  return Number(s.value ?? s.count);
}
