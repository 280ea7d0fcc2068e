// Stable error codes: the same strings in MQTT replies, HTTP problem details, node status and logs.
import { Type, type Static } from "@sinclair/typebox";

export const ERROR_CODES = {
  INVALID_REQUEST: "The request does not match its schema",
  UNSUPPORTED_VERSION: "The payload's contract version is not supported",
  UNKNOWN_DEVICE: "No device with this id in the registry",
  EMPTY_TARGET: "The target selects no device",
  BAD_ACTION: "The action is not one of on, off, toggle, status",
  DEVICE_UNREACHABLE: "The plug did not answer (connection refused, reset or timed out)",
  UNSUPPORTED_FIRMWARE: "The plug refuses the legacy protocol on its port (newer firmware)",
  DEVICE_ERROR: "The plug answered with an error",
  AUTH_FAILED: "The plug rejected the TP-Link account's credentials (KLAP handshake)",
  PROTOCOL_ERROR: "The plug's reply broke its protocol (wrong length, wrong signature, undecryptable or not JSON)",
  UNSUPPORTED_PROTOCOL: "The plug speaks a protocol Plugwatch does not implement (e.g. Tapo securePassthrough)",
  NOT_CONFIRMED: "The relay did not read back the requested state",
  INVALID_READING: "The reading does not match its schema or holds absurd values",
  IMPLAUSIBLE_READING: "The plug answered with negative, non-finite or beyond-rating values: that poll is not stored",
  IDENTITY_CHANGED: "The plug at the registered address answers with another deviceId or MAC: its readings are held back",
  INVALID_QUERY: "The query is not valid",
  QUEUE_FULL: "The queue of commands waiting for offline plugs is full: nothing was switched or queued",
  UNKNOWN_COMMAND: "No queued command with this id (never sent with a queue time, or forgotten from the bounded history)",
  LIMIT_EXCEEDED: "A limit was exceeded: too many rows, too long a span, a full queue or too many tracked ids",
  STORAGE_UNAVAILABLE: "The database cannot be reached",
  SPOOL_FULL: "The on-disk spool reached its size bound",
  REGISTRY_INVALID: "The device registry file is invalid",
  RETENTION_INVALID: "The retention settings of the plugwatch-influx node are invalid (a duration, or a finer tier kept longer than a coarser one)",
  ROLLUP_FAILED: "InfluxDB refused a retention policy, continuous query, bucket, task or rollup statement (e.g. no admin rights)",
  TARIFF_INVALID: "The tariff file is invalid, or no tariff applies to a building",
  CRITICAL_DEVICE: "The device is marked critical: a schedule, standby cut-off or group command never switches it (result skipped)",
  INVALID_CALENDAR: "The holiday calendar (dates or ICS file) is invalid",
  INVALID_SCHEDULE: "The schedule document is invalid",
  TIMEOUT: "No reply in time",
  INTERNAL: "Unexpected internal error",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export const ErrorCodeSchema = Type.Union(
  (Object.keys(ERROR_CODES) as ErrorCode[]).map((c) => Type.Literal(c)),
  { description: "Stable error code (see docs/contracts.md#error-codes)" },
);

export const ErrorBody = Type.Object(
  {
    code: ErrorCodeSchema,
    message: Type.String({ description: "Human-readable explanation" }),
    details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: false },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** An error that carries a stable code; thrown inside lib/ and mapped to replies at the edge. */
export class PlugwatchError extends Error {
  readonly code: ErrorCode;
  readonly details?: { path: string; message: string }[];
  constructor(code: ErrorCode, message?: string, details?: { path: string; message: string }[]) {
    super(message ?? ERROR_CODES[code]);
    this.name = "PlugwatchError";
    this.code = code;
    if (details) this.details = details;
  }
  toBody(): ErrorBody {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
  /**
   * The message alone: Node-RED copies `String(err)` into a Catch message's `error.message` and logs, where the
   * default "PlugwatchError: …" prefix is noise; the stable code travels separately (`error.code`, reply bodies).
   */
  override toString(): string {
    return this.message;
  }
}

/** Any thrown value as a PlugwatchError: codes kept, anything else gets `code` (default INTERNAL). */
export function asPlugwatchError(err: unknown, code: ErrorCode = "INTERNAL"): PlugwatchError {
  if (err instanceof PlugwatchError) return err;
  return new PlugwatchError(code, err instanceof Error ? err.message : String(err));
}

/** Maps any thrown value to an error body; unknown errors become INTERNAL. */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof PlugwatchError) return err.toBody();
  const message = err instanceof Error ? err.message : String(err);
  return { code: "INTERNAL", message };
}
