// Node help, one source: parses and checks each node's locales/<lang>/<type>.html help (Node-RED's markdown help form)
// and generates the help part of docs/nodes/<type>.md from the en-US file. CLI: `node dist/scripts/docs/node-help.js [--check]`.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export const LANGS = ["en-US", "es-ES"] as const;
export type Lang = (typeof LANGS)[number];

export type SectionKey = "configuration" | "inputs" | "outputs" | "details" | "references";
/** Order in which sections may appear; Configuration only in config nodes. */
export const SECTION_ORDER: readonly SectionKey[] = ["configuration", "inputs", "outputs", "details", "references"];
/** `### ` titles per language (the es-ES ones are those of Node-RED's own es-ES core help). */
export const SECTION_TITLES: Record<Lang, Record<SectionKey, string>> = {
  "en-US": { configuration: "Configuration", inputs: "Inputs", outputs: "Outputs", details: "Details", references: "References" },
  "es-ES": { configuration: "Configuración", inputs: "Entradas", outputs: "Salidas", details: "Detalles", references: "Referencias" },
};

/**
 * The editor's markdown extensions (@node-red/editor-client, RED.utils.renderMarkdown): a block of lines each matching
 * BLOCK_LINE becomes `<dl class="message-properties">`, and each line matching PROPERTY_LINE one `<dt>name
 * <span class="property-type">types</span></dt><dd>desc</dd>`. Neither allows a `:` inside a part or a continuation line.
 */
export const BLOCK_LINE = /^:[^:\n]+:[^:\n]*$/;
export const PROPERTY_LINE = /^:([^:\n]+)\(([^:\n]+)\).*?:([^:\n]*)$/;

/** The trimmed parts of a `: name (types) : description` line, or undefined when the line is not one. */
function propertyOf(text: string): { name: string; types: string; description: string } | undefined {
  const [, name, types, description] = PROPERTY_LINE.exec(text) ?? [];
  if (name === undefined || types === undefined || description === undefined) return undefined;
  return { name: name.trim(), types: types.trim(), description: description.trim() };
}
/** Text that shows a property line the renderer did not turn into a list (for the rendered-page check). */
export const RAW_PROPERTY_TEXT = /(^|\n)\s*:\s*[\w.$ ]+\s*\([^)\n]*\)\s*:/;

export interface HelpProperty {
  name: string;
  types: string;
  description: string;
  /** 1-based line in the help markdown. */
  line: number;
}
export interface HelpSection {
  key: SectionKey;
  /** Output ports (`1. label` lines followed by properties), in order. */
  ports: string[];
  properties: HelpProperty[];
}
export interface ParsedHelp {
  intro: string;
  sections: HelpSection[];
  problems: string[];
}
export interface NodeShape {
  config: boolean;
  inputs: number;
  outputs: number;
}

/** The markdown of `<script type="text/markdown" data-help-name="type">` in an editor or locale help file, or undefined. */
export function extractHelp(html: string, type: string): string | undefined {
  const re = /<script\b([^>]*)>([\s\S]*?)<\/script>/g;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const attrs = m[1] ?? "";
    if (new RegExp(`data-help-name=["']${type.replace(/[-.]/g, "\\$&")}["']`).test(attrs)) {
      if (!/type=["']text\/markdown["']/.test(attrs)) throw new Error(`help of ${type} is not text/markdown`);
      return (m[2] ?? "").replace(/^\n/, "").replace(/\s+$/, "") + "\n";
    }
  }
  return undefined;
}

/** Parses help markdown in `lang` and lists every way it departs from the format the editor renders as lists. */
export function parseHelp(markdown: string, lang: Lang): ParsedHelp {
  const titles = SECTION_TITLES[lang];
  const byTitle = new Map(SECTION_ORDER.map((k) => [titles[k], k] as const));
  const lines = markdown.split("\n");
  const problems: string[] = [];
  const sections: HelpSection[] = [];
  const intro: string[] = [];
  let current: HelpSection | undefined;
  let prevKind: "blank" | "heading" | "port" | "property" | "text" = "blank";
  lines.forEach((text, i) => {
    const line = i + 1;
    const [, hashes, title] = /^(#{1,6})\s+(.*?)\s*$/.exec(text) ?? [];
    if (hashes !== undefined && title !== undefined) {
      const level = hashes.length;
      if (level === 3) {
        const key = byTitle.get(title);
        if (!key) problems.push(`line ${line}: section "${title}" is not one of ${[...byTitle.keys()].join(", ")}`);
        else {
          current = { key, ports: [], properties: [] };
          sections.push(current);
        }
      } else if (level < 4) problems.push(`line ${line}: heading level ${level}; sections are ###, sub-headings ####`);
      else if (!current) problems.push(`line ${line}: sub-heading before the first section`);
      prevKind = "heading";
      return;
    }
    if (!current) intro.push(text);
    if (text.startsWith(":")) {
      const property = propertyOf(text);
      if (!property || !BLOCK_LINE.test(text)) {
        problems.push(`line ${line}: not a one-line ": name (type) : description" (no ':' inside a part): ${text.slice(0, 60)}`);
      } else if (prevKind === "text") {
        problems.push(`line ${line}: a property list must follow a blank line, a heading or a "1. port" line`);
      } else if (current) {
        current.properties.push({ ...property, line });
      } else problems.push(`line ${line}: property outside a section`);
      prevKind = "property";
      return;
    }
    const [, port] = /^\d+\.\s+(.*)$/.exec(text) ?? [];
    if (port !== undefined && current?.key === "outputs") {
      current.ports.push(port.trim());
      prevKind = "port";
      return;
    }
    const stray = strayProperty(text);
    if (stray)
      problems.push(`line ${line}: the editor renders "${stray.slice(0, 40)}…" as a property (a ':' with '(…)' and another ':' after it on the line); reword`);
    if (text.trim() === "") prevKind = "blank";
    else {
      if (prevKind === "property") problems.push(`line ${line}: text right after a property line (a continuation is rendered as raw text); leave a blank line`);
      prevKind = "text";
    }
  });
  return { intro: intro.join("\n").trim(), sections, problems };
}

/**
 * Text from a ':' outside code spans that the editor's inline `description` rule would turn into a stray <dt>
 * (it matches at any ':' that starts an inline token), or undefined.
 */
export function strayProperty(text: string): string | undefined {
  let inCode = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "`") inCode = !inCode;
    else if (c === ":" && !inCode) {
      const rest = text.slice(i);
      if (/^:([^:\n]+)\(([^:\n]+)\).*?:([^:\n]*)$/.test(rest)) return rest;
    }
  }
  return undefined;
}

/** Problems of a node's help against the sections its shape calls for. */
export function checkHelp(markdown: string, lang: Lang, shape: NodeShape): string[] {
  const parsed = parseHelp(markdown, lang);
  const problems = [...parsed.problems];
  const keys = parsed.sections.map((s) => s.key);
  const titles = SECTION_TITLES[lang];
  const want: SectionKey[] = [];
  if (shape.inputs > 0) want.push("inputs");
  if (shape.outputs > 0) want.push("outputs");
  want.push("details", "references");
  for (const k of want) if (!keys.includes(k)) problems.push(`missing section ### ${titles[k]}`);
  for (const k of keys) {
    if (k === "configuration" && !shape.config) problems.push(`### ${titles[k]} only in config nodes (the edit dialog shows the fields)`);
    if (k === "inputs" && shape.inputs === 0) problems.push(`### ${titles[k]} in a node without an input`);
    if (k === "outputs" && shape.outputs === 0) problems.push(`### ${titles[k]} in a node without an output`);
  }
  if (new Set(keys).size !== keys.length) problems.push("a section appears twice");
  const order = keys.map((k) => SECTION_ORDER.indexOf(k));
  const outOfOrder = order.some((v, i) => {
    const prev = order[i - 1];
    return prev !== undefined && v < prev;
  });
  if (outOfOrder) problems.push(`sections out of order: ${keys.join(", ")}`);
  const outputs = parsed.sections.find((s) => s.key === "outputs");
  if (outputs && shape.outputs > 1 && outputs.ports.length !== shape.outputs) {
    problems.push(`### ${titles.outputs} lists ${outputs.ports.length} ports ("1. name" lines), the node has ${shape.outputs}`);
  }
  for (const s of parsed.sections) {
    if ((s.key === "inputs" || s.key === "outputs" || s.key === "configuration") && s.properties.length === 0) {
      problems.push(`### ${titles[s.key]} documents no property`);
    }
  }
  const refs = markdown.split(/^### .*$/m).at(-1) ?? "";
  if (keys.at(-1) === "references" && !/\]\(https?:\/\//.test(refs)) problems.push(`### ${titles.references} has no link`);
  return problems;
}

/** The node's category, input and output counts, read from its editor file's registerType call. */
export function nodeShape(editorHtml: string): NodeShape {
  const num = (key: string) => Number(new RegExp(`\\b${key}:\\s*(\\d+)`).exec(editorHtml)?.[1] ?? 0);
  return { config: /\bcategory:\s*["']config["']/.test(editorHtml), inputs: num("inputs"), outputs: num("outputs") };
}

const DOCS_URL = "https://github.com/plugwatch/node-red-plugwatch/blob/main/docs/";

/** The help part of docs/nodes/<type>.md: the en-US help's sections under one heading, property lists as bullets. */
export function helpToDocs(markdown: string): string {
  const lines = markdown.split("\n");
  const first = lines.findIndex((l) => l.startsWith("### "));
  const out: string[] = [];
  let inPort = false;
  for (const text of first < 0 ? [] : lines.slice(first)) {
    if (/^#{3,6} /.test(text)) inPort = false;
    const p = propertyOf(text);
    if (p) {
      out.push(`${inPort ? "    " : ""}- **${p.name}** (*${p.types}*) — ${p.description}`);
      continue;
    }
    if (/^\d+\.\s/.test(text)) inPort = true;
    else if (text.trim() === "") inPort = false;
    out.push(text);
  }
  const body = out.join("\n").replaceAll(`${DOCS_URL}nodes/`, "").replaceAll(DOCS_URL, "../").trim();
  return `## Help in the editor\n\n${body}\n`;
}

export const REGION_START = "<!-- help:start -->";
export const REGION_END = "<!-- help:end -->";

/** Replaces the generated region of a docs page; throws when the page has no region markers. */
export function replaceRegion(doc: string, type: string, generated: string): string {
  const a = doc.indexOf(REGION_START);
  const b = doc.indexOf(REGION_END);
  if (a < 0 || b < a) throw new Error(`docs/nodes/${type}.md has no ${REGION_START} … ${REGION_END} region`);
  const note = `<!-- generated from nodes/${type}/locales/en-US/${type}.html by \`npm run docs:nodes\`: edit the help file, not this part -->`;
  return `${doc.slice(0, a)}${REGION_START}\n${note}\n\n${generated}\n${doc.slice(b)}`;
}

/** Node folders (those with a locales/ folder) under nodes/. */
export function nodeTypes(root: string): string[] {
  const dir = path.join(root, "nodes");
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, "locales")))
    .map((d) => d.name)
    .sort();
}

export function helpFile(root: string, type: string, lang: Lang): string {
  return path.join(root, "nodes", type, "locales", lang, `${type}.html`);
}

export function readHelp(root: string, type: string, lang: Lang): string {
  const file = helpFile(root, type, lang);
  const md = extractHelp(readFileSync(file, "utf8"), type);
  if (md === undefined) throw new Error(`${file} has no data-help-name="${type}" block`);
  return md;
}

/** Writes (or, with check, compares) every docs/nodes/<type>.md help region; returns the pages that differ. */
export function syncDocs(root: string, check: boolean): string[] {
  const stale: string[] = [];
  for (const type of nodeTypes(root)) {
    const page = path.join(root, "docs", "nodes", `${type}.md`);
    const doc = readFileSync(page, "utf8");
    const next = replaceRegion(doc, type, helpToDocs(readHelp(root, type, "en-US")));
    if (next !== doc) {
      stale.push(path.relative(root, page));
      if (!check) writeFileSync(page, next);
    }
  }
  return stale;
}

if (require.main === module) {
  const root = path.resolve(__dirname, "..", "..", "..");
  const check = process.argv.includes("--check");
  const stale = syncDocs(root, check);
  if (check && stale.length) {
    console.error(`help part out of date in: ${stale.join(", ")}; run npm run docs:nodes`);
    process.exit(1);
  }
  console.log(stale.length ? `${check ? "stale" : "updated"}: ${stale.join(", ")}` : "docs/nodes help parts are up to date");
}
