// Private MQTT brokers for tests and benches: a real Mosquitto (Debian `mosquitto`) or an in-process aedes, each on a free loopback port.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, waitForPort } from "./ports";

export interface BrokerInstance {
  /** e.g. mqtt://127.0.0.1:41234 */
  url: string;
  port: number;
  /** Stops the broker and frees everything it created (process, sockets, temp dir). Safe to call twice. */
  stop(): Promise<void>;
}

export interface MosquittoInstance extends BrokerInstance {
  /** Temp directory holding mosquitto.conf and mosquitto.log (removed by stop()). */
  dir: string;
  /** Last lines of the broker log, for assertion messages. */
  logTail(lines?: number): string;
}

export interface MosquittoOptions {
  /** mosquitto_passwd file; with it, anonymous clients are refused unless `allowAnonymous` is true. */
  passwordFile?: string;
  /** ACL file (`user …` / `topic read|write|readwrite …` / `pattern …`). */
  aclFile?: string;
  /** Default: true without a password file, false with one. */
  allowAnonymous?: boolean;
  /** Extra lines appended to the generated mosquitto.conf. */
  extraConfig?: string[];
  timeoutMs?: number;
  /** Listen on this port (a broker restarted in place); default a free port. */
  port?: number;
}

const MOSQUITTO_PATHS = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/local/bin/mosquitto"];

/** Path of the mosquitto binary, or a clear error saying how to install it. */
export function findMosquitto(): string {
  for (const p of MOSQUITTO_PATHS) if (existsSync(p)) return p;
  throw new Error("mosquitto not found (looked in " + MOSQUITTO_PATHS.join(", ") + "): run `apt-get install -y mosquitto` or `bash scripts/install.sh`");
}

/** The mosquitto.conf the harness writes; exported so the unit of what a test broker looks like is visible. */
export function mosquittoConfig(o: {
  port: number;
  logFile: string;
  passwordFile?: string | undefined;
  aclFile?: string | undefined;
  allowAnonymous: boolean;
  extra?: string[] | undefined;
}): string {
  const lines = [
    // per_listener_settings false: auth settings below apply to the one listener.
    "per_listener_settings false",
    // Started as root, mosquitto would drop to user `mosquitto`, which cannot write our temp dir or read
    // the test's password/ACL files; stay the current user (ignored when not root).
    `user ${os.userInfo().username}`,
    `listener ${o.port} 127.0.0.1`,
    "protocol mqtt",
    "persistence false",
    // As deploy/mosquitto/mosquitto.conf: forwarded messages do not wait for a delayed ACK.
    "set_tcp_nodelay true",
    `log_dest file ${o.logFile}`,
    "log_type error",
    "log_type warning",
    "log_type notice",
    "log_type information",
    "connection_messages true",
    "log_timestamp true",
    `allow_anonymous ${o.allowAnonymous ? "true" : "false"}`,
    // Tests publish bursts; never let the broker drop QoS 1 messages because of small default queues.
    "max_queued_messages 100000",
    "max_inflight_messages 0",
  ];
  if (o.passwordFile) lines.push(`password_file ${o.passwordFile}`);
  if (o.aclFile) lines.push(`acl_file ${o.aclFile}`);
  if (o.extra) lines.push(...o.extra);
  return lines.join("\n") + "\n";
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function stopProcess(p: ChildProcess, graceMs: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const kill = setTimeout(() => p.kill("SIGKILL"), graceMs);
    p.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    p.kill("SIGTERM");
  });
}

/** Starts a real Mosquitto on 127.0.0.1:<free port> with a temp config and log; resolves once it accepts connections. */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoInstance> {
  const bin = findMosquitto();
  for (const f of [opts.passwordFile, opts.aclFile]) if (f && !existsSync(f)) throw new Error(`mosquitto: file not found: ${f}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "plugwatch-mosquitto-"));
  const port = opts.port ?? (await freePort());
  const conf = path.join(dir, "mosquitto.conf");
  const logFile = path.join(dir, "mosquitto.log");
  writeFileSync(
    conf,
    mosquittoConfig({
      port,
      logFile,
      passwordFile: opts.passwordFile && path.resolve(opts.passwordFile),
      aclFile: opts.aclFile && path.resolve(opts.aclFile),
      allowAnonymous: opts.allowAnonymous ?? !opts.passwordFile,
      extra: opts.extraConfig,
    }),
  );
  // stdout/stderr go to a second file: startup errors (bad config) are printed there before log_dest applies.
  const outFile = path.join(dir, "mosquitto.out");
  const fd = openSync(outFile, "a");
  const proc = spawn(bin, ["-c", conf], { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const logTail = (lines = 30) => `${tailOf(outFile, lines)}\n${tailOf(logFile, lines)}`.trim();

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopProcess(proc, 5000);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const exited = new Promise<never>((_, reject) => {
      proc.once("exit", (code, signal) => reject(new Error(`mosquitto exited at startup (code ${code}, signal ${signal}): ${logTail()}`)));
      proc.once("error", (err) => reject(new Error(`mosquitto could not be spawned: ${err.message}`)));
    });
    exited.catch(() => undefined); // the race below observes it; avoid an unhandled rejection after a successful start
    await Promise.race([waitForPort(port, "127.0.0.1", opts.timeoutMs ?? 10000), exited]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, dir, stop, logTail };
}

// aedes 1.x is ESM-only; this CommonJS build loads it with a real dynamic import (kept as import() under module nodenext).
type AedesModule = typeof import("aedes");
type AedesBroker = Awaited<ReturnType<AedesModule["Aedes"]["createBroker"]>>;

export interface AedesInstance extends BrokerInstance {
  /** The in-process broker, for tests that want its events (client, publish…). */
  broker: AedesBroker;
}

/** Starts an in-process aedes broker (MQTT 3.1.1 only, no $share) behind a net server on 127.0.0.1:<free port>. */
export async function startAedes(
  opts: { options?: Parameters<AedesModule["Aedes"]["createBroker"]>[0]; port?: number | undefined } = {},
): Promise<AedesInstance> {
  const { Aedes } = await import("aedes");
  const broker = await Aedes.createBroker(opts.options);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true); // aedes writes PUBACK and PUBLISH separately: with Nagle each QoS 1 hop waits ~40-90 ms
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    broker.handle(socket);
  });
  const port = opts.port ?? (await freePort());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((r) => broker.close(() => r()));
    throw err;
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    await closed;
    await new Promise<void>((r) => broker.close(() => r()));
  };
  return { url: `mqtt://127.0.0.1:${port}`, port, broker, stop };
}
