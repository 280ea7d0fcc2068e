// The newer TP-Link discovery (UDP 20002): finds KLAP Kasa plugs and Tapo plugs, with model, MAC and protocol.
//
// Query: a 16-byte header — version 2, message type 0, op code 1 (u16), payload size (u16), flags 17, padding 0,
// a serial (u32) and a CRC-32 of the whole datagram computed with 0x5A6B7C8D in its own place — followed by the
// JSON {"params":{"rsa_key":"<PEM public key>"}}. Reply: the same header, then {"error_code":0,"result":{…}} with
// device_id, device_model, device_type (IOT.* = Kasa JSON, SMART.* = Tapo), mac, ip and mgt_encrypt_schm
// {encrypt_type "KLAP" | "AES", http_port, is_support_https}.
import * as dgram from "node:dgram";
import { generateKeyPairSync, randomInt } from "node:crypto";
import type { Protocol } from "../contracts/device";
import { PlugwatchError } from "../contracts/errors";
import { itemAt } from "../arrays";

export const DISCOVERY_PORT_20002 = 20002;
const CRC_PLACEHOLDER = 0x5a6b7c8d;
const HEADER = 16;

let crcTable: Uint32Array | undefined;
/** CRC-32 (IEEE), as zlib computes it. */
export function crc32(buf: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of buf) crc = itemAt(crcTable, (crc ^ b) & 0xff) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A datagram: header + JSON payload, with its CRC. */
export function frame(payload: object, serial: number): Buffer {
  const body = Buffer.from(JSON.stringify(payload), "utf8");
  const out = Buffer.alloc(HEADER + body.length);
  out.writeUInt8(2, 0);
  out.writeUInt8(0, 1);
  out.writeUInt16BE(1, 2);
  out.writeUInt16BE(body.length, 4);
  out.writeUInt8(17, 6);
  out.writeUInt8(0, 7);
  out.writeUInt32BE(serial >>> 0, 8);
  out.writeUInt32BE(CRC_PLACEHOLDER, 12);
  body.copy(out, HEADER);
  out.writeUInt32BE(crc32(out), 12);
  return out;
}

/** The payload of a datagram; undefined when it is not a valid frame (short, wrong size or CRC). */
export function unframe(buf: Buffer): unknown {
  if (buf.length < HEADER || buf.readUInt8(0) !== 2) return undefined;
  if (buf.readUInt16BE(4) !== buf.length - HEADER) return undefined;
  const copy = Buffer.from(buf);
  copy.writeUInt32BE(CRC_PLACEHOLDER, 12);
  if (crc32(copy) !== buf.readUInt32BE(12)) return undefined;
  try {
    return JSON.parse(buf.subarray(HEADER).toString("utf8"));
  } catch {
    return undefined;
  }
}

/** A plug found by the newer discovery. */
export interface DiscoveredKlapPlug {
  host: string;
  /** HTTP port of its KLAP endpoint (80, or 4433 with TLS). */
  port: number;
  model: string;
  mac: string;
  deviceId: string;
  deviceType: string;
  /** What the registry should say; undefined when Plugwatch cannot talk to it (Tapo securePassthrough, "AES"). */
  protocol?: Exclude<Protocol, "auto" | "legacy">;
  encryptType: string;
  https: boolean;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseDiscoveryReply(buf: Buffer, host: string): DiscoveredKlapPlug | undefined {
  const json = unframe(buf);
  const r = isObj(json) && isObj(json.result) ? json.result : undefined;
  if (!r || typeof r.device_model !== "string" || typeof r.device_type !== "string") return undefined;
  const schm = isObj(r.mgt_encrypt_schm) ? r.mgt_encrypt_schm : {};
  const encryptType = typeof schm.encrypt_type === "string" ? schm.encrypt_type : "";
  const https = schm.is_support_https === true;
  const port = typeof schm.http_port === "number" ? schm.http_port : https ? 4433 : 80;
  const plug: DiscoveredKlapPlug = {
    host,
    port,
    model: r.device_model,
    mac: typeof r.mac === "string" ? r.mac.replace(/-/g, ":").toUpperCase() : "",
    deviceId: typeof r.device_id === "string" ? r.device_id : "",
    deviceType: r.device_type,
    encryptType,
    https,
  };
  if (encryptType === "KLAP") plug.protocol = r.device_type.startsWith("IOT.") ? "klap" : "tapo";
  return plug;
}

let rsaKey: string | undefined;
/** The public key sent in the query (devices want one; the reply's encrypted part is not used here). */
function publicKey(): string {
  rsaKey ??= generateKeyPairSync("rsa", {
    modulusLength: 1024,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  }).publicKey;
  return rsaKey;
}

export interface Discover20002Options {
  broadcast?: string;
  timeoutMs?: number;
  /** Hosts asked directly (unicast). */
  probe?: string[];
  /** Port the plugs listen on (default 20002; tests use another). */
  port?: number;
}

/** Sends the query to the broadcast address and the probed hosts a few times; resolves with every answer by device id. */
export function discover20002(opts: Discover20002Options = {}): Promise<DiscoveredKlapPlug[]> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const port = opts.port ?? DISCOVERY_PORT_20002;
  const query = frame({ params: { rsa_key: publicKey() } }, randomInt(0, 2 ** 31));
  const found = new Map<string, DiscoveredKlapPlug>();
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
    let timer: NodeJS.Timeout | undefined;
    let resend: NodeJS.Timeout | undefined;
    const done = (err?: Error): void => {
      clearTimeout(timer);
      clearInterval(resend);
      socket.close();
      if (err && found.size === 0) reject(new PlugwatchError("DEVICE_UNREACHABLE", `discovery (UDP ${port}) failed: ${err.message}`));
      else resolve([...found.values()]);
    };
    socket.on("message", (msg, rinfo) => {
      const plug = parseDiscoveryReply(msg, rinfo.address);
      if (plug) found.set(plug.deviceId || `${plug.host}:${plug.port}`, plug);
    });
    socket.on("error", (err) => done(err));
    socket.bind(0, () => {
      const targets = [...(opts.broadcast === "" ? [] : [opts.broadcast ?? "255.255.255.255"]), ...(opts.probe ?? [])];
      try {
        socket.setBroadcast(true);
      } catch {
        // Not fatal: unicast probes still work.
      }
      const send = (): void => {
        for (const t of targets) socket.send(query, port, t, () => undefined);
      };
      send();
      resend = setInterval(send, Math.max(250, Math.floor(timeoutMs / 3)));
      timer = setTimeout(() => done(), timeoutMs);
    });
  });
}
