// lib/sse: the event hub (snapshot, Last-Event-ID replay, cap, heartbeat on a fake clock, stalled clients, close)
// and the wire format, with in-memory clients.
import assert from "node:assert/strict";
import { eventData, formatEvent, SseHub, type SseClient } from "../../lib/sse/event-hub";
import { lastEventIdOf } from "../../lib/sse/http";
import { parseSseConfig } from "../../nodes/plugwatch-sse/config";
import type { PlugwatchSseNodeDef } from "../../nodes/plugwatch-sse/types";
import { FakeTime } from "../support/fake-time";
import type { IncomingMessage } from "node:http";

class MemoryClient implements SseClient {
  text = "";
  ended = false;
  backlog = 0;
  write(chunk: string): void {
    this.text += chunk;
  }
  end(): void {
    this.ended = true;
  }
  buffered(): number {
    return this.backlog;
  }
  /** The events received so far: id, event type and data of each block. */
  events(): { id?: string; event?: string; data?: string }[] {
    return this.text
      .split("\n\n")
      .filter((b) => b.startsWith("id: "))
      .map((b) => {
        const e: { id?: string; event?: string; data?: string } = {};
        for (const line of b.split("\n")) {
          const [k, ...rest] = line.split(": ");
          const v = rest.join(": ");
          if (k === "data") e.data = e.data === undefined ? v : `${e.data}\n${v}`;
          else if (k === "id" || k === "event") e[k] = v;
        }
        return e;
      });
  }
}

describe("server-sent events hub (lib/sse)", function () {
  let time: FakeTime;
  const hub = (over: Partial<ConstructorParameters<typeof SseHub>[0]> = {}) =>
    new SseHub({ clock: time.asClock, maxClients: 3, heartbeatMs: 15000, historySize: 4, retryMs: 2000, ...over });
  beforeEach(() => {
    time = new FakeTime();
  });

  it("formats events as the EventSource spec reads them: id, event, one data line per line", function () {
    assert.equal(formatEvent({ id: "a-1", event: "device", data: '{"x":1}' }), 'id: a-1\nevent: device\ndata: {"x":1}\n\n');
    assert.equal(formatEvent({ id: "a-2", data: "two\nlines\r\nhere" }), "id: a-2\ndata: two\ndata: lines\ndata: here\n\n");
    assert.equal(formatEvent({ id: "a-3", event: "bad\ntype", data: "" }), "id: a-3\nevent: bad type\ndata: \n\n");
    assert.equal(eventData({ a: [1, "b"] }), '{"a":[1,"b"]}');
    assert.equal(eventData("as is"), "as is");
    assert.equal(eventData(undefined), "null");
  });

  it("gives a new client retry and the snapshot (latest per key, in publish order), then live events", function () {
    const h = hub();
    h.publish('{"v":1}', "a", "device");
    h.publish('{"v":2}', "b", "device");
    h.publish('{"v":3}', "a", "device"); // replaces a's, and moves it last
    h.publish("no key"); // live only: not in the snapshot
    const c = new MemoryClient();
    const r = h.connect(c);
    assert.ok(r.ok);
    assert.deepEqual([r.replayed, r.events], ["snapshot", 2]);
    assert.ok(c.text.startsWith("retry: 2000\n\n"));
    assert.deepEqual(
      c.events().map((e) => e.data),
      ['{"v":2}', '{"v":3}'],
    );
    h.publish('{"v":4}', "b", "device");
    assert.deepEqual(c.events().at(-1), { id: c.events().at(-1)!.id, event: "device", data: '{"v":4}' });
    assert.equal(h.keyCount, 2);
  });

  it("hands its snapshot to the next hub (a redeploy): restored keys are served, newer publishes win, bad entries are skipped", function () {
    const before = hub();
    before.publish('{"v":1}', "a", "device");
    before.publish('{"v":2}', "b");
    before.publish("no key");
    const kept = JSON.parse(JSON.stringify(before.snapshotEntries())) as unknown; // what a context store gives back
    assert.deepEqual(kept, [
      { key: "a", data: '{"v":1}', event: "device" },
      { key: "b", data: '{"v":2}' },
    ]);
    const after = hub();
    after.publish('{"v":3}', "b"); // arrived before the context was read: newer than the kept one
    const bad = [null, 7, { key: "", data: "x" }, { key: "c", data: 5 }, { key: "d", data: "x", event: 1 }];
    assert.equal(after.restore([...(kept as unknown[]), ...bad]), 1);
    assert.equal(after.restore("not a list"), 0);
    const c = new MemoryClient();
    assert.ok(after.connect(c).ok);
    assert.deepEqual(
      c.events().map((e) => [e.event, e.data]),
      [
        [undefined, '{"v":3}'],
        ["device", '{"v":1}'],
      ],
    );
  });

  it("replays exactly the missed events to a client reconnecting with Last-Event-ID, else sends the snapshot", function () {
    const h = hub();
    const first = new MemoryClient();
    const r1 = h.connect(first);
    assert.ok(r1.ok);
    h.publish("1", "k");
    const seen = first.events().at(-1)!.id!;
    r1.detach();
    h.publish("2", "k");
    h.publish("3", "j");
    const back = new MemoryClient();
    const r2 = h.connect(back, seen);
    assert.ok(r2.ok);
    assert.equal(r2.replayed, "history");
    assert.deepEqual(
      back.events().map((e) => e.data),
      ["2", "3"],
    );
    // Up to date: nothing replayed.
    const upToDate = new MemoryClient();
    const r3 = h.connect(upToDate, back.events().at(-1)!.id);
    assert.ok(r3.ok && r3.replayed === "history" && r3.events === 0);
    r3.detach();
    // Older than the history (4 events): snapshot.
    for (const v of ["4", "5", "6", "7"]) h.publish(v, "k");
    const late = new MemoryClient();
    const r4 = h.connect(late, seen);
    assert.ok(r4.ok && r4.replayed === "snapshot");
    assert.deepEqual(
      late.events().map((e) => e.data),
      ["3", "7"],
    );
    // An id of another hub (before a redeploy), a future one, garbage: snapshot.
    for (const id of [seen.replace(/^[^-]+/, "zzzxzz"), seen.replace(/-\d+$/, "-999"), "nonsense"]) {
      const c = new MemoryClient();
      const r = h.connect(c, id);
      assert.ok(r.ok && r.replayed === "snapshot", id);
      r.detach();
    }
  });

  it("caps concurrent clients and frees a slot on disconnect", function () {
    const h = hub({ maxClients: 2 });
    const a = h.connect(new MemoryClient());
    const b = h.connect(new MemoryClient());
    assert.ok(a.ok && b.ok);
    assert.equal(h.full, true);
    assert.deepEqual(h.connect(new MemoryClient()), { ok: false, reason: "TOO_MANY_CLIENTS" });
    a.detach();
    a.detach(); // twice: no effect
    assert.equal(h.clientCount, 1);
    assert.ok(h.connect(new MemoryClient()).ok);
  });

  it("sends heartbeats only while clients are connected, on the injected clock", function () {
    const h = hub({ heartbeatMs: 1000 });
    assert.equal(time.pending, 0, "no timer without clients");
    const c = new MemoryClient();
    const r = h.connect(c);
    assert.ok(r.ok);
    time.tick(2999);
    assert.equal(c.text.split(": heartbeat\n\n").length - 1, 2);
    time.tick(1);
    assert.equal(c.text.split(": heartbeat\n\n").length - 1, 3);
    r.detach();
    assert.equal(time.pending, 0, "the heartbeat stops with the last client");
  });

  it("disconnects a client that stopped reading (unsent bytes over the bound); the others keep getting events", function () {
    const h = hub({ maxBufferedBytes: 100 });
    const slow = new MemoryClient();
    const fast = new MemoryClient();
    assert.ok(h.connect(slow).ok && h.connect(fast).ok);
    slow.backlog = 101;
    h.publish("x", "k");
    assert.equal(slow.ended, true);
    assert.equal(h.clientCount, 1);
    assert.equal(h.droppedCount, 1);
    assert.deepEqual(
      fast.events().map((e) => e.data),
      ["x"],
    );
  });

  it("close() ends every stream, stops the heartbeat and refuses later clients", function () {
    const h = hub({ heartbeatMs: 1000 });
    const a = new MemoryClient();
    const b = new MemoryClient();
    assert.ok(h.connect(a).ok && h.connect(b).ok);
    assert.equal(time.pending, 1);
    h.close();
    assert.deepEqual([a.ended, b.ended, h.clientCount, time.pending], [true, true, 0, 0]);
    assert.deepEqual(h.connect(new MemoryClient()), { ok: false, reason: "CLOSED" });
    h.publish("after", "k");
    assert.equal(a.text.includes("after"), false);
  });

  it("refuses bad limits", function () {
    assert.throws(() => hub({ maxClients: 0 }), /maxClients/);
    assert.throws(() => hub({ historySize: -1 }), /historySize/);
    assert.throws(() => hub({ heartbeatMs: Number.NaN }), /heartbeatMs/);
  });

  it("reads Last-Event-ID from the header, else from ?lastEventId=", function () {
    const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;
    assert.equal(lastEventIdOf(req("/e", { "last-event-id": "a-1" })), "a-1");
    assert.equal(lastEventIdOf(req("/e?lastEventId=b-2")), "b-2");
    assert.equal(lastEventIdOf(req("/e")), undefined);
  });
  describe("plugwatch-sse config", function () {
    const def = (over: Partial<PlugwatchSseNodeDef> = {}) => ({
      id: "n",
      type: "plugwatch-sse",
      name: "",
      z: "",
      path: "/octopus/events",
      event: "",
      maxClients: "50",
      heartbeatS: "15",
      history: "256",
      ...over,
    });

    it("takes numbers saved as text (substituted ${ENV} values) or as numbers, with defaults for empty ones", function () {
      assert.deepEqual(parseSseConfig(def({ event: "device", maxClients: " 3 ", heartbeatS: 0, history: "" })), {
        path: "/octopus/events",
        event: "device",
        maxClients: 3,
        heartbeatMs: 0,
        historySize: 256,
      });
      assert.equal(parseSseConfig(def({ path: "/live/" })).path, "/live");
      assert.equal(parseSseConfig(def({ maxClients: "" })).maxClients, 50);
    });

    it("refuses a bad path, event type or limit, naming it (an unset ${ENV} reference stays as text)", function () {
      for (const [over, re] of [
        [{ path: "events" }, /path must start with '\/'/],
        [{ path: "/a b" }, /path/],
        [{ path: "/a//b" }, /path/],
        [{ event: "two words" }, /event type/],
        [{ maxClients: "0" }, /maxClients must be an integer from 1 to 10000, not '0'/],
        [{ maxClients: "${OCTOPUS_LIVE_MAX_CLIENTS}" }, /maxClients .* not '\$\{OCTOPUS_LIVE_MAX_CLIENTS\}'/],
        [{ heartbeatS: "1.5" }, /heartbeatS/],
        [{ history: "-1" }, /history/],
      ] as [Partial<PlugwatchSseNodeDef>, RegExp][])
        assert.throws(() => parseSseConfig(def(over)), re, JSON.stringify(over));
    });
  });
});
