// Request coalescing: identical in-flight statements share one call; different ones and later ones do not.
import assert from "node:assert/strict";
import { coalesce, statementKey } from "../../lib/influx/coalesce";
import type { Statement } from "../../lib/influx/query-builder";
import { nth } from "../support/checked";

/** A runner whose calls stay pending until the test settles them. */
function controlledRunner() {
  const calls: { stmt: Statement; resolve: (v: string[]) => void; reject: (e: Error) => void }[] = [];
  const run = (stmt: Statement) => new Promise<string[]>((resolve, reject) => calls.push({ stmt, resolve, reject }));
  return { run, calls };
}

const S = (text: string, params: Record<string, string> = {}): Statement => ({ text, params });

describe("influx query coalescing", function () {
  it("keys a statement by text and parameters, independent of parameter order", function () {
    assert.equal(statementKey(S("SELECT 1", { a: "1", b: "2" })), statementKey(S("SELECT 1", { b: "2", a: "1" })));
    assert.notEqual(statementKey(S("SELECT 1", { a: "1" })), statementKey(S("SELECT 1", { a: "2" })));
    assert.notEqual(statementKey(S("SELECT 1")), statementKey(S("SELECT 2")));
  });

  it("identical statements in flight share one call and its result", async function () {
    const { run, calls } = controlledRunner();
    const c = coalesce(run);
    const a = c(S("SELECT mean(power)", { d0: "ws-1" }));
    const b = c(S("SELECT mean(power)", { d0: "ws-1" }));
    const other = c(S("SELECT mean(power)", { d0: "ws-2" }));
    assert.equal(calls.length, 2);
    assert.equal(c.inFlight, 2);
    nth(calls, 0).resolve(["r1"]);
    nth(calls, 1).resolve(["r2"]);
    assert.deepEqual(await a, ["r1"]);
    assert.equal(await b, await a, "the same result object");
    assert.deepEqual(await other, ["r2"]);
    assert.equal(c.inFlight, 0);
  });

  it("does not cache: an identical statement after the call settled goes to the database again", async function () {
    const { run, calls } = controlledRunner();
    const c = coalesce(run);
    const first = c(S("SELECT 1"));
    nth(calls, 0).resolve(["old"]);
    await first;
    const second = c(S("SELECT 1"));
    assert.equal(calls.length, 2);
    nth(calls, 1).resolve(["new"]);
    assert.deepEqual(await second, ["new"]);
  });

  it("shares a failure with every waiting caller, then forgets it", async function () {
    const { run, calls } = controlledRunner();
    const c = coalesce(run);
    const a = c(S("SELECT 1"));
    const b = c(S("SELECT 1"));
    nth(calls, 0).reject(new Error("shard is disabled"));
    await assert.rejects(a, /shard is disabled/);
    await assert.rejects(b, /shard is disabled/);
    assert.equal(c.inFlight, 0);
    const again = c(S("SELECT 1"));
    nth(calls, 1).resolve(["ok"]);
    assert.deepEqual(await again, ["ok"]);
  });
});
