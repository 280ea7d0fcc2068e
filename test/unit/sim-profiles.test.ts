// Load profiles of the simulated office: ranges per kind and time of day, relay off, determinism, printer bursts.
import assert from "node:assert/strict";
import {
  deviceSeed,
  energyKWh,
  initialEnergyKWh,
  loadAt,
  localTime,
  meetingBooked,
  powerAt,
  printJobAt,
  workdayPlan,
  type ProfileDevice,
  type ProfileOptions,
} from "../../scripts/sim/profiles";
import { nth } from "../support/checked";

const CET = 60; // minutes east of UTC
const opts: ProfileOptions = { utcOffsetMinutes: CET };

/** Epoch ms of a local (CET) wall-clock time. */
function local(y: number, mo: number, d: number, h: number, mi = 0, s = 0): number {
  return Date.UTC(y, mo - 1, d, h, mi, s) - CET * 60_000;
}

// Monday 24 Nov 2025 … Sunday 30 Nov 2025.
const MONDAY = [2025, 11, 24] as const;
const SATURDAY = [2025, 11, 29] as const;

const workstations: ProfileDevice[] = Array.from({ length: 20 }, (_, i) => ({
  id: `ws-${1 + Math.floor(i / 10)}-${String((i % 10) + 1).padStart(2, "0")}`,
  kind: "workplace",
}));
const meetingRooms: ProfileDevice[] = ["mr-boardroom", "mr-huddle", "mr-training"].map((id) => ({ id, kind: "meeting-room" }));
const printers: ProfileDevice[] = ["printer-1", "printer-2"].map((id) => ({ id, kind: "printer" }));

describe("sim profiles: local time", function () {
  it("computes weekday and fractional hour for a UTC offset", function () {
    const t = localTime(local(...MONDAY, 10, 30), CET);
    assert.equal(t.weekday, 1);
    assert.equal(t.hour, 10.5);
    assert.equal(localTime(local(...SATURDAY, 23, 59), CET).weekday, 6);
    assert.equal(localTime(local(2025, 11, 30, 0, 0), CET).weekday, 0);
    // The same instant is a different local hour in another zone.
    assert.equal(localTime(local(...MONDAY, 10, 30), 0).hour, 9.5);
  });
});

describe("sim profiles: workstation day curve", function () {
  it("draws 60–150 W mid-morning on a weekday when its user is in, idle otherwise; most users are in", function () {
    const ms = local(...MONDAY, 10, 30);
    let present = 0;
    for (const ws of workstations) {
      const p = powerAt(ws, ms, opts);
      const plan = workdayPlan(deviceSeed(ws.id), localTime(ms, CET));
      if (plan.present) {
        present++;
        assert.ok(p >= 60 && p <= 150, `${ws.id}: ${p} W at 10:30`);
      } else {
        assert.ok(p >= 2 && p <= 5, `${ws.id} (absent): ${p} W`);
      }
    }
    assert.ok(present >= 14, `only ${present}/20 present`);
  });

  it("idles at 2–5 W at night, with or without idleWatts", function () {
    for (const ws of workstations) {
      for (const hour of [0, 3, 5, 22]) {
        const p = powerAt(ws, local(...MONDAY, hour, 17), opts);
        assert.ok(p >= 2 && p <= 5, `${ws.id} at ${hour}h: ${p} W`);
        const q = powerAt({ ...ws, idleWatts: 3 }, local(...MONDAY, hour, 17), opts);
        assert.ok(q >= 2.4 && q <= 3.6, `${ws.id} idleWatts 3 at ${hour}h: ${q} W`);
      }
    }
  });

  it("stays low all weekend", function () {
    for (const ws of workstations) {
      for (let hour = 0; hour < 24; hour += 1.5) {
        const p = powerAt(ws, local(...SATURDAY, 0) + hour * 3_600_000, opts);
        assert.ok(p <= 6, `${ws.id} Saturday ${hour}h: ${p} W`);
      }
    }
  });

  it("dips over lunch (15–40 W, below the morning)", function () {
    let checked = 0;
    for (const ws of workstations) {
      const t = localTime(local(...MONDAY, 12), CET);
      const plan = workdayPlan(deviceSeed(ws.id), t);
      if (!plan.present) continue;
      const mid = local(...MONDAY, 0) + ((plan.lunchStart + plan.lunchEnd) / 2) * 3_600_000;
      const lunch = powerAt(ws, mid, opts);
      const morning = powerAt(ws, local(...MONDAY, 10, 30), opts);
      assert.ok(lunch >= 15 && lunch <= 40, `${ws.id} lunch ${lunch} W`);
      assert.ok(lunch < morning, `${ws.id} lunch ${lunch} W ≥ morning ${morning} W`);
      checked++;
    }
    assert.ok(checked >= 14);
  });

  it("has a day curve: the office draws far more at 10:00 than at 03:00", function () {
    const total = (h: number): number => workstations.reduce((s, ws) => s + powerAt(ws, local(...MONDAY, h), opts), 0);
    assert.ok(total(10) > 10 * total(3), `10:00 ${total(10)} W vs 03:00 ${total(3)} W`);
    assert.ok(total(10) > total(20) * 10);
  });
});

describe("sim profiles: meeting rooms", function () {
  it("draws 80–200 W in booked slots and standby otherwise, on weekdays only", function () {
    let booked = 0;
    let free = 0;
    for (const room of meetingRooms) {
      const seed = deviceSeed(room.id);
      for (let day = 0; day < 5; day++) {
        for (let h = 8.25; h < 18; h += 0.5) {
          const ms = local(...MONDAY, 0) + day * 86_400_000 + h * 3_600_000;
          const p = powerAt(room, ms, opts);
          if (meetingBooked(seed, localTime(ms, CET))) {
            booked++;
            assert.ok(p >= 80 && p <= 200, `${room.id} booked: ${p} W`);
          } else {
            free++;
            assert.ok(p >= 1 && p <= 15, `${room.id} free: ${p} W`);
          }
        }
      }
      for (const h of [2, 7, 19, 23]) assert.ok(powerAt(room, local(...MONDAY, h), opts) <= 15);
      for (let h = 0; h < 24; h += 0.5) assert.ok(powerAt(room, local(...SATURDAY, 0) + h * 3_600_000, opts) <= 15);
    }
    // 3 rooms × 5 days × 20 slots, booked with p = 0.45: both kinds of slot occur, in a plausible mix.
    assert.ok(booked > 60 && booked < 220, `booked ${booked}`);
    assert.ok(free > 60, `free ${free}`);
  });

  it("keeps a booking for the whole half-hour slot", function () {
    const room = nth(meetingRooms, 0);
    const start = local(...MONDAY, 8);
    for (let slot = 0; slot < 20; slot++) {
      const a = powerAt(room, start + slot * 1_800_000 + 1000, opts) >= 80;
      const b = powerAt(room, start + slot * 1_800_000 + 1_799_000, opts) >= 80;
      assert.equal(a, b, `slot ${slot}`);
    }
  });
});

describe("sim profiles: printers", function () {
  /** Runs of consecutive seconds at ≥ 400 W over [from, to). */
  function bursts(dev: ProfileDevice, from: number, to: number): { start: number; seconds: number; max: number; min: number }[] {
    const out: { start: number; seconds: number; max: number; min: number }[] = [];
    let cur: { start: number; seconds: number; max: number; min: number } | undefined;
    for (let ms = from; ms < to; ms += 1000) {
      const p = powerAt(dev, ms, opts);
      if (p >= 400) {
        cur ??= { start: ms, seconds: 0, max: 0, min: Infinity };
        cur.seconds++;
        cur.max = Math.max(cur.max, p);
        cur.min = Math.min(cur.min, p);
      } else {
        assert.ok(p >= 5 && p <= 15, `${dev.id} standby ${p} W`);
        if (cur) out.push(cur);
        cur = undefined;
      }
    }
    if (cur) out.push(cur);
    return out;
  }

  it("has short 400–900 W print bursts during office hours over a 5–15 W standby", function () {
    for (const printer of printers) {
      const runs = bursts(printer, local(...MONDAY, 8), local(...MONDAY, 18));
      assert.ok(runs.length >= 20, `${printer.id}: only ${runs.length} print bursts in a working day`);
      for (const r of runs) {
        assert.ok(r.seconds >= 14 && r.seconds <= 61, `${printer.id}: burst of ${r.seconds} s`);
        assert.ok(r.min >= 400 && r.max <= 900, `${printer.id}: burst ${r.min}–${r.max} W`);
      }
      const busy = runs.reduce((s, r) => s + r.seconds, 0);
      assert.ok(busy < 0.25 * 36_000, `${printer.id}: printing ${busy} s of 36000`);
    }
  });

  it("rarely prints at night", function () {
    for (const printer of printers) {
      const runs = bursts(printer, local(...MONDAY, 0), local(...MONDAY, 6));
      const busy = runs.reduce((s, r) => s + r.seconds, 0);
      assert.ok(busy < 0.01 * 6 * 3600, `${printer.id}: ${busy} s printing at night`);
    }
  });

  it("describes each job by the window it falls in", function () {
    const printer = nth(printers, 0);
    const seed = deviceSeed(printer.id);
    let jobs = 0;
    for (let ms = local(...MONDAY, 9); ms < local(...MONDAY, 12); ms += 300_000) {
      const job = printJobAt(seed, ms + 1, CET);
      if (!job) continue;
      jobs++;
      assert.ok(job.startMs >= ms && job.endMs <= ms + 300_000, "job inside its window");
      const mid = Math.floor((job.startMs + job.endMs) / 2);
      assert.ok(Math.abs(powerAt(printer, mid, opts) - job.watts) <= job.watts * 0.031);
      assert.ok(powerAt(printer, job.endMs, opts) <= 15, "standby right after the job");
    }
    assert.ok(jobs > 0);
  });
});

describe("sim profiles: electrical values", function () {
  const all = [...workstations, ...meetingRooms, ...printers];

  it("relay off → 0 W and 0 A, voltage still measured", function () {
    for (const dev of all) {
      const s = loadAt(dev, local(...MONDAY, 10, 30), false, opts);
      assert.equal(s.power, 0);
      assert.equal(s.current, 0);
      assert.ok(s.voltage > 225 && s.voltage < 235);
    }
  });

  it("voltage is 230 V ± 3.5 V and current = P / V", function () {
    for (const dev of all) {
      for (let h = 0; h < 24; h += 0.37) {
        const s = loadAt(dev, local(...MONDAY, 0) + h * 3_600_000, true, opts);
        assert.ok(Math.abs(s.voltage - 230) <= 3.5, `${dev.id}: ${s.voltage} V`);
        assert.ok(Math.abs(s.current - s.power / s.voltage) < 1e-4, `${dev.id}: ${s.current} A for ${s.power} W at ${s.voltage} V`);
      }
    }
  });

  it("is deterministic per device and seed, and varies with the seed and the device", function () {
    const series = (dev: ProfileDevice, o: ProfileOptions): number[] =>
      Array.from({ length: 200 }, (_, i) => loadAt(dev, local(...MONDAY, 9) + i * 61_000, true, o).power);
    const ws = nth(workstations, 3);
    assert.deepEqual(series(ws, opts), series(ws, { ...opts }));
    assert.notDeepEqual(series(ws, opts), series(ws, { ...opts, seed: 7 }));
    assert.notDeepEqual(series(ws, opts), series(nth(workstations, 4), opts));
    assert.equal(initialEnergyKWh("ws-1-01"), initialEnergyKWh("ws-1-01"));
    assert.notEqual(initialEnergyKWh("ws-1-01"), initialEnergyKWh("ws-1-02"));
  });

  it("has small noise: consecutive seconds differ, but by little", function () {
    const ws = workstations.find((w) => workdayPlan(deviceSeed(w.id), localTime(local(...MONDAY, 10), CET)).present) as ProfileDevice;
    const a = powerAt(ws, local(...MONDAY, 10, 0, 10), opts);
    const b = powerAt(ws, local(...MONDAY, 10, 0, 11), opts);
    assert.notEqual(a, b);
    assert.ok(Math.abs(a - b) / a < 0.05, `${a} → ${b}`);
  });

  it("energy: 1000 W for one hour is 1 kWh", function () {
    assert.equal(energyKWh(1000, 3_600_000), 1);
    assert.equal(energyKWh(60, 60_000), 0.001);
  });
});
