// Renders an untrusted value (parsed JSON, a query parameter, a thrown value) as text for an error message.

/**
 * Text for `value` in a message, never "[object Object]": strings as they are, Errors by their message, arrays
 * joined with "," (as String() does), other objects as JSON, other primitives through String().
 */
export function showValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  if (Array.isArray(value)) return value.map((v: unknown) => showValue(v)).join(",");
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return "[object]"; // a cycle or a BigInt inside: JSON cannot show it
    }
  }
  return String(value); // number, boolean, bigint, symbol, null, undefined or a function
}
