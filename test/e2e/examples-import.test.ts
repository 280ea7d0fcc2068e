// Every examples/*.json imports into a plain Node-RED with zero config errors: in real Chromium the editor's own
// validation (RED.editor.validateNode on import) marks no node or config node invalid and finds every type; every
// type comes from Node-RED's core, this package, or a package the example's tab names; deployed as it is (defaults,
// nothing pointed at a service), the runtime logs no error other than a refused connection to the absent services.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { exampleFileTexts, hasBackupNode } from "../../scripts/flows/write-flows";
import { loadExample, waitFor } from "../support/examples";
import type { FlowNode } from "../../scripts/harness/nodered";
import { repoRoot, startNodeRed, type NodeRedInstance } from "../../scripts/harness/nodered";
import { Teardown } from "../../scripts/harness/services";
import { nth } from "../support/checked";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const PACKAGE = "@plugwatch/node-red-plugwatch";
const EXAMPLES = readdirSync(path.join(repoRoot(), "examples"))
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.replace(/\.json$/, ""))
  .sort();

interface Verdict {
  unknown: string[];
  invalid: { id: string; type: string; errors: unknown }[];
  imported: number;
}

/** Imports `flow` into a freshly loaded editor and returns what the editor thinks of each node. */
async function importInEditor(page: Page, url: string, flow: unknown[]): Promise<Verdict> {
  await page.goto(url, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(
    () => {
      const RED = (window as unknown as { RED?: { nodes?: { getType(t: string): unknown }; view?: { importNodes?: unknown } } }).RED;
      return Boolean(RED?.nodes?.getType("plugwatch-collector") && RED.view?.importNodes);
    },
    undefined,
    { timeout: 60000 },
  );
  return page.evaluate((f) => {
    type N = { id: string; type: string; valid?: boolean; validationErrors?: unknown; z?: string };
    const RED = (
      window as unknown as {
        RED: {
          view: { importNodes(n: unknown, o?: unknown): void };
          nodes: { eachNode(cb: (n: N) => void): void; eachConfig(cb: (n: N) => void): void; getType(t: string): unknown };
        };
      }
    ).RED;
    const ids = new Set((f as { id: string }[]).map((n) => n.id));
    RED.view.importNodes(f, { generateIds: false, addFlow: false, touchImport: true });
    const verdict: Verdict = { unknown: [], invalid: [], imported: 0 };
    const check = (n: N) => {
      if (!ids.has(n.id)) return;
      verdict.imported++;
      if (n.type === "unknown" || !RED.nodes.getType(n.type)) verdict.unknown.push(n.type);
      if (n.valid === false) verdict.invalid.push({ id: n.id, type: n.type, errors: n.validationErrors ?? null });
    };
    RED.nodes.eachNode(check);
    RED.nodes.eachConfig(check);
    return verdict;
  }, flow);
}

interface Layout {
  overlaps: string[];
  outside: string[];
  groupOverlaps: string[];
  drawn: number;
}

/**
 * Shows each tab of the imported flow in the editor and reads back the boxes it drew (x/y are node centres, w/h the
 * sizes the editor measured from the labels): no two nodes of a tab overlap, every grouped node lies inside its
 * group's box, and no two groups of a tab overlap.
 */
async function layoutInEditor(page: Page, flow: FlowNode[]): Promise<Layout> {
  return page.evaluate(async (f) => {
    type N = { id: string; type: string; z?: string; g?: string; x: number; y: number; w?: number; h?: number; name?: string };
    type G = { id: string; z: string; x: number; y: number; w: number; h: number; nodes: N[] };
    const RED = (
      window as unknown as {
        RED: {
          workspaces: { show(id: string): void };
          view: { redraw(full?: boolean): void };
          nodes: { node(id: string): N | null; group(id: string): G | null; eachNode(cb: (n: N) => void): void; groups(z: string): G[] };
        };
      }
    ).RED;
    const tabs = (f as { id: string; type: string }[]).filter((n) => n.type === "tab").map((n) => n.id);
    const ids = new Set((f as { id: string }[]).map((n) => n.id));
    const out: Layout = { overlaps: [], outside: [], groupOverlaps: [], drawn: 0 };
    const label = (n: N) => `${n.id} (${n.name || n.type})`;
    for (const z of tabs) {
      RED.workspaces.show(z);
      await new Promise((r) => setTimeout(r, 300));
      // Make the view measure every node of this tab again (labels → widths), not reuse an earlier size.
      RED.nodes.eachNode((n) => {
        if (n.z === z) Object.assign(n, { dirty: true, resize: true });
      });
      RED.view.redraw(true);
      await new Promise((r) => setTimeout(r, 300));
      const nodes: N[] = [];
      RED.nodes.eachNode((n) => {
        if (n.z === z && ids.has(n.id)) nodes.push(n);
      });
      const box = (n: N) => ({ l: n.x - (n.w ?? 0) / 2, r: n.x + (n.w ?? 0) / 2, t: n.y - (n.h ?? 0) / 2, b: n.y + (n.h ?? 0) / 2 });
      for (const n of nodes) if (n.w && n.h) out.drawn++;
      // Every pair once (runs in the page: no test helpers here, hence entries() and slice() rather than indexes).
      for (const [i, n1] of nodes.entries())
        for (const n2 of nodes.slice(i + 1)) {
          const a = box(n1);
          const b = box(n2);
          if (a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b) out.overlaps.push(`${label(n1)} × ${label(n2)}`);
        }
      const groups = RED.nodes.groups(z).filter((g) => ids.has(g.id));
      for (const g of groups)
        for (const m of g.nodes) {
          const b = box(m);
          if (b.l < g.x || b.r > g.x + g.w || b.t < g.y || b.b > g.y + g.h) out.outside.push(`${label(m)} outside group ${g.id}`);
        }
      for (const [i, a] of groups.entries())
        for (const b of groups.slice(i + 1)) {
          if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) out.groupOverlaps.push(`${a.id} × ${b.id}`);
        }
    }
    return out;
  }, flow);
}

describe("every examples/*.json imports into a plain Node-RED with zero config errors (real editor in Chromium, then deployed)", function () {
  this.timeout(180000);
  const td = new Teardown();
  let red: NodeRedInstance;
  let browser: Browser;
  let page: Page;
  let moduleOf: Map<string, string>;

  before(async function () {
    red = td.add(await startNodeRed(), (r) => r.stop());
    browser = td.add(await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS }), (b) => b.close());
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const r = await red.request("/nodes", { headers: { accept: "application/json" } });
    const sets = (await r.json()) as { module: string; types: string[] }[];
    moduleOf = new Map(sets.flatMap((s) => s.types.map((t) => [t, s.module] as [string, string])));
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${red?.logTail(30)}`);
  });

  after(() => td.run());

  it("the core pipeline and the add-on examples are exactly what scripts/flows/example-flows.ts derives from the shipped flow", function () {
    for (const [rel, text] of Object.entries(exampleFileTexts(hasBackupNode(repoRoot())))) {
      assert.ok(readFileSync(path.join(repoRoot(), rel), "utf8") === text, `${rel} is stale: run node <build>/scripts/flows/write-flows.js`);
    }
  });

  it("the core pipeline groups every node of a role (Agents, Hook, Component, API, Alerts, Schedules)", function () {
    const flow = loadExample("core-pipeline");
    const groups = flow.filter((n) => n.type === "group");
    assert.deepEqual(
      groups.map((g) => g.name),
      ["Agents", "Hook", "Component", "API", "Alerts", "Schedules"],
    );
    const placed = flow.filter((n) => typeof n.x === "number" && n.type !== "group");
    assert.deepEqual(
      placed.filter((n) => !n.g).map((n) => n.id),
      [],
      "every placed node is in a group",
    );
  });

  it("flows/plugwatch.json: a group per role holds every placed node, and every wire of a tab runs left to right", function () {
    const flow = JSON.parse(readFileSync(path.join(repoRoot(), "flows", "plugwatch.json"), "utf8")) as FlowNode[];
    const groups = flow.filter((n) => n.type === "group");
    assert.deepEqual(
      groups.map((g) => g.name),
      [
        "Embedded broker",
        "Collection",
        "Control",
        "Agent errors",
        "Storage hook",
        "Query component",
        "REST API",
        "Alerts",
        "Notification example",
        "Scheduler",
        "Backup",
        "Live power and switches",
        "Active alerts",
        "Today's kWh",
        "Cost and savings",
      ],
    );
    const placed = flow.filter((n) => typeof n.x === "number" && n.type !== "group");
    assert.deepEqual(
      placed.filter((n) => !groups.some((g) => g.id === n.g && g.z === n.z && (g.nodes as string[]).includes(n.id))).map((n) => n.id),
      [],
      "every placed node is a member of a group on its tab",
    );
    const byId = new Map(flow.map((n) => [n.id, n]));
    const leftwards = placed.flatMap((n) =>
      (n.wires ?? [])
        .flat()
        .filter((w) => ((byId.get(w)?.x as number) ?? Infinity) <= (n.x as number))
        .map((w) => `${n.id} → ${w}`),
    );
    assert.deepEqual(leftwards, [], "wires that run right to left");
  });

  it("flows/plugwatch.json: the editor draws every tab with no overlapping nodes", async function () {
    const flow = JSON.parse(readFileSync(path.join(repoRoot(), "flows", "plugwatch.json"), "utf8")) as FlowNode[];
    await importInEditor(page, red.url, flow);
    const l = await layoutInEditor(page, flow);
    assert.ok(l.drawn >= flow.filter((n) => typeof n.x === "number" && n.type !== "group").length, `drawn ${l.drawn}`);
    assert.deepEqual([l.overlaps, l.outside, l.groupOverlaps], [[], [], []]);
  });

  it("there is a starter, a core pipeline and add-on examples among them", function () {
    for (const e of ["basic-monitor", "basic-switch", "core-pipeline", "addon-dashboard", "addon-embedded-broker"]) assert.ok(EXAMPLES.includes(e), e);
  });

  for (const name of EXAMPLES) {
    describe(`examples/${name}.json`, function () {
      it("names (in its tab's description) every package besides Node-RED and this one whose node types it uses", function () {
        const flow = loadExample(name);
        const tabs = flow.filter((n) => n.type === "tab");
        assert.equal(tabs.length, 1, "one tab per example");
        const tab = nth(tabs, 0, "the tab");
        const info = typeof tab.info === "string" ? tab.info : "";
        const needed = new Set<string>();
        for (const n of flow) {
          if (["tab", "group"].includes(n.type)) continue;
          const m = moduleOf.get(n.type);
          assert.ok(m, `node type '${n.type}' is not provided by any installed package`);
          if (m !== "node-red" && m !== PACKAGE) needed.add(m);
        }
        for (const m of needed) assert.ok(info.includes(`\`${m}\``), `the tab's description names \`${m}\` (used for its node types)`);
        // Conversely, the starter and core examples need nothing but this package.
        if (/^(basic-|core-)/.test(name)) assert.deepEqual([...needed], []);
      });

      it("the editor imports it with every type known, no node or config node invalid, and draws it without overlaps", async function () {
        const flow = loadExample(name);
        const v = await importInEditor(page, red.url, flow);
        assert.deepEqual(v.unknown, []);
        assert.deepEqual(v.invalid, []);
        assert.equal(v.imported, flow.filter((n) => n.type !== "tab" && n.type !== "group").length, "every node imported");
        // Then the layout, as the editor draws it: no overlapping nodes, grouped nodes inside their group's box.
        const l = await layoutInEditor(page, flow);
        assert.equal(l.drawn, flow.filter((n) => typeof n.x === "number" && n.z && n.type !== "group").length, "every node drawn");
        assert.deepEqual(l.overlaps, [], "overlapping nodes");
        assert.deepEqual(l.outside, [], "nodes outside their group");
        assert.deepEqual(l.groupOverlaps, [], "overlapping groups");
      });

      it("deployed with its defaults, the runtime starts it and logs no config error", async function () {
        const flow = loadExample(name);
        const started = () => (red.log().match(/\] Started flows/g) ?? []).length;
        const before = started();
        const offset = red.log().length;
        await red.deploy(flow);
        await waitFor("the runtime to start the example", () => started() > before, 15000, red);
        // Give the nodes a moment to parse their config and report (config errors show at construction time).
        await new Promise((r) => setTimeout(r, 1000));
        const fresh = red.log().slice(offset).split("\n");
        assert.ok(!fresh.some((l) => /Waiting for missing types/.test(l)), "no missing types");
        // The defaults point at services that this test does not run (localhost:1883, :8086, a plug on 127.0.0.1:9999):
        // a refused connection is expected, anything else (an invalid value, a missing config node) is a config error.
        const errors = fresh.filter((l) => /\[error\]/.test(l) && !/ECONNREFUSED|DEVICE_UNREACHABLE|connect(ion)? refused|STORAGE_UNAVAILABLE/i.test(l));
        assert.deepEqual(errors, []);
      });
    });
  }
});
