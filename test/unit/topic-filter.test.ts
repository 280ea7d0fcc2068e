// isTopicFilter: the request topic filter of plugwatch-influx-query's own connection is checked like a broker would.
import assert from "node:assert/strict";
import { isTopicFilter } from "../../lib/topics";

describe("isTopicFilter", () => {
  it("accepts topics and filters with whole-level wildcards", () => {
    for (const f of ["plugwatch/api/request/query", "a/+/c", "+", "#", "a/#", "+/+/#", "site/plugwatch/api/request/query"])
      assert.equal(isTopicFilter(f), true, f);
  });
  it("refuses empty filters, NUL, partial-level wildcards and # before the last level", () => {
    for (const f of ["", "a/b+", "a/#/c", "a#", "a/b\u0000", "#/a", "+a/b"]) assert.equal(isTopicFilter(f), false, JSON.stringify(f));
  });
});
