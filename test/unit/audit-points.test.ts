import assert from "node:assert/strict";
import { encodeAuditPayload, isAuditTopic } from "../../lib/influx/audit-points";

const record = {
  v: 1,
  ts: 1764000000123,
  id: "req-1",
  by: "ops laptop",
  action: "off",
  target: { kind: "printer" },
  ok: true,
  results: [
    { device: "pr-1", ok: true, relay: false },
    { device: "srv-1", ok: true, skipped: true, code: "CRITICAL_DEVICE" },
  ],
};

describe("audit records as InfluxDB points", function () {
  it("one point per device with who, what and the result, at the record's time", function () {
    assert.deepEqual(encodeAuditPayload(JSON.stringify(record)), {
      lines: [
        'audit,action=off,by=ops\\ laptop,device=pr-1 id="req-1",ok=T,relay=F 1764000000123',
        'audit,action=off,by=ops\\ laptop,device=srv-1 code="CRITICAL_DEVICE",id="req-1",ok=T,skipped=T 1764000000123',
      ],
      errors: [],
    });
    assert.ok(isAuditTopic("plugwatch/audit/command"));
    assert.ok(!isAuditTopic("plugwatch/hq/1/r/pr-1/reading"));
  });

  it("a record that breaks the contract is refused with its paths, nothing stored", function () {
    const bad = encodeAuditPayload({ ...record, action: "explode", results: [{ device: "Bad Id", ok: "yes" }] });
    assert.equal(bad.lines.length, 0);
    assert.equal(bad.errors[0]?.code, "INVALID_READING");
    assert.match(bad.errors[0]?.message ?? "", /\$\.action/);
    assert.equal(encodeAuditPayload("{not json").errors[0]?.code, "INVALID_READING");
  });
});
