// Unit tests for lib/api/access.ts: the http-api node's authenticator and /metrics guard from its mode and credentials.
import assert from "node:assert/strict";
import { apiAccess } from "../../lib/api/access";
import { TokenConfigError } from "../../lib/api/auth";

const READ = "read-token-0123456789";

describe("REST API access from the node's credentials", () => {
  it("tokens mode: one token per line, /metrics open without a metrics token", () => {
    const { auth, metrics } = apiAccess("tokens", { tokens: `${READ} read\n` });
    assert.equal(auth.enabled, true);
    assert.equal(auth.tokenCount, 1);
    assert.equal(metrics.guarded, false);
  });

  it("none mode: no check even when tokens are saved; a metrics token still guards /metrics", () => {
    const { auth, metrics } = apiAccess("none", { tokens: `${READ} read`, metricsToken: "metrics-token-0123456789" });
    assert.equal(auth.enabled, false);
    assert.equal(auth.tokenCount, 0);
    assert.equal(metrics.guarded, true);
  });

  it("no credentials at all: tokens mode with no token", () => {
    assert.equal(apiAccess("tokens", undefined).auth.tokenCount, 0);
  });

  it("a short token is a TokenConfigError that names the entry, never the token", () => {
    assert.throws(
      () => apiAccess("tokens", { tokens: "short-secret read" }),
      (err: unknown) => err instanceof TokenConfigError && /line 1/.test(err.message) && !err.message.includes("short-secret"),
    );
  });
});
