// The Function node's sandbox as the bodies in this folder see it: Node-RED runs a body as `function (msg) { … }` with
// `node`, `flow`, `context`, `global` and `env` in scope. Each file declares the ones it uses as parameters of its
// exported function, typed from here; scripts/flows/function-source.ts keeps only the body for the flow file.

/** A message: `topic` and `payload` plus whatever other properties a node set. */
export interface Msg {
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

/** What a body returns: one message, one entry per output (null sends nothing there, an array sends several), or null. */
export type Result = Msg | null | (Msg | Msg[] | null)[];

/** `node`: logs to the runtime log and the debug sidebar. */
export interface NodeApi {
  log(message: string): void;
  warn(message: string): void;
  error(message: string, msg?: Msg): void;
}

/** `flow`, `context`, `global`: the in-memory context store of that scope (`get` is undefined until a `set`). */
export interface ContextStore {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
}

// Payloads the bodies read, as far as they read them (every field may be missing: the bodies check before use).

/** An alert event on plugwatch/alerts/{device}/{rule} (docs/contracts.md). */
export interface AlertEvent {
  state?: string;
  severity?: string;
  rule?: string;
  device?: string;
  message?: string;
  ts: number;
}

/** What the dashboard remembers of a device (flow context "devices", keyed by device id). */
export interface DeviceState {
  id: string;
  building: string;
  floor: string;
  room: string;
  power: number;
  relay: boolean;
  online: boolean;
  energy?: unknown;
  ts: unknown;
}

/** A reply of the controlling agent: one result per switched device. */
export interface CommandReply {
  results?: { device: string; ok: boolean; relay?: unknown; error?: { code: string; message: string } }[];
}

/** A reply of the query component to an energy query. */
export interface EnergyReply {
  id?: unknown;
  ok?: boolean;
  data?: { rows?: { group: string; kWh: number }[] };
  error?: { code?: string; message?: string };
}

/** A reply of the query component to a cost query (lib/contracts/query.ts CostData, as far as the dashboard reads it). */
export interface CostReply {
  id?: unknown;
  ok?: boolean;
  data?: {
    currency: string;
    rows: { group: string; ts: number; end: number; kWh: number; cost: number }[];
    standing: { building: string; ts: number; end: number; amount: number }[];
  };
  error?: { code?: string; message?: string };
}

/** The scheduler's reply to a savings request (lib/schedule/contract.ts SavingsReport). */
export interface SavingsReply {
  ok?: boolean;
  savings?: {
    rows: { building: string; floor: string; room: string; offs: number; hoursOff: number; kWh: number; cost: number | null; currency: string | null }[];
  };
  error?: { code?: string; message?: string };
}
