// The flow builder's sources outside TypeScript: the Function-node bodies (scripts/flows/functions/*.js) type-check
// against the Function node's sandbox, every one is used and lands in the flow as written; the dashboard's Vue component
// compiles with the Vue compiler the dashboard package ships.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import ts from "typescript";
import { dashboardComponent, functionBody, functionBodyOf, FUNCTIONS_DIR } from "../../scripts/flows/function-source";
import { plugwatchFlow } from "../../scripts/flows/plugwatch-flow";
import { repoRoot } from "../../scripts/harness/nodered";

const dir = () => path.join(repoRoot(), FUNCTIONS_DIR);
const sources = () =>
  readdirSync(dir())
    .filter((f) => f.endsWith(".js"))
    .map((f) => f.replace(/\.js$/, ""))
    .sort();

/** Diagnostics of scripts/flows/functions/tsconfig.json, with `extra` files (name → text) added to the program. */
function typeCheck(extra: Record<string, string> = {}): string[] {
  const configPath = path.join(dir(), "tsconfig.json");
  const raw = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  assert.equal(raw.error, undefined);
  const parsed = ts.parseJsonConfigFileContent(raw.config, ts.sys, dir());
  const names = [...parsed.fileNames, ...Object.keys(extra).map((n) => path.join(dir(), n))];
  const host = ts.createCompilerHost(parsed.options);
  const read = host.readFile.bind(host);
  host.readFile = (f) => extra[path.basename(f)] ?? read(f);
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => path.basename(f) in extra || exists(f);
  const program = ts.createProgram(names, parsed.options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

/** The constants the shipped flow gives the bodies that have placeholders (the topics of the dashboard's requests). */
const CONSTANTS: Record<string, Record<string, string>> = {
  "switch-command": { COMMAND_REQUEST_TOPIC: "plugwatch/api/request/command", DASHBOARD_COMMAND_REPLY: "plugwatch/api/reply/dashboard/command" },
  "energy-request": { QUERY_REQUEST_TOPIC: "plugwatch/api/request/query", DASHBOARD_ENERGY_REPLY: "plugwatch/api/reply/dashboard/energy" },
  "cost-request": {
    QUERY_REQUEST_TOPIC: "plugwatch/api/request/query",
    SCHEDULE_REQUEST_TOPIC: "plugwatch/api/request/schedule",
    DASHBOARD_COST_REPLY: "plugwatch/api/reply/dashboard/cost",
    DASHBOARD_SAVINGS_REPLY: "plugwatch/api/reply/dashboard/savings",
  },
};

const FILE = (body: string, params = "msg") =>
  `// @ts-check\n/** @param {import("./sandbox").Msg} msg */\nexport default function f(${params}) {\n${body}\n}\n`;

describe("flow builder sources (Function-node bodies, dashboard component)", function () {
  this.timeout(60000);

  it("every Function-node body type-checks against the sandbox declarations (tsc, strict, no Node or DOM globals)", function () {
    assert.deepEqual(typeCheck(), []);
  });

  it("the check fails on a body that uses what the sandbox does not provide or misreads a payload", function () {
    const bad = typeCheck({
      "bad-global.js": FILE("  global.set('x', 1);\n  return msg;"),
      "bad-payload.js": FILE("  return { payload: msg.payload.power * 2 };"),
    });
    assert.ok(
      bad.some((d) => d.includes("bad-global.js") && /Cannot find name 'global'/.test(d)),
      bad.join("\n"),
    );
    assert.ok(
      bad.some((d) => d.includes("bad-payload.js") && /unknown/.test(d)),
      bad.join("\n"),
    );
  });

  it("every body file is used by the shipped flow, which holds each body exactly as functionBody() reads it", function () {
    const funcs = [...plugwatchFlow({ backupNode: true }), ...plugwatchFlow({ backupNode: false })]
      .filter((n) => n.type === "function")
      .map((n) => n.func as string);
    const unused = sources().filter((s) => !funcs.includes(functionBody(s, CONSTANTS[s])));
    assert.deepEqual(unused, []);
    assert.equal(new Set(funcs).size, sources().length, "one file per distinct Function-node body");
  });

  it("each body compiles as a Function-node body (wrapped as Node-RED wraps it) and has no type annotations left", function () {
    for (const s of sources()) {
      const body = functionBody(s, CONSTANTS[s]);
      // Node-RED compiles the body the same way: wrapped in a function of msg, in a vm.Script (not run here).
      assert.doesNotThrow(() => new vm.Script(`(async function (msg, __send__, __done__) {\n${body}\n})`, { filename: `${s}.js` }), s);
      assert.doesNotMatch(body, /@type|@param|sandbox/, s);
    }
  });

  it("functionBodyOf: body dedented, JSDoc types dropped, placeholders become JSON strings; wrong shapes are refused", function () {
    const text = FILE(
      '  /** @type {number} */\n  const n = /** @type {number} */ (msg.payload);\n  if (n) {\n    return { topic: "{{T}}" };\n  }\n  return null;',
    );
    assert.equal(functionBodyOf("f.js", text, { T: 'a/"b"' }), 'const n = (msg.payload);\nif (n) {\n  return { topic: "a/\\"b\\"" };\n}\nreturn null;');
    assert.throws(() => functionBodyOf("f.js", text), /no value for placeholder \{\{T\}\}/);
    assert.throws(() => functionBodyOf("f.js", text, { T: "x", U: "y" }), /constants not used: U/);
    assert.throws(() => functionBodyOf("f.js", FILE("  return msg;", "msg, state")), /parameters state are not Function-node sandbox names/);
    assert.throws(() => functionBodyOf("f.js", "return msg;\n"), /expected 'export default function/);
    assert.throws(() => functionBodyOf("f.js", FILE("return msg;")), /f\.js:4: body line not indented/);
  });

  it("the dashboard's devices component compiles with the Vue compiler of @flowfuse/node-red-dashboard", async function () {
    const base = path.dirname(require.resolve("@flowfuse/node-red-dashboard/package.json"));
    const sfc = (await import(require.resolve("vue/compiler-sfc", { paths: [base] }))) as typeof import("vue/compiler-sfc");
    const source = dashboardComponent("devices");
    assert.equal(source, readFileSync(path.join(repoRoot(), "scripts/flows/dashboard/devices.vue"), "utf8"));
    const { descriptor, errors } = sfc.parse(source, { filename: "devices.vue" });
    assert.deepEqual(errors, []);
    assert.ok(descriptor.template && descriptor.script && descriptor.styles.length === 1);
    const compiled = sfc.compileTemplate({ source: descriptor.template.content, filename: "devices.vue", id: "devices" });
    assert.deepEqual(compiled.errors, []);
    // What the dashboard test drives: the switch button and the power cells.
    for (const id of ["pw-switch", "pw-power", "pw-total", "pw-room-power"]) assert.match(descriptor.template.content, new RegExp(`data-testid="${id}"`));
  });
});
