// The newer discovery (UDP 20002 framing) against simulated KLAP/Tapo plugs, each on its own loopback address.
import assert from "node:assert/strict";
import type { Device } from "../../lib/contracts/device";
import { discover, toRegistryDrafts } from "../../lib/discovery";
import { crc32, discover20002, frame, parseDiscoveryReply, unframe } from "../../lib/transports/discovery-20002";
import { SimulatedOffice } from "../../scripts/sim/office";
import { freePort } from "../../scripts/harness/ports";

const loc = { building: "hq", floor: "1", room: "r" };

describe("newer discovery (UDP 20002 framing)", function () {
  it("frames: header fields, size and a CRC-32 computed over the datagram with 0x5A6B7C8D in its place", function () {
    assert.equal(crc32(Buffer.from("123456789")), 0xcbf43926);
    const f = frame({ params: { rsa_key: "k" } }, 0x01020304);
    assert.deepEqual([f[0], f[1], f.readUInt16BE(2), f.readUInt16BE(4), f[6], f[7], f.readUInt32BE(8)], [2, 0, 1, f.length - 16, 17, 0, 0x01020304]);
    const copy = Buffer.from(f);
    copy.writeUInt32BE(0x5a6b7c8d, 12);
    assert.equal(f.readUInt32BE(12), crc32(copy));
    assert.deepEqual(unframe(f), { params: { rsa_key: "k" } });
    const bad = Buffer.from(f);
    bad.writeUInt8(bad.readUInt8(20) ^ 1, 20);
    assert.equal(unframe(bad), undefined, "a corrupted datagram is ignored");
    assert.equal(unframe(f.subarray(0, 10)), undefined);
  });

  it("maps a reply: Kasa over KLAP → klap, Tapo over KLAP → tapo, Tapo AES (securePassthrough) → no protocol", function () {
    const reply = (type: string, enc: string) =>
      frame(
        {
          error_code: 0,
          result: {
            device_id: "x",
            device_model: "P110(EU)",
            device_type: type,
            mac: "48-22-54-00-00-01",
            mgt_encrypt_schm: { encrypt_type: enc, http_port: 80, is_support_https: false },
          },
        },
        1,
      );
    assert.equal(parseDiscoveryReply(reply("IOT.SMARTPLUGSWITCH", "KLAP"), "10.0.0.1")?.protocol, "klap");
    const tapo = parseDiscoveryReply(reply("SMART.TAPOPLUG", "KLAP"), "10.0.0.2");
    assert.deepEqual([tapo?.protocol, tapo?.mac, tapo?.port, tapo?.host], ["tapo", "48:22:54:00:00:01", 80, "10.0.0.2"]);
    assert.equal(parseDiscoveryReply(reply("SMART.TAPOPLUG", "AES"), "10.0.0.3")?.protocol, undefined);
  });

  describe("against the simulated office", function () {
    let office: SimulatedOffice;
    let udpPort: number;
    const hosts: [string, string, string] = ["127.0.0.81", "127.0.0.82", "127.0.0.83"];
    before(async function () {
      udpPort = await freePort();
      const devices: Device[] = [
        { id: "k1", name: "K1", model: "KP115", host: hosts[0], port: 0, kind: "workplace", location: loc, protocol: "klap" },
        { id: "t1", name: "T1", model: "P110", host: hosts[1], port: 0, kind: "workplace", location: loc, protocol: "tapo" },
        ...Array.from({ length: 6 }, (_, i): Device => ({
          id: `s-${i + 1}`,
          name: `S ${i + 1}`,
          model: "HS300",
          host: hosts[2],
          port: 0,
          kind: "workplace",
          location: loc,
          protocol: "klap",
          strip: { id: "s", index: i },
        })),
      ];
      office = await SimulatedOffice.start(devices, { portFor: () => 0, tickMs: 0, klapAddressFor: (d) => d.host, klapDiscoveryPort: udpPort });
    });
    after(async function () {
      await office?.stop();
    });

    it("finds every KLAP/Tapo plug by unicast probe with model, MAC, port and protocol", async function () {
      const found = await discover20002({ broadcast: "", probe: hosts, timeoutMs: 400, port: udpPort });
      const byHost = new Map(found.map((f) => [f.host, f]));
      assert.equal(found.length, 3);
      assert.deepEqual([byHost.get(hosts[0])?.model, byHost.get(hosts[0])?.protocol, byHost.get(hosts[0])?.port], ["KP115(EU)", "klap", office.port("k1")]);
      assert.deepEqual([byHost.get(hosts[1])?.model, byHost.get(hosts[1])?.protocol], ["P110(EU)", "tapo"]);
      assert.equal(byHost.get(hosts[2])?.model, "HS300(EU)");
      assert.match(byHost.get(hosts[1])?.mac ?? "", /^50:C7:BF(:[0-9A-F]{2}){3}$/);
      for (const k of office.klap) assert.ok(k.discoveryQueries >= 1);
    });

    it("the combined discovery drafts registry entries with the protocol and port", async function () {
      const plugs = await discover({ broadcast: "127.255.255.255", timeoutMs: 400, probe: hosts.map((host) => ({ host, port: 9999 })), klapPort: udpPort });
      const drafts = toRegistryDrafts(plugs);
      const tapo = drafts.find((d) => d.host === hosts[1]);
      assert.equal(tapo?.protocol, "tapo");
      assert.equal(tapo?.model, "P110");
      assert.equal(tapo?.port, office.port("t1"));
      assert.equal(drafts.find((d) => d.host === hosts[0])?.protocol, "klap");
    });
  });
});
