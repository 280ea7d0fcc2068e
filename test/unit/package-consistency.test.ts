// Package consistency: package.json, each node's TypeScript, editor HTML, help and locale agree; shipped flow files parse.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../../scripts/harness/nodered";
import { nth } from "../support/checked";

/** Keys every NodeDef has (node-red's own) — not compared between editor defaults and the TypeScript interface. */
const STANDARD_KEYS = new Set(["id", "type", "name", "z", "wires", "x", "y", "g", "d"]);

interface PackageJson {
  name?: string;
  keywords?: string[];
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  "node-red"?: { version?: string; nodes?: Record<string, string> };
}

/** Index of the brace closing the one at `open` (skips strings, template literals and comments). */
export function matchBrace(src: string, open: number): number {
  const pairs: Record<string, string> = { "{": "}", "(": ")", "[": "]" };
  const stack: string[] = [];
  for (let i = open; i < src.length; i++) {
    const c = src.charAt(i);
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === "\\") i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      i = src.indexOf("*/", i + 2);
      if (i < 0) return -1;
      i++;
      continue;
    }
    if (pairs[c]) stack.push(pairs[c]);
    else if (c === "}" || c === ")" || c === "]") {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

/**
 * Property names at the top level of an object literal / type body `{ … }` starting at `open`.
 * Members are separated by `,` `;` or a line break (TS allows newline-separated interface members).
 */
export function topLevelKeys(src: string, open: number): string[] {
  const close = matchBrace(src, open);
  if (close < 0) throw new Error(`unbalanced braces at ${open}`);
  const keys: string[] = [];
  let i = open + 1;
  while (i < close) {
    const c = src.charAt(i);
    if (/\s|,|;/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && (src[i + 1] === "/" || src[i + 1] === "*")) {
      i = src[i + 1] === "/" ? src.indexOf("\n", i) : src.indexOf("*/", i) + 2;
      if (i <= 0) break;
      continue;
    }
    const m = /^(?:([A-Za-z_$][\w$]*)|"([^"]+)"|'([^']+)')\s*\??\s*:/.exec(src.slice(i, close));
    if (m) {
      const key = m[1] ?? m[2] ?? m[3];
      assert.ok(key !== undefined, "one of the key alternatives matched");
      keys.push(key);
      i += m[0].length;
    }
    // Skip the member's value (or an unrecognised member) up to the next separator at depth 0.
    while (i < close && src[i] !== "," && src[i] !== ";" && src[i] !== "\n") {
      const v = src[i];
      if (v === "{" || v === "(" || v === "[") i = matchBrace(src, i) + 1;
      else if (v === '"' || v === "'" || v === "`") {
        for (i++; i < close && src[i] !== v; i++) if (src[i] === "\\") i++;
        i++;
      } else if (v === "/" && src[i + 1] === "/") i = src.indexOf("\n", i);
      else i++;
      if (i <= 0) return keys;
    }
  }
  return keys;
}

/**
 * Types registered with `registerType("<type>"` in a source (TS runtime or editor HTML), also with TypeScript
 * type arguments (`registerType<Node, Def, Settings, Creds>("<type>"`, used to type credentials).
 */
export function registeredTypes(src: string): string[] {
  // registerType("<type>", …) in an editor file or a plain node module; defineNode(RED, "<type>", …) on the node kit.
  return [...src.matchAll(/(?:registerType|defineNode)\s*(?:<[^()]*?>)?\(\s*(?:RED\s*,\s*)?["']([^"']+)["']/g)].map((m) => nth(m, 1, "registered type"));
}

/** Keys of `defaults: { … }` in the editor's registerType("<type>", { … }) call, or undefined when absent. */
export function editorDefaults(html: string, type: string): string[] | undefined {
  const re = new RegExp(`registerType\\(\\s*["']${type.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["']\\s*,\\s*\\{`);
  const m = re.exec(html);
  if (!m) return undefined;
  const objOpen = m.index + m[0].length - 1;
  const objClose = matchBrace(html, objOpen);
  const body = html.slice(objOpen, objClose + 1);
  const d = /\bdefaults\s*:\s*\{/.exec(body);
  if (!d) return undefined;
  return topLevelKeys(body, d.index + d[0].length - 1);
}

/** Keys of `interface <name> extends … { … }` in a TS source, or undefined. */
export function interfaceKeys(src: string, name: string): string[] | undefined {
  const m = new RegExp(`interface\\s+${name}\\b[^{]*\\{`).exec(src);
  if (!m) return undefined;
  return topLevelKeys(src, m.index + m[0].length - 1);
}

export function pascal(type: string): string {
  return type
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

const nonStandard = (keys: string[]) => keys.filter((k) => !STANDARD_KEYS.has(k)).sort();

describe("package consistency helpers", function () {
  const html = `<script>RED.nodes.registerType("demo-node", { category: "x", color: "#fff",
    defaults: { name: { value: "" }, broker: { type: "demo-cfg", required: true }, rules: { value: [{ a: 1, b: "}" }] },
      "quoted": { value: 'a,b' } },
    label: function () { return this.name || "demo"; } });</script>`;
  const ts = `import type { NodeDef } from "node-red";
  export interface DemoNodeNodeDef extends NodeDef {
    broker: string; // the config node
    rules: { a: number; b: string }[];
    quoted?: string
    multi:
      | "a"
      | "b";
  }`;

  it("reads the editor defaults keys, ignoring nested objects and strings", function () {
    assert.deepEqual(editorDefaults(html, "demo-node"), ["name", "broker", "rules", "quoted"]);
    assert.equal(editorDefaults(html, "other"), undefined);
  });

  it("reads a NodeDef interface's keys, ignoring nested type literals", function () {
    assert.deepEqual(interfaceKeys(ts, "DemoNodeNodeDef"), ["broker", "rules", "quoted", "multi"]);
    assert.equal(interfaceKeys(ts, "Missing"), undefined);
  });

  it("detects a mismatch between editor defaults and the NodeDef", function () {
    const editor = nonStandard(editorDefaults(html, "demo-node") ?? []);
    const def = nonStandard(interfaceKeys(ts.replace("quoted?: string", ""), "DemoNodeNodeDef") ?? []);
    assert.notDeepEqual(editor, def);
  });

  it("names the NodeDef after the type and finds registered types", function () {
    assert.equal(pascal("plugwatch-collector"), "PlugwatchCollector");
    assert.deepEqual(registeredTypes(`RED.nodes.registerType( 'a-b', X); RED.nodes.registerType("c", Y)`), ["a-b", "c"]);
    assert.deepEqual(registeredTypes(`RED.nodes.registerType<N, D, Record<string, never>, C>("d-e", Z, { credentials: {} })`), ["d-e"]);
  });
});

describe("package consistency", function () {
  const root = repoRoot();
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as PackageJson;
  const nodes = pkg["node-red"]?.nodes ?? {};

  it("package.json satisfies the Flow Library scorecard basics", function () {
    assert.match(pkg.name ?? "", /^@[a-z0-9-]+\/node-red-[a-z0-9-]+$/, "scoped name @scope/node-red-…");
    assert.ok(pkg.keywords?.includes("node-red"), "keyword node-red");
    assert.ok(pkg["node-red"]?.version, "node-red.version");
    assert.ok(pkg.engines?.node, "engines.node");
    const deps = Object.keys(pkg.dependencies ?? {});
    assert.ok(deps.length <= 6, `at most 6 runtime dependencies (D01), found ${deps.length}: ${deps.join(", ")}`);
    assert.ok(Object.keys(nodes).length >= 1, "node-red.nodes lists at least one node");
  });

  it("every node folder that registers a type is listed in package.json node-red.nodes", function () {
    const listed = new Set(Object.values(nodes).map((p) => path.basename(path.dirname(p))));
    const dirs = readdirSync(path.join(root, "nodes")).filter((d) => existsSync(path.join(root, "nodes", d, `${d}.ts`)));
    const unlisted = dirs.filter((d) => registeredTypes(readFileSync(path.join(root, "nodes", d, `${d}.ts`), "utf8")).length > 0 && !listed.has(d));
    assert.deepEqual(unlisted, [], `add to package.json node-red.nodes: ${unlisted.map((d) => `"${d}": "dist/nodes/${d}/${d}.js"`).join(", ")}`);
  });

  for (const [setName, file] of Object.entries(nodes)) {
    describe(`node-red.nodes["${setName}"] → ${file}`, function () {
      const m = /^dist\/nodes\/([^/]+)\/([^/]+)\.js$/.exec(file);
      const dir = m ? path.join(root, "nodes", nth(m, 1, "node folder")) : "";
      const base = m ? m[2] : "";
      const tsFile = path.join(dir, `${base}.ts`);
      const htmlFile = path.join(dir, `${base}.html`);
      const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");

      it("points at dist/nodes/<name>/<name>.js built from nodes/<name>/<name>.ts", function () {
        assert.ok(m, `${file} is not dist/nodes/<name>/<name>.js`);
        assert.equal(m[1], m[2], "folder and file share the node's name");
        assert.ok(existsSync(tsFile), `missing ${path.relative(root, tsFile)}`);
      });

      it("the editor .html registers the same types as the .ts, with a form and help", function () {
        const tsTypes = registeredTypes(read(tsFile));
        assert.ok(tsTypes.length > 0, `${base}.ts registers no type`);
        assert.ok(existsSync(htmlFile), `missing ${path.relative(root, htmlFile)}`);
        const html = read(htmlFile);
        assert.deepEqual(registeredTypes(html).sort(), [...tsTypes].sort(), "types registered by .html vs .ts");
        for (const type of tsTypes) {
          const help = html.includes(`data-help-name="${type}"`) || existsSync(path.join(dir, "locales", "en-US", `${type}.html`));
          assert.ok(help, `no help for ${type} (data-help-name="${type}" or locales/en-US/${type}.html)`);
          assert.ok(html.includes(`data-template-name="${type}"`), `no edit form data-template-name="${type}"`);
        }
      });

      it("has locales/en-US/<name>.json that parses", function () {
        const loc = path.join(dir, "locales", "en-US", `${base}.json`);
        assert.ok(existsSync(loc), `missing ${path.relative(root, loc)}`);
        const json = JSON.parse(readFileSync(loc, "utf8")) as unknown;
        assert.equal(typeof json, "object");
      });

      it("editor defaults keys equal the <Pascal>NodeDef keys", function () {
        const html = read(htmlFile);
        const sources = [read(path.join(dir, "types.ts")), read(tsFile)];
        for (const type of registeredTypes(read(tsFile))) {
          const editor = editorDefaults(html, type);
          assert.ok(editor, `no defaults in registerType("${type}") of ${base}.html`);
          const name = `${pascal(type)}NodeDef`;
          const def = sources.map((s) => interfaceKeys(s, name)).find((k) => k !== undefined);
          assert.ok(def, `interface ${name} not found in nodes/${m?.[1]}/types.ts or ${base}.ts`);
          assert.deepEqual(nonStandard(editor), nonStandard(def), `defaults of ${type} (.html) vs ${name} (.ts)`);
        }
      });
    });
  }

  it("every editor .html under nodes/ has help text", function () {
    const missing: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d)) {
        const p = path.join(d, e);
        if (statSync(p).isDirectory()) {
          if (e !== "locales") walk(p);
        } else if (e.endsWith(".html")) {
          const html = readFileSync(p, "utf8");
          for (const type of registeredTypes(html)) {
            if (!html.includes(`data-help-name="${type}"`) && !existsSync(path.join(path.dirname(p), "locales", "en-US", `${type}.html`)))
              missing.push(`${path.relative(root, p)} (${type})`);
          }
        }
      }
    };
    walk(path.join(root, "nodes"));
    assert.deepEqual(missing, []);
  });

  for (const folder of ["examples", "flows"]) {
    it(`every ${folder}/*.json is a JSON array of nodes with unique ids`, function () {
      const dir = path.join(root, folder);
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
      for (const f of files) {
        const text = readFileSync(path.join(dir, f), "utf8");
        let flow: unknown;
        assert.doesNotThrow(() => (flow = JSON.parse(text)), `${folder}/${f} is not valid JSON`);
        assert.ok(Array.isArray(flow), `${folder}/${f} is not a JSON array`);
        const ids = new Set<string>();
        for (const [i, n] of (flow as unknown[]).entries()) {
          const node = n as { id?: unknown; type?: unknown };
          assert.ok(node !== null && typeof node === "object", `${folder}/${f}[${i}] is not an object`);
          assert.equal(typeof node.id, "string", `${folder}/${f}[${i}].id`);
          assert.equal(typeof node.type, "string", `${folder}/${f}[${i}].type`);
          assert.ok(!ids.has(node.id as string), `${folder}/${f}: duplicate id ${String(node.id)}`);
          ids.add(node.id as string);
        }
      }
    });
  }
});
