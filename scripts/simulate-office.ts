// CLI: starts the simulated office from a registry file and prints "id host:port kind" per plug; stops on SIGINT/SIGTERM.
import { existsSync } from "node:fs";
import * as path from "node:path";
import { itemAt } from "../lib/arrays";
import type { Device, DeviceKind } from "../lib/contracts/device";
import { loadRegistryFile, RegistryError } from "../lib/registry";
import { SimulatedOffice, type OfficeOptions } from "./sim/office";

export const USAGE = `usage: node dist/scripts/simulate-office.js [registry.json] [options]

  registry.json        device registry (default: flows/registry/office.json)
  --tick <ms>          model update period in ms (default 1000)
  --address <ip>       address the simulators listen on (default 127.0.0.1)
  --ephemeral          ignore registry ports; let the OS choose free ports
  --generate <n>       instead of a registry, simulate n generated plugs on OS-chosen ports
  --generate-protocol <legacy|klap|tapo>
                       protocol of the generated plugs (default legacy: HS110; klap: HS110 hw 4; tapo: P110)
  --utc-offset <min>   office local time as a UTC offset in minutes (default: this machine's)
  --seed <n>           office-wide profile seed (default 0)
  --klap-account <e-mail>:<password>
                       account the KLAP/Tapo plugs are bound to (default: none, blank credentials)
  -h, --help           this text

Prints one line per plug (every strip outlet too) on stdout: "<id> <host>:<port> <kind>", then runs until SIGINT/SIGTERM.`;

export interface CliOptions {
  registry: string;
  tickMs: number;
  address: string;
  ephemeral: boolean;
  generate?: number;
  generateProtocol: "legacy" | "klap" | "tapo";
  utcOffsetMinutes?: number;
  seed: number;
  help: boolean;
  /** Account of the KLAP/Tapo plugs; undefined = blank credentials (works without an account node). */
  klapAccount?: { user: string; password: string };
}

/** flows/registry/office.json of the package this script belongs to (found upwards from dist/ or a build dir). */
export function defaultRegistry(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "flows", "registry", "office.json");
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(from, "..", "..", "flows", "registry", "office.json");
  }
}

function intArg(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name} needs an integer between ${min} and ${max}, got '${value ?? ""}'`);
  return n;
}

/** Parses the command line (without `node script`); throws an Error with a readable message on bad input. */
export function parseArgs(argv: readonly string[], cwd = process.cwd()): CliOptions {
  const opts: CliOptions = {
    registry: defaultRegistry(),
    tickMs: 1000,
    address: "127.0.0.1",
    ephemeral: false,
    seed: 0,
    help: false,
    generateProtocol: "legacy",
  };
  let positional: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = itemAt(argv, i);
    switch (a) {
      case "--tick":
        opts.tickMs = intArg(a, argv[++i], 0, 3_600_000);
        break;
      case "--address": {
        const v = argv[++i];
        if (!v) throw new Error("--address needs a value");
        opts.address = v;
        break;
      }
      case "--ephemeral":
        opts.ephemeral = true;
        break;
      case "--generate":
        opts.generate = intArg(a, argv[++i], 1, 10_000);
        break;
      case "--utc-offset":
        opts.utcOffsetMinutes = intArg(a, argv[++i], -14 * 60, 14 * 60);
        break;
      case "--seed":
        opts.seed = intArg(a, argv[++i], -2147483648, 2147483647);
        break;
      case "--generate-protocol": {
        const v = argv[++i];
        if (v !== "legacy" && v !== "klap" && v !== "tapo") throw new Error(`--generate-protocol needs legacy, klap or tapo, got '${v ?? ""}'`);
        opts.generateProtocol = v;
        break;
      }
      case "--klap-account": {
        const v = argv[++i] ?? "";
        const colon = v.indexOf(":");
        if (colon <= 0) throw new Error("--klap-account needs <e-mail>:<password>");
        opts.klapAccount = { user: v.slice(0, colon), password: v.slice(colon + 1) };
        break;
      }
      case "-h":
      case "--help":
        opts.help = true;
        break;
      default:
        if (a.startsWith("-")) throw new Error(`unknown option '${a}'`);
        if (positional !== undefined) throw new Error(`only one registry file, got '${positional}' and '${a}'`);
        positional = a;
    }
  }
  if (positional !== undefined) opts.registry = path.resolve(cwd, positional);
  return opts;
}

/** n synthetic plugs (80 % workplaces, 10 % meeting rooms, 10 % printers) for benchmarks; port 0 = OS-chosen. */
export function generateDevices(n: number, protocol: "legacy" | "klap" | "tapo" = "legacy"): Device[] {
  const out: Device[] = [];
  for (let i = 0; i < n; i++) {
    const r = i % 10;
    const kind: DeviceKind = r === 8 ? "meeting-room" : r === 9 ? "printer" : "workplace";
    const floor = String(1 + Math.floor(i / 100));
    const id = `sim-${String(i + 1).padStart(5, "0")}`;
    out.push({
      id,
      name: `Simulated ${kind} ${i + 1}`,
      model: protocol === "tapo" ? "P110" : "HS110",
      host: "127.0.0.1",
      port: 0,
      kind,
      location: { building: "sim", floor, room: kind === "workplace" ? `open-space-${floor}` : `${kind}-${i + 1}` },
      ...(protocol === "legacy" ? {} : { protocol }),
    });
  }
  return out;
}

export async function main(
  argv: readonly string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  err: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<SimulatedOffice | undefined> {
  const opts = parseArgs(argv);
  if (opts.help) {
    out(USAGE);
    return undefined;
  }
  const account = opts.klapAccount;
  const officeOpts: OfficeOptions = { tickMs: opts.tickMs, address: opts.address, seed: opts.seed, credentialsFor: () => account };
  if (opts.utcOffsetMinutes !== undefined) officeOpts.utcOffsetMinutes = opts.utcOffsetMinutes;
  let devices: Device[];
  if (opts.generate !== undefined) {
    devices = generateDevices(opts.generate, opts.generateProtocol);
  } else {
    devices = [...loadRegistryFile(opts.registry).devices];
    if (opts.ephemeral) officeOpts.portFor = () => 0;
  }
  const office = await SimulatedOffice.start(devices, officeOpts);
  for (const p of office.all) out(`${p.id} ${p.host}:${p.port} ${p.entry.kind}`);
  for (const k of office.klap) for (const o of k.outlets) out(`${o.id} ${o.host}:${o.port} ${o.entry.kind}`);
  err(
    `simulated office: ${office.size} plug(s) from ${opts.generate !== undefined ? "--generate" : opts.registry}, tick ${opts.tickMs} ms; SIGINT/SIGTERM stops it`,
  );
  return office;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (office) => {
      if (!office) return;
      let stopping = false;
      const shutdown = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`simulated office: ${signal}, stopping\n`);
        office.stop().then(
          () => process.exit(0),
          (e: unknown) => {
            process.stderr.write(`simulated office: stop failed: ${(e as Error).message}\n`);
            process.exit(1);
          },
        );
      };
      process.on("SIGINT", () => shutdown("SIGINT"));
      process.on("SIGTERM", () => shutdown("SIGTERM"));
    },
    (e: unknown) => {
      if (e instanceof RegistryError) {
        process.stderr.write(`simulate-office: invalid registry ${e.file}\n`);
        for (const i of e.issues) process.stderr.write(`  ${i.path}: ${i.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`simulate-office: ${(e as Error).message}\n\n${USAGE}\n`);
      process.exit(/needs|unknown option|only one/.test((e as Error).message) ? 2 : 1);
    },
  );
}
