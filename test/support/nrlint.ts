// Runs nrlint with the repository's .nrlintrc.js on one flow file and returns its problems (used by flow and example tests).
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../../scripts/harness/nodered";

const run = promisify(execFile);

export interface LintProblem {
  /** Ids of the nodes concerned. */
  location?: string[];
  severity: string;
  message: string;
  rule: string;
}

export async function nrlint(file: string): Promise<LintProblem[]> {
  const root = repoRoot();
  const bin = path.join(root, "node_modules", ".bin", "nrlint");
  const { stdout } = await run(bin, ["-c", path.join(root, ".nrlintrc.js"), "-f", "json", file], { cwd: root }).catch(
    (err: Error & { stdout?: string; stderr?: string }) => {
      // nrlint exits non-zero when it finds problems; its JSON report is still on stdout.
      if (err.stdout && err.stdout.trim().startsWith("[")) return { stdout: err.stdout };
      throw new Error(`nrlint failed on ${file}: ${err.stderr ?? String(err)}`);
    },
  );
  return JSON.parse(stdout) as LintProblem[];
}
