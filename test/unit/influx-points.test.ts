// Unit tests for lib/influx/points.ts: readings → line protocol (tags from the registry, escaping, validation errors).
import assert from "node:assert/strict";
import { Point } from "@influxdata/influxdb-client";
import { buildRegistry } from "../../lib/registry";
import { LineEncoder, encodePayload } from "../../lib/influx/points";
import { PlugwatchError } from "../../lib/contracts/errors";
import { nth } from "../support/checked";

const registry = buildRegistry(
  {
    measurements: ["toner"],
    devices: [
      {
        id: "ws-2-14",
        name: "Desk 2.14",
        model: "HS110",
        host: "127.0.0.1",
        kind: "workplace",
        location: { building: "hq", floor: "2", room: "open-space" },
        tags: { team: 'ops, "night"=x' },
      },
      { id: "printer-1", name: "Printer", model: "HS110", host: "127.0.0.2", kind: "printer", location: { building: "hq", floor: "1", room: "copy" } },
    ],
  },
  "test",
);

const reading = { v: 1, device: "ws-2-14", ts: 1700000000123, power: 12.5, voltage: 230.1, current: 0.054, energy: 3, relay: true } as const;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PlugwatchError, `expected PlugwatchError, got ${String(err)}`);
    return err.code;
  }
  assert.fail("did not throw");
}

describe("influx points", () => {
  const enc = new LineEncoder(registry);

  it("encodes a plug reading with registry tags, float fields, boolean relay and ms timestamp", () => {
    const line = enc.encodeValue(reading);
    assert.equal(
      line,
      'plug,building=hq,device=ws-2-14,floor=2,kind=workplace,room=open-space,team=ops\\,\\ "night"\\=x power=12.5,voltage=230.1,current=0.054,energy=3,relay=T 1700000000123',
    );
  });

  it("produces exactly what the client library's Point produces (same escaping)", () => {
    const p = new Point("plug")
      .tag("device", "ws-2-14")
      .tag("kind", "workplace")
      .tag("building", "hq")
      .tag("floor", "2")
      .tag("room", "open-space")
      .tag("team", 'ops, "night"=x')
      .floatField("power", 12.5)
      .floatField("voltage", 230.1)
      .floatField("current", 0.054)
      .floatField("energy", 3)
      .booleanField("relay", true)
      .timestamp("1700000000123");
    const viaPoint = p.toLineProtocol({ convertTime: (v) => String(v) }) as string;
    // Point sorts fields by name; compare as sets of fields.
    const split = (l: string) => {
      const parts = l.split(/(?<!\\) /);
      const [series, , ts] = parts;
      return { series, fields: nth(parts, 1, "field set").split(",").sort(), ts };
    };
    assert.deepEqual(split(enc.encodeValue(reading)), split(viaPoint));
  });

  it("uses the configured measurement", () => {
    const e = new LineEncoder(registry, { measurement: "energy meter" });
    assert.match(e.encodeValue({ ...reading, relay: false }), /^energy\\ meter,building=hq,.* .*relay=F 1700000000123$/);
  });

  it("encodes a generic reading through Point, registry tags winning over the reading's tags", () => {
    const line = enc.encodeValue({
      v: 1,
      device: "printer-1",
      ts: 1700000000000,
      measurement: "toner",
      fields: { level: 40, jammed: false },
      tags: { colour: "cyan", room: "fake" },
    });
    assert.equal(line, "toner,building=hq,colour=cyan,device=printer-1,floor=1,kind=printer,room=copy jammed=F,level=40 1700000000000");
  });

  it("rejects unknown devices unless acceptUnknown, then tags device only", () => {
    assert.equal(
      codeOf(() => enc.encodeValue({ ...reading, device: "ghost" })),
      "UNKNOWN_DEVICE",
    );
    const open = new LineEncoder(registry, { acceptUnknown: true });
    assert.equal(open.encodeValue({ ...reading, device: "ghost" }), "plug,device=ghost power=12.5,voltage=230.1,current=0.054,energy=3,relay=T 1700000000123");
    const none = new LineEncoder(undefined, { acceptUnknown: true });
    assert.match(none.encodeValue(reading), /^plug,device=ws-2-14 /);
  });

  it("rejects NaN, Infinity, absurd timestamps, wrong types and extra fields with INVALID_READING and a JSON path", () => {
    for (const bad of [
      { ...reading, power: NaN },
      { ...reading, voltage: Infinity },
      { ...reading, ts: 0 },
      { ...reading, ts: Date.UTC(3000, 0, 1) },
      { ...reading, ts: 1700000000000.5 },
      { ...reading, power: "12" },
      { ...reading, power: -1 },
      { ...reading, relay: 1 },
      { ...reading, extra: 1 },
      { ...reading, v: 2 },
      { v: 1, device: "ws-2-14", ts: 1700000000000, fields: {} },
      { v: 1, device: "ws-2-14", ts: 1700000000000, fields: { x: NaN } },
    ]) {
      assert.equal(
        codeOf(() => enc.encodeValue(bad)),
        "INVALID_READING",
        JSON.stringify(bad),
      );
    }
    try {
      enc.encodeValue({ ...reading, power: "12" }, "$[4]");
      assert.fail("no throw");
    } catch (err) {
      assert.match((err as Error).message, /^\$\[4\]\.power: /);
    }
  });

  it("decodes JSON strings, Buffers and arrays; bad elements do not stop good ones", () => {
    const r1 = encodePayload(enc, JSON.stringify(reading));
    assert.equal(r1.lines.length, 1);
    assert.equal(r1.errors.length, 0);
    const r2 = encodePayload(
      enc,
      Buffer.from(JSON.stringify([reading, { ...reading, power: null }, { ...reading, device: "nope" }, { ...reading, ts: 1700000000124 }])),
    );
    assert.equal(r2.lines.length, 2);
    assert.deepEqual(
      r2.errors.map((e) => [e.code, e.message.split(":")[0]]),
      [
        ["INVALID_READING", "$[1].power"],
        ["UNKNOWN_DEVICE", "$[2].device"],
      ],
    );
    const r3 = encodePayload(enc, "{not json");
    assert.equal(r3.errors[0]?.code, "INVALID_READING");
    assert.match(r3.errors[0]?.message ?? "", /not JSON/);
    assert.equal(encodePayload(enc, 42).errors[0]?.code, "INVALID_READING");
    assert.equal(encodePayload(enc, []).errors[0]?.code, "INVALID_READING");
  });
});
