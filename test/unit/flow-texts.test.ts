// The shipped flow's texts (scripts/flows/notes.md): parsed by section, placeholders filled, every section used by the
// flow and every tab and comment of the flow described there, word for word.
import assert from "node:assert/strict";
import { flowTextsOf } from "../../scripts/flows/function-source";
import { COLLECTOR_IDENTITY_NOTE, flowTextIds, plugwatchFlow } from "../../scripts/flows/plugwatch-flow";

const NOTES = [
  "# Texts",
  "",
  "Introduction with a {{PLACEHOLDER}} that is not a text.",
  "",
  "## pw-tab-a: Tab A",
  "",
  "What tab A does.",
  "",
  "### pw-c-a: A: requests → replies",
  "",
  "First paragraph, {{WHO}} answers.",
  "",
  "Second paragraph.",
  "",
  "## pw-tab-b: Tab B",
  "Right under its heading.",
  "",
].join("\n");

describe("flow texts (scripts/flows/notes.md)", () => {
  it("gives each section's title and text, paragraphs kept, surrounding blank lines dropped", () => {
    const texts = flowTextsOf("notes.md", NOTES, { WHO: "the component" });
    assert.deepEqual([...texts.keys()], ["pw-tab-a", "pw-c-a", "pw-tab-b"]);
    assert.deepEqual(texts.get("pw-tab-a"), { title: "Tab A", info: "What tab A does." });
    assert.deepEqual(texts.get("pw-c-a"), { title: "A: requests → replies", info: "First paragraph, the component answers.\n\nSecond paragraph." });
    assert.deepEqual(texts.get("pw-tab-b"), { title: "Tab B", info: "Right under its heading." });
  });

  it("refuses a missing constant, an unused one, a repeated id and an empty text", () => {
    assert.throws(() => flowTextsOf("notes.md", NOTES), /notes\.md: no value for placeholder \{\{WHO\}\}/);
    assert.throws(() => flowTextsOf("notes.md", NOTES, { WHO: "x", OTHER: "y" }), /notes\.md: constants not used: OTHER/);
    assert.throws(() => flowTextsOf("notes.md", `${NOTES}\n## pw-tab-a: again\n\ntext\n`, { WHO: "x" }), /notes\.md: section pw-tab-a appears twice/);
    assert.throws(() => flowTextsOf("notes.md", "## pw-tab-x: X\n\n\n### pw-c-x: Y\n\ntext\n"), /notes\.md: section pw-tab-x has no text/);
  });

  it("describes every tab and comment of the shipped flow, and each section is used", () => {
    const flow = plugwatchFlow({ backupNode: true });
    const described = flow.filter((n) => n.type === "tab" || n.type === "comment");
    const ids = described.map((n) => n.id).sort();
    assert.deepEqual(ids, [...flowTextIds()].sort());
    for (const n of described) {
      assert.equal(typeof n.info, "string");
      assert.notEqual(n.info, "", `${n.id} has a text`);
      assert.ok(!String(n.info).includes("{{"), `${n.id}: every placeholder filled`);
    }
    const collector = flow.find((n) => n.id === "pw-c-collector");
    assert.ok(String(collector?.info).includes(COLLECTOR_IDENTITY_NOTE), "the collector's comment names its identity");
  });
});
