// Sources the flow builder reads at generation time: Function-node bodies (scripts/flows/functions/*.js, type-checked
// by scripts/flows/functions/tsconfig.json and linted), the dashboard's Vue component (scripts/flows/dashboard/*.vue) and
// the texts of the tabs and comment nodes (scripts/flows/notes.md).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../services/repo-root";

export const FUNCTIONS_DIR = "scripts/flows/functions";
export const DASHBOARD_DIR = "scripts/flows/dashboard";
export const NOTES_FILE = "scripts/flows/notes.md";

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
  const params = (SIGNATURE.exec(lines[start] ?? "")?.[1] ?? "").split(",").map((p) => p.trim());
  const unknown = params.filter((p) => p !== "" && !SANDBOX.has(p));
  if (unknown.length > 0) throw new Error(`${file}: parameters ${unknown.join(", ")} are not Function-node sandbox names`);
  const body = lines.slice(start + 1, -1).map((l, i) => {
    if (l !== "" && !l.startsWith("  ")) throw new Error(`${file}:${start + 2 + i}: body line not indented by two spaces`);
    return l.slice(2);
  });
  const code = body
    .filter((l) => !JSDOC_LINE.test(l))
    .join("\n")
    .replace(JSDOC_INLINE, "");
  const used = new Set<string>();
  const out = substitute(file, code, PLACEHOLDER, constants, used, JSON.stringify);
  checkAllUsed(file, constants, used);
  return out;
}

/** `text` with each `pattern` match (group 1: the name) replaced by `quote(constants[name])`; the names go to `used`. */
function substitute(file: string, text: string, pattern: RegExp, constants: Record<string, string>, used: Set<string>, quote = (v: string) => v): string {
  return text.replace(pattern, (_m, name: string) => {
    const value = constants[name];
    if (value === undefined) throw new Error(`${file}: no value for placeholder {{${name}}}`);
    used.add(name);
    return quote(value);
  });
}

function checkAllUsed(file: string, constants: Record<string, string>, used: ReadonlySet<string>): void {
  const unused = Object.keys(constants).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`${file}: constants not used: ${unused.join(", ")}`);
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

/** A text of the flow: a tab's label and description, or a comment node's name and text. */
export interface FlowText {
  title: string;
  info: string;
}

const NOTE_HEADING = /^#{2,3} ([\w-]+): (.+)$/;
const TEXT_PLACEHOLDER = /\{\{([A-Z_]+)\}\}/g;

/**
 * The sections of a notes file by id: `## <tab id>: <label>` or `### <comment id>: <name>`, each followed by its text,
 * the lines up to the next such heading without the blank lines around them (what comes before the first heading is
 * the file's own introduction). Each `{{NAME}}` in a text is replaced by `constants[NAME]`. Throws on a repeated id,
 * an empty text, a missing constant or an unused one.
 */
export function flowTextsOf(file: string, markdown: string, constants: Record<string, string> = {}): Map<string, FlowText> {
  const texts = new Map<string, FlowText>();
  const used = new Set<string>();
  let current: { id: string; title: string; lines: string[] } | undefined;
  const close = (): void => {
    if (!current) return;
    const info = current.lines.join("\n").trim();
    if (info === "") throw new Error(`${file}: section ${current.id} has no text`);
    texts.set(current.id, { title: current.title, info: substitute(file, info, TEXT_PLACEHOLDER, constants, used) });
  };
  for (const line of markdown.split("\n")) {
    const heading = NOTE_HEADING.exec(line);
    if (!heading) {
      current?.lines.push(line);
      continue;
    }
    close();
    const [, id = "", title = ""] = heading;
    if (texts.has(id)) throw new Error(`${file}: section ${id} appears twice`);
    current = { id, title, lines: [] };
  }
  close();
  checkAllUsed(file, constants, used);
  return texts;
}

/** scripts/flows/notes.md (see flowTextsOf). */
export function flowTexts(constants: Record<string, string> = {}): Map<string, FlowText> {
  return flowTextsOf(NOTES_FILE, readFileSync(path.join(projectRoot(), NOTES_FILE), "utf8"), constants);
}
