// The embedded MQTT broker of the demo (aedes): private unless configured otherwise. Loopback by default; any other
// address needs a password file; anonymous clients get the read-only role; identities and ACL from ./acl; packets over
// the size limit end the connection before they are buffered.
import * as net from "node:net";
import { Duplex } from "node:stream";
import { AclPolicy, roleOf, type GrantedDevice, type Role } from "./acl";
import { DEFAULT_MAX_PACKET_BYTES, PacketSizeGuard, PacketTooLarge } from "./packet-guard";
import { verifyPassword } from "./passwd";

/** Per-client limits (documented in docs/deployment.md#security-model). */
export const BROKER_LIMITS = {
  /** Messages queued for a client that is not yet connected (aedes `queueLimit`). */
  queueLimit: 100,
  /** Inbound QoS 2 messages in flight per client (aedes `maxInflightInbound`). */
  maxInflightInbound: 100,
  /** Topic levels (aedes `maxTopicLevels`). */
  maxTopicLevels: 32,
  /** Seconds a socket may stay without a CONNECT. */
  connectTimeoutMs: 10_000,
} as const;

export interface EmbeddedBrokerOptions {
  port: number;
  /** Addresses to listen on; default loopback only (127.0.0.1 and ::1 when the host has IPv6). */
  hosts?: string[];
  root: string;
  /** user → `$7$` hash (lib/broker/passwd parsePasswd). Empty: anonymous clients only (read-only). */
  users?: ReadonlyMap<string, string>;
  /** Roles of users whose name is not a role name. */
  roles?: Readonly<Record<string, Role>>;
  /** Anonymous clients allowed (read-only). Default: true on loopback, false otherwise. */
  allowAnonymous?: boolean;
  maxPacketBytes?: number | undefined;
  /**
   * The registry's devices: the collector role may publish only their reading and availability topics (lib/broker/acl
   * AclOptions). Absent: no registry configured, every device topic. An empty list refuses every collector publish.
   */
  collectorDevices?: readonly GrantedDevice[] | undefined;
  /** Called on refused connections, publishes and subscriptions, with a stable code when there is one (rate-limit it at the caller). */
  onRefused?: (what: "connect" | "publish" | "subscribe" | "packet", detail: string, code?: "UNKNOWN_DEVICE") => void;
}

export interface EmbeddedBroker {
  hosts: string[];
  port: number;
  /** Refusals since start, per kind. */
  refused: Record<"connect" | "publish" | "subscribe" | "packet", number>;
  close(): Promise<void>;
}

export const LOOPBACK_HOSTS = ["127.0.0.1", "::1"];
const isLoopback = (h: string): boolean => h === "localhost" || h === "::1" || /^127\./.test(h);

/** The setting that names the bind address and the one that enables authentication (for error messages). */
export const SETTINGS = { hosts: "PLUGWATCH_BROKER_HOST", users: "PLUGWATCH_BROKER_PASSWD" } as const;

/** Parses the bind setting: empty/"loopback" → loopback; else a comma-separated list of addresses. */
export function parseHosts(text: string | undefined): string[] {
  const t = (text ?? "").trim();
  if (!t || t === "loopback") return [...LOOPBACK_HOSTS];
  return t
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
}

/** Throws (with a message naming the settings) when the broker would listen beyond loopback without authentication. */
export function checkExposure(hosts: readonly string[], users: ReadonlyMap<string, string> | undefined, allowAnonymous: boolean | undefined): void {
  const wide = hosts.filter((h) => !isLoopback(h));
  if (wide.length === 0) return;
  if (!users || users.size === 0) {
    throw new Error(
      `the embedded broker would listen on ${wide.join(", ")} without authentication: refused. Set ${SETTINGS.users} to a password file made with mosquitto_passwd (docs/deployment.md#security-model), or set ${SETTINGS.hosts} back to loopback`,
    );
  }
  if (allowAnonymous) throw new Error(`anonymous clients are allowed only on loopback; ${SETTINGS.hosts}=${hosts.join(",")} needs allowAnonymous off`);
}

interface ClientLike {
  id: string;
}

/** Starts aedes behind net servers on each host; rejects (and frees everything) when a listener fails. */
export async function startEmbeddedBroker(o: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const hosts = o.hosts?.length ? o.hosts : [...LOOPBACK_HOSTS];
  checkExposure(hosts, o.users, o.allowAnonymous);
  const allowAnonymous = o.allowAnonymous ?? hosts.every(isLoopback);
  const maxPacketBytes = o.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const refused = { connect: 0, publish: 0, subscribe: 0, packet: 0 };
  const refuse = (what: keyof typeof refused, detail: string, code?: "UNKNOWN_DEVICE"): void => {
    refused[what]++;
    o.onRefused?.(what, detail, code);
  };
  const acl = new AclPolicy(o.root, { collectorDevices: o.collectorDevices });
  // Who each connected client is: its user name and role (anonymous: readonly).
  const who = new WeakMap<object, { user: string; role: Role }>();
  const identity = (c: ClientLike | null): { user: string; role: Role } => (c && who.get(c)) || { user: "", role: "readonly" };

  const sockets = new Set<net.Socket>();
  /** Connections accepted before aedes is loaded; handled once it is (listening starts synchronously, see below). */
  let early: net.Socket[] | undefined = [];
  let handle: (socket: net.Socket) => void = (socket) => early?.push(socket);
  const onSocket = (socket: net.Socket): void => {
    socket.setNoDelay(true); // aedes writes PUBACK and PUBLISH separately: with Nagle each QoS 1 hop waits ~40-90 ms
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    handle(socket);
  };
  // Listen before the first await: Node-RED starts the flow's MQTT clients in the same tick, and a broker that binds
  // later makes them wait a whole reconnect period (5 s).
  const servers = hosts.map((host) => {
    // TCP_NODELAY on every client socket: what the broker forwards never waits for a delayed ACK (docs/performance.md).
    const server = net.createServer({ noDelay: true }, onSocket);
    server.listen(o.port, host);
    return server;
  });
  const listening = Promise.all(
    servers.map(
      (server, i) =>
        new Promise<void>((resolve, reject) => {
          server.once("listening", () => resolve());
          server.once("error", (err: NodeJS.ErrnoException) => {
            // A host without IPv6 has no ::1: loopback IPv4 alone is still private.
            if (hosts[i] === "::1" && (err.code === "EADDRNOTAVAIL" || err.code === "EAFNOSUPPORT")) resolve();
            else reject(err);
          });
        }),
    ),
  );
  let broker: Awaited<ReturnType<(typeof import("aedes"))["Aedes"]["createBroker"]>> | undefined;
  const close = async (): Promise<void> => {
    const closing = servers.filter((s) => s.listening).map((s) => new Promise<void>((r) => s.close(() => r())));
    for (const s of sockets) s.destroy();
    await Promise.all(closing);
    if (broker) await new Promise<void>((r) => broker!.close(() => r()));
  };
  try {
    await listening;
    const { Aedes } = await import("aedes");
    broker = await Aedes.createBroker({
      queueLimit: BROKER_LIMITS.queueLimit,
      maxInflightInbound: BROKER_LIMITS.maxInflightInbound,
      maxTopicLevels: BROKER_LIMITS.maxTopicLevels,
      connectTimeout: BROKER_LIMITS.connectTimeoutMs,
      authenticate: (client, username, password, done) => {
        if (username === undefined || username === "") {
          if (allowAnonymous) return done(null, true);
          refuse("connect", `anonymous client ${client.id} refused`);
          return done(Object.assign(new Error("not authorized"), { returnCode: 5 as const }), false);
        }
        const hash = o.users?.get(username);
        if (!hash || !password || !verifyPassword(password, hash)) {
          refuse("connect", `bad user name or password for '${username}'`);
          return done(Object.assign(new Error("bad user name or password"), { returnCode: 4 as const }), false);
        }
        who.set(client, { user: username, role: roleOf(username, o.roles) });
        done(null, true);
      },
      authorizePublish: (client, packet, done) => {
        const { user, role } = identity(client);
        if (client && !acl.mayPublish(role, user, packet.topic)) {
          // An error closes the publisher's connection (aedes), as for every other refused publish: nothing is stored or forwarded.
          const { code, reason } = acl.explainRefusedPublish(role, user, packet.topic);
          refuse("publish", reason, code);
          return done(new Error("not authorized"));
        }
        done(null);
      },
      authorizeSubscribe: (client, sub, done) => {
        const { user, role } = identity(client);
        if (!acl.maySubscribe(role, user, sub.topic)) {
          refuse("subscribe", `${user || "anonymous"} (${role}) may not subscribe to ${sub.topic.slice(0, 200)}`);
          return done(null, null);
        }
        done(null, sub);
      },
    });
  } catch (err) {
    await close();
    throw err;
  }
  const ready = broker;
  handle = (socket) => {
    const guard = new PacketSizeGuard(maxPacketBytes);
    let stopped = false;
    guard.on("error", (err) => {
      // Errors of aedes on the connection (auth refusals) also reach the guard through the duplex: not counted here.
      if (stopped) return;
      stopped = true;
      socket.unpipe(guard);
      if (err instanceof PacketTooLarge || err.message.startsWith("malformed")) refuse("packet", `${socket.remoteAddress ?? "?"}: ${err.message}`);
      socket.destroy();
    });
    socket.on("error", () => socket.destroy());
    socket.pipe(guard);
    const conn = Duplex.from({ readable: guard, writable: socket });
    conn.on("error", () => socket.destroy());
    socket.once("close", () => conn.destroy());
    ready.handle(conn);
  };
  for (const socket of early ?? []) if (!socket.destroyed) handle(socket);
  early = undefined;
  return { hosts, port: o.port, refused, close };
}
