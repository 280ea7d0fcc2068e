// Problem details (RFC 9457): the one error shape of the REST API, and the map from stable error codes to HTTP statuses.
import { Type, type Static } from "@sinclair/typebox";
import { ERROR_CODES, PlugwatchError, type ErrorBody, type ErrorCode } from "../contracts/errors";
import { CommandResult } from "../contracts/command";

/**
 * Codes that only exist at the HTTP edge (no MQTT reply carries them). Same naming rules as ERROR_CODES;
 * they are listed in docs/api.md next to the contract codes.
 */
export const API_ERROR_CODES = {
  UNAUTHORIZED: "No bearer token, or the token is not known",
  FORBIDDEN: "The token lacks the scope this endpoint needs",
  NOT_FOUND: "No such endpoint",
  METHOD_NOT_ALLOWED: "The endpoint exists but not with this method",
  PAYLOAD_TOO_LARGE: "The request body exceeds the size limit",
  UNSUPPORTED_MEDIA_TYPE: "The request body must be application/json",
  BROKER_UNAVAILABLE: "The MQTT broker is not connected",
  BAD_REPLY: "The component or agent answered with a reply that breaks its contract",
  TOO_MANY_REQUESTS: "This token (or unknown tokens together) sent too many requests: wait Retry-After seconds",
} as const;

export type ApiErrorCode = ErrorCode | keyof typeof API_ERROR_CODES;
export const ALL_ERROR_CODES: Record<ApiErrorCode, string> = { ...ERROR_CODES, ...API_ERROR_CODES };

/** HTTP status for every code. Device-level failures of a single-device command are upstream failures: 502. */
export const HTTP_STATUS: Record<ApiErrorCode, number> = {
  INVALID_REQUEST: 400,
  UNSUPPORTED_VERSION: 400,
  UNKNOWN_DEVICE: 404,
  EMPTY_TARGET: 422,
  BAD_ACTION: 422,
  DEVICE_UNREACHABLE: 502,
  UNSUPPORTED_FIRMWARE: 502,
  DEVICE_ERROR: 502,
  AUTH_FAILED: 502,
  PROTOCOL_ERROR: 502,
  UNSUPPORTED_PROTOCOL: 502,
  NOT_CONFIRMED: 502,
  INVALID_READING: 422,
  IMPLAUSIBLE_READING: 502,
  IDENTITY_CHANGED: 502,
  INVALID_QUERY: 422,
  LIMIT_EXCEEDED: 422,
  QUEUE_FULL: 503,
  UNKNOWN_COMMAND: 404,
  STORAGE_UNAVAILABLE: 503,
  SPOOL_FULL: 503,
  REGISTRY_INVALID: 503,
  RETENTION_INVALID: 503,
  ROLLUP_FAILED: 503,
  TARIFF_INVALID: 503,
  CRITICAL_DEVICE: 409,
  INVALID_CALENDAR: 422,
  INVALID_SCHEDULE: 422,
  TIMEOUT: 504,
  INTERNAL: 500,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BROKER_UNAVAILABLE: 503,
  BAD_REPLY: 502,
  TOO_MANY_REQUESTS: 429,
};

/** Codes a component may send that mean "our request was rejected as malformed": a contract mismatch, not the client's fault. */
const UPSTREAM_CONTRACT_CODES: ReadonlySet<ErrorCode> = new Set(["INVALID_REQUEST", "UNSUPPORTED_VERSION", "BAD_ACTION", "INVALID_READING"]);

export const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** `type` URI of a problem: one per stable code, documented in docs/api.md#error-codes. */
export const problemType = (code: ApiErrorCode): string => `urn:plugwatch:problem:${code}`;

export const ApiErrorCodeSchema = Type.Union(
  (Object.keys(ALL_ERROR_CODES) as ApiErrorCode[]).map((c) => Type.Literal(c)),
  { description: "Stable error code (docs/api.md#error-codes)" },
);

export const Problem = Type.Object(
  {
    type: Type.String({ description: "urn:plugwatch:problem:<code>" }),
    title: Type.String({ description: "HTTP reason phrase of the status" }),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String({ description: "What went wrong, for a human" }),
    code: ApiErrorCodeSchema,
    instance: Type.String({ description: "Path of the request that failed" }),
    requestId: Type.Optional(Type.String({ description: "id of the MQTT request, when one was sent" })),
    details: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), { description: "Validation issues (JSON path and reason)" }),
    ),
    results: Type.Optional(Type.Array(CommandResult, { description: "Per-device results of a failed single-device command" })),
  },
  { additionalProperties: false, description: "RFC 9457 problem details (media type application/problem+json)" },
);
export type Problem = Static<typeof Problem>;

export interface ApiErrorOptions {
  details?: { path: string; message: string }[] | undefined;
  /** Extra problem members (requestId, results). */
  extra?: Pick<Problem, "requestId" | "results">;
  /** Overrides the status derived from the code. */
  status?: number;
  /** Response headers to add (WWW-Authenticate, Allow, Retry-After). */
  headers?: Record<string, string>;
}

/** An HTTP-edge error: a stable code, the HTTP status and optional problem members. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly details?: { path: string; message: string }[];
  readonly extra?: Pick<Problem, "requestId" | "results">;
  readonly headers?: Record<string, string>;
  constructor(code: ApiErrorCode, message?: string, opts: ApiErrorOptions = {}) {
    super(message ?? ALL_ERROR_CODES[code]);
    this.name = "ApiError";
    this.code = code;
    this.status = opts.status ?? HTTP_STATUS[code];
    if (opts.details) this.details = opts.details;
    if (opts.extra) this.extra = opts.extra;
    if (opts.headers) this.headers = opts.headers;
  }
}

/** Maps an error body received in an MQTT reply to an ApiError (contract-mismatch codes become 502 BAD_REPLY-like). */
export function fromReplyError(body: ErrorBody, requestId: string): ApiError {
  const upstreamFault = UPSTREAM_CONTRACT_CODES.has(body.code);
  return new ApiError(body.code, body.message, {
    status: upstreamFault ? 502 : HTTP_STATUS[body.code],
    details: body.details,
    extra: { requestId },
  });
}

/** Any thrown value → problem + headers. Unknown errors become 500 INTERNAL without leaking their message. */
export function toProblem(err: unknown, instance: string): { problem: Problem; headers: Record<string, string> } {
  let e: ApiError;
  if (err instanceof ApiError) e = err;
  else if (err instanceof PlugwatchError) e = new ApiError(err.code, err.message, { details: err.details });
  else e = new ApiError("INTERNAL", "unexpected internal error");
  const problem: Problem = {
    type: problemType(e.code),
    title: TITLES[e.status] ?? "Error",
    status: e.status,
    detail: e.message,
    code: e.code,
    instance,
    ...(e.extra ?? {}),
    ...(e.details ? { details: e.details } : {}),
  };
  return { problem, headers: { ...(e.headers ?? {}) } };
}
