// Test doubles for lib/control.ts unit tests: in-memory plugs behind the RelayClient interface and a manual clock.
import type { RelayClient } from "../../lib/control";
import type { Device } from "../../lib/contracts";

type Addr = Pick<Device, "host" | "port">;
export const key = (d: Addr): string => `${d.host}:${d.port}`;

/** In-memory plugs keyed by address; can fail, hang, ignore relay commands, or hold calls until released. */
export class FakeClient implements RelayClient {
  relay = new Map<string, boolean>();
  calls: string[] = [];
  failing = new Map<string, Error>();
  hanging = new Set<string>();
  stuck = new Set<string>();
  hold = false;
  inFlight = 0;
  maxInFlight = 0;
  private held: (() => void)[] = [];

  private async enter<T>(d: Addr, op: string, fn: () => T): Promise<T> {
    this.calls.push(`${op} ${key(d)}`);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
      if (this.hanging.has(key(d))) await new Promise<never>(() => undefined);
      const err = this.failing.get(key(d));
      if (err !== undefined) throw err;
      return fn();
    } finally {
      this.inFlight--;
    }
  }
  releaseAll(): number {
    const n = this.held.length;
    this.held.splice(0).forEach((r) => r());
    return n;
  }
  poll(d: Addr): Promise<{ relay: boolean }> {
    return this.enter(d, "poll", () => ({ relay: this.relay.get(key(d)) ?? false }));
  }
  setRelay(d: Addr, on: boolean): Promise<void> {
    return this.enter(d, on ? "on" : "off", () => {
      if (!this.stuck.has(key(d))) this.relay.set(key(d), on);
    });
  }
}

/** Manual clock: timers fire only when the test advances time. */
