// Checked look-ups for tests under noUncheckedIndexedAccess: a missing element or key fails the test with an AssertionError
// that names it, instead of flowing on as `undefined` (which could let an assertion pass or crash with a vague TypeError).
import { AssertionError } from "node:assert";

function missing(what: string, detail: string, actual: unknown, expected: unknown): AssertionError {
  return new AssertionError({ message: `${what} is missing: ${detail}`, actual, expected, operator: "checked" });
}

/** `xs[i]`, failing the test when `i` is not an index of `xs` (no negative indices: use `lastOf`). */
export function nth<T>(xs: readonly T[], i: number, what = `element ${i}`): T {
  if (Number.isInteger(i) && i >= 0) for (const x of xs.slice(i, i + 1)) return x;
  throw missing(what, `index ${i} of an array of ${xs.length}`, xs.length, i + 1);
}

/** The last element of `xs`, failing the test when `xs` is empty. */
export function lastOf<T>(xs: readonly T[], what = "last element"): T {
  return nth(xs, xs.length - 1, what);
}

/** `rec[key]` for an own enumerable property, failing the test when `rec` has no such key. */
export function member<V>(rec: Readonly<Record<string, V>>, key: string, what = `key ${JSON.stringify(key)}`): V {
  for (const [k, v] of Object.entries(rec)) if (k === key) return v;
  throw missing(what, `not among the keys [${Object.keys(rec).join(", ")}]`, Object.keys(rec), key);
}
