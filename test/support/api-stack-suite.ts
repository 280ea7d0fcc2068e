// Mocha hooks for a suite on one API stack (scripts/harness/api-stack.ts): started before its tests, torn down after
// them, and after each test no answer may have broken the served OpenAPI document.
import assert from "node:assert/strict";
import { startApiStack, type ApiStack, type ApiStackOptions } from "../../scripts/harness/api-stack";
import { Teardown, type BrokerKind } from "../../scripts/harness/services";

/** Registers the hooks in the calling `describe`; `use` receives the started stack. */
export function apiStackSuite(kind: BrokerKind, opts: ApiStackOptions, use: (s: ApiStack) => void): void {
  const td = new Teardown();
  let stack: ApiStack | undefined;
  before(async function () {
    stack = await startApiStack(td, kind, opts);
    use(stack);
  });
  after(async function () {
    await td.run();
  });
  afterEach(function () {
    assert.deepEqual(stack?.violations, [], "answers that break the OpenAPI document");
  });
}
