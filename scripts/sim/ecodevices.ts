// A simulated GCE Eco-Devices box on loopback: its JSON API (GET /api/xdevices.json?cmd=10) with settable teleinfo values.
//
// The real box reads two teleinfo meters (T1, T2) and two pulse counters (C1, C2) and answers cmd=10 with
//   {"product":"Eco-devices","T1_PTEC":"TH..","T1_PAPP":1840,"T1_BASE":12345678,"T2_PTEC":"----","T2_PAPP":0,
//    "T2_BASE":0,"INDEX_C1":287000,"INDEX_C2":1436.965}
// PTEC is the current tariff period ("TH.." base, "HC.."/"HP.." off-peak/peak, "----" = no meter on that input),
// PAPP the apparent power in VA, BASE the energy index in Wh, INDEX_Cx the pulse counters in the unit set on the box.
// Only cmd=10 is implemented; other commands get HTTP 400. Optional basic auth, like the box's "protect" setting.
import type * as http from "node:http";
import { optionValue, runCli } from "./cli";
import { LoopbackHttpServer } from "./http-server";

/** Teleinfo tariff options and their energy indexes (Wh), as the box names them after `T1_` / `T2_`. */
export const TARIFF_INDEXES = {
  BASE: ["BASE"],
  HC: ["HCHC", "HCHP"],
  EJP: ["EJPHN", "EJPHPM"],
  TEMPO: ["BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR"],
} as const;
export type TariffOption = keyof typeof TARIFF_INDEXES;
type IndexName = (typeof TARIFF_INDEXES)[TariffOption][number];
/** The tariff period (PTEC) each index counts in. */
export const PERIOD_OF_INDEX: Readonly<Record<IndexName, string>> = {
  BASE: "TH..",
  HCHC: "HC..",
  HCHP: "HP..",
  EJPHN: "HN..",
  EJPHPM: "PM..",
  BBRHCJB: "HCJB",
  BBRHPJB: "HPJB",
  BBRHCJW: "HCJW",
  BBRHPJW: "HPJW",
  BBRHCJR: "HCJR",
  BBRHPJR: "HPJR",
};
type Input = "T1" | "T2";
type OtherIndex = Exclude<(typeof TARIFF_INDEXES)[TariffOption][number], "BASE">;

export interface EcoDevicesValues extends Partial<Record<`${Input}_${OtherIndex}`, number>> {
  T1_PTEC: string;
  /** Apparent power, VA. */
  T1_PAPP: number;
  /** Energy index, Wh. */
  T1_BASE: number;
  T2_PTEC: string;
  T2_PAPP: number;
  T2_BASE: number;
  INDEX_C1: number;
  INDEX_C2: number;
}

/** ok: answer; refuse: stop listening (connection refused); hang: accept and never answer; error: HTTP 503. */
export type EcoDevicesMode = "ok" | "refuse" | "hang" | "error";

export interface EcoDevicesOptions {
  host?: string;
  /** 0 (default) = a free port chosen by the OS; it is kept across refuse → ok. */
  port?: number;
  values?: Partial<EcoDevicesValues>;
  /** Integrate PAPP into BASE between requests (default true), so the index grows like a real meter's. */
  advance?: boolean;
  /** Epoch-ms clock for the integration (default Date.now). */
  now?: () => number;
  /** Require HTTP basic auth with this user and password. */
  auth?: { user: string; password: string };
}

export const DEFAULT_VALUES: EcoDevicesValues = {
  T1_PTEC: "TH..",
  T1_PAPP: 1840,
  T1_BASE: 12_345_678,
  T2_PTEC: "----",
  T2_PAPP: 0,
  T2_BASE: 0,
  INDEX_C1: 287_000,
  INDEX_C2: 1436.965,
};

export class SimulatedEcoDevices {
  readonly values: EcoDevicesValues;
  /** Requests received per mode since start (refused connections are never seen, so `refuse` stays 0). */
  readonly requests: Record<EcoDevicesMode, number> = { ok: 0, refuse: 0, hang: 0, error: 0 };
  private mode: EcoDevicesMode = "ok";
  private readonly http: LoopbackHttpServer;
  private readonly now: () => number;
  private lastAdvance: number;
  /** Wh not yet added to the integer indexes. */
  private carry = { T1: 0, T2: 0 };

  private constructor(private readonly opts: EcoDevicesOptions) {
    this.values = { ...DEFAULT_VALUES, ...opts.values };
    this.now = opts.now ?? Date.now;
    this.lastAdvance = this.now();
    this.http = new LoopbackHttpServer((req, res) => this.handle(req, res), { host: opts.host, port: opts.port });
  }

  static async start(opts: EcoDevicesOptions = {}): Promise<SimulatedEcoDevices> {
    const sim = new SimulatedEcoDevices(opts);
    await sim.http.start();
    return sim;
  }

  get host(): string {
    return this.http.host;
  }

  get port(): number {
    return this.http.port;
  }

  /** Base URL, e.g. http://127.0.0.1:8090 */
  get url(): string {
    return this.http.url;
  }

  /** The URL a poller requests: {url}/api/xdevices.json?cmd=10 */
  get apiUrl(): string {
    return `${this.url}/api/xdevices.json?cmd=10`;
  }

  get currentMode(): EcoDevicesMode {
    return this.mode;
  }

  /**
   * Switches a meter to a tariff option, as a meter with another contract would answer: the option's indexes
   * (`indexes`, Wh, default 1 000 000 each), the others removed (BASE included: an HC meter sends no T1_BASE), and
   * PTEC set to `period` (default: the option's first period, e.g. "HC..").
   */
  setTariff(input: Input, option: TariffOption, opts: { period?: string; indexes?: Partial<Record<string, number>> } = {}): void {
    this.advance();
    const v = this.values as unknown as Record<string, number | string>;
    for (const k of Object.values(TARIFF_INDEXES).flat()) delete v[`${input}_${k}`];
    for (const k of TARIFF_INDEXES[option]) v[`${input}_${k}`] = opts.indexes?.[k] ?? 1_000_000;
    v[`${input}_PTEC`] = opts.period ?? PERIOD_OF_INDEX[TARIFF_INDEXES[option][0]];
  }

  /** Pins values (e.g. a consumption peak: `set({ T1_PAPP: 9000 })`). */
  set(values: Partial<EcoDevicesValues>): void {
    this.advance();
    Object.assign(this.values, values);
  }

  /** The cmd=10 document as the box serves it right now. */
  snapshot(): Record<string, string | number> {
    this.advance();
    return { product: "Eco-devices", ...this.values };
  }

  /** Switches how the box answers; `refuse` closes the listener, leaving it restarts on the same port. */
  async setMode(mode: EcoDevicesMode): Promise<void> {
    if (mode === this.mode) return;
    const previous = this.mode;
    this.mode = mode;
    if (mode === "refuse") await this.http.stop();
    else if (previous === "refuse") await this.http.start();
  }

  async stop(): Promise<void> {
    this.mode = "refuse";
    await this.http.stop();
  }

  private advance(): void {
    const t = this.now();
    const hours = Math.max(0, t - this.lastAdvance) / 3_600_000;
    this.lastAdvance = t;
    if (this.opts.advance === false) return;
    const v = this.values as unknown as Record<string, number | string | undefined>;
    for (const input of ["T1", "T2"] as const) {
      if (this.values[`${input}_PTEC`] === "----") continue;
      this.carry[input] += this.values[`${input}_PAPP`] * hours;
      const whole = Math.floor(this.carry[input]);
      this.carry[input] -= whole;
      // The index of the current period counts (BASE for "TH..", HCHP for "HP..", BBRHCJR for "HCJR", …); a box
      // set up with BASE only (no setTariff) counts into BASE whatever the period.
      const index =
        Object.entries(PERIOD_OF_INDEX).find(([k, period]) => period === this.values[`${input}_PTEC`] && typeof v[`${input}_${k}`] === "number")?.[0] ??
        (typeof v[`${input}_BASE`] === "number" ? "BASE" : undefined);
      if (index) v[`${input}_${index}`] = (v[`${input}_${index}`] as number) + whole;
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests[this.mode]++;
    if (this.mode === "hang") return; // the socket stays open until the client gives up or stop()
    if (this.opts.auth) {
      const expected = "Basic " + Buffer.from(`${this.opts.auth.user}:${this.opts.auth.password}`).toString("base64");
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="Eco-Devices"', "Content-Type": "text/plain" });
        res.end("401 Unauthorized");
        return;
      }
    }
    if (this.mode === "error") {
      res.writeHead(503, { "Content-Type": "text/plain" });
      res.end("503 Service Unavailable");
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" || url.pathname !== "/api/xdevices.json") {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("404 Not Found");
      return;
    }
    if (url.searchParams.get("cmd") !== "10") {
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ status: "error", message: "this simulator implements cmd=10 only" }));
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache" });
    res.end(JSON.stringify(this.snapshot()));
  }
}

/** `node <build>/scripts/sim/ecodevices.js [--port 8090] [--papp 1840]`: runs one box until Ctrl-C. */
async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => optionValue(argv, `--${name}`);
  const port = Number(arg("port") ?? 8090);
  const papp = Number(arg("papp") ?? DEFAULT_VALUES.T1_PAPP);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected 0..65535, got '${arg("port")}'`);
  if (!Number.isFinite(papp) || papp < 0) throw new Error(`--papp: expected a power in VA, got '${arg("papp")}'`);
  const sim = await SimulatedEcoDevices.start({ port, values: { T1_PAPP: papp } });
  console.log(`Eco-Devices simulator: ${sim.apiUrl}`);
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

runCli(module, main);
