// An ApiService for unit tests: root "t", base path /api/v1, no tokens, open /health and /openapi.json; the
// registry, broker, reply timeout and clock come from the test.
import { Authenticator } from "../../lib/api/auth";
import { Correlator } from "../../lib/api/correlator";
import { ApiService, type BrokerPort } from "../../lib/api/service";
import { ApiState } from "../../lib/api/state";
import type { Registry } from "../../lib/registry";

export function testApiService(o: { registry: Registry; broker: BrokerPort; timeoutMs?: number; now?: () => number }): ApiService {
  return new ApiService({
    root: "t",
    basePath: "/api/v1",
    registry: () => o.registry,
    broker: o.broker,
    correlator: new Correlator({ timeoutMs: o.timeoutMs ?? 10_000 }),
    state: new ApiState({ root: "t" }),
    auth: new Authenticator([], false),
    replyTopic: "t/api/reply/x",
    inactiveAfterDays: 30,
    openHealth: true,
    openSpec: true,
    ...(o.now ? { now: o.now } : {}),
  });
}
