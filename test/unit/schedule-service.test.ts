// The scheduler's message handling without a runtime: API requests (list, put, savings), reply-topic checks, the store, clock resync.
import assert from "node:assert/strict";
import { ReplyTopicGuard } from "../../lib/contracts/reply-topic";
import { buildRegistry } from "../../lib/registry";
import { ScheduleService } from "../../lib/schedule/service";
import { jsonFile, scheduleSource, ScheduleStore, type StoreFs } from "../../lib/schedule/store";
import { validate } from "../../lib/contracts/validate";
import { ScheduleReply } from "../../lib/schedule/contract";
import { nth } from "../support/checked";

class MemFs implements StoreFs {
  files = new Map<string, string>();
  exists = (f: string): boolean => this.files.has(f);
  read = (f: string): string => {
    const t = this.files.get(f);
    if (t === undefined) throw new Error(`ENOENT ${f}`);
    return t;
  };
  write = (f: string, text: string): void => {
    this.files.set(f, text);
  };
}

const registry = buildRegistry({
  timezone: "Europe/Paris",
  devices: [
    { id: "ws-1", name: "w", model: "HS110", host: "127.0.0.1", port: 23001, kind: "workplace", location: { building: "hq", floor: "1", room: "open" } },
  ],
});

function setup(json = '{"standby":[{"name":"idle","kind":"workplace","belowW":5,"minutes":30}]}') {
  const fs = new MemFs();
  const store = new ScheduleStore(scheduleSource({ source: "json", json, name: "s" }, "node.1", "/u"), fs);
  let now = Date.parse("2026-03-10T18:00:00Z");
  let n = 0;
  const service = new ScheduleService({
    root: "pw",
    registry: () => registry,
    store,
    clock: { now: () => now },
    guard: new ReplyTopicGuard("pw"),
    readFile: () => "",
    newId: () => `c-${++n}`,
    savingsStore: jsonFile("/u/savings.json", () => undefined, fs),
  });
  return { fs, service, set: (iso: string) => (now = Date.parse(iso)) };
}

const request = (body: Record<string, unknown>) => ({ v: 1, id: "r1", replyTo: "pw/api/reply/api-1", ...body });

describe("schedule service", function () {
  it("answers list, put and savings on the request's reply topic; a bad document changes nothing", function () {
    const { service, fs } = setup();
    const list = service.input("pw/api/request/schedule", request({ op: "list" }));
    assert.equal(list.kind, "request");
    assert.equal(nth(list.out, 0).topic, "pw/api/reply/api-1");
    assert.ok(validate(ScheduleReply, nth(list.out, 0).payload).ok);
    assert.deepEqual((nth(list.out, 0).payload as { schedules: { source: string } }).schedules.source, "schedule 's' (inline JSON)");

    const bad = service.input(
      "pw/api/request/schedule",
      request({ op: "put", document: { schedules: [{ name: "a", target: { device: "ghost" }, on: "08:00" }] } }),
    );
    assert.deepEqual(nth(bad.out, 0).payload, {
      v: 1,
      id: "r1",
      ok: false,
      error: {
        code: "INVALID_SCHEDULE",
        message: "$.document: $.schedules[0].target: unknown device 'ghost'",
        details: [{ path: "$.schedules[0].target", message: "unknown device 'ghost'" }],
      },
    });
    assert.equal(fs.files.size, 0);

    const doc = { schedules: [{ name: "desks", target: { kind: "workplace" }, off: "19:00" }] };
    const put = service.input("pw/api/request/schedule", request({ op: "put", document: doc, by: "alice" }));
    const state = (nth(put.out, 0).payload as { schedules: { document: unknown; source: string; updatedBy: string; updatedAt: number } }).schedules;
    assert.deepEqual(state.document, doc);
    assert.equal(state.source, "/u/plugwatch-schedules/node.1.json");
    assert.equal(state.updatedBy, "alice");
    assert.deepEqual(JSON.parse(fs.files.get("/u/plugwatch-schedules/node.1.json") ?? ""), doc);
    // A new service (restart) reads the override file, not the inline JSON.
    const store2 = new ScheduleStore(scheduleSource({ source: "json", json: "{}", name: "s" }, "node.1", "/u"), fs);
    assert.deepEqual(JSON.parse(store2.read().text), doc);

    const savings = service.input("pw/api/request/schedule", request({ op: "savings", month: "2026-03" }));
    assert.deepEqual((nth(savings.out, 0).payload as { savings: unknown }).savings, { ts: Date.parse("2026-03-10T18:00:00Z"), rows: [], totalKWh: 0 });
    const badOp = service.input("pw/api/request/schedule", request({ op: "drop" }));
    assert.equal((nth(badOp.out, 0).payload as { error: { code: string } }).error.code, "INVALID_REQUEST");
  });

  it("refuses a forbidden reply topic without answering, and ignores foreign topics with a warning", function () {
    const { service } = setup();
    const r = service.input("pw/api/request/schedule", request({ op: "list", replyTo: "pw/alerts/x" }));
    assert.deepEqual(r.out, []);
    assert.match(r.warning?.text ?? "", /^INVALID_REQUEST: schedule request refused, not answered: \$\.replyTo: /);
    const other = service.input("elsewhere/x", {});
    assert.equal(other.kind, "ignored");
    assert.match(other.warning?.text ?? "", /expected readings, audit records or schedule requests under 'pw'/);
    assert.equal(service.input("pw/hq/1/open/ws-1/reading", { nonsense: true }).kind, "ignored");
  });

  it("turns a due cut-off into a plain command on {root}/api/request/command and keeps savings in its file", function () {
    const { service, set, fs } = setup();
    const reading = (relay: boolean, power: number) =>
      service.input("pw/hq/1/open/ws-1/reading", { v: 1, device: "ws-1", ts: Date.now(), power, voltage: 230, current: 0.01, energy: 1, relay });
    reading(true, 2);
    set("2026-03-10T18:29:00Z");
    reading(true, 2); // the power "just before the off" must be recent (at most 15 min)
    set("2026-03-10T18:30:00Z");
    const out = service.tick();
    assert.deepEqual(out, [
      { topic: "pw/api/request/command", payload: { id: "c-1", action: "off", target: { device: "ws-1" }, by: "cutoff:idle" }, qos: 1, retain: false },
    ]);
    service.input("pw/audit/command", {
      v: 1,
      ts: Date.now(),
      id: "c-1",
      by: "cutoff:idle",
      action: "off",
      target: { device: "ws-1" },
      ok: true,
      results: [{ device: "ws-1", ok: true, relay: false }],
    });
    const saved = JSON.parse(fs.files.get("/u/savings.json") ?? "[]") as { device: string; watts: number; from: number }[];
    assert.deepEqual(
      saved.map((s) => [s.device, s.watts, new Date(s.from).toISOString()]),
      [["ws-1", 2, "2026-03-10T18:30:00.000Z"]],
    );
    reading(false, 0);
    set("2026-03-10T20:30:00Z");
    reading(true, 40); // switched on by hand: the stretch ends
    const closed = JSON.parse(fs.files.get("/u/savings.json") ?? "[]") as { to?: number }[];
    assert.equal(nth(closed, 0).to, Date.parse("2026-03-10T20:30:00Z"));
  });
});
