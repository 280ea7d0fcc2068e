// A broker outage on the collector → broker leg loses nothing: the collector publishes through its durable outbox
// (lib/outbox.ts via the core mqtt-broker node), keeps every reading polled while the broker is away (also across a
// Node-RED restart), and replays them in order after the reconnect; the hook stores each one in real influxd.
import assert from "node:assert/strict";
import type { DeviceEntry } from "../../lib/contracts";
import { SimulatedOffice } from "../../scripts/sim/office";
import { startInfluxd, type InfluxdInstance } from "../../scripts/harness/influxd";
import { startNodeRed, type NodeRedInstance, type FlowNode } from "../../scripts/harness/nodered";
import { startBroker, Teardown, uniqueRoot, type BrokerKind } from "../../scripts/harness/services";
import { simulatedDevices, storageFlow } from "../../scripts/harness/storage-flow";
import { waitFor } from "../../scripts/harness/wait";

const INTERVAL_MS = 1000;

/** The hook's flow plus a collector that publishes itself through the same broker config node. */
function flow(root: string, mqttPort: number, influxUrl: string, db: string, devices: DeviceEntry[]): FlowNode[] {
  const nodes = storageFlow({ root, mqttPort, influxUrl, database: db, devices, query: false });
  nodes.push({
    id: "collector",
    type: "plugwatch-collector",
    z: "storage-tab",
    x: 100,
    y: 400,
    registry: "registry",
    broker: "broker",
    outboxSize: 16,
    root,
    kind: "",
    building: "",
    floor: "",
    room: "",
    interval: INTERVAL_MS / 1000,
    timeout: 800,
    concurrency: 8,
    offlineAfter: 3,
    wires: [[]],
  });
  return nodes;
}

/** Reading timestamps per device stored in `db`. */
async function stored(influxd: InfluxdInstance, db: string): Promise<Map<string, number[]>> {
  const r = await influxd.query(`SELECT "power" FROM "plug" GROUP BY "device"`, db);
  const out = new Map<string, number[]>();
  for (const s of r.results[0]?.series ?? [])
    out.set(
      s.tags?.device ?? "?",
      s.values.map((v) => v[0] as number),
    );
  return out;
}

/** Gaps between consecutive readings longer than `maxMs` (as [from, to] pairs). */
function gaps(ts: number[], maxMs: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 1; i < ts.length; i++) if (ts[i] - ts[i - 1] > maxMs) out.push([ts[i - 1], ts[i]]);
  return out;
}

for (const [kind, outageMs, restartNodeRed] of [
  ["mosquitto", 60_000, true],
  ["aedes", 20_000, false],
] as [BrokerKind, number, boolean][]) {
  describe(`collector outbox: ${kind} away for ${outageMs / 1000} s${restartNodeRed ? ", Node-RED restarted meanwhile" : ""}`, function () {
    this.timeout(outageMs + 120_000);
    const td = new Teardown();
    after(() => td.run());

    it("stores every reading polled during the outage, once, with no hole but the restart's", async function () {
      const influxd = td.add(await startInfluxd(), (i) => i.stop());
      let broker = await startBroker(td, kind);
      const port = broker.port;
      const base = simulatedDevices(4).map((d) => ({ ...d, port: 0 }));
      const office = td.add(await SimulatedOffice.start(base as never, { portFor: () => 0, tickMs: 1000 }), (o) => o.stop());
      const devices = office.registryDevices().map(({ strip: _s, ...d }) => d as DeviceEntry);
      const root = uniqueRoot("pwobx");
      const db = "outbox";
      const red: NodeRedInstance = td.add(await startNodeRed({ flows: flow(root, port, influxd.url, db, devices) }), (r) => r.stop());

      // Readings flow before the outage.
      await waitFor("readings of every device stored", async () => [...(await stored(influxd, db)).values()].filter((t) => t.length >= 3).length === 4, 30_000);

      const outageStart = Date.now();
      await broker.stop();
      let restart: [number, number] | undefined;
      if (restartNodeRed) {
        await new Promise((r) => setTimeout(r, outageMs / 3));
        const stopAt = Date.now();
        await red.restart();
        restart = [stopAt, Date.now()];
      }
      await new Promise((r) => setTimeout(r, Math.max(0, outageStart + outageMs - Date.now())));
      const outageEnd = Date.now();
      broker = await startBroker(td, kind, { port });

      // Everything polled until the broker came back is stored (the replay drains within seconds).
      await waitFor(
        "readings up to the end of the outage stored for every device",
        async () => {
          const s = await stored(influxd, db);
          return s.size === 4 && [...s.values()].every((t) => t.length > 0 && t[t.length - 1] >= outageEnd + INTERVAL_MS);
        },
        60_000,
      );

      const s = await stored(influxd, db);
      for (const [device, ts] of s) {
        const during = ts.filter((t) => t > outageStart && t < outageEnd);
        const holes = gaps(
          ts.filter((t) => t >= outageStart - 5 * INTERVAL_MS),
          2.5 * INTERVAL_MS,
        ).filter(([a, b]) => !(restart && a >= restart[0] - 2 * INTERVAL_MS && b <= restart[1] + 10 * INTERVAL_MS));
        assert.deepEqual(holes, [], `${device}: no hole in the readings around the outage (restart ${JSON.stringify(restart)})\n${red.logTail(20)}`);
        const expected = (outageEnd - outageStart - (restart ? restart[1] - restart[0] + 10 * INTERVAL_MS : 0)) / INTERVAL_MS;
        assert.ok(
          during.length >= expected * 0.8,
          `${device}: ${during.length} readings stored from the outage, expected about ${Math.round(expected)} or more`,
        );
      }
      if (restartNodeRed) assert.match(red.log(), /outbox: \d+ message\(s\) recovered/, "the outbox recovered its backlog from disk after the restart");
    });
  });
}
