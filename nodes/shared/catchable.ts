// An error for done()/node.error(): the Catch message's error.message is String(err), so print the message alone.
import { PlugwatchError, type ErrorCode } from "../../lib/contracts/errors";

/**
 * Node-RED copies `String(err)` into the Catch message's `error.message`, which for an Error reads
 * "Name: message". This one prints just the message; its stable code still reaches Catch as `error.code`.
 */
export class CatchableError extends PlugwatchError {
  override toString(): string {
    return this.message;
  }
}

/** Any thrown value as a CatchableError (PlugwatchError codes kept, anything else INTERNAL). */
export function catchable(err: unknown, code: ErrorCode = "INTERNAL"): CatchableError {
  if (err instanceof CatchableError) return err;
  if (err instanceof PlugwatchError) return new CatchableError(err.code, err.message, err.details);
  return new CatchableError(code, err instanceof Error ? err.message : String(err));
}
