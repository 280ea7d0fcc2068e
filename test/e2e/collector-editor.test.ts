// The plugwatch-collector editor in real Chromium against a real Node-RED: form values, validation, help, Discover.
import assert from "node:assert/strict";
import { chromium, type Browser, type Page } from "playwright-core";
import { startNodeRed, type NodeRedInstance } from "../../scripts/harness/nodered";
import { Teardown } from "../../scripts/harness/services";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

const REGISTRY = {
  devices: [
    { id: "ws-1", name: "Desk 1", model: "HS110", host: "127.0.0.1", port: 9, kind: "workplace", location: { building: "hq", floor: "1", room: "open-1" } },
  ],
};

describe("plugwatch-collector editor (real Node-RED, real Chromium)", function () {
  this.timeout(120000);
  const td = new Teardown();
  let red: NodeRedInstance;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async function () {
    red = td.add(
      await startNodeRed({
        flows: [
          { id: "tab", type: "tab", label: "editor test" },
          { id: "reg", type: "plugwatch-registry", name: "office", source: "json", file: "", json: JSON.stringify(REGISTRY) },
          // A one-day interval spreads the first poll over the day: the test never contacts the registry address.
          {
            id: "col",
            type: "plugwatch-collector",
            z: "tab",
            x: 200,
            y: 100,
            name: "",
            registry: "reg",
            root: "site-a/plugwatch",
            kind: "printer",
            building: "hq",
            floor: "",
            room: "",
            interval: 86400,
            timeout: 2500,
            concurrency: 32,
            offlineAfter: 4,
            wires: [[]],
          },
        ],
      }),
      (r) => r.stop(),
    );
    browser = td.add(await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS }), (b) => b.close());
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(red.url, { waitUntil: "domcontentloaded" });
    await page.waitForFunction(
      () => {
        const RED = (window as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED;
        return Boolean(RED?.nodes?.node("col"));
      },
      undefined,
      { timeout: 60000 },
    );
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${red?.logTail(40)}`);
  });

  after(async function () {
    await td.run();
  });

  it("the palette registers the node with the defaults of every NodeDef key, and the validators work", async function () {
    const r = await page.evaluate(() => {
      const RED = (
        window as unknown as { RED: { nodes: { getType(t: string): { defaults: Record<string, { value: unknown; validate?: (v: unknown) => unknown }> } } } }
      ).RED;
      const def = RED.nodes.getType("plugwatch-collector");
      const ok = (key: string, v: unknown) => {
        const f = def.defaults[key]?.validate;
        return f ? f.call({}, v) === true : "no validator";
      };
      return {
        keys: Object.keys(def.defaults).sort(),
        defaults: Object.fromEntries(Object.entries(def.defaults).map(([k, v]) => [k, v.value])),
        checks: {
          intervalAbc: ok("interval", "abc"),
          intervalTooSmall: ok("interval", "0.1"),
          intervalHalf: ok("interval", "0.5"),
          timeoutFloat: ok("timeout", "250.5"),
          timeoutOk: ok("timeout", "250"),
          concurrencyZero: ok("concurrency", "0"),
          offlineAfterOk: ok("offlineAfter", "3"),
          outboxZero: ok("outboxSize", "0"),
          outboxOk: ok("outboxSize", "64"),
          kindLamp: ok("kind", "lamp"),
          kindAll: ok("kind", ""),
          kindPrinter: ok("kind", "printer"),
          buildingUpper: ok("building", "HQ"),
          buildingEmpty: ok("building", ""),
          rootWildcard: ok("root", "a/+/b"),
          rootLevels: ok("root", "site-a/plugwatch"),
        },
      };
    });
    assert.deepEqual(r.keys, [
      "account",
      "broker",
      "building",
      "concurrency",
      "floor",
      "interval",
      "kind",
      "name",
      "offlineAfter",
      "outboxSize",
      "registry",
      "room",
      "root",
      "timeout",
    ]);
    assert.deepEqual(r.defaults, {
      name: "",
      registry: "",
      account: "",
      broker: "",
      outboxSize: 64,
      root: "plugwatch",
      kind: "",
      building: "",
      floor: "",
      room: "",
      interval: 10,
      timeout: 3000,
      concurrency: 64,
      offlineAfter: 3,
    });
    assert.deepEqual(r.checks, {
      intervalAbc: false,
      intervalTooSmall: false,
      intervalHalf: true,
      timeoutFloat: false,
      timeoutOk: true,
      concurrencyZero: false,
      offlineAfterOk: true,
      outboxZero: false,
      outboxOk: true,
      kindLamp: false,
      kindAll: true,
      kindPrinter: true,
      buildingUpper: false,
      buildingEmpty: true,
      rootWildcard: false,
      rootLevels: true,
    });
  });

  it("the edit dialog shows the saved values, the registry selector and the kind list", async function () {
    await page.evaluate(() => {
      const RED = (window as unknown as { RED: { editor: { edit(n: unknown): void }; nodes: { node(id: string): unknown } } }).RED;
      RED.editor.edit(RED.nodes.node("col"));
    });
    await page.locator("#node-input-offlineAfter").waitFor({ state: "attached", timeout: 20000 });
    await page.locator("#smartplug-collector-discover").waitFor({ state: "visible", timeout: 20000 });
    const form = await page.evaluate(() => {
      const $ = (
        window as unknown as { $: (s: string) => { val(): string; find(s: string): { map(f: (i: number, e: HTMLElement) => string): { get(): string[] } } } }
      ).$;
      return {
        root: $("#node-input-root").val(),
        kind: $("#node-input-kind").val(),
        kinds: $("#node-input-kind")
          .find("option")
          .map((_i, e) => (e as HTMLOptionElement).value)
          .get(),
        building: $("#node-input-building").val(),
        interval: $("#node-input-interval").val(),
        timeout: $("#node-input-timeout").val(),
        concurrency: $("#node-input-concurrency").val(),
        offlineAfter: $("#node-input-offlineAfter").val(),
        registry: $("#node-input-registry").val(),
      };
    });
    assert.deepEqual(form, {
      root: "site-a/plugwatch",
      kind: "printer",
      kinds: ["", "workplace", "meeting-room", "printer", "other"],
      building: "hq",
      interval: "86400",
      timeout: "2500",
      concurrency: "32",
      offlineAfter: "4",
      registry: "reg",
    });
    // Labels come from locales/en-US/plugwatch-collector.json (a missing key would show the key itself).
    const text = await page.locator("#dialog-form").innerText();
    assert.match(text, /Interval \(s\)/);
    assert.match(text, /Offline after/);
    assert.doesNotMatch(text, /plugwatch-collector\.label/);
  });

  it("Discover calls the admin route and shows its error for a bad broadcast address", async function () {
    await page.fill("#smartplug-collector-broadcast", "10.0.0");
    await page.click("#smartplug-collector-discover");
    const result = page.locator("#smartplug-collector-discover-result");
    await page.waitForFunction(() => /Discovery failed/.test(document.querySelector("#smartplug-collector-discover-result")?.textContent ?? ""), undefined, {
      timeout: 20000,
    });
    assert.equal(await result.innerText(), "Discovery failed: broadcast must be an IPv4 address, got '10.0.0'");
    assert.equal(await page.locator("#smartplug-collector-discover").isDisabled(), false);
  });

  it("the help has the core's Inputs, Outputs and Details sections, and the page raised no error", async function () {
    const help = await page.evaluate(() => {
      const el = document.querySelector('script[data-help-name="plugwatch-collector"]');
      return el?.textContent ?? "";
    });
    for (const section of ["### Inputs", "### Outputs", "### Details"]) assert.ok(help.includes(section), section);
    assert.match(help, /: topic \(string\) : `\{root\}\/\{building\}\/\{floor\}\/\{room\}\/\{device\}\/reading`/);
    assert.deepEqual(pageErrors, []);
  });
});
