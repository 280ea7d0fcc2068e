// OpenAPI 3.1 document of the REST API, generated from the operation table and the TypeBox schemas the code validates with.
import type { TSchema } from "@sinclair/typebox";
import { ALL_ERROR_CODES, Problem, TITLES } from "./problem";
import { OPERATIONS, type AccessClass } from "./spec";

export interface OpenApiOptions {
  basePath: string;
  openHealth: boolean;
  openSpec: boolean;
  /** false when the node's auth is "none" (httpNodeAuth or a proxy guards the API): no bearer security is documented. Default true. */
  tokens?: boolean;
  /** true when /metrics needs the node's metrics token. */
  metricsToken?: boolean | undefined;
  version?: string | undefined;
}

/** Plain JSON copy of a TypeBox schema (drops TypeBox's symbol keys). */
const plain = (s: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(s)) as Record<string, unknown>;

const TAGS = [
  { name: "devices", description: "The device registry with live online state" },
  { name: "measurements", description: "Stored readings and energy, answered by the query component over MQTT" },
  { name: "control", description: "Switching plugs, answered by the control agent over MQTT" },
  { name: "alerts", description: "Active alerts and recent alert events" },
  { name: "service", description: "Health and this document" },
  { name: "schedules", description: "Schedules, standby cut-offs and their savings, answered by the scheduler over MQTT" },
];

export function buildOpenApi(o: OpenApiOptions): Record<string, unknown> {
  const security = (a: AccessClass): Record<string, string[]>[] => {
    if (a === "metrics") return o.metricsToken ? [{ metricsToken: [] }] : [];
    const open = o.tokens === false || (a === "health" && o.openHealth) || (a === "spec" && o.openSpec);
    if (open) return [];
    return [{ bearer: [a === "control" ? "control" : "read"] }];
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const responses: Record<string, unknown> = {
      [String(op.success.status)]: {
        description: op.success.description,
        content: { [op.success.contentType ?? "application/json"]: { schema: plain(op.success.schema) } },
      },
    };
    if (op.alsoSuccess) {
      responses[String(op.alsoSuccess.status)] = {
        description: op.alsoSuccess.description,
        content: { "application/json": { schema: plain(op.alsoSuccess.schema) } },
      };
    }
    // /metrics documents its 401 unless nothing is guarded at all (auth none and no metrics token).
    const guarded = op.access === "metrics" ? o.metricsToken === true || o.tokens !== false : o.tokens !== false;
    for (const status of op.errors.filter((x) => guarded || (x !== 401 && x !== 403))) {
      const headers =
        status === 401 || status === 403
          ? { "WWW-Authenticate": { description: "Bearer challenge", schema: { type: "string" } } }
          : status === 503
            ? { "Retry-After": { description: "Seconds to wait before retrying (broker not connected)", schema: { type: "string" } } }
            : undefined;
      responses[String(status)] = {
        description: TITLES[status] ?? "Error",
        ...(headers ? { headers } : {}),
        content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
      };
    }
    if (op.id === "getHealth") {
      // /health answers 503 with the health body (status "down"), not a problem.
      responses["503"] = { description: "Broker not connected (status down)", content: { "application/json": { schema: plain(op.success.schema) } } };
    }
    const operation: Record<string, unknown> = {
      operationId: op.id,
      summary: op.summary,
      description: op.description,
      tags: [op.tag],
      security: security(op.access),
      parameters: op.params.map((p) => ({
        name: p.name,
        in: p.in,
        required: p.in === "path" ? true : (p.required ?? false),
        description: p.description,
        schema: plain(p.schema),
      })),
      responses,
    };
    if (op.body) operation.requestBody = { required: true, content: { "application/json": { schema: plain(op.body) } } };
    (paths[op.path] ??= {})[op.method] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Plugwatch REST API",
      version: o.version ?? "1.0.0",
      summary: "Query smart-plug data and switch plugs; every request travels over MQTT to the query component or the control agent.",
      description:
        "Errors are RFC 9457 problem details (application/problem+json) with a stable `code`:\n\n" +
        Object.entries(ALL_ERROR_CODES)
          .map(([c, t]) => `- \`${c}\`: ${t}`)
          .join("\n"),
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [{ url: o.basePath, description: "This Node-RED instance (relative to httpNodeRoot)" }],
    tags: TAGS,
    paths,
    components: {
      ...(o.tokens === false && !o.metricsToken
        ? {}
        : {
            securitySchemes: {
              ...(o.tokens === false
                ? {}
                : {
                    bearer: { type: "http", scheme: "bearer", description: "Token configured on the plugwatch-http-api node, with scopes read and/or control" },
                  }),
              ...(o.metricsToken ? { metricsToken: { type: "http", scheme: "bearer", description: "The metrics token of the plugwatch-http-api node" } } : {}),
            },
          }),
      schemas: { Problem: plain(Problem) },
    },
  };
}
