// One simulated metered outlet: relay, load profile, forced values and the energy counter (W, V, A, kWh).
// The same behaviour as the legacy HS110 simulator's plug (office.ts), for the KLAP/Tapo devices and HS300 outlets.
import type { Device } from "../../lib/contracts/device";
import { energyKWh, initialEnergyKWh, loadAt } from "./profiles";

export interface ForcedValues {
  power?: number;
  voltage?: number;
  current?: number;
}

/** What the outlet measures now (W, V, A) and its cumulative counter (kWh). */
export interface Metered {
  power: number;
  voltage: number;
  current: number;
  total: number;
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

export class LoadModel {
  relay: boolean;
  private forced: ForcedValues | undefined;
  private energy: number;
  private lastTickMs: number;
  private served: Metered = { power: 0, voltage: 0, current: 0, total: 0 };

  constructor(
    readonly entry: Pick<Device, "id" | "kind" | "idleWatts">,
    private readonly opts: { nowMs: number; offsetFor: (ms: number) => number; seed: number; relayOn: boolean },
  ) {
    this.relay = opts.relayOn;
    this.energy = initialEnergyKWh(entry.id, opts.seed);
    this.lastTickMs = opts.nowMs;
    this.refresh();
  }

  get realtime(): Metered {
    return { ...this.served };
  }
  get energyKWh(): number {
    return this.energy;
  }
  get forcedValues(): ForcedValues | undefined {
    return this.forced ? { ...this.forced } : undefined;
  }

  setRelay(on: boolean): void {
    this.relay = on;
    this.refresh();
  }

  force(values: ForcedValues): void {
    for (const [k, v] of Object.entries(values)) {
      if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) throw new RangeError(`force: ${k} must be a finite number ≥ 0`);
    }
    this.forced = { ...this.forced, ...values };
    this.refresh();
  }

  release(): void {
    this.forced = undefined;
    this.refresh();
  }

  setEnergy(kWh: number): void {
    if (!Number.isFinite(kWh) || kWh < 0) throw new RangeError("setEnergy: kWh must be a finite number ≥ 0");
    this.energy = kWh;
    this.refresh();
  }

  /** Integrates the power served since the last tick into the counter, then serves the values for `nowMs`. */
  tick(nowMs: number): void {
    const dt = nowMs - this.lastTickMs;
    if (dt > 0) this.energy += energyKWh(this.served.power, dt);
    this.lastTickMs = nowMs;
    this.refresh();
  }

  private refresh(): void {
    const model = loadAt(this.entry, this.lastTickMs, true, { utcOffsetMinutes: this.opts.offsetFor(this.lastTickMs), seed: this.opts.seed });
    const f = this.forced ?? {};
    const voltage = f.voltage ?? model.voltage;
    let power = 0;
    let current = 0;
    if (this.relay) {
      power = f.power ?? (f.current !== undefined ? round(f.current * voltage, 3) : model.power);
      current = f.current ?? (voltage > 0 ? round(power / voltage, 4) : 0);
    }
    this.served = { power, voltage, current, total: round(this.energy, 6) };
  }
}
