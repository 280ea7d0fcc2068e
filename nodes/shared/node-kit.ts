// Small helpers every Plugwatch node uses: fixed status set, error reporting with done(err), log rate limiting.
import type { Node, NodeStatus } from "node-red";
import { PlugwatchError } from "../../lib/contracts/errors";

export const status = {
  ok: (text: string): NodeStatus => ({ fill: "green", shape: "dot", text }),
  busy: (text: string): NodeStatus => ({ fill: "yellow", shape: "ring", text }),
  warn: (text: string): NodeStatus => ({ fill: "yellow", shape: "dot", text }),
  error: (text: string): NodeStatus => ({ fill: "red", shape: "ring", text }),
  idle: (text: string): NodeStatus => ({ fill: "grey", shape: "ring", text }),
  clear: (): NodeStatus => ({}),
};

/** Short status text for an error: its stable code when it has one. */
export function errorText(err: unknown): string {
  if (err instanceof PlugwatchError) return err.code;
  return err instanceof Error ? err.message.slice(0, 30) : String(err).slice(0, 30);
}

/** Sets a red status and hands the error to done() so Catch nodes see it. Never throws. */
export function fail(node: Node, err: unknown, done: (err?: Error) => void): void {
  node.status(status.error(errorText(err)));
  done(err instanceof Error ? err : new Error(String(err)));
}

/** Logs the same message at most once per `intervalMs` (counts the suppressed repeats). */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly log: (msg: string) => void,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}
  write(key: string, msg: string): void {
    const t = this.now();
    const prev = this.last.get(key);
    if (prev && t - prev.at < this.intervalMs) {
      prev.suppressed++;
      return;
    }
    const extra = prev && prev.suppressed ? ` (${prev.suppressed} similar suppressed)` : "";
    this.last.set(key, { at: t, suppressed: 0 });
    this.log(msg + extra);
  }
}
