// Every node's help rendered by the real Node-RED editor in real Chromium, in en-US and es-ES: one <dt> per
// documented property inside <dl class="message-properties">, the sections as headings, no raw ": name (type) :" text.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { LANGS, nodeTypes, parseHelp, RAW_PROPERTY_TEXT, readHelp, SECTION_TITLES } from "../../scripts/docs/node-help";
import { repoRoot, startNodeRed, type NodeRedInstance } from "../../scripts/harness/nodered";
import { Teardown } from "../../scripts/harness/services";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

interface RenderedHelp {
  headings: string[];
  /** Each <dt>'s name (its text without the type span) and type, in page order. */
  dts: { name: string; type: string; inList: boolean }[];
  lists: number;
  ports: number;
  text: string;
}

/** Opens the help sidebar on `type` (as the palette's book button does) and reads what the editor rendered. */
async function renderHelp(page: Page, type: string): Promise<RenderedHelp> {
  return page.evaluate((t) => {
    const RED = (window as unknown as { RED: { sidebar: { help: { show(type: string): void } } } }).RED;
    RED.sidebar.help.show(t);
    // The help sidebar writes <h1 class="red-ui-help-title"> and the rendered help right after it.
    const help = document.querySelector(".red-ui-help-title + .red-ui-help");
    if (!help) return { headings: [], dts: [], lists: 0, ports: 0, text: "" };
    const dts = [...help.querySelectorAll("dt")].map((dt) => {
      const span = dt.querySelector(".property-type");
      const name = [...dt.childNodes]
        .filter((n) => n !== span)
        .map((n) => n.textContent ?? "")
        .join("")
        .trim();
      return { name, type: span?.textContent?.trim() ?? "", inList: Boolean(dt.closest("dl.message-properties")) };
    });
    return {
      headings: [...help.querySelectorAll("h3")].map((h) => (h.textContent ?? "").trim()),
      dts,
      lists: help.querySelectorAll("dl.message-properties").length,
      ports: help.querySelectorAll("ol.node-ports > li").length,
      text: (help as HTMLElement).innerText,
    };
  }, type);
}

describe("node help rendered in the editor (real Node-RED, real Chromium, en-US and es-ES)", function () {
  this.timeout(180000);
  const root = repoRoot();
  const types = nodeTypes(root);
  const td = new Teardown();
  let red: NodeRedInstance;
  let browser: Browser;

  before(async function () {
    red = td.add(await startNodeRed({ flows: [] }), (r) => r.stop());
    browser = td.add(await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS }), (b) => b.close());
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${red?.logTail(40)}`);
  });

  after(async function () {
    await td.run();
  });

  for (const lang of LANGS) {
    describe(lang, function () {
      let context: BrowserContext;
      let page: Page;
      const pageErrors: string[] = [];

      before(async function () {
        // Node-RED 5's editor takes its language from navigator.language (unless the user picked one) and asks
        // GET /nodes with that Accept-Language, which selects locales/<lang>/<type>.html.
        context = await browser.newContext({ locale: lang, viewport: { width: 1400, height: 1000 } });
        page = await context.newPage();
        page.on("pageerror", (e) => pageErrors.push(`${e.message} ${(e.stack ?? "").split("\n").slice(1, 4).join(" | ")}`));
        await page.goto(red.url, { waitUntil: "domcontentloaded" });
        await page.waitForFunction(
          (ts) => {
            const RED = (window as unknown as { RED?: { nodes?: { getType(t: string): unknown }; sidebar?: { help?: unknown } } }).RED;
            // The editor shows its header toolbar once it has loaded the nodes and flows (loader.end()).
            const started = document.querySelector("#red-ui-header-toolbar:not(.hide)") !== null;
            return started && Boolean(RED?.sidebar?.help) && ts.every((t) => Boolean(RED?.nodes?.getType(t)));
          },
          types,
          { timeout: 60000 },
        );
      });

      after(async function () {
        await context?.close();
      });

      it(`the editor runs in ${lang} and uses this package's ${lang} catalogues`, async function () {
        const r = await page.evaluate(() => {
          type Registry = { getNodeSetForType(t: string): { id: string } };
          const RED = (window as unknown as { RED: { i18n: { lang(): string }; _(k: string): string; nodes: { registry: Registry } } }).RED;
          // A node set's catalogue is the i18n namespace named by its set id, as the node's own editor code uses it.
          const ns = (t: string) => RED.nodes.registry.getNodeSetForType(t).id;
          return {
            lang: RED.i18n.lang(),
            label: RED._(`${ns("plugwatch-control")}:plugwatch-control.label.registry`),
            kind: RED._(`${ns("plugwatch-collector")}:plugwatch-collector.kind.printer`),
          };
        });
        assert.deepEqual(r, lang === "es-ES" ? { lang, label: "Registro", kind: "impresora" } : { lang, label: "Registry", kind: "printer" });
      });

      it(`the palette shows each node's paletteLabel from its ${lang} catalogue`, async function () {
        // The node types whose catalogue has a paletteLabel (the flow nodes; config nodes are not in the palette).
        const expected: Record<string, string> = {};
        for (const type of types) {
          const file = path.join(repoRoot(), "nodes", type, "locales", lang, `${type}.json`);
          const label = (JSON.parse(readFileSync(file, "utf8")) as Record<string, { paletteLabel?: string }>)[type]?.paletteLabel;
          if (label !== undefined) expected[type] = label;
        }
        assert.ok(Object.keys(expected).length >= 8, "the flow nodes have a paletteLabel key");
        const shown = await page.evaluate((ts) => {
          const out: Record<string, string> = {};
          for (const t of ts) {
            const el = document.querySelector(`.red-ui-palette-node[data-palette-type="${t}"] .red-ui-palette-label`);
            // The palette wraps a label over lines (a span per line): compare the words.
            out[t] = el?.textContent?.replace(/\s+/g, " ").trim() ?? "(not in the palette)";
          }
          return out;
        }, Object.keys(expected));
        assert.deepEqual(shown, expected);
      });

      for (const type of types) {
        it(`${type}: one <dt> per documented property, the sections as headings, no raw property text`, async function () {
          const source = parseHelp(readHelp(root, type, lang), lang);
          const documented = source.sections.flatMap((s) => s.properties);
          assert.ok(documented.length > 0, "the help documents properties");
          const shown = await renderHelp(page, type);
          assert.deepEqual(
            shown.headings,
            source.sections.map((s) => SECTION_TITLES[lang][s.key]),
          );
          assert.deepEqual(
            shown.dts.map((d) => d.name),
            documented.map((p) => p.name),
          );
          assert.deepEqual(
            shown.dts.map((d) => d.type),
            documented.map((p) => p.types),
          );
          assert.ok(
            shown.dts.every((d) => d.inList),
            'every <dt> sits in a <dl class="message-properties">',
          );
          assert.ok(shown.lists >= 1);
          assert.equal(shown.ports, source.sections.find((s) => s.key === "outputs")?.ports.length ?? 0);
          assert.doesNotMatch(shown.text, RAW_PROPERTY_TEXT);
        });
      }

      it("the page raised no error", function () {
        assert.deepEqual(pageErrors, []);
      });
    });
  }
});

describe("runtime messages in es-ES (settings.js lang)", function () {
  this.timeout(120000);
  const td = new Teardown();

  after(async function () {
    await td.run();
  });

  it("a node logs its message from locales/es-ES/<type>.json when the runtime language is es-ES", async function () {
    // The project's settings.js plus `lang` (Node-RED's runtime language setting), in a temp file.
    const dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-lang-"));
    td.add(dir, (d) => rmSync(d, { recursive: true, force: true }));
    const settingsFile = path.join(dir, "settings.js");
    writeFileSync(settingsFile, `module.exports = { ...require(${JSON.stringify(path.join(repoRoot(), "settings.js"))}), lang: "es-ES" };\n`);
    const devices = {
      devices: [
        { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 9, kind: "workplace", location: { building: "hq", floor: "1", room: "r1" } },
      ],
    };
    const red = td.add(
      await startNodeRed({
        settingsFile,
        flows: [{ id: "reg", type: "plugwatch-registry", name: "office", source: "json", file: "", json: JSON.stringify(devices) }],
      }),
      (r) => r.stop(),
    );
    const line = await red.waitForLog(/\[plugwatch-registry:office\]/, 20000);
    assert.match(line, /1 dispositivos cargados de registry 'office' \(inline JSON\)/);
  });
});
