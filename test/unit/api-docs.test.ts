// docs/api.md stays true to the API: every curl example targets a documented operation with declared parameters, and every operation and HTTP-edge error code is shown.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { API_ERROR_CODES } from "../../lib/api/problem";
import { matchRoute, OPERATIONS } from "../../lib/api/spec";
import { repoRoot } from "../../scripts/harness/nodered";
import { nth } from "../support/checked";

describe("api docs (docs/api.md)", function () {
  const text = readFileSync(path.join(repoRoot(), "docs", "api.md"), "utf8");
  const curls = text.split("\n").filter((l) => /^curl /.test(l.trim()));

  it("has a curl example for every operation, each matching a documented path, method and parameters", function () {
    const covered = new Set<string>();
    assert.ok(curls.length >= OPERATIONS.length, `${curls.length} curl lines`);
    for (const line of curls) {
      const m = /"\$API(\/[^"?]*)(?:\?([^"]*))?"/.exec(line);
      assert.ok(m, `no "$API/…" URL in: ${line}`);
      const method = /-X (\w+)/.exec(line)?.[1] ?? "GET";
      const route = matchRoute(method, nth(m, 1, "API path"));
      assert.ok(route && "op" in route, `${method} ${m[1]} is not an operation (${line})`);
      covered.add(route.op.id);
      const declared = route.op.params.filter((p) => p.in === "query").map((p) => p.name);
      for (const [name] of new URLSearchParams(m[2] ?? "")) assert.ok(declared.includes(name), `${route.op.id}: '${name}' is not a parameter (${line})`);
      if (route.op.access === "read") assert.match(line, /-H "\$READ"/, `${route.op.id} needs the read token: ${line}`);
      if (route.op.access === "control") assert.match(line, /-H "\$CONTROL"/, `${route.op.id} needs the control token: ${line}`);
      if (route.op.body) assert.match(line, /-d '\{/, `${route.op.id} needs a JSON body: ${line}`);
    }
    assert.deepEqual(
      OPERATIONS.map((o) => o.id).filter((id) => !covered.has(id)),
      [],
    );
  });

  it("lists every HTTP-edge error code", function () {
    for (const code of Object.keys(API_ERROR_CODES)) assert.ok(text.includes(`\`${code}\``), code);
  });
});
