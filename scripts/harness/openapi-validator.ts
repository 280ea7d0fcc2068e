// Checks HTTP responses against an OpenAPI 3.1 document (ajv, JSON Schema 2020-12): the schema of the matched path, method, status and media type.
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";

type Json = Record<string, unknown>;

interface OpenApiResponse {
  content?: Record<string, { schema?: Json }>;
}
interface OpenApiOperation {
  operationId?: string;
  responses?: Record<string, OpenApiResponse>;
}
interface OpenApiDoc {
  openapi: string;
  servers?: { url: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, Json> };
}

export interface ResponseToCheck {
  method: string;
  /** Request path as sent (with the server's base path; a query string is ignored). */
  path: string;
  status: number;
  /** Content-Type header of the response. */
  contentType: string | null;
  /** Parsed JSON body (undefined for an empty body). */
  body: unknown;
}

export interface CheckResult {
  /** `operationId status` when the path and method are in the document, else undefined. */
  operation?: string;
  errors: string[];
}

/** Replaces local `#/components/schemas/X` references by the schema itself (the document has no cycles). */
function inlineRefs(node: unknown, doc: OpenApiDoc, depth = 0): unknown {
  if (depth > 64) throw new Error("OpenAPI document: $ref nesting deeper than 64 (a cycle?)");
  if (Array.isArray(node)) return node.map((n) => inlineRefs(n, doc, depth + 1));
  if (typeof node !== "object" || node === null) return node;
  const o = node as Json;
  if (typeof o.$ref === "string") {
    const [, name] = /^#\/components\/schemas\/(.+)$/.exec(o.$ref) ?? [];
    const target = name === undefined ? undefined : doc.components?.schemas?.[name];
    if (!target) throw new Error(`OpenAPI document: unresolvable $ref ${o.$ref}`);
    return inlineRefs(target, doc, depth + 1);
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) out[k] = inlineRefs(v, doc, depth + 1);
  return out;
}

const mediaType = (ct: string | null): string => {
  const [type = ""] = (ct ?? "").split(";");
  return type.trim().toLowerCase();
};

export class OpenApiValidator {
  private readonly ajv: Ajv2020;
  private readonly routes: { re: RegExp; template: string }[];
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly basePath: string;
  /** `operationId status` pairs seen by check(), to prove a suite covered every documented operation. */
  readonly seen = new Set<string>();

  constructor(
    readonly doc: OpenApiDoc,
    basePath?: string,
  ) {
    if (typeof doc.openapi !== "string" || !doc.openapi.startsWith("3.1")) throw new Error(`not an OpenAPI 3.1 document (openapi: ${String(doc.openapi)})`);
    this.basePath = (basePath ?? doc.servers?.[0]?.url ?? "").replace(/\/+$/, "");
    this.ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
    addFormats(this.ajv);
    this.routes = Object.keys(doc.paths).map((template) => ({
      template,
      re: new RegExp("^" + template.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+") + "$"),
    }));
  }

  /** The `Problem` component schema, used for answers outside every documented path (unknown endpoint). */
  private validator(key: string, schema: unknown): ValidateFunction {
    let v = this.compiled.get(key);
    if (!v) {
      v = this.ajv.compile(inlineRefs(schema, this.doc) as Json);
      this.compiled.set(key, v);
    }
    return v;
  }

  /** Validates one response; returns the problems found (empty = valid). */
  check(r: ResponseToCheck): CheckResult {
    const [pathname = ""] = r.path.split("?");
    const rel = this.basePath && pathname.startsWith(this.basePath) ? pathname.slice(this.basePath.length) || "/" : pathname;
    const route = this.routes.find((x) => x.re.test(rel));
    const method = r.method.toLowerCase();
    const type = mediaType(r.contentType);
    const op = route ? this.doc.paths[route.template]?.[method] : undefined;
    if (!op) {
      // Not a documented operation: the only acceptable answers are problem details for 404/405.
      if (![404, 405].includes(r.status)) return { errors: [`${r.method} ${rel} is not in the document and answered ${r.status}`] };
      if (type !== "application/problem+json") return { errors: [`undocumented ${r.method} ${rel}: expected application/problem+json, got ${type}`] };
      const problem = this.doc.components?.schemas?.Problem;
      if (!problem) return { errors: ["the document has no components.schemas.Problem"] };
      const v = this.validator("#Problem", problem);
      return { errors: v(r.body) ? [] : (v.errors ?? []).map((e) => `Problem${e.instancePath} ${e.message ?? ""}`) };
    }
    const name = `${op.operationId ?? `${method} ${route!.template}`} ${r.status}`;
    this.seen.add(name);
    const response = op.responses?.[String(r.status)];
    if (!response) return { operation: name, errors: [`${name}: status ${r.status} is not documented for ${method.toUpperCase()} ${route!.template}`] };
    const content = response.content ?? {};
    if (Object.keys(content).length === 0)
      return { operation: name, errors: r.body === undefined ? [] : [`${name}: documented without a body but one was sent`] };
    const media = content[type];
    if (!media) return { operation: name, errors: [`${name}: media type '${type}' not documented (documented: ${Object.keys(content).join(", ")})`] };
    if (!media.schema) return { operation: name, errors: [] };
    const v = this.validator(`${route!.template} ${method} ${r.status} ${type}`, media.schema);
    if (v(r.body)) return { operation: name, errors: [] };
    return {
      operation: name,
      errors: (v.errors ?? []).slice(0, 10).map((e) => `${name}: body${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`),
    };
  }

  /** Every operation of the document (`operationId`), to compare with `seen`. */
  operations(): string[] {
    return Object.values(this.doc.paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId ?? "?"));
  }
}
