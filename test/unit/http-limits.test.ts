import { strict as assert } from "node:assert";
import { createServer } from "node:http";
import { applyHttpLimits, DEFAULT_HTTP_LIMITS, parseHttpLimits } from "../../lib/http-limits";

describe("HTTP server limits (settings.js plugwatch.httpServer)", function () {
  it("defaults when nothing is set, overrides per key, and `false` turns them off", function () {
    assert.deepEqual(parseHttpLimits({}), DEFAULT_HTTP_LIMITS);
    assert.deepEqual(parseHttpLimits({ plugwatch: { httpServer: { idleTimeoutMs: 6000 } } }), { ...DEFAULT_HTTP_LIMITS, idleTimeoutMs: 6000 });
    assert.equal(parseHttpLimits({ plugwatch: { httpServer: false } }), undefined);
  });

  it("names the bad key or value", function () {
    assert.throws(() => parseHttpLimits({ plugwatch: { httpServer: { idle: 1 } } }), /httpServer\.idle: unknown/);
    assert.throws(() => parseHttpLimits({ plugwatch: { httpServer: { requestTimeoutMs: -1 } } }), /requestTimeoutMs: must be an integer/);
    assert.throws(() => parseHttpLimits({ plugwatch: { httpServer: { headersTimeoutMs: 9000, requestTimeoutMs: 5000 } } }), /must not exceed/);
    assert.throws(() => parseHttpLimits({ plugwatch: { httpServer: "fast" } }), /must be an object or false/);
    assert.throws(() => parseHttpLimits({ plugwatch: { httpServer: { idleTimeoutMs: 2000 } } }), /keepAliveTimeoutMs must be below idleTimeoutMs/);
  });

  it("sets the server's timeouts once per server", function () {
    const server = createServer();
    assert.equal(server.timeout, 0, "Node's default: idle sockets are never closed");
    assert.equal(applyHttpLimits(server, { idleTimeoutMs: 1000, headersTimeoutMs: 2000, requestTimeoutMs: 3000, keepAliveTimeoutMs: 4000 }), true);
    assert.deepEqual([server.timeout, server.headersTimeout, server.requestTimeout, server.keepAliveTimeout], [1000, 2000, 3000, 4000]);
    assert.equal(applyHttpLimits(server, DEFAULT_HTTP_LIMITS), false);
    assert.equal(server.timeout, 1000);
  });
});
