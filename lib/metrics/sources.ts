// Builds hub sources from the libs' own stats objects, so the node adapters stay one line each.
import type { WriterStats } from "../influx/writer";
import type { HookSource } from "./hub";
import type { ObservedSink } from "./observed-sink";

/** The hook's writer stats, its sink's reachability, its SPOOL_FULL refusals and the oldest spooled reading, as a hub source. */
export function hookSource(
  writer: { stats(): WriterStats },
  sink: Pick<ObservedSink, "unreachableSince">,
  refusals: () => number,
  oldestTs: () => Promise<number | undefined>,
): HookSource {
  return {
    snapshot() {
      const s = writer.stats();
      return {
        acceptedLines: s.acceptedLines,
        writtenLines: s.writtenLines,
        rejectedLines: s.rejectedLines,
        retries: s.retries,
        spoolFullRefusals: refusals(),
        backlogLines: s.backlogLines,
        backlogBytes: s.backlogBytes,
        maxBytes: s.spool.maxBytes,
        unreachableSince: sink.unreachableSince,
      };
    },
    oldestTs,
  };
}
