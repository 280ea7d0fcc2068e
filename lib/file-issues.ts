// The error of a checked file (registry, tariffs, schedules): every problem with its JSON path, the first five in
// the message after the file's name. One shape, so every file check reports its problems the same way.
import { PlugwatchError, type ErrorCode } from "./contracts/errors";
import type { Issue } from "./contracts/validate";

/** `<file>: <path>: <message>; …` for the first five issues, then `(and N more)`. */
export function fileIssuesMessage(file: string, issues: readonly Issue[]): string {
  const head = issues
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .join("; ");
  return `${file}: ${head}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ""}`;
}

export class FileIssuesError<I extends Issue = Issue> extends PlugwatchError {
  constructor(
    code: ErrorCode,
    readonly file: string,
    readonly issues: I[],
  ) {
    super(
      code,
      fileIssuesMessage(file, issues),
      issues.map(({ path, message }) => ({ path, message })),
    );
  }
}
