// Preloaded into the benchmarked Node-RED (NODE_OPTIONS=--require): records a V8 CPU profile and writes it to BENCH_PROFILE_DIR on exit.
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
import * as path from "node:path";

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 200 });
  session.post("Profiler.start");
  // An in-process inspector session answers synchronously, so this works inside the 'exit' handler.
  process.on("exit", () => {
    session.post("Profiler.stop", (err, res) => {
      if (!err) writeFileSync(path.join(dir, `node-red-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
