#!/usr/bin/env node
// Copies each node's editor file (.html) and locales/ next to its compiled .js in dist/, so
// package.json's node-red.nodes entries (dist/nodes/<name>/<name>.js) find their editor files.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const src = path.join(root, "nodes");
// Optional argument: another build directory (helpers build to .build/<name> to avoid clobbering dist/).
const out = path.join(path.resolve(root, process.argv[2] || "dist"), "nodes");

function copyTree(from, to) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, entry.name);
    const b = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(a, b);
    else fs.copyFileSync(a, b);
  }
}

for (const dir of fs.readdirSync(src, { withFileTypes: true })) {
  if (!dir.isDirectory()) continue;
  const nodeDir = path.join(src, dir.name);
  for (const entry of fs.readdirSync(nodeDir, { withFileTypes: true })) {
    const from = path.join(nodeDir, entry.name);
    const to = path.join(out, dir.name, entry.name);
    if (entry.isDirectory() && (entry.name === "locales" || entry.name === "icons")) copyTree(from, to);
    else if (entry.isFile() && entry.name.endsWith(".html")) {
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
}
