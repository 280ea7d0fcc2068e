// The pipeline's live parts in one process: nodes register what they can report, /metrics and the self-alerts read it.
// No Node-RED and no prom-client here: sources are plain functions over the libs' own stats.

/** Cumulative poll counters of one collector (lib/poller.ts PollerCounters) plus its devices' state now. */
export interface CollectorTotals {
  /** Slots that came due (polled, missed because the previous poll was still running, or skipped in backoff). */
  cycles: number;
  /** Polls that answered with data. */
  ok: number;
  /** Polls that failed (unreachable, timeout, protocol error). */
  failed: number;
  /** Slots lost because the device's previous poll was still queued or in flight. */
  overrun: number;
  /** Slots skipped on purpose because the device is backed off (unreachable). */
  backoff: number;
  devices: number;
  online: number;
  offline: number;
}

/** The storage side of one influx hook, now. */
export interface HookSnapshot {
  acceptedLines: number;
  writtenLines: number;
  rejectedLines: number;
  retries: number;
  spoolFullRefusals: number;
  backlogLines: number;
  backlogBytes: number;
  /** The spool's cap, bytes. */
  maxBytes: number;
  /** Since when (epoch ms) every write attempt has failed without an answer from the database; undefined while it answers. */
  unreachableSince?: number | undefined;
}

export interface CollectorSource {
  totals(): CollectorTotals;
}
export interface HookSource {
  snapshot(): HookSnapshot;
  /** Epoch ms of the oldest reading still in the spool, or undefined when it is empty. */
  oldestTs(): Promise<number | undefined>;
}
export interface BrokerSource {
  connected(): boolean;
}
export interface AlertSource {
  /** Active alerts: the rule and severity of each. */
  active(): readonly { rule: string; severity: string }[];
}

/** A named source: `label` is what /metrics shows (the node's name, else its id), `slug` is usable as an alert device id. */
export interface Entry<T> {
  key: string;
  label: string;
  slug: string;
  source: T;
}

/** Lower-case slug of a name (lib/contracts/common SLUG_PATTERN), never empty. */
export function slugOf(name: string, fallback = "component"): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "")
    .slice(0, 64)
    .replace(/[-_]+$/, "");
  return s || fallback;
}

/** Sources of one kind by key (a node id); adding a key again replaces the source (a redeployed node). */
export class SourceSet<T> {
  private readonly map = new Map<string, Entry<T>>();

  /** Registers `source`; the returned function removes it (only if it is still the registered one). */
  add(key: string, label: string, source: T): () => void {
    const entry: Entry<T> = { key, label, slug: slugOf(label), source };
    this.map.set(key, entry);
    return () => {
      if (this.map.get(key) === entry) this.map.delete(key);
    };
  }

  entries(): Entry<T>[] {
    return [...this.map.values()];
  }

  get size(): number {
    return this.map.size;
  }
}

/** Everything the nodes of this runtime registered. */
export class PipelineHub {
  readonly collectors = new SourceSet<CollectorSource>();
  readonly hooks = new SourceSet<HookSource>();
  readonly brokers = new SourceSet<BrokerSource>();
  readonly alerts = new SourceSet<AlertSource>();
}

/** The runtime's hub: one per process, as there is one Node-RED runtime per process. */
export const pipeline = new PipelineHub();
