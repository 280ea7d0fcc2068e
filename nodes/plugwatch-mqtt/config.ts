// plugwatch-mqtt: the saved config parsed into connection settings, with translated errors.
import { randomBytes } from "node:crypto";
import { ConfigError, type ParseEnv } from "../shared/kit";
import type { PlugwatchMqttNodeDef } from "./types";

export interface MqttNodeConfig {
  host: string;
  port: number;
  /** TLS on; `tlsNode` is the optional tls-config node id (none: system CAs, certificates verified). */
  useTls: boolean;
  tlsNode: string | undefined;
  clientId: string;
  keepaliveS: number;
  protocolVersion: 4 | 5;
}

export const generatedClientId = (): string => `plugwatch_${randomBytes(4).toString("hex")}`;

function integer(value: unknown, min: number, max: number): number | undefined {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

export function parseMqttConfig(def: PlugwatchMqttNodeDef, { t }: Pick<ParseEnv, "t">): MqttNodeConfig {
  const host = typeof def.broker === "string" && def.broker.trim() !== "" ? def.broker.trim() : "127.0.0.1";
  // A host name, an IPv4 address or an IPv6 address (no scheme, no port, no spaces).
  if (!/^[A-Za-z0-9._:-]+$/.test(host)) throw new ConfigError(t("errors.host", { host }));
  const port = integer(def.port ?? 1883, 1, 65535);
  if (port === undefined) throw new ConfigError(t("errors.port", { port: String(def.port) }));
  const keepaliveS = integer(def.keepalive ?? 60, 0, 65535);
  if (keepaliveS === undefined) throw new ConfigError(t("errors.keepalive", { keepalive: String(def.keepalive) }));
  const version = integer(def.protocolVersion ?? 4, 4, 5);
  if (version !== 4 && version !== 5) throw new ConfigError(t("errors.protocolVersion", { version: String(def.protocolVersion) }));
  const id = typeof def.clientid === "string" ? def.clientid.trim() : "";
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a client id must not hold
  if (id.length > 256 || /[\u0000-\u001f]/.test(id)) throw new ConfigError(t("errors.clientid"));
  const useTls = def.usetls === true || String(def.usetls) === "true";
  return { host, port, useTls, tlsNode: useTls && def.tls ? def.tls : undefined, clientId: id || generatedClientId(), keepaliveS, protocolVersion: version };
}
