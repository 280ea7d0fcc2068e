// scripts/services/node-red-url.ts: the base URL npm start probes and prints follows settings.js's variables.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { nodeRedBase, probeStatus } from "../../scripts/services/node-red-url";

describe("npm start: where Node-RED answers (scripts/services/node-red-url.ts)", () => {
  it("defaults to http on loopback port 1880", () => {
    assert.equal(nodeRedBase({}), "http://127.0.0.1:1880");
  });

  it("https when PLUGWATCH_HTTPS_KEY is set, on the configured PORT", () => {
    assert.equal(nodeRedBase({ PLUGWATCH_HTTPS_KEY: "/etc/k.pem", PORT: "8443" }), "https://127.0.0.1:8443");
  });

  it("a specific listen address is probed there; wildcards are reached on loopback; IPv6 in brackets", () => {
    assert.equal(nodeRedBase({ PLUGWATCH_HOST: "10.214.1.1", PORT: "1880" }), "http://10.214.1.1:1880");
    assert.equal(nodeRedBase({ PLUGWATCH_HOST: "0.0.0.0" }), "http://127.0.0.1:1880");
    assert.equal(nodeRedBase({ PLUGWATCH_HOST: "::" }), "http://[::1]:1880");
    assert.equal(nodeRedBase({ PLUGWATCH_HOST: "fd00::5", PLUGWATCH_HTTPS_KEY: "k" }), "https://[fd00::5]:1880");
  });

  it("probeStatus: the status of a live server, undefined when nothing listens", async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 401;
      res.end("no");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    try {
      assert.equal(await probeStatus(`http://127.0.0.1:${port}/settings`, 2000), 401);
    } finally {
      await new Promise((r) => server.close(r));
    }
    assert.equal(await probeStatus(`http://127.0.0.1:${port}/settings`, 2000), undefined);
  });
});
