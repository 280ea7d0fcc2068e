// The shared reply-topic rule (lib/contracts/reply-topic.ts): every hostile replyTo is refused with its reason.
import assert from "node:assert/strict";
import {
  checkReplyTopic,
  replyTopicGuardFromSettings,
  replyTopicOf,
  replyTopicPolicy,
  requestRoot,
  ReplyTopic,
  ReplyTopicGuard,
  validate,
  type ReplyTopicProblem,
} from "../../lib/contracts";

describe("reply topic rule", function () {
  const policy = replyTopicPolicy("plugwatch");

  const hostile: [string, unknown, ReplyTopicProblem][] = [
    ["a broker system topic", "$SYS/x", "SYSTEM_TOPIC"],
    ["a '$' inside a level", "plugwatch/api/reply/a$b", "SYSTEM_TOPIC"],
    ["the multi-level wildcard", "#", "WILDCARD"],
    ["a single-level wildcard", "+/x", "WILDCARD"],
    ["a wildcard under the prefix", "plugwatch/api/reply/+", "WILDCARD"],
    ["another device's reading topic", "plugwatch/hq/1/open-1/ws-1-01/reading", "OUTSIDE_REPLY_PREFIX"],
    ["the alerts tree", "plugwatch/alerts/ws-1-01/x", "OUTSIDE_REPLY_PREFIX"],
    ["the request topic itself", "plugwatch/api/request/command", "OUTSIDE_REPLY_PREFIX"],
    ["the bare reply prefix", "plugwatch/api/reply", "OUTSIDE_REPLY_PREFIX"],
    ["the bare clients prefix", "clients", "OUTSIDE_REPLY_PREFIX"],
    ["1000 levels", "clients/" + Array.from({ length: 999 }, () => "a").join("/"), "TOO_LONG"],
    ["17 levels", "clients/" + Array.from({ length: 16 }, () => "a").join("/"), "TOO_DEEP"],
    ["an empty string", "", "EMPTY"],
    ["a NUL", "clients/a\u0000b", "CONTROL_CHAR"],
    ["a newline", "clients/a\nb", "CONTROL_CHAR"],
    ["an empty level", "clients//x", "EMPTY_LEVEL"],
    ["a trailing slash", "clients/x/", "EMPTY_LEVEL"],
    ["a number", 42, "NOT_STRING"],
    ["null", null, "MISSING"],
  ];
  for (const [what, topic, problem] of hostile) {
    it(`refuses ${what} (${problem})`, function () {
      const r = checkReplyTopic(topic, policy);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.problem, problem);
    });
  }

  it("accepts the API's own topic, a client's sub-topic and a per-identity prefix", function () {
    for (const t of [replyTopicOf("plugwatch", "pw-api-1a2b3c4d"), "plugwatch/api/reply/desk-app/replies/7", "clients/desk-app/replies"]) {
      const r = checkReplyTopic(t, policy);
      assert.deepEqual(r, { ok: true, topic: t });
    }
  });

  it("follows a multi-level root and extra client prefixes; refuses prefixes inside the root", function () {
    const p = replyTopicPolicy("site-a/plugwatch", { clientPrefixes: ["clients", "apps/replies"] });
    assert.equal(checkReplyTopic("site-a/plugwatch/api/reply/x", p).ok, true);
    assert.equal(checkReplyTopic("apps/replies/x/1", p).ok, true);
    assert.equal(checkReplyTopic("plugwatch/api/reply/x", p).ok, false);
    assert.throws(() => replyTopicPolicy("plugwatch", { clientPrefixes: ["plugwatch/alerts"] }), /outside the topic root/);
    assert.throws(() => replyTopicPolicy("plugwatch", { clientPrefixes: ["$SYS"] }), /must be a topic without/);
    assert.throws(() => replyTopicPolicy("plugwatch", { clientPrefixes: ["#"] }), /must be a topic without/);
  });

  it("the schema part rejects '$', wildcards and control characters (the JSON Schemas say it too)", function () {
    for (const bad of ["$SYS/x", "#", "+/x", "a\u0000", ""]) assert.equal(validate(ReplyTopic, bad).ok, false, bad);
    assert.equal(validate(ReplyTopic, "clients/a/b").ok, true);
  });

  it("takes the root from the request topic", function () {
    assert.equal(requestRoot("site-a/plugwatch/api/request/command"), "site-a/plugwatch");
    assert.equal(requestRoot("plugwatch/api/request/query"), "plugwatch");
    assert.equal(requestRoot("plugwatch/api/request/other"), undefined);
    assert.equal(requestRoot("$SYS/api/request/query"), undefined);
    assert.equal(requestRoot(undefined), undefined);
  });

  it("the guard counts refusals per problem and uses the request topic's root", function () {
    const g = new ReplyTopicGuard("plugwatch");
    assert.equal(g.check("$SYS/x").ok, false);
    assert.equal(g.check("$SYS/y").ok, false);
    assert.equal(g.check("#").ok, false);
    assert.equal(g.check("site/api/reply/a", "site/api/request/command").ok, true);
    assert.equal(g.check("plugwatch/api/reply/a", "site/api/request/command").ok, false);
    assert.equal(g.refusedTotal, 4);
    assert.deepEqual(g.refusedByProblem(), { SYSTEM_TOPIC: 2, WILDCARD: 1, OUTSIDE_REPLY_PREFIX: 1 });
  });

  it("reads the per-identity prefixes from settings.js and names the setting when they are wrong", function () {
    const g = replyTopicGuardFromSettings({ plugwatch: { replyPrefixes: ["apps"] } }, "plugwatch");
    assert.equal(g.check("apps/x/1").ok, true);
    assert.equal(g.check("clients/x/1").ok, false);
    assert.throws(() => replyTopicGuardFromSettings({ plugwatch: { replyPrefixes: "clients" } }, "plugwatch"), /plugwatch\.replyPrefixes/);
    assert.equal(replyTopicGuardFromSettings({}, "plugwatch").check("clients/x").ok, true);
  });
});
