// Single-flight: calls with the same key while one is running share its promise instead of starting another.

/**
 * Runs at most one call per key at a time; callers arriving while it runs get the same promise (result or
 * error). Nothing is cached: once the call settles, the next call with that key runs again, so a result is
 * never older than the call it came from. Callers share the result object and must treat it as read-only.
 */
export class SingleFlight<T> {
  private readonly pending = new Map<string, Promise<T>>();
  /** Calls that joined a running one instead of starting their own, since creation. */
  joined = 0;

  /** Keys with a call running. */
  get size(): number {
    return this.pending.size;
  }

  run(key: string, call: () => Promise<T>): Promise<T> {
    const same = this.pending.get(key);
    if (same) {
      this.joined++;
      return same;
    }
    let started: Promise<T>;
    try {
      started = call();
    } catch (err) {
      return Promise.reject(err);
    }
    const shared = started.finally(() => this.pending.delete(key));
    this.pending.set(key, shared);
    return shared;
  }
}
