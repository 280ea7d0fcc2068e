// REST API ↔ schedule node: the schedule requests GET/PUT /schedules and GET /savings send on {root}/api/request/schedule, and their replies.
import { ScheduleReply, type SavingsReport, type ScheduleRequest, type ScheduleState } from "../schedule/contract";
import { validate } from "../contracts/validate";
import { checkKnown, parseSlug, single, type QueryParams } from "./params";
import { ApiError, fromReplyError } from "./problem";

/** The request body without its envelope (v, id, replyTo). */
export type ScheduleAsk = Omit<ScheduleRequest, "v" | "id" | "replyTo">;

/** GET /savings?month=YYYY-MM&building=hq */
export function parseSavingsParams(q: QueryParams): ScheduleAsk {
  checkKnown(q, ["month", "building"]);
  const month = single(q, "month");
  if (month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) {
    throw new ApiError("INVALID_REQUEST", `month: expected YYYY-MM, got '${month}'`, { details: [{ path: "$.query.month", message: "bad value" }] });
  }
  const building = single(q, "building");
  return { op: "savings", ...(month ? { month } : {}), ...(building !== undefined ? { building: parseSlug(building, "building") } : {}) };
}

/** The reply's data for the operation, or the ApiError it carries. */
export function scheduleResult(reply: unknown, id: string, op: ScheduleAsk["op"]): ScheduleState | SavingsReport {
  const r = validate(ScheduleReply, reply);
  if (!r.ok) {
    const first = r.issues[0];
    throw new ApiError("BAD_REPLY", `the schedule node sent a reply that breaks its contract${first ? ` (${first.path}: ${first.message})` : ""}`, {
      details: r.issues,
      extra: { requestId: id },
    });
  }
  if (!r.value.ok) throw fromReplyError(r.value.error ?? { code: "INTERNAL", message: "schedule request failed without an error" }, id);
  const data = op === "savings" ? r.value.savings : r.value.schedules;
  if (!data) throw new ApiError("BAD_REPLY", `the schedule node answered '${op}' without its data`, { extra: { requestId: id } });
  return data;
}
