// GET /cost query string → the `cost` query body (lib/contracts/query.ts CostQuery).
import { COST_INTERVALS, CostQuery, GROUP_BY } from "../contracts/query";
import { validate } from "../contracts/validate";
import { checkTimeZone } from "../tz";
import { ApiError } from "./problem";
import { checkKnown, DEFAULT_LIMITS, filterToTarget, FILTER_PARAMS, fmtSpan, parseFilter, parseTime, single, type ApiLimits, type QueryParams } from "./params";

export const COST_PARAMS = ["from", "to", "groupBy", "interval", "tz", ...FILTER_PARAMS] as const;

const bad = (param: string, message: string): ApiError =>
  new ApiError("INVALID_REQUEST", `${param}: ${message}`, { details: [{ path: `$.query.${param}`, message }] });

function oneOf<T extends string>(text: string, allowed: readonly T[], param: string): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw bad(param, `'${text}' is not one of ${allowed.join(", ")}`);
}

/** GET /cost → CostQuery. Default: the last 7 days per local day, by device. */
export function parseCostParams(q: QueryParams, now: number, limits: ApiLimits = DEFAULT_LIMITS): CostQuery {
  checkKnown(q, COST_PARAMS);
  const from = parseTime(single(q, "from") ?? "-7d", now, "from");
  const to = parseTime(single(q, "to") ?? "now", now, "to");
  if (from >= to) throw new ApiError("INVALID_QUERY", `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`);
  if (to - from > limits.maxAggregatedSpanMs)
    throw new ApiError("LIMIT_EXCEEDED", `span of ${fmtSpan(to - from)} exceeds ${fmtSpan(limits.maxAggregatedSpanMs)} for a cost query`);
  const body: CostQuery = {
    type: "cost",
    from,
    to,
    groupBy: oneOf(single(q, "groupBy") ?? "device", GROUP_BY, "groupBy"),
    interval: oneOf(single(q, "interval") ?? "day", COST_INTERVALS, "interval"),
  };
  const tz = single(q, "tz");
  if (tz !== undefined) {
    try {
      body.tz = checkTimeZone(tz);
    } catch (err) {
      throw bad("tz", (err as Error).message);
    }
  }
  const target = filterToTarget(parseFilter(q));
  if (target) body.target = target;
  const r = validate(CostQuery, body);
  if (!r.ok) throw new ApiError("INVALID_REQUEST", r.issues.map((i) => `${i.path}: ${i.message}`).join("; "), { details: r.issues });
  return body;
}
