// Topic templates (lib/topic-template.ts): parsing, matching, device ids and plain payloads → generic readings.
import assert from "node:assert/strict";
import { PlugwatchError } from "../../lib/contracts/errors";
import { GenericReading } from "../../lib/contracts/reading";
import { validate } from "../../lib/contracts/validate";
import { isReading, matchTopic, outputTopic, parseTopicTemplate, readingFromTopic, subscriptionOf } from "../../lib/topic-template";

const NOW = 1764000000000;
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PlugwatchError, String(err));
    return err.code;
  }
  assert.fail("did not throw");
};

describe("topic templates", function () {
  it("parses named levels, gives the subscription and matches topics", function () {
    const t = parseTopicTemplate("office/{room}/{device}/{attribute}");
    assert.equal(subscriptionOf(t), "office/+/+/+");
    assert.deepEqual(matchTopic(t, "office/meeting-1/lamp/power"), { room: "meeting-1", device: "lamp", attribute: "power" });
    assert.equal(matchTopic(t, "office/meeting-1/lamp"), undefined);
    assert.equal(matchTopic(t, "home/meeting-1/lamp/power"), undefined);
    assert.equal(matchTopic(t, "office//lamp/power"), undefined);
    for (const bad of ["", "office/+/{x}", "a/{Room}", "a/{x}/{x}", "a//{x}", "a/b"])
      assert.equal(
        codeOf(() => parseTopicTemplate(bad)),
        "INVALID_REQUEST",
        bad,
      );
  });

  it("home/kitchen/temperature 23.5 → a generic reading of device kitchen, field temperature", function () {
    const opts = { template: parseTopicTemplate("home/{room}/{attribute}"), measurement: "sensors" };
    const r = readingFromTopic(opts, "home/kitchen/temperature", "23.5", NOW);
    assert.deepEqual(r, { v: 1, device: "kitchen", ts: NOW, fields: { temperature: 23.5 }, tags: { room: "kitchen" }, measurement: "sensors" });
    assert.ok(validate(GenericReading, r).ok);
    assert.deepEqual(readingFromTopic(opts, "home/Living Room/open", Buffer.from("true"), NOW).fields, { open: true });
    assert.equal(readingFromTopic(opts, "home/Living Room/open", "true", NOW).device, "living-room");
    assert.deepEqual(readingFromTopic(opts, "home/hall/humidity", 41, NOW).fields, { humidity: 41 });
    const withTs = readingFromTopic(opts, "home/hall/co2", '{"value":612,"ts":1764000001000}', NOW);
    assert.deepEqual([withTs.fields, withTs.ts], [{ co2: 612 }, 1764000001000]);
    assert.deepEqual(readingFromTopic(opts, "home/hall/multi", { temperature: 20, on: false }, NOW).fields, { temperature: 20, on: false });
  });

  it("ids unique per room only: {room}-{device} by default when both are levels", function () {
    const t = parseTopicTemplate("office/{room}/{device}/{attribute}");
    assert.equal(readingFromTopic({ template: t }, "office/meeting-1/lamp/power", 12, NOW).device, "meeting-1-lamp");
    assert.equal(readingFromTopic({ template: t }, "office/meeting-2/lamp/power", 12, NOW).device, "meeting-2-lamp");
    assert.equal(readingFromTopic({ template: t, device: "{device}_{room}" }, "office/m1/lamp/power", 1, NOW).device, "lamp_m1");
    assert.equal(
      codeOf(() => readingFromTopic({ template: t, device: "{floor}" }, "office/m1/lamp/power", 1, NOW)),
      "INVALID_REQUEST",
    );
  });

  it("refuses what is not a value, a field name or a slug, with INVALID_READING", function () {
    const opts = { template: parseTopicTemplate("home/{room}/{attribute}") };
    for (const [topic, payload] of [
      ["home/kitchen/temperature", "warm"],
      ["home/kitchen/temperature", "NaN"],
      ["home/kitchen/temperature", '{"value":"hot"}'],
      ["home/kitchen/temperature", "[1,2]"],
      ["home/kitchen/temperature", "{oops"],
      ["home/kitchen/temperature", '{"value":1,"ts":12}'],
      ["home/kitchen/temperature", '{"value":1,"ts":1.5}'],
      ["home/kitchen/1st", "1"],
      ["home/---/temperature", "1"],
      ["other/kitchen/temperature", "1"],
    ] as const) {
      assert.equal(
        codeOf(() => readingFromTopic(opts, topic, payload, NOW)),
        "INVALID_READING",
        `${topic} ${payload}`,
      );
    }
  });

  it("recognises contract readings (passed through by the node)", function () {
    assert.equal(isReading({ v: 1, device: "a", ts: NOW, fields: { x: 1 } }), true);
    assert.equal(isReading(23.5), false);
    assert.equal(isReading({ value: 1 }), false);
  });
});

describe("topic templates: output topic", function () {
  it("builds the contract topic from the levels and the device id", function () {
    const t = parseTopicTemplate("home/{room}/{attribute}");
    assert.equal(
      outputTopic("plugwatch/home/0/{room}/{id}/reading", t, "home/Living Room/temperature", "living-room"),
      "plugwatch/home/0/living-room/living-room/reading",
    );
    assert.equal(outputTopic("", t, "home/a/b", "a"), undefined);
    assert.equal(
      codeOf(() => outputTopic("x/{floor}/{id}", t, "home/a/b", "a")),
      "INVALID_REQUEST",
    );
  });
});
