// Loaded into the Node-RED process by bench/fleet.ts (NODE_OPTIONS=--require): every PLUGWATCH_FLEET_PROBE_MS it appends one
// JSON line to PLUGWATCH_FLEET_PROBE with the event-loop delay (perf_hooks.monitorEventLoopDelay) of that window, the
// process CPU time and its memory. It only observes: no Node-RED or plugwatch code is touched.
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.PLUGWATCH_FLEET_PROBE;
if (file) {
  const everyMs = Number(process.env.PLUGWATCH_FLEET_PROBE_MS) || 10_000;
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const timer = setInterval(() => {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const line = {
      ts: Date.now(),
      loopP50Ms: ms(h.percentile(50)),
      loopP99Ms: ms(h.percentile(99)),
      loopMaxMs: ms(h.max),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      rssBytes: mem.rss,
      heapBytes: mem.heapUsed,
    };
    h.reset();
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // the bench removed its directory: nothing left to report to
    }
  }, everyMs);
  timer.unref();
}

// PLUGWATCH_FLEET_PROFILE=<file>: one CPU profile (node:inspector) of 60 s, starting PLUGWATCH_FLEET_PROFILE_AT_MS
// after the start, written as a .cpuprofile (open it in Chrome DevTools or summarise it with a script).
const profileFile = process.env.PLUGWATCH_FLEET_PROFILE;
if (profileFile) {
  const at = Number(process.env.PLUGWATCH_FLEET_PROFILE_AT_MS) || 120_000;
  setTimeout(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a profile is asked for
    const { Session } = require("node:inspector") as typeof import("node:inspector");
    const session = new Session();
    session.connect();
    session.post("Profiler.enable", () =>
      session.post("Profiler.start", () =>
        setTimeout(
          () =>
            session.post("Profiler.stop", (err, res) => {
              if (!err) appendFileSync(profileFile, JSON.stringify(res.profile));
              session.disconnect();
            }),
          60_000,
        ).unref(),
      ),
    );
  }, at).unref();
}
