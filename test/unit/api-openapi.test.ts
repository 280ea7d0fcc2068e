// The generated OpenAPI 3.1 document: covers every operation, reuses the contract schemas, and passes `redocly lint` (run offline).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildOpenApi } from "../../lib/api/openapi";
import { OPERATIONS, matchRoute } from "../../lib/api/spec";
import { CommandResult } from "../../lib/contracts/command";
import { DeviceEntry } from "../../lib/contracts/device";

type Doc = { paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown>; requestBody?: unknown }>> };

describe("api openapi", function () {
  this.timeout(60_000);
  const doc = buildOpenApi({ basePath: "/api/v1", openHealth: true, openSpec: true, version: "0.1.0" }) as unknown as Doc & Record<string, unknown>;

  it("describes every operation with its method, security and responses", () => {
    assert.equal(doc.openapi, "3.1.0");
    for (const op of OPERATIONS) {
      const o = doc.paths[op.path]?.[op.method];
      assert.ok(o, `${op.method} ${op.path}`);
      assert.ok(o.responses[String(op.success.status)], `${op.id} success`);
      for (const s of op.errors) assert.ok(o.responses[String(s)], `${op.id} ${s}`);
      if (op.body) assert.ok(o.requestBody);
    }
    assert.deepEqual(doc.paths["/health"]?.get?.security, []);
    assert.deepEqual(doc.paths["/devices"]?.get?.security, [{ bearer: ["read"] }]);
    assert.deepEqual(doc.paths["/power"]?.post?.security, [{ bearer: ["control"] }]);
    const closed = buildOpenApi({ basePath: "/x", openHealth: false, openSpec: false }) as unknown as Doc;
    assert.deepEqual(closed.paths["/health"]?.get?.security, [{ bearer: ["read"] }]);
    // auth "none": no bearer security and no 401/403 documented anywhere.
    const open = buildOpenApi({ basePath: "/x", openHealth: false, openSpec: false, tokens: false }) as unknown as Doc & {
      components: Record<string, unknown>;
    };
    for (const methods of Object.values(open.paths)) {
      for (const o of Object.values(methods)) {
        assert.deepEqual(o.security, []);
        assert.equal(o.responses["401"], undefined);
        assert.equal(o.responses["403"], undefined);
      }
    }
    assert.equal(open.components.securitySchemes, undefined);
  });

  it("reuses the contract schemas (one source of truth)", () => {
    const text = JSON.stringify(doc);
    // Descriptions and patterns come from lib/contracts (device.ts, command.ts, common.ts), not from a second copy.
    assert.ok(text.includes(JSON.stringify(DeviceEntry.properties.host.pattern)));
    assert.ok(text.includes(JSON.stringify(CommandResult.properties.relay.description)));
    assert.ok(text.includes("UNKNOWN_DEVICE"));
  });

  it("routes exactly the documented paths", () => {
    assert.equal((matchRoute("GET", "/devices/ws-1/measurements/latest") as { op: { id: string } }).op.id, "getLatestMeasurementsOfDevice");
    assert.equal((matchRoute("GET", "/devices/ws-1/") as { op: { id: string } }).op.id, "getDevice");
    assert.deepEqual(matchRoute("DELETE", "/devices/ws-1"), { allowed: ["GET"] });
    assert.equal(matchRoute("GET", "/nope"), undefined);
  });

  it("passes redocly lint", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-openapi-"));
    try {
      const file = path.join(dir, "openapi.json");
      writeFileSync(file, JSON.stringify(doc, null, 2));
      const bin = findRedocly();
      const { code, out } = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile(
          bin,
          ["lint", "--format", "stylish", file],
          { env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" }, timeout: 50_000 },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
        );
      });
      assert.equal(code, 0, out);
      assert.match(out, /valid/i);
      assert.doesNotMatch(out, /You have \d+ warnings?/, out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** node_modules/.bin/redocly of the repo (tests run from dist/test/unit or .build/<name>/test/unit). */
function findRedocly(): string {
  for (const up of ["../../..", "../../../.."]) {
    const p = path.resolve(__dirname, up, "node_modules/.bin/redocly");
    if (existsSync(p)) return p;
  }
  throw new Error("node_modules/.bin/redocly not found: @redocly/cli is a devDependency");
}
