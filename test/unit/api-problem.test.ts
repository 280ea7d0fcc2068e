// Unit tests of problem details (RFC 9457) and the error code → HTTP status map.
import assert from "node:assert/strict";
import { ERROR_CODES, PlugwatchError } from "../../lib/contracts/errors";
import { validate } from "../../lib/contracts/validate";
import { ALL_ERROR_CODES, ApiError, fromReplyError, HTTP_STATUS, Problem, toProblem } from "../../lib/api/problem";

describe("api problem details", () => {
  it("has an HTTP status for every contract and API code", () => {
    for (const code of Object.keys(ALL_ERROR_CODES)) assert.ok(HTTP_STATUS[code as keyof typeof HTTP_STATUS] >= 400, code);
    for (const code of Object.keys(ERROR_CODES)) assert.ok(code in HTTP_STATUS, code);
  });
  it("maps the documented codes", () => {
    const expected: Record<string, number> = {
      INVALID_REQUEST: 400,
      UNKNOWN_DEVICE: 404,
      INVALID_QUERY: 422,
      LIMIT_EXCEEDED: 422,
      STORAGE_UNAVAILABLE: 503,
      TIMEOUT: 504,
      DEVICE_UNREACHABLE: 502,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      PAYLOAD_TOO_LARGE: 413,
      BROKER_UNAVAILABLE: 503,
      BAD_REPLY: 502,
    };
    for (const [code, status] of Object.entries(expected)) assert.equal(HTTP_STATUS[code as keyof typeof HTTP_STATUS], status, code);
  });
  it("builds a valid problem from an ApiError with members and headers", () => {
    const { problem, headers } = toProblem(
      new ApiError("UNAUTHORIZED", "a bearer token is required", { headers: { "WWW-Authenticate": "Bearer" } }),
      "/api/v1/devices",
    );
    assert.deepEqual(problem, {
      type: "urn:plugwatch:problem:UNAUTHORIZED",
      title: "Unauthorized",
      status: 401,
      detail: "a bearer token is required",
      code: "UNAUTHORIZED",
      instance: "/api/v1/devices",
    });
    assert.equal(headers["WWW-Authenticate"], "Bearer");
    assert.ok(validate(Problem, problem).ok);
  });
  it("keeps a PlugwatchError's code and details; hides unknown errors as INTERNAL 500", () => {
    const p = toProblem(new PlugwatchError("LIMIT_EXCEEDED", "too long", [{ path: "$.from", message: "x" }]), "/x").problem;
    assert.equal(p.status, 422);
    assert.deepEqual(p.details, [{ path: "$.from", message: "x" }]);
    const q = toProblem(new Error("secret stack detail"), "/x").problem;
    assert.equal(q.status, 500);
    assert.equal(q.code, "INTERNAL");
    assert.doesNotMatch(q.detail, /secret/);
  });
  it("maps reply errors: storage → 503, unknown device → 404, a contract mismatch → 502", () => {
    assert.equal(fromReplyError({ code: "STORAGE_UNAVAILABLE", message: "down" }, "q1").status, 503);
    assert.equal(fromReplyError({ code: "UNKNOWN_DEVICE", message: "?" }, "q1").status, 404);
    const e = fromReplyError({ code: "INVALID_REQUEST", message: "bad" }, "q1");
    assert.equal(e.status, 502);
    assert.equal(toProblem(e, "/x").problem.requestId, "q1");
  });
});
