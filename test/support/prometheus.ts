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

/**
 * Parses an exposition; throws (from the parser) on malformed text. Families are keyed by name with their TYPE. The
 * parser folds the series of a labelled histogram into one (it keeps neither their labels nor count and sum), so the
 * text is parsed a second time without histogram TYPE lines: each `<name>_bucket`, `<name>_count` and `<name>_sum`
 * then comes back as a family of its own with every series and its labels.
 */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  const families = new Map(parse(text).map((f) => [f.name, f]));
  const series = new Map<string, PromFamily>();
  for (const f of parse(text.replace(/^# TYPE (\S+) histogram$/gm, ""))) {
    if (!/_(bucket|count|sum)$/.test(f.name) || families.has(f.name)) continue;
    // Each series' lines come back as one more family of the same name: merge them.
    const known = series.get(f.name);
    if (known) known.metrics.push(...f.metrics);
    else series.set(f.name, { ...f, metrics: [...f.metrics] });
  }
  for (const [name, f] of series) families.set(name, f);
  return families;
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
