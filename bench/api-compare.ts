// bench:api --compare: a second Node-RED loading another build of the package (e.g. the previous main) beside the
// one under test, on the same broker, InfluxDB and simulated plugs, so both are measured alternately in one run.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import * as path from "node:path";
import { apiFlow, type ApiStack } from "../scripts/harness/api-stack";
import { startNodeRed, type NodeRedInstance } from "../scripts/harness/nodered";
import { freePort } from "../scripts/harness/ports";
import type { BrokerKind, Teardown } from "../scripts/harness/services";

/** PIDs of this process's children whose command line contains `needle`. */
export function childPids(needle: string): number[] {
  const found: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const ppid = Number(
        readFileSync(`/proc/${e}/stat`, "utf8")
          .replace(/^.*\) /, "")
          .split(" ")[1],
      );
      if (ppid === process.pid && readFileSync(`/proc/${e}/cmdline`, "utf8").includes(needle)) found.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return found;
}

/** The other build: its runtime's base URL and PID; its flow is the same API flow under its own topic root. */
export interface OtherBuild {
  url: string;
  pid: number | undefined;
  /** `git describe`-like label: the directory's commit when it is a worktree. */
  label: string;
}

/** The commit a git worktree directory is at (reads .git → HEAD), or the directory name. */
function commitOf(dir: string): string {
  try {
    const dotGit = path.join(dir, ".git");
    const gitDir = readFileSync(dotGit, "utf8")
      .match(/^gitdir: (.+)$/m)?.[1]
      ?.trim();
    const head = readFileSync(path.join(gitDir ?? dotGit, "HEAD"), "utf8").trim();
    return head.startsWith("ref:") ? head.slice(5) : head.slice(0, 7);
  } catch {
    return path.basename(dir);
  }
}

/** Starts Node-RED with the package from `dir` (built: dir/dist) and deploys the API flow on the stack's services. */
export async function startOtherBuild(td: Teardown, s: ApiStack, kind: BrokerKind, dir: string): Promise<OtherBuild> {
  const nodesDir = path.resolve(dir);
  if (!existsSync(path.join(nodesDir, "dist", "nodes"))) throw new Error(`--compare ${dir}: no dist/nodes (run npm run build there first)`);
  const before = new Set(childPids("node-red"));
  const red: NodeRedInstance = td.add(await startNodeRed({ logLevel: "warn", nodesDir }), (r) => r.stop());
  const root = `${s.root}-other`;
  await red.deploy(
    apiFlow({
      kind,
      brokerPort: s.broker.port,
      deadPort: await freePort(),
      root,
      slowRoot: `${root}-slow`,
      influxUrl: s.influxd.url,
      devices: s.office.registryDevices(),
      controlTimeoutMs: 2000,
    }),
  );
  return { url: red.url, pid: childPids("node-red").find((p) => !before.has(p)), label: commitOf(nodesDir) };
}

/** Median of a list of numbers (NaN when empty). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  const at = (i: number): number => s[i] ?? NaN;
  return s.length % 2 ? at(m) : (at(m - 1) + at(m)) / 2;
}
