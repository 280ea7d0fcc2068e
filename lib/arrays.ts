// Checked array access for indexes the surrounding code keeps in range (binary searches, index arithmetic).
import { PlugwatchError } from "./contracts/errors";

/**
 * Element `i` of `a`, for an index the caller has already proved in range: an out-of-range index is a bug, so it
 * throws an INTERNAL error at the spot instead of letting `undefined` travel on (what `a[i]!` would do).
 */
export function itemAt<T>(a: ArrayLike<T>, i: number): T {
  const v = a[i];
  if (v === undefined) throw new PlugwatchError("INTERNAL", `index ${i} is outside 0..${a.length - 1}`);
  return v;
}
