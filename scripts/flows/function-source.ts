// Sources the flow builder reads at generation time: Function-node bodies (scripts/flows/functions/*.js, type-checked
// by scripts/flows/functions/tsconfig.json and linted) and the dashboard's Vue component (scripts/flows/dashboard/*.vue).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../services/repo-root";

export const FUNCTIONS_DIR = "scripts/flows/functions";
export const DASHBOARD_DIR = "scripts/flows/dashboard";

/** Names a Function node provides to its body (the rest of the sandbox, e.g. RED or util, is not used here). */
const SANDBOX = new Set(["msg", "node", "flow", "context", "global", "env"]);
const SIGNATURE = /^export default function \w+\(([\w, ]*)\) \{$/;
const PLACEHOLDER = /"\{\{([A-Z_]+)\}\}"/g;
/** JSDoc type annotations are for the checker only: the flow gets the code without them. */
const JSDOC_LINE = /^\s*\/\*\* @(?:type|param) .*\*\/$/;
const JSDOC_INLINE = /\/\*\* @type .*?\*\/ /g;

/**
 * The body of a function file as the Function node runs it: the lines inside `export default function name(…) {` … `}`,
 * two spaces less indented, without JSDoc type annotations, with each `"{{NAME}}"` string replaced by the JSON string of `constants[NAME]`. The
 * parameters must be sandbox names (msg, node, flow, …), since Node-RED provides them by those names. Throws on a
 * file of another shape, a missing constant or an unused one.
 */
export function functionBodyOf(file: string, text: string, constants: Record<string, string> = {}): string {
  const lines = text.replace(/\n+$/, "").split("\n");
  const start = lines.findIndex((l) => SIGNATURE.test(l));
  if (start < 0 || lines[lines.length - 1] !== "}") throw new Error(`${file}: expected 'export default function name(msg, …) {' … '}' at the end`);
  const params = (SIGNATURE.exec(lines[start])?.[1] ?? "").split(",").map((p) => p.trim());
  const unknown = params.filter((p) => p !== "" && !SANDBOX.has(p));
  if (unknown.length > 0) throw new Error(`${file}: parameters ${unknown.join(", ")} are not Function-node sandbox names`);
  const body = lines.slice(start + 1, -1).map((l, i) => {
    if (l !== "" && !l.startsWith("  ")) throw new Error(`${file}:${start + 2 + i}: body line not indented by two spaces`);
    return l.slice(2);
  });
  const used = new Set<string>();
  const out = body
    .filter((l) => !JSDOC_LINE.test(l))
    .join("\n")
    .replace(JSDOC_INLINE, "")
    .replace(PLACEHOLDER, (_m, name: string) => {
      const value = constants[name];
      if (value === undefined) throw new Error(`${file}: no value for placeholder {{${name}}}`);
      used.add(name);
      return JSON.stringify(value);
    });
  const unused = Object.keys(constants).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`${file}: constants not used: ${unused.join(", ")}`);
  return out;
}

/** The body of scripts/flows/functions/<name>.js (see functionBodyOf). */
export function functionBody(name: string, constants: Record<string, string> = {}): string {
  const file = path.join(FUNCTIONS_DIR, `${name}.js`);
  return functionBodyOf(file, readFileSync(path.join(projectRoot(), file), "utf8"), constants);
}

/** scripts/flows/dashboard/<name>.vue as the ui-template node's `format` (the file as it is). */
export function dashboardComponent(name: string): string {
  return readFileSync(path.join(projectRoot(), DASHBOARD_DIR, `${name}.vue`), "utf8");
}
