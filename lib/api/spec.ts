// The REST API's operations in one table: path, method, scope, parameters, body and response schemas. Routing and OpenAPI both read it.
import { Type, type TSchema } from "@sinclair/typebox";
import { SLUG_PATTERN } from "../contracts/common";
import { DEVICE_KINDS } from "../contracts/device";
import { AGGREGATES, CALENDAR, COST_INTERVALS, GROUP_BY, MeasurementName, TimeZoneName } from "../contracts/query";
import { ALERT_STATES, BulkPowerBody, PowerBody } from "./params";
import { QueueDuration, QueuedCommand } from "../contracts/queued-command";
import { SCHEDULE_OPERATIONS } from "./schedule-spec";
import {
  AlertList,
  AuditList,
  CommandOutcome,
  DeviceList,
  DeviceView,
  UnknownDeviceList,
  UnknownDeviceView,
  EnergyData,
  CostData,
  Health,
  LatestData,
  LatestNData,
  OpenApiDocument,
  RangeData,
} from "./schemas";

export type OperationId =
  | "listDevices"
  | "getDevice"
  | "approveDevice"
  | "rejectDevice"
  | "getDevicePower"
  | "setDevicePower"
  | "getMeasurements"
  | "getLatestMeasurementsOfDevice"
  | "getLatestMeasurements"
  | "getEnergy"
  | "getCost"
  | "setPowerBulk"
  | "listAlerts"
  | "listAudit"
  | "getCommand"
  | "getHealth"
  | "getOpenApi"
  | "getMetrics"
  | "listSchedules"
  | "putSchedules"
  | "getSavings";

/** read/control: token scope; health/spec: open or read, as configured on the node; metrics: the node's own metrics token, or open. */
export type AccessClass = "read" | "control" | "health" | "spec" | "metrics";

export interface ParamSpec {
  name: string;
  in: "path" | "query";
  required?: boolean;
  description: string;
  schema: TSchema;
}

export interface Operation {
  id: OperationId;
  method: "get" | "post" | "put";
  /** OpenAPI path template relative to the base path, e.g. `/devices/{id}`. */
  path: string;
  access: AccessClass;
  tag: "devices" | "measurements" | "control" | "alerts" | "service" | "schedules";
  summary: string;
  description: string;
  params: ParamSpec[];
  body?: TSchema;
  /** The success response. */
  success: { status: number; description: string; schema: TSchema; contentType?: string };
  /** A second success response, e.g. 202 for a command queued for a plug that did not answer. */
  alsoSuccess?: { status: number; description: string; schema: TSchema };
  /** Error statuses this operation can answer with (problem+json). */
  errors: number[];
}

const Slug = Type.String({ pattern: SLUG_PATTERN, maxLength: 64 });
const TimeParam = Type.String({ description: "ISO 8601 with zone, a date (UTC), relative (-24h, now-7d) or now" });

const deviceId: ParamSpec = { name: "id", in: "path", required: true, description: "Device id (registry slug)", schema: Slug };
/** Any measurement stored through plugwatch-influx-hook (a generic reading's `measurement`); default plug. */
const measurementParam: ParamSpec = { name: "measurement", in: "query", description: "InfluxDB measurement (default plug)", schema: MeasurementName };
const filterParams: ParamSpec[] = [
  { name: "kind", in: "query", description: "Only devices of this kind", schema: Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k))) },
  { name: "building", in: "query", description: "Only devices in this building", schema: Slug },
  { name: "floor", in: "query", description: "Only devices on this floor (needs building for measurements and energy)", schema: Slug },
  { name: "room", in: "query", description: "Only devices in this room (needs building for measurements and energy)", schema: Slug },
];

const BROKER = [503, 504];
const queueParam: ParamSpec = { name: "queue", in: "query", description: QueueDuration.description as string, schema: QueueDuration };
const AUTH = [401, 403];

/** from/to of a grouped read (energy, cost): the last 7 days by default, grouped by device unless groupBy says otherwise. */
const groupedRangeParams: ParamSpec[] = [
  { name: "from", in: "query", description: "Start (inclusive), default -7d", schema: TimeParam },
  { name: "to", in: "query", description: "End (exclusive), default now", schema: TimeParam },
  { name: "groupBy", in: "query", description: "Grouping (default device)", schema: Type.Union(GROUP_BY.map((g) => Type.Literal(g))) },
];

/** A read-access GET under the measurements tag; one naming a device (a path with {id}) can also answer 404. */
function measurementsGet(op: Pick<Operation, "id" | "path" | "summary" | "description" | "params" | "success">): Operation {
  const { id, path, summary, description, params, success } = op;
  const unknownDevice = path.includes("{id}") ? [404] : [];
  return {
    id,
    method: "get",
    path,
    access: "read",
    tag: "measurements",
    summary,
    description,
    params,
    success,
    errors: [400, ...AUTH, ...unknownDevice, 422, ...BROKER],
  };
}

/** A GET under the control tag that the control agent answers over MQTT: the plug or command may be unknown (404) or fail (502). */
function controlAgentGet(op: Pick<Operation, "id" | "path" | "access" | "summary" | "description" | "params" | "success">): Operation {
  const { id, path, access, summary, description, params, success } = op;
  return { id, method: "get", path, access, tag: "control", summary, description, params, success, errors: [400, ...AUTH, 404, 502, ...BROKER] };
}

/** POST /devices/{id}/approve or /reject: a decision on a device not in the registry (GET /devices?state=pending). */
function pendingDecision(verb: "approve" | "reject", summary: string, description: string): Operation {
  return {
    id: `${verb}Device`,
    method: "post",
    path: `/devices/{id}/${verb}`,
    access: "control",
    tag: "devices",
    summary,
    description,
    params: [{ name: "id", in: "path", required: true, description: "Device id", schema: Slug }],
    success: { status: 200, description: `The device, ${verb === "approve" ? "approved" : "rejected"}`, schema: UnknownDeviceView },
    errors: [400, ...AUTH, 404, 503],
  };
}

export const OPERATIONS: readonly Operation[] = [
  {
    id: "listDevices",
    method: "get",
    path: "/devices",
    access: "read",
    tag: "devices",
    summary: "List devices",
    description:
      "Registry devices with their online state and last-seen time, optionally filtered by kind and location. " +
      "With `state=pending` (or `approved`, `rejected`): the devices not in the registry whose well-formed readings " +
      "the registry's unknown-device policy holds as pending (stored with the tag pending=true), or has approved or rejected.",
    params: [
      ...filterParams,
      {
        name: "state",
        in: "query",
        description: "registered (default): the registry's devices; pending, approved, rejected: devices not in the registry (no other filter applies)",
        schema: Type.Union([Type.Literal("registered"), Type.Literal("pending"), Type.Literal("approved"), Type.Literal("rejected")]),
      },
    ],
    success: { status: 200, description: "The devices", schema: Type.Union([DeviceList, UnknownDeviceList]) },
    errors: [400, ...AUTH, 503],
  },
  pendingDecision(
    "approve",
    "Approve a pending device",
    "A device listed by `GET /devices?state=pending` (not in the registry): its readings are stored without the pending tag from now on. " +
      "Add it to the registry file for location tags, control and queries.",
  ),
  pendingDecision(
    "reject",
    "Reject a pending device",
    "Its readings are refused with UNKNOWN_DEVICE from now on; those stored while it was pending stay, tagged pending=true.",
  ),
  {
    id: "getDevice",
    method: "get",
    path: "/devices/{id}",
    access: "read",
    tag: "devices",
    summary: "Get one device",
    description: "Registry data of one device plus online state and last-seen time.",
    params: [deviceId],
    success: { status: 200, description: "The device", schema: DeviceView },
    errors: [400, ...AUTH, 404, 503],
  },
  controlAgentGet({
    id: "getDevicePower",
    path: "/devices/{id}/power",
    access: "read",
    summary: "Read a plug's relay",
    description: "Asks the control agent for the relay state (command action `status`; the plug is read, not switched).",
    params: [deviceId],
    success: { status: 200, description: "The relay state read from the plug", schema: CommandOutcome },
  }),
  {
    id: "setDevicePower",
    method: "post",
    path: "/devices/{id}/power",
    access: "control",
    tag: "control",
    summary: "Switch one plug",
    description:
      "Switches one plug on, off or toggles it through the control agent; the result holds the relay state read back. " +
      "A plug that fails (unreachable, error, not confirmed) answers 502 with the device's error code and the results. " +
      "With `queue` (e.g. `PT1H`, at most `P7D`; on and off only), a plug that does not answer gets the command when it answers again " +
      "within that time: 202 with the result marked `queued` and `expiresAt`; follow it at `GET /commands/{requestId}`. " +
      "A later command for the same plug supersedes it. QUEUE_FULL (503) when the agent's queue has no room.",
    params: [deviceId, queueParam],
    body: PowerBody,
    success: { status: 200, description: "Switched and confirmed", schema: CommandOutcome },
    alsoSuccess: { status: 202, description: "The plug did not answer: the command is queued until expiresAt", schema: CommandOutcome },
    errors: [400, ...AUTH, 404, 413, 415, 422, 502, ...BROKER],
  },
  {
    id: "setPowerBulk",
    method: "post",
    path: "/power",
    access: "control",
    tag: "control",
    summary: "Switch a group of plugs",
    description:
      "Switches every plug selected by kind and/or building[/floor[/room]], a device list, or all:true. Always 200 when the agent " +
      "answered: `ok` is false when any device failed, and each result carries its own error code. With `queue`, devices that did not " +
      "answer are `queued` (see `POST /devices/{id}/power`).",
    params: [queueParam],
    body: BulkPowerBody,
    success: { status: 200, description: "Per-device results", schema: CommandOutcome },
    errors: [400, ...AUTH, 404, 413, 415, 422, ...BROKER],
  },
  measurementsGet({
    id: "getMeasurements",
    path: "/devices/{id}/measurements",
    summary: "Readings of one device in a time range",
    description:
      "Raw readings (span up to 31 days) or aggregated per interval (span up to 366 days, at most 100 000 intervals). " +
      "Default range: the last 24 h. Long ranges, and ranges older than the raw retention, are served from the 1-minute or 1-hour " +
      "rollups (gauges as per-minute means); the reply's resolution says which tier served it.",
    params: [
      deviceId,
      { name: "from", in: "query", description: "Start (inclusive), default -24h", schema: TimeParam },
      { name: "to", in: "query", description: "End (exclusive), default now", schema: TimeParam },
      { name: "fields", in: "query", description: "Comma-separated fields, e.g. power,energy (default: all)", schema: Type.String() },
      { name: "aggregate", in: "query", description: "Aggregate per interval (needs interval)", schema: Type.Union(AGGREGATES.map((a) => Type.Literal(a))) },
      {
        name: "interval",
        in: "query",
        description: "Bucket length such as 1m, 1h, 1d (aggregate defaults to mean)",
        schema: Type.String({ pattern: "^[1-9][0-9]{0,5}(s|m|h|d)$" }),
      },
      { name: "limit", in: "query", description: "Most rows per device", schema: Type.Integer({ minimum: 1, maximum: 100_000 }) },
      measurementParam,
    ],
    success: { status: 200, description: "One series with its points (ts in epoch ms)", schema: RangeData },
  }),
  measurementsGet({
    id: "getLatestMeasurementsOfDevice",
    path: "/devices/{id}/measurements/latest",
    summary: "Latest N readings of one device",
    description: "The newest readings of one device, newest first.",
    params: [
      deviceId,
      { name: "limit", in: "query", description: "How many (default 1440)", schema: Type.Integer({ minimum: 1, maximum: 100_000, default: 1440 }) },
      measurementParam,
    ],
    success: { status: 200, description: "The readings", schema: LatestNData },
  }),
  measurementsGet({
    id: "getLatestMeasurements",
    path: "/measurements/latest",
    summary: "Latest reading of every device",
    description: "The latest reading per device, hiding devices silent for longer than the node's inactiveAfterDays unless all=true.",
    params: [
      { name: "all", in: "query", description: "Include inactive devices", schema: Type.Boolean({ default: false }) },
      measurementParam,
      ...filterParams,
    ],
    success: { status: 200, description: "One reading per device", schema: LatestData },
  }),
  measurementsGet({
    id: "getEnergy",
    path: "/energy",
    summary: "Energy consumed (kWh) per group and interval",
    description:
      "kWh per group and interval, correct across plug counter resets and offline stretches (energy used while a plug was offline counts in the " +
      "period where its counter is next seen). Default: the last 7 days per fixed 1d interval (UTC), by device; span up to 366 days. With " +
      "calendar: local hours, days (23 or 25 h on DST days), ISO weeks or months in tz. The reply's resolution says which storage tier served it.",
    params: [
      ...groupedRangeParams,
      { name: "interval", in: "query", description: "Bucket length (default 1d)", schema: Type.String({ pattern: "^[1-9][0-9]{0,5}(s|m|h|d)$" }) },
      {
        name: "calendar",
        in: "query",
        description: "Calendar periods in tz instead of interval: hour, day, week (ISO, from Monday) or month",
        schema: Type.Union(CALENDAR.map((c) => Type.Literal(c))),
      },
      { name: "tz", in: "query", description: "IANA time zone of calendar periods (default: the building's zone from the registry)", schema: TimeZoneName },
      ...filterParams,
    ],
    success: { status: 200, description: "kWh rows", schema: EnergyData },
  }),
  measurementsGet({
    id: "getCost",
    path: "/cost",
    summary: "Energy cost per group and calendar interval, split by tariff period",
    description:
      "kWh and cost per group and local hour, day, ISO week or month under each building's tariff (plugwatch-tariff on the query " +
      "component), split by tariff period, plus standing charges per building. Computed from energy-counter deltas (never mean power), " +
      "correct across DST days, counter resets and price changes. Default: the last 7 days per day, by device; span up to 366 days.",
    params: [
      ...groupedRangeParams,
      { name: "interval", in: "query", description: "Calendar bucket (default day)", schema: Type.Union(COST_INTERVALS.map((i) => Type.Literal(i))) },
      {
        name: "tz",
        in: "query",
        description: "IANA time zone of the buckets (default: the building's); prices follow the building's zone",
        schema: Type.String({ maxLength: 64 }),
      },
      ...filterParams,
    ],
    success: { status: 200, description: "Cost rows, standing charges and totals", schema: CostData },
  }),
  {
    id: "listAlerts",
    method: "get",
    path: "/alerts",
    access: "read",
    tag: "alerts",
    summary: "Active alerts, or the alert history",
    description:
      "Active alerts come from the retained messages on {root}/alerts/#. With state=all: every raised and cleared event seen since " +
      "the node started, kept in a bounded in-memory ring (historySize events; lost on restart).",
    params: [
      { name: "state", in: "query", description: "active (default) or all", schema: Type.Union(ALERT_STATES.map((s) => Type.Literal(s))) },
      { name: "from", in: "query", description: "With state=all: events at or after this time", schema: TimeParam },
      { name: "device", in: "query", description: "Only this device", schema: Slug },
    ],
    success: { status: 200, description: "The alerts", schema: AlertList },
    errors: [400, ...AUTH],
  },
  {
    id: "listAudit",
    method: "get",
    path: "/audit",
    access: "control",
    tag: "control",
    summary: "Audit trail of control actions",
    description:
      "Every switching action the control agent recorded on {root}/audit/command since this node started (who: the token name, " +
      "what, when, per-device result), oldest first, in a bounded in-memory ring (historySize records; lost on restart).",
    params: [
      { name: "from", in: "query", description: "Only records at or after this time", schema: TimeParam },
      { name: "device", in: "query", description: "Only actions that touched this device", schema: Slug },
      { name: "by", in: "query", description: "Only actions of this token name", schema: Type.String({ maxLength: 64 }) },
    ],
    success: { status: 200, description: "The audit records", schema: AuditList },
    errors: [400, ...AUTH],
  },
  controlAgentGet({
    id: "getCommand",
    path: "/commands/{id}",
    access: "control",
    summary: "Outcome of a queued command",
    description:
      "A command sent with `queue` (its `requestId`), asked from the control agent over MQTT: per device queued, delivered (with the relay " +
      "read back), expired, superseded (by a later command for the device, `supersededBy`) or failed. The agent remembers a bounded " +
      "number of finished commands (its queue file survives restarts); an unknown or forgotten id is 404 UNKNOWN_COMMAND.",
    params: [{ name: "id", in: "path", required: true, description: "requestId of the command", schema: Type.String({ minLength: 1, maxLength: 128 }) }],
    success: { status: 200, description: "The command and each device's state", schema: QueuedCommand },
  }),
  {
    id: "getHealth",
    method: "get",
    path: "/health",
    access: "health",
    tag: "service",
    summary: "Health of the API and what it depends on",
    description:
      "Broker connection, whether the query component and the control agent answer (a reply in the last 60 s, else a probe), " +
      "and the storage backlog reported by the plugwatch-influx-hook. 200 for ok and degraded, 503 when the broker is not connected.",
    params: [],
    success: { status: 200, description: "Healthy or degraded", schema: Health },
    errors: [...AUTH, 503],
  },
  {
    id: "getOpenApi",
    method: "get",
    path: "/openapi.json",
    access: "spec",
    tag: "service",
    summary: "This OpenAPI 3.1 document",
    description: "Generated from the same TypeBox schemas the API validates with.",
    params: [],
    success: { status: 200, description: "The document", schema: OpenApiDocument },
    errors: [...AUTH],
  },
  {
    id: "getMetrics",
    method: "get",
    path: "/metrics",
    access: "metrics",
    tag: "service",
    summary: "Prometheus metrics of the pipeline",
    description:
      "Collector polls and misses, hook writes and spool, queries, API requests, active alerts and MQTT connections in the Prometheus " +
      "text format (docs/monitoring.md). Needs the node's metrics token as a bearer token when one is set; open otherwise.",
    params: [],
    success: {
      status: 200,
      description: "Prometheus text exposition format 0.0.4",
      schema: Type.String({ description: "Prometheus text exposition format" }),
      contentType: "text/plain",
    },
    errors: [401],
  },
  ...SCHEDULE_OPERATIONS,
];

export const operationById = (id: OperationId): Operation => OPERATIONS.find((o) => o.id === id) as Operation;

interface CompiledRoute {
  op: Operation;
  re: RegExp;
  names: string[];
}

const compiled: CompiledRoute[] = OPERATIONS.map((op) => {
  const names: string[] = [];
  const re = new RegExp(
    "^" +
      op.path.replace(/[.]/g, "\\.").replace(/\{([a-zA-Z]+)\}/g, (_m, name: string) => {
        names.push(name);
        return "([^/]+)";
      }) +
      "$",
  );
  return { op, re, names };
});

export type RouteMatch = { op: Operation; params: Record<string, string> } | { allowed: string[] } | undefined;

/** Finds the operation for a method and a path relative to the base path. `{allowed}` = path exists, method does not. */
export function matchRoute(method: string, path: string): RouteMatch {
  const p = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const allowed: string[] = [];
  for (const r of compiled) {
    const m = r.re.exec(p);
    if (!m) continue;
    if (r.op.method === method.toLowerCase() || (method.toUpperCase() === "HEAD" && r.op.method === "get")) {
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        params[n] = safeDecode(m[i + 1] ?? "");
      });
      return { op: r.op, params };
    }
    allowed.push(r.op.method.toUpperCase());
  }
  return allowed.length ? { allowed } : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
