// Critical devices in the control path: skipped with CRITICAL_DEVICE by group, schedule and cut-off commands, switched when named alone by an operator.
import assert from "node:assert/strict";
import { Controller } from "../../lib/control";
import { criticalSkip, isAutomatic } from "../../lib/critical";
import { buildRegistry } from "../../lib/registry";
import { AuditRecord, CommandReply, validate, type DeviceEntry } from "../../lib/contracts";
import { FakeClient } from "../support/fake-control";
import { FakeTime } from "../support/fake-time";

function entry(id: string, n: number, kind: DeviceEntry["kind"], critical?: boolean): DeviceEntry {
  return {
    id,
    name: `Plug ${id}`,
    model: "HS110",
    host: "127.0.0.1",
    port: 21000 + n,
    kind,
    location: { building: "hq", floor: "1", room: "it" },
    ...(critical !== undefined ? { critical } : {}),
  };
}

function setup() {
  const registry = buildRegistry({
    devices: [entry("server-1", 1, "other", true), entry("fridge-1", 2, "other", true), entry("pr-1", 3, "printer"), entry("nas-1", 4, "other", false)],
  });
  const client = new FakeClient();
  for (const d of registry.devices) client.relay.set(`${d.host}:${d.port}`, true);
  const clock = new FakeTime();
  let n = 0;
  const controller = new Controller({ registry, client, clock: clock.asClock, newId: () => `c-${++n}` });
  const relay = (id: string): boolean | undefined => {
    const d = registry.get(id);
    return d ? client.relay.get(`${d.host}:${d.port}`) : undefined;
  };
  return { controller, client, relay };
}

const SKIPPED = (id: string, why: string) => ({
  device: id,
  ok: true,
  skipped: { code: "CRITICAL_DEVICE", message: `'${id}' is critical: not switched by ${why}; switch it on its own ({device}) if you mean to` },
});

describe("control: critical devices", function () {
  it("a group command skips critical devices with a reason while the others switch", async function () {
    const { controller, relay, client } = setup();
    const r = await controller.handle({ action: "off", building: "hq", by: "alice" });
    assert.ok(validate(CommandReply, r.reply).ok);
    assert.equal(r.reply.ok, true);
    assert.deepEqual(r.reply.results, [
      SKIPPED("server-1", "a group command"),
      SKIPPED("fridge-1", "a group command"),
      { device: "pr-1", ok: true, relay: false },
      { device: "nas-1", ok: true, relay: false },
    ]);
    assert.equal(relay("server-1"), true);
    assert.equal(relay("fridge-1"), true);
    assert.equal(relay("pr-1"), false);
    // The critical plugs were not even contacted.
    assert.deepEqual(
      client.calls.filter((c) => c.endsWith(":21001") || c.endsWith(":21002")),
      [],
    );
    // The audit trail records the skip.
    assert.ok(r.audit && validate(AuditRecord, r.audit).ok);
    assert.deepEqual(r.audit?.results[0], { device: "server-1", ok: true, code: "CRITICAL_DEVICE", skipped: true });
  });

  it("a devices list, a kind and all:true are group commands too; toggle is refused like on/off", async function () {
    const { controller, relay } = setup();
    const list = await controller.handle({ action: "off", devices: ["server-1", "pr-1"] });
    assert.deepEqual(
      list.reply.results.map((x) => [x.device, x.skipped?.code ?? null, x.relay ?? null]),
      [
        ["server-1", "CRITICAL_DEVICE", null],
        ["pr-1", null, false],
      ],
    );
    const all = await controller.handle({ action: "toggle", all: true });
    assert.deepEqual(
      all.reply.results.filter((x) => x.skipped).map((x) => x.device),
      ["server-1", "fridge-1"],
    );
    const kind = await controller.handle({ action: "off", kind: "other" });
    assert.equal(kind.reply.results.filter((x) => x.skipped).length, 2);
    assert.equal(relay("server-1"), true);
    assert.equal(relay("nas-1"), false);
  });

  it("a schedule or cut-off command never switches a critical device, even named alone", async function () {
    const { controller, relay } = setup();
    const sched = await controller.handle({ action: "off", device: "server-1", by: "schedule:night" });
    assert.deepEqual(sched.reply.results, [SKIPPED("server-1", "a schedule command (schedule:night)")]);
    const cut = await controller.handle({ action: "off", device: "fridge-1", by: "cutoff:standby" });
    assert.deepEqual(cut.reply.results, [SKIPPED("fridge-1", "a cutoff command (cutoff:standby)")]);
    assert.equal(relay("server-1"), true);
    assert.equal(relay("fridge-1"), true);
  });

  it("an operator naming a critical device alone switches it (explicit, audited); status is always read", async function () {
    const { controller, relay } = setup();
    const r = await controller.handle({ action: "off", device: "server-1", by: "alice" });
    assert.deepEqual(r.reply.results, [{ device: "server-1", ok: true, relay: false }]);
    assert.equal(relay("server-1"), false);
    assert.equal(r.audit?.by, "alice");
    const s = await controller.handle({ action: "status", all: true, by: "schedule:x" });
    assert.equal(s.reply.results.filter((x) => x.skipped).length, 0);
    assert.equal(s.reply.results.length, 4);
  });

  it("criticalSkip and isAutomatic", function () {
    assert.equal(isAutomatic("schedule:a"), true);
    assert.equal(isAutomatic("cutoff:a"), true);
    assert.equal(isAutomatic("scheduler"), false);
    assert.equal(isAutomatic(undefined), false);
    assert.equal(criticalSkip({ id: "a" }, "off", { all: true }, undefined), undefined);
    assert.equal(criticalSkip({ id: "a", critical: false }, "off", { all: true }, "schedule:x"), undefined);
    assert.equal(criticalSkip({ id: "a", critical: true }, "on", { device: "a" }, "schedule:x")?.skipped?.code, "CRITICAL_DEVICE");
  });
});
