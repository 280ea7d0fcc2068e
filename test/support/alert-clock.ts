// An alert engine on a manual clock for unit tests, with every emitted event checked against the AlertEvent contract.
import assert from "node:assert/strict";
import { AlertEngine } from "../../lib/alerts/engine";
import { parseRules } from "../../lib/alerts/rules";
import type { DeviceInfo } from "../../lib/alerts/types";
import { AlertEvent } from "../../lib/contracts/alert";
import { validate } from "../../lib/contracts/validate";

export interface AlertClock {
  engine: AlertEngine;
  /** The engine's current time, epoch ms. */
  readonly now: number;
  // Function properties, not methods: they use no `this`, so callers may pass them around unbound.
  set: (t: number) => void;
  /** Asserts every event matches the contract; returns them. */
  check: (events: AlertEvent[]) => AlertEvent[];
  /** Moves the clock to `t` and runs the engine's timers. */
  tick: (t: number) => AlertEvent[];
}

export function alertClock(o: { rules: unknown[]; timezone: string; start: number; devices?: DeviceInfo[] }): AlertClock {
  let now = o.start;
  const engine = new AlertEngine({ rules: parseRules(o.rules, o.timezone), clock: () => now, ...(o.devices ? { devices: o.devices } : {}) });
  const check = (events: AlertEvent[]): AlertEvent[] => {
    for (const e of events) assert.ok(validate(AlertEvent, e).ok, `event matches the contract: ${JSON.stringify(e)}`);
    return events;
  };
  return {
    engine,
    get now() {
      return now;
    },
    set(t: number) {
      now = t;
    },
    check,
    tick(t: number) {
      now = t;
      return check(engine.tick(t));
    },
  };
}
