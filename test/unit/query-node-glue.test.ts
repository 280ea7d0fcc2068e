// Unit tests for the query node's lib glue: lib/influx/query-outcome.ts (status, metric, Catch) and lib/influx/query-storage.ts (no storage).
import assert from "node:assert/strict";
import { PlugwatchError } from "../../lib/contracts/errors";
import { queryOutcome, SERVER_SIDE } from "../../lib/influx/query-outcome";
import { queryStorage } from "../../lib/influx/query-storage";
import { NO_ROLLUPS } from "../../lib/influx/resolution";

describe("query node glue", () => {
  it("an answered query: green status with its time, no error for Catch", () => {
    assert.deepEqual(queryOutcome("energy", { ok: true }, 42), { result: "ok", kind: "ok", text: "energy 42 ms" });
  });

  it("a client's mistake: yellow status with the code, nothing for Catch", () => {
    const out = queryOutcome("range", { ok: false, error: { code: "INVALID_REQUEST", message: "bad from" } }, 3);
    assert.deepEqual(out, { result: "INVALID_REQUEST", kind: "warn", text: "range: INVALID_REQUEST" });
  });

  it("a storage failure: red status and the coded error for Catch", () => {
    const out = queryOutcome("range", { ok: false, error: { code: "STORAGE_UNAVAILABLE", message: "influxd down" } }, 3);
    assert.equal(out.kind, "error");
    assert.equal(out.text, "range: STORAGE_UNAVAILABLE");
    assert.ok(out.error instanceof PlugwatchError);
    assert.equal(out.error.code, "STORAGE_UNAVAILABLE");
    assert.equal(out.error.message, "influxd down");
    for (const code of ["TIMEOUT", "INTERNAL", "REGISTRY_INVALID", "TARIFF_INVALID"]) assert.ok(SERVER_SIDE.has(code), code);
    assert.ok(!SERVER_SIDE.has("LIMIT_EXCEEDED"));
  });

  it("a reply without an error body still says something", () => {
    assert.deepEqual(queryOutcome("cost", { ok: false }, 1), { result: "error", kind: "warn", text: "cost: error" });
  });

  it("without a usable InfluxDB config node every statement fails STORAGE_UNAVAILABLE, and only raw readings are known", async () => {
    const signal = new AbortController().signal;
    for (const influx of [undefined, {}]) {
      const storage = queryStorage(influx, { timeoutMs: 1000, signal }, () => "no plugwatch-influx node selected");
      await assert.rejects(
        storage.run({ text: "SELECT 1", params: {} }),
        (err: unknown) => err instanceof PlugwatchError && err.code === "STORAGE_UNAVAILABLE" && err.message === "no plugwatch-influx node selected",
      );
      assert.equal(storage.rollups.enabled, false);
      assert.deepEqual(storage.rollups, NO_ROLLUPS);
    }
  });
});
