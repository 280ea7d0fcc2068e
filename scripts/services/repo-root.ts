// The repository root seen from any build output (dist/ or .build/<name>/): the nearest package.json of this package.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

export function projectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "@plugwatch/node-red-plugwatch") return dir;
    if (path.dirname(dir) === dir) throw new Error(`package.json of @plugwatch/node-red-plugwatch not found above ${from}`);
  }
}
