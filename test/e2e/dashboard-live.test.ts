// The live dashboard of the shipped flow in real Chromium: loads, values follow the plugs, a relay button switches the simulated plug.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { repoRoot } from "../../scripts/harness/nodered";
import { eventually, PIPELINE_TOKEN, startPipeline, type PipelineStack } from "../../scripts/harness/pipeline";
import { Teardown } from "../../scripts/harness/services";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

describe("live dashboard (Dashboard 2.0) of the shipped flow installed as files, embedded aedes broker, real Chromium", function () {
  this.timeout(120000);
  const td = new Teardown();
  let s: PipelineStack;
  let browser: Browser;
  let page: Page;

  type ChartMsg = { payload?: unknown; _datapoint?: { category?: unknown; x?: unknown; y?: unknown }[] };
  const chartMessages: ChartMsg[] = [];
  const row = (device: string) => page.locator(`tr[data-device="${device}"]`);
  const powerOf = async (device: string) => Number(await row(device).locator('[data-testid="pw-power"]').innerText());

  before(async function () {
    s = await startPipeline(td, { broker: "embedded", install: "file" });
    browser = td.add(await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS }), (b) => b.close());
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    // What the dashboard's socket.io connection delivers to the page for the room chart (`42["msg-input:<id>", msg]`).
    page.on("websocket", (ws) =>
      ws.on("framereceived", ({ payload }) => {
        if (typeof payload !== "string" || !payload.includes('"msg-input:pw-ui-room-chart"')) return;
        const [, msg] = JSON.parse(payload.replace(/^\d+/, "")) as [string, ChartMsg];
        chartMessages.push(msg);
      }),
    );
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`--- Node-RED log tail ---\n${s?.red.logTail(40)}`);
  });
  after(async function () {
    await td.run();
  });

  it("the flow installed from the file runs with its env credentials (API token accepted, wrong token refused)", async function () {
    const ok = await fetch(`${s.red.url}/api/v1/devices`, { headers: { authorization: `Bearer ${PIPELINE_TOKEN}` } });
    const text = await ok.text();
    assert.equal(ok.status, 200, text);
    const body = JSON.parse(text) as { devices?: { id: string }[] } | { id: string }[];
    const list = Array.isArray(body) ? body : (body.devices ?? []);
    assert.deepEqual(list.map((d) => d.id).sort(), s.devices.map((d) => d.id).sort());
    const bad = await fetch(`${s.red.url}/api/v1/devices`, { headers: { authorization: "Bearer not-a-configured-token-000000" } });
    assert.equal(bad.status, 401);
    await bad.arrayBuffer();
  });

  it("the page loads and lists every device of the registry with its live power", async function () {
    const res = await page.goto(`${s.red.url}/dashboard`, { waitUntil: "domcontentloaded" });
    assert.equal(res?.status(), 200);
    await page.locator('[data-testid="pw-live"]').waitFor({ timeout: 40000 });
    await eventually(
      "a row per device",
      () => page.locator("tr[data-device]").count(),
      (n) => n === s.devices.length,
      30000,
    );
    for (const d of s.devices) assert.equal(await row(d.id).count(), 1, d.id);
  });

  it("values move with the plugs: a forced load shows up for the device and its room", async function () {
    s.office.plug("ws-2-01").force({ power: 1234.5 });
    await eventually(
      "ws-2-01 at 1234.5 W on the page",
      () => powerOf("ws-2-01"),
      (w) => w === 1234.5,
    );
    const room = page.locator('[data-room="hq/2/open-space-2"] [data-testid="pw-room-power"]');
    await eventually(
      "open-space-2 at 1234.5 W",
      async () => Number.parseFloat(await room.innerText()),
      (w) => Math.abs(w - 1234.5) < 0.05,
    );
    s.office.plug("ws-2-01").force({ power: 42 });
    await eventually(
      "ws-2-01 at 42 W",
      () => powerOf("ws-2-01"),
      (w) => w === 42,
    );
    s.office.plug("ws-2-01").release();
  });

  it("the room chart gets one message per update with a point per room: the room as series, its power as y", async function () {
    s.office.plug("ws-2-01").force({ power: 777 });
    const pointOf = (m: ChartMsg) => m._datapoint?.find((d) => d.category === "hq/2/open-space-2");
    const seen = await eventually(
      "a chart message with open-space-2 at 777 W",
      () => chartMessages.filter((m) => pointOf(m)?.y === 777),
      (ms) => ms.length > 0,
      30000,
    );
    s.office.plug("ws-2-01").release();
    const msg = seen[0];
    assert.ok(msg && Array.isArray(msg.payload) && Array.isArray(msg._datapoint), "an array of points in one message");
    const rooms = new Set(s.devices.map((d) => `${d.location.building}/${d.location.floor}/${d.location.room}`));
    assert.equal(msg._datapoint?.length, Math.min(rooms.size, 20), "one point per room, at most 20");
    for (const d of msg._datapoint ?? []) {
      assert.ok(typeof d.category === "string" && rooms.has(d.category), `series ${String(d.category)} is a room of the registry`);
      assert.equal(typeof d.y, "number");
      assert.equal(typeof d.x, "number");
    }
  });

  it("flipping a relay button switches the simulated plug through MQTT → plugwatch-control", async function () {
    const plug = s.office.plug("ws-1-02");
    assert.equal(plug.relay, true);
    await eventually(
      "ws-1-02 shown on",
      () => row("ws-1-02").getAttribute("data-relay"),
      (v) => v === "on",
    );
    await row("ws-1-02").locator('[data-testid="pw-switch"]').click();
    await eventually(
      "the simulator's relay off",
      () => plug.relay,
      (on) => on === false,
    );
    await eventually(
      "ws-1-02 shown off at 0 W",
      async () => [await row("ws-1-02").getAttribute("data-relay"), await powerOf("ws-1-02")],
      ([r, w]) => r === "off" && w === 0,
    );
    await row("ws-1-02").locator('[data-testid="pw-switch"]').click();
    await eventually(
      "the simulator's relay on again",
      () => plug.relay,
      (on) => on === true,
    );
  });

  it("the editor opens the shipped flow with one tab per role and no invalid node", async function () {
    const editor = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await editor.goto(`${s.red.url}/`, { waitUntil: "domcontentloaded" });
      type Red = {
        nodes: {
          getWorkspaceOrder(): string[];
          workspace(id: string): { label: string };
          eachNode(f: (n: Ed) => void): void;
          eachConfig(f: (n: Ed) => void): void;
        };
      };
      type Ed = { id: string; type: string; valid?: boolean; validationErrors?: string[] };
      await editor.waitForFunction(() => ((window as unknown as { RED?: Red }).RED?.nodes?.getWorkspaceOrder?.() ?? []).length > 0, null, { timeout: 60000 });
      const { tabs, invalid } = await editor.evaluate(() => {
        const RED = (window as unknown as { RED: Red }).RED;
        const bad: string[] = [];
        const check = (n: Ed) => {
          if (n.valid === false) bad.push(`${n.type} ${n.id}: ${(n.validationErrors ?? []).join(", ")}`);
        };
        RED.nodes.eachNode(check);
        RED.nodes.eachConfig(check);
        return { tabs: RED.nodes.getWorkspaceOrder().map((id) => RED.nodes.workspace(id).label), invalid: bad };
      });
      assert.deepEqual(tabs, ["Broker", "Agents", "Hook", "Component", "API", "Alerts", "Schedules", "Backup", "Dashboard"]);
      assert.deepEqual(invalid, []);
    } finally {
      await editor.close();
    }
  });

  it("GET /cost and /savings answer on the shipped flow (EXAMPLE tariff, all-disabled schedule); the page shows cost by room, kind and savings", async function () {
    const auth = { authorization: `Bearer ${PIPELINE_TOKEN}` };
    // Priced energy once readings are stored: EUR rows per room, today's standing charge of the example tariff.
    const cost = await eventually(
      "cost rows for the office's rooms",
      async () => {
        const r = await fetch(`${s.red.url}/api/v1/cost?from=-1h&groupBy=room&interval=day`, { headers: auth });
        return { status: r.status, body: (await r.json()) as { currency?: string; rows?: { group: string; kWh: number }[]; standing?: { tariff: string }[] } };
      },
      (c) => c.status === 200 && (c.body.rows ?? []).some((row) => row.kWh > 0),
      40000,
      1000,
    );
    assert.equal(cost.body.currency, "EUR");
    assert.ok(
      cost.body.standing?.every((b) => b.tariff === "example-hc-hp"),
      JSON.stringify(cost.body.standing),
    );
    const rooms = new Set(s.devices.map((d) => `${d.location.building}/${d.location.floor}/${d.location.room}`));
    for (const row of cost.body.rows ?? []) assert.ok(rooms.has(row.group), row.group);
    const savings = await fetch(`${s.red.url}/api/v1/savings`, { headers: auth });
    const body = (await savings.json()) as { rows: unknown[]; totalKWh: number };
    assert.equal(savings.status, 200, JSON.stringify(body));
    // Nothing is switched by the shipped schedule, so nothing was saved.
    assert.deepEqual([body.rows, body.totalKWh], [[], 0]);
    // The page's tables (refreshed every 5 minutes and once at start: reload to ask again now that data is stored).
    await page.reload({ waitUntil: "domcontentloaded" });
    const text = await eventually(
      "the cost and savings tables filled",
      () => page.locator("body").innerText(),
      (t) => /Cost by room[\s\S]*open-space-1[\s\S]*EUR/.test(t) && /Cost by kind[\s\S]*workplace/.test(t) && /no automatic offs this month/.test(t),
      40000,
      500,
    );
    assert.match(text, /standing charges/);
    assert.match(text, /Savings per room this month/);
  });

  it("lists an active alert while a plug is offline, shows today's kWh, and drops the alert when the plug returns", async function () {
    const plug = s.office.plug("pr-2-01");
    await plug.stop();
    const alerts = page.locator("body");
    await eventually(
      "the offline alert on the page",
      () => alerts.innerText(),
      (t) => /pr-2-01\s+offline\s+critical/.test(t),
      20000,
    );
    await eventually(
      "pr-2-01 shown offline",
      () => row("pr-2-01").innerText(),
      (t) => /offline/.test(t),
    );
    const text = await eventually(
      "the kWh by room table filled",
      () => page.locator("body").innerText(),
      (t) => /kWh by room[\s\S]*(open-space-1|no data yet|unavailable)/.test(t),
    );
    assert.match(text, /kWh by kind[\s\S]*(workplace|no data yet|unavailable)/);
    const dir = path.join(repoRoot(), "test-artifacts");
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, "dashboard.png"), fullPage: true });
    await plug.start();
    await eventually(
      "the alert gone from the page",
      () => alerts.innerText(),
      (t) => !/pr-2-01\s+offline\s+critical/.test(t) && /no active alerts/.test(t),
      20000,
    );
  });
});
