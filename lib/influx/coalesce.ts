// Request coalescing for InfluxDB queries: identical statements in flight at the same time share one database call.
import { SingleFlight } from "../single-flight";
import type { Statement } from "./query-builder";

/** The runner shape this wraps (lib/influx/query-service.ts StatementRunner). */
export type Runner<T> = (stmt: Statement) => Promise<T>;

/** Key of a statement: its text and its bound parameters in a stable order. */
export function statementKey(stmt: Statement): string {
  const params = Object.keys(stmt.params)
    .sort()
    .map((k) => [k, stmt.params[k]]);
  return JSON.stringify([stmt.text, params]);
}

/**
 * Wraps a runner so that a statement equal to one still in flight waits for that call instead of sending
 * another (many dashboards or API clients asking for the same range at once cost one query). Nothing is
 * cached: once the call settles the next identical statement goes to the database again, so answers are never
 * older than the request. Callers share the result object and must treat it as read-only.
 */
export function coalesce<T>(run: Runner<T>): Runner<T> & { readonly inFlight: number } {
  const flights = new SingleFlight<T>();
  const wrapped = (stmt: Statement): Promise<T> => flights.run(statementKey(stmt), () => run(stmt));
  return Object.defineProperty(wrapped, "inFlight", { get: () => flights.size }) as Runner<T> & { readonly inFlight: number };
}
