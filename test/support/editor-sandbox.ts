// Runs a node's editor script (nodes/<name>/<name>.html) without a browser, to compare its validators with the runtime.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import { repoRoot } from "../../scripts/harness/nodered";

export type Validator = (this: Record<string, unknown>, v: unknown, opt?: unknown) => unknown;
export interface PropDef {
  value?: unknown;
  required?: boolean;
  validate?: Validator;
}

/** RED.validators.number / regex as in @node-red/editor-client (red.js, RED.validators), without i18n. */
export const validators = {
  number: (blankAllowed?: boolean) => (v: unknown) => {
    if (blankAllowed && (v === "" || v === undefined)) return true;
    if (v !== "" && /^NaN$|^[+-]?[0-9]*\.?[0-9]*([eE][-+]?[0-9]+)?$|^[+-]?(0b|0B)[01]+$|^[+-]?(0o|0O)[0-7]+$|^[+-]?(0x|0X)[0-9a-fA-F]+$/.test(String(v)))
      return true;
    return !isNaN(v as number);
  },
  regex: (re: RegExp) => (v: unknown) => re.test(v as string),
};

/** Runs the editor scripts of nodes/<name>/<name>.html and returns the defaults of the registered type. */
export function editorDefaults(name: string): Record<string, PropDef> {
  const html = readFileSync(path.join(repoRoot(), "nodes", name, `${name}.html`), "utf8");
  const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
  assert.ok(scripts.length > 0, `${name}.html has an editor script`);
  const registered = new Map<string, { defaults: Record<string, PropDef> }>();
  const RED = {
    validators,
    nodes: { registerType: (type: string, def: { defaults: Record<string, PropDef> }) => registered.set(type, def) },
    _: (k: string) => k,
  };
  for (const s of scripts) vm.runInNewContext(s, { RED });
  const def = registered.get(name);
  assert.ok(def, `${name}.html registers ${name}`);
  return def.defaults;
}

/** What the editor says about a value of one property: blank counts as invalid when the property is required. */
export function editorAccepts(prop: PropDef, v: unknown, node: Record<string, unknown> = {}): boolean {
  if (prop.required && (v === "" || v === undefined || v === null)) return false;
  return prop.validate ? prop.validate.call(node, v) === true : true;
}
