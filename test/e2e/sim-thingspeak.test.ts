// The local ThingSpeak-style server (scripts/sim/thingspeak.ts) over real HTTP on loopback: the update call in its
// three encodings, entry ids, 0 when rate limited or empty, 401 for a wrong key, and stop/start keeping the entries.
import assert from "node:assert/strict";
import { ThingSpeakServer } from "../../scripts/sim/thingspeak";

describe("ThingSpeak-style server (scripts/sim/thingspeak.ts)", function () {
  let server: ThingSpeakServer | undefined;
  let now = Date.UTC(2026, 0, 5, 9, 0, 0);
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  const start = async (minIntervalMs = 15000) => {
    server = new ThingSpeakServer({ apiKeys: ["WRITEKEY"], minIntervalMs, clock: () => now });
    await server.start();
    return server;
  };
  const post = (s: ThingSpeakServer, body: string, contentType = "application/x-www-form-urlencoded") =>
    fetch(`${s.url}/update`, { method: "POST", headers: { "content-type": contentType }, body }).then(async (r) => ({
      status: r.status,
      text: await r.text(),
    }));

  it("stores form, JSON and query-string updates, answers the entry id, and 0 within the minimum interval", async function () {
    const s = await start();
    assert.deepEqual(await post(s, "api_key=WRITEKEY&field1=21.5&field3=7&created_at=2026-01-05T08:00:00.000Z"), { status: 200, text: "1" });
    now += 14999;
    assert.deepEqual(await post(s, "api_key=WRITEKEY&field1=22"), { status: 200, text: "0" }, "rate limited");
    now += 1;
    assert.deepEqual(await post(s, JSON.stringify({ api_key: "WRITEKEY", field2: 3.25, status: "ok" }), "application/json"), { status: 200, text: "2" });
    now += 15000;
    const get = await fetch(`${s.url}/update?api_key=WRITEKEY&field8=1`);
    assert.deepEqual({ status: get.status, text: await get.text() }, { status: 200, text: "3" });
    assert.deepEqual(
      s.entries.map(({ entry_id, created_at, fields, status }) => ({ entry_id, created_at, fields, status })),
      [
        { entry_id: 1, created_at: "2026-01-05T08:00:00.000Z", fields: { field1: "21.5", field3: "7" }, status: undefined },
        { entry_id: 2, created_at: new Date(now - 15000).toISOString(), fields: { field2: "3.25" }, status: "ok" },
        { entry_id: 3, created_at: new Date(now).toISOString(), fields: { field8: "1" }, status: undefined },
      ],
    );
    assert.equal(s.counters.rateLimited, 1);
  });

  it("refuses a wrong key (401), an update without fields or with a bad created_at (0), other paths and methods", async function () {
    const s = await start(0);
    assert.deepEqual(await post(s, "api_key=NOPE&field1=1"), { status: 401, text: "0" });
    assert.deepEqual(await post(s, "field1=1"), { status: 401, text: "0" });
    assert.deepEqual(await post(s, "api_key=WRITEKEY"), { status: 200, text: "0" });
    assert.deepEqual(await post(s, "api_key=WRITEKEY&field1=1&created_at=yesterday"), { status: 200, text: "0" });
    assert.deepEqual(await post(s, "{not json", "application/json"), { status: 400, text: "0" });
    assert.equal((await fetch(`${s.url}/channels/1/feeds.json`)).status, 404);
    assert.equal((await fetch(`${s.url}/update`, { method: "DELETE" })).status, 405);
    assert.equal(s.entries.length, 0);
    assert.deepEqual(s.counters, { rateLimited: 0, unauthorized: 2, invalid: 3 });
  });

  it("is unreachable after stop() and keeps its entries and port across start()", async function () {
    const s = await start(0);
    assert.equal((await post(s, "api_key=WRITEKEY&field1=1")).text, "1");
    const url = s.url;
    await s.stop();
    await assert.rejects(fetch(`${url}/update?api_key=WRITEKEY&field1=2`), (err: Error & { cause?: { code?: string } }) => err.cause?.code === "ECONNREFUSED");
    await s.start();
    assert.equal(s.url, url);
    const waiting = s.waitForEntries(2, 5000);
    assert.equal((await post(s, "api_key=WRITEKEY&field1=3")).text, "2");
    await waiting;
    assert.deepEqual(
      s.entries.map((e) => e.fields.field1),
      ["1", "3"],
    );
  });
});
