// Runtime validation of `unknown` input against a contract schema; the only way data enters typed code.
import type { Static, TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { PlugwatchError, type ErrorCode } from "./errors";

export interface Issue {
  /** JSON path of the offending value, e.g. `$.devices[3].host` */
  path: string;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerFor<S extends TSchema>(schema: S): TypeCheck<S> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check as TypeCheck<S>;
}

/** Converts a JSON pointer (`/devices/3/host`) to a readable JSON path (`$.devices[3].host`). */
export function pointerToPath(pointer: string): string {
  if (!pointer) return "$";
  return (
    "$" +
    pointer
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
      .map((p) => (/^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`))
      .join("")
  );
}

/** Validates without throwing; collects up to `maxIssues` problems, most specific first. */
export function validate<S extends TSchema>(schema: S, value: unknown, maxIssues = 20): Result<Static<S>> {
  const check = checkerFor(schema);
  if (check.Check(value)) return { ok: true, value: value };
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const e of check.Errors(value)) {
    const path = pointerToPath(e.path);
    const key = `${path}|${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message: e.message });
    if (issues.length >= maxIssues) break;
  }
  return { ok: false, issues };
}

/** Validates or throws a PlugwatchError with the given code and the issue list as details. */
export function parse<S extends TSchema>(schema: S, value: unknown, code: ErrorCode = "INVALID_REQUEST"): Static<S> {
  const r = validate(schema, value);
  if (r.ok) return r.value;
  const first = r.issues[0];
  throw new PlugwatchError(code, first ? `${first.path}: ${first.message}` : "invalid", r.issues);
}

/** Accepts an object or a JSON string/Buffer (as delivered by an mqtt-in node set to 'auto'). */
export function decodePayload(payload: unknown): unknown {
  if (Buffer.isBuffer(payload)) payload = payload.toString("utf8");
  if (typeof payload === "string") {
    try {
      return JSON.parse(payload);
    } catch (err) {
      throw new PlugwatchError("INVALID_REQUEST", `payload is not JSON: ${(err as Error).message}`);
    }
  }
  return payload;
}
