// Queued commands end to end: REST API → Mosquitto → plugwatch-control with simulated plugs that are offline, across a Node-RED restart.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { AuditRecord, Device, DeviceEntry, QueuedCommand } from "../../lib/contracts";
import type { QueueSnapshot } from "../../lib/command-queue";
import { SimulatedOffice } from "../../scripts/sim/office";
import { brokerNode, controlChain, httpApiNode, registryNode } from "../support/flow-nodes";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { OpenApiValidator } from "../../scripts/harness/openapi-validator";
import { connectClient, startBroker, Teardown, uniqueRoot } from "../../scripts/harness/services";
import { eventually } from "../../scripts/harness/wait";

const BASE = "/api/v1";
const TOKEN = "tok-queue-e2e-0123456789ab";

function device(id: string): Device {
  return { id, name: `Printer ${id}`, model: "HS110", host: "127.0.0.1", port: 9999, kind: "printer", location: { building: "hq", floor: "1", room: "copy" } };
}

/** Broker, registry, control agent (mqtt in → control → mqtt out) and the REST API with one control token named "operator". */
function flow(root: string, brokerPort: number, devices: DeviceEntry[]): FlowNode[] {
  const z = "queue-tab";
  return [
    { id: z, type: "tab", label: "queued commands" },
    brokerNode("b", brokerPort),
    registryNode("reg", { devices }),
    ...controlChain(z, root, { queueSize: 10, queueRetry: 0.5 }, "cout"),
    httpApiNode("api", z, root, BASE, `${TOKEN} read,control operator`, { x: 200, y: 300 }),
  ];
}

describe("queued commands (REST API, Mosquitto, simulated plugs, Node-RED restart)", function () {
  this.timeout(120_000);
  const td = new Teardown();
  after(() => td.run());

  it("delivers a queued command to a plug that comes back within its queue time, and expires one for a plug that does not", async function () {
    const root = uniqueRoot("pwqueue");
    const broker = await startBroker(td, "mosquitto");
    const office = td.add(await SimulatedOffice.start([device("pr-back"), device("pr-never")], { portFor: () => 0, tickMs: 0, relayOn: false }), (o) =>
      o.stop(),
    );
    const devices = office.registryDevices() as DeviceEntry[];
    await office.plug("pr-back").stop();
    await office.plug("pr-never").stop();
    const red: NodeRedInstance = td.add(await startNodeRed(), (r) => r.stop());
    await red.deploy(flow(root, broker.port, devices));

    const audits: AuditRecord[] = [];
    const watcher = await connectClient(td, broker.url, { protocolVersion: 5 });
    await watcher.subscribeAsync(`${root}/audit/command`, { qos: 1 });
    watcher.on("message", (_t, p) => audits.push(JSON.parse(p.toString()) as AuditRecord));

    /** Every answer is checked against the OpenAPI document the API serves, once it is fetched. */
    const checker: { validator?: OpenApiValidator } = {};
    const violations: string[] = [];
    const call = async <T>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const r = await fetch(`${red.url}${BASE}${p}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : null,
      });
      const parsed = (await r.json()) as T;
      if (checker.validator)
        violations.push(
          ...checker.validator.check({ method, path: `${BASE}${p}`, status: r.status, contentType: r.headers.get("content-type"), body: parsed }).errors,
        );
      return { status: r.status, body: parsed };
    };
    const spec = await eventually(
      "the API's OpenAPI document",
      () => call<Record<string, unknown>>("GET", "/openapi.json"),
      (r) => r.status === 200,
      { timeoutMs: 15000, everyMs: 200 },
    );
    checker.validator = new OpenApiValidator(spec.body as unknown as ConstructorParameters<typeof OpenApiValidator>[0], BASE);
    const lookup = (id: string) => call<QueuedCommand>("GET", `/commands/${id}`);

    // Both plugs are offline: each command is queued (202), one for 2 minutes, one for 15 s.
    type Outcome = {
      requestId: string;
      ok: boolean;
      expiresAt?: number;
      results: { device: string; ok: boolean; queued?: boolean; error?: { code: string } }[];
    };
    const back = await eventually(
      "the control agent to answer",
      () => call<Outcome>("POST", "/devices/pr-back/power?queue=PT2M", { state: "on" }),
      (r) => r.status === 202,
      {
        timeoutMs: 15000,
        everyMs: 300,
      },
    );
    assert.equal(back.body.ok, false);
    assert.deepEqual(
      back.body.results.map((r) => [r.device, r.queued, r.error?.code]),
      [["pr-back", true, "DEVICE_UNREACHABLE"]],
    );
    const never = await call<Outcome>("POST", "/devices/pr-never/power?queue=PT15S", { state: "on" });
    assert.equal(never.status, 202);
    const t0 = Date.now();
    assert.ok(never.body.expiresAt !== undefined && Math.abs(never.body.expiresAt - (t0 + 15000)) < 3000, `expiresAt ${never.body.expiresAt}`);

    let state = await lookup(back.body.requestId);
    assert.equal(state.status, 200);
    assert.equal(state.body.state, "queued");
    assert.equal(state.body.by, "operator");
    assert.equal(state.body.action, "on");

    // Bad input: a coded error, nothing sent.
    const bad = await call<{ code: string }>("POST", "/devices/pr-back/power?queue=P1M", { state: "on" });
    assert.deepEqual([bad.status, bad.body.code], [400, "INVALID_REQUEST"]);
    const unknown = await lookup("no-such-command");
    assert.deepEqual([unknown.status, (unknown.body as unknown as { code: string }).code], [404, "UNKNOWN_COMMAND"]);

    // The queue is on disk in the user dir; restart the runtime (same user dir) while both plugs are still offline.
    const file = path.join(red.userDir, "plugwatch-command-queue-ctl.json");
    assert.ok(existsSync(file), "queue file in the user dir");
    assert.deepEqual(
      (JSON.parse(readFileSync(file, "utf8")) as QueueSnapshot).commands.map((c) => [c.id, c.state]),
      [
        [back.body.requestId, "queued"],
        [never.body.requestId, "queued"],
      ],
    );
    await red.restart();
    state = await eventually(
      "the API after the restart",
      () => lookup(never.body.requestId),
      (r) => r.status === 200,
      { timeoutMs: 15000, everyMs: 200 },
    );
    if (Date.now() - t0 < 14000) assert.equal(state.body.state, "queued", "still waiting after the restart");
    assert.equal(office.plug("pr-back").relay, false);

    // One plug comes back: its command is delivered through the control path (switched, read back, audited).
    await office.plug("pr-back").start();
    state = await eventually(
      "delivery to pr-back",
      () => lookup(back.body.requestId),
      (r) => r.body.state === "delivered",
      { timeoutMs: 15000, everyMs: 200 },
    );
    assert.equal(state.body.devices[0]?.relay, true);
    assert.ok((state.body.devices[0]?.attempts ?? 0) >= 1);
    assert.equal(office.plug("pr-back").relay, true, "the simulator's relay is on");
    const audit = await eventually("the delivery's audit record", () => audits.find((a) => a.id === back.body.requestId && a.ok), Boolean, { timeoutMs: 5000 });
    assert.deepEqual([audit?.by, audit?.action, audit?.results], ["operator", "on", [{ device: "pr-back", ok: true, relay: true }]]);

    // The other never comes back within its 15 s: expired, and never switched even when it returns later.
    state = await eventually(
      "pr-never's command to expire",
      () => lookup(never.body.requestId),
      (r) => r.body.state === "expired",
      { timeoutMs: 25000, everyMs: 300 },
    );
    // Not before its expiry time (set by the agent when it queued the command, a little before t0 was taken here).
    assert.ok(Date.now() >= (never.body.expiresAt ?? Infinity), `expired before ${never.body.expiresAt}`);
    await office.plug("pr-never").start();
    await eventually(
      "pr-never answers again",
      () => call<Outcome>("GET", "/devices/pr-never/power"),
      (r) => r.status === 200,
      { timeoutMs: 10000, everyMs: 200 },
    );
    // A few delivery rounds (0.5 s each) pass; the expired command must not have switched it.
    await eventually(
      "three more lookups",
      () => lookup(never.body.requestId),
      (r) => r.body.state === "expired",
      { timeoutMs: 3000 },
    );
    assert.equal(office.plug("pr-never").relay, false);
    assert.equal(audits.filter((a) => a.id === never.body.requestId && a.ok).length, 0);
    assert.deepEqual(violations, []);
  });
});
