// The stack of the query component's cache e2e tests: influxd, Mosquitto and a real Node-RED running the storage flow
// (scripts/harness/storage-flow.ts) with rollups on; an MQTT client that asks plugwatch-influx-query and waits for its
// reply; direct writes into a tier; and the same query code without any cache, in this process, to compare with.
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { DeviceEntry, QueryReply } from "../../lib/contracts";
import { InfluxHttp } from "../../lib/influx/http";
import { influxRunner, QueryService } from "../../lib/influx/query-service";
import { TIER_RP } from "../../lib/influx/rollup-schema";
import { DEFAULT_SETTINGS } from "../../lib/influx/settings";
import type { Registry } from "../../lib/registry";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { startNodeRed, type NodeRedInstance } from "../../scripts/harness/nodered";
import { connectClient, startBroker, uniqueRoot, type Teardown } from "../../scripts/harness/services";
import { storageFlow } from "../../scripts/harness/storage-flow";
import { eventually } from "../../scripts/harness/wait";
import { ROLLUPS } from "./cost-fixtures";

export interface QueryNodeStack {
  root: string;
  influxd: InfluxdInstance;
  red: NodeRedInstance;
  client: MqttClient;
  /** The same query code with the same tiers and no cache (the answer the node's must equal). */
  uncached: QueryService;
  /** Publishes a query request to the node and resolves with its reply. */
  ask(query: Record<string, unknown>, timeoutMs?: number): Promise<QueryReply>;
  /** Writes line protocol (ms precision) straight into a retention policy of the database, behind the pipeline's back. */
  write(lines: string[], rp: string): Promise<void>;
}

/**
 * Starts everything (registered on `td`) once the config node has created the tiers and the node answers. `registryDoc`
 * replaces the flow's registry document (default: `{ devices }`); `registry` is the same for the uncached service.
 */
export async function startQueryNodeStack(
  td: Teardown,
  o: { db: string; rootPrefix: string; devices: DeviceEntry[]; registry: Registry; registryDoc?: unknown },
): Promise<QueryNodeStack> {
  const root = uniqueRoot(o.rootPrefix);
  const influxd = td.add(await startInfluxd(), (i) => i.destroy());
  const broker = await startBroker(td, "mosquitto");
  const red = td.add(await startNodeRed(), (r) => r.stop());
  const flow = storageFlow({ root, mqttPort: broker.port, influxUrl: influxd.url, database: o.db, devices: o.devices, timeoutMs: 20_000 }).map((n) => {
    if (n.id === "influx") return { ...n, rollups: true };
    if (n.id === "registry" && o.registryDoc !== undefined) return { ...n, json: JSON.stringify(o.registryDoc) };
    if (n.id === "query") return { ...n, timeout: 20_000 };
    return n;
  });
  await red.deploy(flow);
  // The config node creates the database, the tiers (plugwatch_raw the default) and the CQs (the CQ service is off).
  await eventually(
    "the retention tiers",
    async () => (await influxd.query(`SHOW RETENTION POLICIES ON ${o.db}`)).results[0]?.series?.[0]?.values ?? [],
    (rows) => rows.some((v) => v[0] === TIER_RP.raw && v[4] === true) && rows.some((v) => v[0] === TIER_RP["1m"]) && rows.some((v) => v[0] === TIER_RP["1h"]),
    { timeoutMs: 15_000, context: () => red.logTail(30) },
  );
  const settings = { ...DEFAULT_SETTINGS, url: influxd.url, database: o.db, timeoutMs: 20_000 };
  const http = td.add(new InfluxHttp(settings), (h) => h.close());
  const uncached = new QueryService({ run: influxRunner({ settings, http }), registry: () => o.registry, rollups: ROLLUPS });

  const client = await connectClient(td, broker.url);
  const waiters = new Map<string, (r: QueryReply) => void>();
  client.on("message", (_topic, payload) => {
    const reply = JSON.parse(payload.toString()) as QueryReply;
    waiters.get(reply.id)?.(reply);
  });
  await client.subscribeAsync(`${root}/api/reply/t/#`, { qos: 1 });
  let seq = 0;
  const ask = (query: Record<string, unknown>, timeoutMs = 20_000): Promise<QueryReply> => {
    const id = `${o.rootPrefix}-${++seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${id}`)), timeoutMs);
      waiters.set(id, (r) => {
        clearTimeout(timer);
        waiters.delete(id);
        resolve(r);
      });
      client.publish(`${root}/api/request/query`, JSON.stringify({ v: 1, id, replyTo: `${root}/api/reply/t/${id}`, query }), { qos: 1 });
    });
  };
  const write = async (lines: string[], rp: string): Promise<void> => {
    for (let i = 0; i < lines.length; i += 5000) {
      const r = await fetch(`${influxd.url}/write?db=${o.db}&precision=ms&rp=${rp}`, { method: "POST", body: lines.slice(i, i + 5000).join("\n") });
      assert.equal(r.status, 204, await r.text());
    }
  };
  await eventually(
    "the flow's MQTT subscriptions",
    () => ask({ type: "latest", all: true }, 1000),
    (r) => r.ok,
    { timeoutMs: 15_000 },
  );
  return { root, influxd, red, client, uncached, ask, write };
}
