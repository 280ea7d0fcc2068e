// plugwatch-sse in the real Node-RED 5 runtime with the package's settings.js (context stores configured): the
// snapshot (latest event per topic) outlives a full redeploy, so a page opened right after a deploy sees every device
// at once instead of an empty table until the next readings.
import assert from "node:assert/strict";
import { startNodeRed, type FlowNode, type NodeRedInstance } from "../../scripts/harness/nodered";
import { mustOpenSse } from "../support/sse-client";
import { nth } from "../support/checked";

const inject = (id: string, topic: string, payload: string, y: number): FlowNode => ({
  id,
  type: "inject",
  z: "t1",
  x: 120,
  y,
  props: [{ p: "payload" }, { p: "topic", vt: "str" }],
  topic,
  payload,
  payloadType: "json",
  repeat: "",
  once: false,
  wires: [["sse"]],
});

const flows = (maxClients: string): FlowNode[] => [
  { id: "t1", type: "tab", label: "live" },
  inject("in-a", "ws-1", '{"w":11}', 40),
  inject("in-b", "ws-2", '{"w":22}', 80),
  {
    id: "sse",
    type: "plugwatch-sse",
    z: "t1",
    x: 320,
    y: 60,
    name: "",
    path: "/live",
    event: "reading",
    maxClients,
    heartbeatS: "0",
    history: "16",
    wires: [],
  },
];

describe("plugwatch-sse across a redeploy (real Node-RED)", function () {
  this.timeout(60_000);
  let red: NodeRedInstance;
  before(async () => {
    red = await startNodeRed({ flows: flows("4") });
  });
  after(async () => red?.stop());

  it("serves the previous deploy's snapshot to a client of the new deploy", async function () {
    for (const id of ["in-a", "in-b"]) assert.equal((await red.request(`/inject/${id}`, { method: "POST" })).status, 200);
    const before = await mustOpenSse(`${red.url}/live`);
    await before.until("both readings", () => before.events.length >= 2 || undefined);
    before.destroy();

    await red.deploy(flows("5")); // a changed setting: the node is stopped and started again, with a new hub
    await red.waitForLog(/2 snapshot entries kept from the previous deploy/, 10_000); // logged by the new node once restored
    const after = await mustOpenSse(`${red.url}/live`);
    await after.until("the kept snapshot", () => after.events.length >= 2 || undefined);
    assert.deepEqual(
      after.events.map((e) => [e.event, e.data]),
      [
        ["reading", '{"w":11}'],
        ["reading", '{"w":22}'],
      ],
    );
    assert.notEqual(nth(after.events, 0).id?.split("-")[0], nth(before.events, 0).id?.split("-")[0], "ids of the new hub (a new epoch)");
    after.destroy();
  });
});
