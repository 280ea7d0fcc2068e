// Wraps the hook's WriteSink: times each write and tells when the database stopped (and started again) answering.
import type { SendError, WriteSink } from "../influx/writer";

export interface SinkObserver {
  /** One write attempt: its duration (ms), lines in the batch, and whether it was stored (4xx bad data counts as answered). */
  written?(ms: number, ok: boolean): void;
}

/** A sink plus `unreachableSince`: epoch ms of the first failed attempt since the last one the database answered. */
export interface ObservedSink extends WriteSink {
  readonly unreachableSince: number | undefined;
}

/** A failure without an HTTP answer, or a 5xx, means the database is not reachable; a 4xx is an answer. */
export const isUnreachable = (err: unknown): boolean => {
  const status = (err as SendError | undefined)?.status;
  return status === undefined || status >= 500;
};

export function observeSink(sink: WriteSink, now: () => number, observer: SinkObserver = {}): ObservedSink {
  let since: number | undefined;
  const observed: ObservedSink = {
    get unreachableSince() {
      return since;
    },
    send: async (body) => {
      const started = now();
      try {
        await sink.send(body);
        since = undefined;
        observer.written?.(now() - started, true);
      } catch (err) {
        if (isUnreachable(err)) since ??= started;
        else since = undefined;
        observer.written?.(now() - started, false);
        throw err;
      }
    },
  };
  if (sink.createDatabase) observed.createDatabase = sink.createDatabase;
  return observed;
}
