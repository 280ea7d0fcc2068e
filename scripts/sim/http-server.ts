// The simulators' HTTP listener: binds host:port (bind errors reject), tracks open sockets, stops destroying them.
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface LoopbackHttpServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string | undefined;
  /** Port of the first start() (default 0: a free one chosen by the OS). */
  port?: number | undefined;
}

/**
 * An HTTP server that a simulator can stop and start again on the port it was given, like a device that goes away
 * and comes back. stop() destroys every open connection (keep-alive and deliberately unanswered ones included), so
 * clients see the connection end at once and the process holds no handle.
 */
export class LoopbackHttpServer {
  readonly host: string;
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private boundPort: number;

  constructor(
    private readonly handler: http.RequestListener,
    opts: LoopbackHttpServerOptions = {},
  ) {
    this.host = opts.host ?? "127.0.0.1";
    this.boundPort = opts.port ?? 0;
  }

  /** The port listened on (before the first start: the port asked for). Kept across stop(). */
  get port(): number {
    return this.boundPort;
  }

  /** Base URL, e.g. http://127.0.0.1:8090 */
  get url(): string {
    return `http://${this.host}:${this.boundPort}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Listens on `port` (default: the last bound or asked-for port); rejects with the bind error (EADDRINUSE…). No-op while running. */
  async start(port = this.boundPort): Promise<void> {
    if (this.server) return;
    const server = http.createServer(this.handler);
    server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, this.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and destroys every open connection; resolves when the listener is closed. No-op when stopped. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }
}
