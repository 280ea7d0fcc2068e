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
import { lastOf } from "../support/checked";

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

/**
 * When each plug answered an emeter poll (the simulator's own 'response' events). A reading exists only for a poll the
 * plug answered, so the check below does not depend on the collector keeping its cadence on a loaded machine: what the
 * outbox must not lose is every answered poll.
 */
function recordAnswers(office: SimulatedOffice): Map<string, number[]> {
  const answered = new Map<string, number[]>();
  for (const plug of office.all) {
    const times: number[] = [];
    answered.set(plug.id, times);
    plug.sim.deviceNetworking.on("response", (r: { time: number; message: unknown }) => {
      const text = typeof r.message === "string" ? r.message : JSON.stringify(r.message);
      if (text.includes("get_realtime")) times.push(r.time);
    });
  }
  return answered;
}

/**
 * Answered polls with no stored reading of their own: each answer takes the first unused reading stamped within
 * [answer - 200 ms, answer + 3 s] (the collector stamps a reading when the answer arrives), one reading per answer.
 */
function unmatched(answers: number[], stored: number[]): number[] {
  const ts = [...stored].sort((a, b) => a - b);
  const used = new Set<number>();
  return [...answers]
    .sort((a, b) => a - b)
    .filter((a) => {
      const k = ts.findIndex((t, i) => !used.has(i) && t >= a - 200 && t <= a + 3000);
      if (k < 0) return true;
      used.add(k);
      return false;
    });
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
      const answered = recordAnswers(office);
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
          return s.size === 4 && [...s.values()].every((t) => t.length > 0 && lastOf(t) >= outageEnd + INTERVAL_MS);
        },
        60_000,
      );

      const s = await stored(influxd, db);
      // Polls answered while Node-RED was stopping or starting may have no reading (the collector was going away).
      const excused = (t: number) => restart !== undefined && t >= restart[0] - 2 * INTERVAL_MS && t <= restart[1] + 10 * INTERVAL_MS;
      for (const [device, ts] of s) {
        const answers = (answered.get(device) ?? []).filter((t) => t > outageStart && t < outageEnd && !excused(t));
        const lost = unmatched(answers, ts);
        const problems = red
          .log()
          .split("\n")
          .filter((l) => /outbox|\[warn\]|\[error\]/.test(l));
        assert.deepEqual(
          lost,
          [],
          `${device}: every poll answered during the outage is stored (restart ${JSON.stringify(restart)})\n${problems.slice(-30).join("\n")}`,
        );
        // The check above must have had polls to check: most of the outage was polled (a loaded machine may skip some).
        const expected = (outageEnd - outageStart - (restart ? restart[1] - restart[0] + 12 * INTERVAL_MS : 0)) / INTERVAL_MS;
        assert.ok(answers.length >= expected * 0.5, `${device}: ${answers.length} polls answered during the outage, expected about ${Math.round(expected)}`);
        const during = ts.filter((t) => t > outageStart && t < outageEnd);
        assert.ok(during.length >= answers.length, `${device}: ${during.length} readings stored from the outage for ${answers.length} answered polls`);
      }
      if (restartNodeRed) assert.match(red.log(), /outbox: \d+ message\(s\) recovered/, "the outbox recovered its backlog from disk after the restart");
    });
  });
}
