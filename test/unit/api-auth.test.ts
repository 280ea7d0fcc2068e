// Unit tests of bearer-token auth: token list parsing, 401/403, scopes, nothing secret in messages.
import assert from "node:assert/strict";
import { Authenticator, parseTokens, TokenConfigError } from "../../lib/api/auth";
import { ApiError } from "../../lib/api/problem";

const READ = "read-token-0123456789";
const CTRL = "ctrl-token-0123456789";

function status(fn: () => void): number | "ok" {
  try {
    fn();
    return "ok";
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return err.status;
  }
}

describe("api auth", () => {
  it("parses the JSON list and the line format", () => {
    assert.deepEqual(
      parseTokens(
        JSON.stringify([
          { token: READ, scopes: ["read"] },
          { token: CTRL, scopes: ["read", "control", "read"] },
        ]),
      ),
      [
        { token: READ, scopes: ["read"] },
        { token: CTRL, scopes: ["read", "control"] },
      ],
    );
    assert.deepEqual(parseTokens(`# comment\n${READ} read\n\n${CTRL}   read,control\n`), [
      { token: READ, scopes: ["read"] },
      { token: CTRL, scopes: ["read", "control"] },
    ]);
    assert.deepEqual(parseTokens("  "), []);
  });
  it("refuses short tokens, bad scopes, duplicates and bad JSON without echoing the token", () => {
    const cases = [
      "short read",
      `${READ} admin`,
      `${READ}`,
      `${READ} read\n${READ} control`,
      '[{"token":',
      "{}",
      `${READ} read name extra`,
      `${READ} read bad/name`,
    ];
    for (const text of cases) {
      assert.throws(
        () => parseTokens(text),
        (e: unknown) => e instanceof TokenConfigError && !e.message.includes(READ) && !e.message.includes("short"),
        text,
      );
    }
  });
  it("401 without or with an unknown token (with a Bearer challenge), 403 with the wrong scope", () => {
    const auth = new Authenticator(parseTokens(`${READ} read\n${CTRL} read,control`));
    assert.equal(
      status(() => auth.check(undefined, "read")),
      401,
    );
    assert.equal(
      status(() => auth.check("Basic abc", "read")),
      401,
    );
    assert.equal(
      status(() => auth.check("Bearer wrong-token-0123456789", "read")),
      401,
    );
    assert.equal(
      status(() => auth.check(`Bearer ${READ}`, "read")),
      "ok",
    );
    assert.equal(
      status(() => auth.check(`bearer ${READ}`, "read")),
      "ok",
    );
    assert.equal(
      status(() => auth.check(`Bearer ${READ}`, "control")),
      403,
    );
    assert.equal(
      status(() => auth.check(`Bearer ${CTRL}`, "control")),
      "ok",
    );
    assert.equal(
      status(() => auth.check(undefined, "open")),
      "ok",
    );
    try {
      auth.check(undefined, "read");
    } catch (err) {
      assert.match((err as ApiError).headers?.["WWW-Authenticate"] ?? "", /^Bearer realm="plugwatch"/);
    }
    try {
      auth.check(`Bearer ${READ}`, "control");
    } catch (err) {
      assert.match((err as ApiError).headers?.["WWW-Authenticate"] ?? "", /insufficient_scope/);
      assert.doesNotMatch((err as ApiError).message, new RegExp(READ));
    }
  });
  it("no tokens configured: every protected endpoint is refused; disabled auth lets everything through", () => {
    assert.equal(
      status(() => new Authenticator([]).check(`Bearer ${READ}`, "read")),
      401,
    );
    assert.equal(
      status(() => new Authenticator([], false).check(undefined, "control")),
      "ok",
    );
  });
});
