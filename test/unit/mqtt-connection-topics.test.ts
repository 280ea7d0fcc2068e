// lib/mqtt/topic-filter: which topics a subscription filter matches, and the publish topics and filters it refuses.
import assert from "node:assert/strict";
import { PlugwatchError } from "../../lib/contracts/errors";
import { checkFilter, checkPublishTopic, topicMatches } from "../../lib/mqtt/topic-filter";

const invalid = (fn: () => unknown, text: RegExp): void =>
  assert.throws(fn, (err: unknown) => err instanceof PlugwatchError && err.code === "INVALID_REQUEST" && text.test(err.message));

describe("MQTT topic filters (lib/mqtt/topic-filter)", function () {
  const cases: [filter: string, topic: string, matches: boolean][] = [
    ["a/b/c", "a/b/c", true],
    ["a/b/c", "a/b", false],
    ["a/b", "a/b/c", false],
    ["a/+/c", "a/x/c", true],
    ["a/+/c", "a/x/y/c", false],
    ["a/+", "a/", true],
    ["+/+", "a/b", true],
    ["+", "a/b", false],
    ["a/#", "a", true],
    ["a/#", "a/b/c/d", true],
    ["a/#", "ab/c", false],
    ["#", "a/b", true],
    ["#", "$SYS/broker", false],
    ["+/broker", "$SYS/broker", false],
    ["$SYS/#", "$SYS/broker", true],
    ["pw/api/reply/+/q1", "pw/api/reply/app/q1", true],
    ["pw/api/reply/+/q1", "pw/api/reply/app/q2", false],
    ["$share/query/pw/api/request/query", "pw/api/request/query", true],
    ["$share/query/pw/+/x", "pw/a/x", true],
    ["$share/query/pw/+/x", "$share/query/pw/a/x", false],
  ];
  for (const [filter, topic, matches] of cases) {
    it(`'${filter}' ${matches ? "matches" : "does not match"} '${topic}'`, function () {
      assert.equal(topicMatches(filter, topic), matches);
    });
  }

  it("accepts filters with whole-level wildcards and refuses the rest with INVALID_REQUEST", function () {
    for (const f of ["a", "a/+/c", "a/#", "#", "+", "+/+/#"]) assert.equal(checkFilter(f), f);
    invalid(() => checkFilter("a/#/c"), /'#' must be the last level/);
    invalid(() => checkFilter("a/b#"), /must be a whole level/);
    invalid(() => checkFilter("a/x+/c"), /must be a whole level/);
    invalid(() => checkFilter(""), /must not be empty/);
    invalid(() => checkFilter(42), /topic filter must be a string \(got number\)/);
    invalid(() => checkFilter("a\u0000b"), /NUL/);
  });

  it("accepts publish topics without wildcards and refuses the rest with INVALID_REQUEST", function () {
    assert.equal(checkPublishTopic("pw/api/request/query"), "pw/api/request/query");
    invalid(() => checkPublishTopic("pw/+/x"), /must not contain the wildcards/);
    invalid(() => checkPublishTopic("pw/#"), /must not contain the wildcards/);
    invalid(() => checkPublishTopic(undefined), /publish topic must be a string \(got undefined\)/);
    invalid(() => checkPublishTopic(null), /got null/);
    invalid(() => checkPublishTopic("x".repeat(65536)), /longer than 65535 bytes/);
  });
});
