// The node kit's small shared helpers: configured(), namedStore(), serveRoute() and subscribeAll() (mqtt-in's register/unsubscribe rule).
import assert from "node:assert/strict";
import { configured, ConfigError } from "../../nodes/shared/kit";
import { namedStore } from "../../nodes/shared/context-slot";
import { serveRoute, type HttpHandler } from "../../nodes/shared/http-mount";
import { subscribeAll } from "../../nodes/shared/broker";
import type { MqttBrokerNode } from "../../nodes/plugwatch-http-api/types";

const t = (key: string, subs?: Record<string, string | number>): string => `${key}${subs ? JSON.stringify(subs) : ""}`;

describe("node kit helpers", function () {
  it("configured: a value passes; a throw becomes a ConfigError with the translated errors.config text", function () {
    assert.equal(
      configured(t, () => 42),
      42,
    );
    assert.throws(
      () =>
        configured(t, () => {
          throw new Error("tokens: line 2: too short");
        }),
      (err: unknown) => err instanceof ConfigError && err.code === "INVALID_REQUEST" && err.message === 'errors.config{"message":"tokens: line 2: too short"}',
    );
  });

  it("namedStore: the store only when settings.js contextStorage defines it", function () {
    assert.equal(namedStore({ file: { module: "localfilesystem" } }, "file"), "file");
    assert.equal(namedStore({ default: { module: "memory" } }, "file"), undefined);
    assert.equal(namedStore(undefined, "file"), undefined);
    assert.equal(namedStore(null, "file"), undefined);
  });

  it("serveRoute: a second node on the same path gets a red status and no unplug function; after unplugging, the path is free", function () {
    const used: string[] = [];
    const app = { use: (p: string) => used.push(p) };
    const errors: string[] = [];
    const statuses: string[] = [];
    const node = { error: (m: unknown) => errors.push(String(m)) };
    const kit = { t, status: { show: (kind: string, key: string) => statuses.push(`${kind}:${key}`) } } as unknown as Parameters<typeof serveRoute>[4];
    const handler: HttpHandler = (_req, _res, next) => next();
    const unplug = serveRoute(app, "/api", handler, node, kit);
    assert.ok(unplug);
    assert.equal(serveRoute(app, "/api", handler, node, kit), undefined);
    assert.deepEqual(statuses, ["error:status.badConfig"]);
    assert.match(errors[0] ?? "", /^errors\.config.*already served by another node/);
    unplug();
    assert.ok(serveRoute(app, "/api", handler, node, kit), "free again after close");
    assert.deepEqual(used, ["/api"], "one dispatcher per path, however many redeploys");
  });

  it("subscribeAll: registers, subscribes each topic at QoS 1, routes messages; on close the own topic always drops, shared ones only when removed", async function () {
    const log: string[] = [];
    const callbacks = new Map<string, (topic: string, payload: Buffer) => void>();
    const broker = {
      register: (u: { id: string }) => log.push(`register ${u.id}`),
      deregister: (u: { id: string }, done: () => void, auto?: boolean) => {
        log.push(`deregister ${u.id} ${String(auto)}`);
        done();
      },
      subscribe: (topic: string, o: { qos: number }, cb: (topic: string, payload: Buffer) => void, ref: string) => {
        log.push(`subscribe ${topic} qos${o.qos} ${ref}`);
        callbacks.set(topic, cb);
      },
      unsubscribe: (topic: string, ref: string, remove?: boolean) => log.push(`unsubscribe ${topic} ${ref} ${String(remove)}`),
    } as unknown as MqttBrokerNode;
    const seen: string[] = [];
    const close = subscribeAll(
      broker,
      { id: "n1", status: () => undefined },
      ["r/reply/x", "r/+/status"],
      (sub, topic, p) => seen.push(`${sub} ${topic} ${p.toString()}`),
      new Set(["r/reply/x"]),
    );
    callbacks.get("r/+/status")?.("r/a/status", Buffer.from("up"));
    assert.deepEqual(seen, ["r/+/status r/a/status up"]);
    await close(false);
    assert.deepEqual(log, [
      "register n1",
      "subscribe r/reply/x qos1 n1",
      "subscribe r/+/status qos1 n1",
      "unsubscribe r/reply/x n1 true",
      "unsubscribe r/+/status n1 false",
      "deregister n1 false",
    ]);
  });
});
