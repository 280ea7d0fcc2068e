// Node help and locales: every node's help in Node-RED's format (en-US and es-ES alike), the same locale keys in both
// languages, and docs/nodes/<type>.md carrying exactly the help generated from the en-US file.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { showValue } from "../../lib/show-value";
import { checkHelp, extractHelp, helpToDocs, LANGS, nodeShape, nodeTypes, parseHelp, readHelp, replaceRegion, syncDocs } from "../../scripts/docs/node-help";
import { repoRoot } from "../../scripts/harness/nodered";
import { nth } from "../support/checked";

const root = repoRoot();
const types = nodeTypes(root);

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
/** Every leaf of a locale catalogue as "a.b.c" → string. */
function flatten(v: Json, prefix = "", out = new Map<string, string>()): Map<string, string> {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, showValue(v));
  return out;
}
const catalogue = (type: string, lang: string) =>
  flatten(JSON.parse(readFileSync(path.join(root, "nodes", type, "locales", lang, `${type}.json`), "utf8")) as Json);
const placeholders = (s: string) => [...s.matchAll(/__\w+__/g)].map((m) => m[0]).sort();

describe("node help and locales", function () {
  it("finds the eighteen nodes", function () {
    assert.deepEqual(types, [
      "plugwatch-alert",
      "plugwatch-broker",
      "plugwatch-collector",
      "plugwatch-control",
      "plugwatch-ha-discovery",
      "plugwatch-http-api",
      "plugwatch-influx",
      "plugwatch-influx-backup",
      "plugwatch-influx-hook",
      "plugwatch-influx-query",
      "plugwatch-mqtt",
      "plugwatch-registry",
      "plugwatch-schedule",
      "plugwatch-scheduler",
      "plugwatch-sse",
      "plugwatch-tariff",
      "plugwatch-topic-map",
      "plugwatch-tplink-account",
    ]);
  });

  describe("the checker", function () {
    it("rejects the multi-line property form and colons inside a description", function () {
      const md =
        'Intro.\n\n### Inputs\n\n: payload (object) : a reading\n  `{"v":1}` continued.\n: topic (string) : a: b\n\n### Details\n\nText.\n\n### References\n\n- [x](https://example.org) - y\n';
      const problems = checkHelp(md, "en-US", { config: false, inputs: 1, outputs: 0 });
      assert.equal(problems.length, 2, problems.join("\n"));
      assert.match(nth(problems, 0), /^line 6: text right after a property line/);
      assert.match(nth(problems, 1), /^line 7: not a one-line/);
    });

    it("flags prose the editor would turn into a stray property, not colons inside code spans", function () {
      const md =
        "### Details\n\n**Status**: `N/s` (green), yellow (`retrying: X`) or red.\n**Status.** `N/s` (green), yellow (`retrying: X`) or red.\n\n### References\n\n- [x](https://example.org) - y\n";
      const problems = checkHelp(md, "en-US", { config: true, inputs: 0, outputs: 0 });
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(nth(problems, 0), /^line 3: the editor renders ": `N\/s` \(green\)/);
    });

    it("asks for the sections the node's ports call for, in order", function () {
      const md = "### Details\n\nx\n\n### Inputs\n\n: payload (object) : y\n";
      assert.deepEqual(checkHelp(md, "en-US", { config: false, inputs: 1, outputs: 2 }), [
        "missing section ### Outputs",
        "missing section ### References",
        "sections out of order: details, inputs",
      ]);
      const es =
        "### Entradas\n\n: payload (object) : y\n\n### Salidas\n\n1. uno\n: payload (object) : a\n\n### Detalles\n\nz\n\n### Referencias\n\n- [a](https://example.org) - b\n";
      assert.deepEqual(checkHelp(es, "es-ES", { config: false, inputs: 1, outputs: 2 }), ['### Salidas lists 1 ports ("1. name" lines), the node has 2']);
    });

    it("turns the help into the docs part: sections under one heading, properties as bullets, links relative", function () {
      const md =
        "Intro.\n\n### Outputs\n\n1. events\n: topic (string) : the topic.\n\n### References\n\n- [a](https://github.com/plugwatch/node-red-plugwatch/blob/main/docs/nodes/plugwatch-alert.md) - b\n- [c](https://github.com/plugwatch/node-red-plugwatch/blob/main/docs/api.md) - d\n";
      assert.equal(
        helpToDocs(md),
        "## Help in the editor\n\n### Outputs\n\n1. events\n    - **topic** (*string*) — the topic.\n\n### References\n\n- [a](plugwatch-alert.md) - b\n- [c](../api.md) - d\n",
      );
      assert.throws(() => replaceRegion("# x\n", "x", "y"), /no <!-- help:start -->/);
    });
  });

  for (const type of types) {
    describe(type, function () {
      const editor = readFileSync(path.join(root, "nodes", type, `${type}.html`), "utf8");
      const shape = nodeShape(editor);

      it("has its help only in locales/<lang>/ (the editor would show an editor-file block instead)", function () {
        assert.equal(extractHelp(editor, type), undefined);
        const langs = readdirSync(path.join(root, "nodes", type, "locales")).sort();
        assert.deepEqual(langs, [...LANGS].sort());
        for (const lang of LANGS) {
          assert.deepEqual(readdirSync(path.join(root, "nodes", type, "locales", lang)).sort(), [`${type}.html`, `${type}.json`]);
        }
      });

      for (const lang of LANGS) {
        it(`${lang} help follows Node-RED's help format`, function () {
          assert.deepEqual(checkHelp(readHelp(root, type, lang), lang, shape), []);
        });
      }

      it("es-ES help documents the same sections, ports and properties as en-US", function () {
        const en = parseHelp(readHelp(root, type, "en-US"), "en-US");
        const es = parseHelp(readHelp(root, type, "es-ES"), "es-ES");
        assert.deepEqual(
          es.sections.map((s) => s.key),
          en.sections.map((s) => s.key),
        );
        en.sections.forEach((s, i) => {
          const t = nth(es.sections, i, `es-ES section ${s.key}`);
          assert.equal(t.ports.length, s.ports.length, `${s.key} ports`);
          assert.equal(t.properties.length, s.properties.length, `${s.key} properties`);
          // Message properties keep their names in every language; config fields and MQTT messages are described, and translated.
          if (s.key === "inputs" || s.key === "outputs") {
            assert.deepEqual(
              t.properties.map((p) => p.name),
              s.properties.map((p) => p.name),
            );
          }
          assert.deepEqual(
            t.properties.map((p) => p.types.split(/\s*[|,]\s*/).length),
            s.properties.map((p) => p.types.split(/\s*[|,]\s*/).length),
          );
        });
      });

      it("en-US and es-ES catalogues have exactly the same keys and __placeholders__", function () {
        const en = catalogue(type, "en-US");
        const es = catalogue(type, "es-ES");
        assert.deepEqual([...es.keys()].sort(), [...en.keys()].sort());
        for (const [k, v] of en) {
          assert.deepEqual(placeholders(es.get(k)!), placeholders(v), k);
          assert.ok(es.get(k)!.trim() !== "" || v.trim() === "", `${k} is empty in es-ES`);
        }
      });
    });
  }

  it("docs/nodes/<type>.md carry the help generated from the en-US help file (npm run docs:nodes)", function () {
    for (const type of types) assert.ok(existsSync(path.join(root, "docs", "nodes", `${type}.md`)), type);
    assert.deepEqual(syncDocs(root, true), []);
  });
});
