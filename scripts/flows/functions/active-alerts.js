// @ts-check
/**
 * @param {import("./sandbox").Msg} msg
 * @param {import("./sandbox").ContextStore} flow
 * @returns {import("./sandbox").Result}
 */
export default function activeAlerts(msg, flow) {
  // Active alerts from the retained alert topics plugwatch/alerts/{device}/{rule}: raised adds, cleared or "" removes.
  /** @type {Record<string, import("./sandbox").AlertEvent>} */
  const alerts = flow.get("alerts") || {};
  const p = /** @type {import("./sandbox").AlertEvent | string | { length?: unknown } | null | undefined} */ (msg.payload);
  const topic = String(msg.topic);
  // mqtt in (auto-detect) hands the zero-length retained delete over as "" (or an empty buffer from older runtimes).
  const empty = p === "" || p === null || p === undefined || (typeof p === "object" && "length" in p && typeof p.length === "number" && p.length === 0);
  if (empty || (typeof p === "object" && "state" in p && p.state === "cleared")) delete alerts[topic];
  else if (p && typeof p === "object" && "state" in p && p.state === "raised") alerts[topic] = p;
  else return null;
  flow.set("alerts", alerts);
  // The newest 100 rows, then a count: thousands of offline plugs must not rebuild (toLocaleString) thousands of rows
  // at every alert event, which stalled the runtime for minutes with a 10 000-device registry (bench/fleet, issue 18).
  const MAX_ROWS = 100;
  const all = Object.values(alerts).sort((a, b) => b.ts - a.ts);
  const list = all
    .slice(0, MAX_ROWS)
    .map((a) => ({ device: a.device, rule: a.rule, severity: a.severity, since: new Date(a.ts).toLocaleString(), message: a.message || "" }));
  if (all.length > MAX_ROWS) list.push({ device: "…", rule: `${all.length - MAX_ROWS} more active alerts`, severity: "", since: "", message: "" });
  msg.payload = list.length === 0 ? [{ device: "-", rule: "no active alerts", severity: "", since: "", message: "" }] : list;
  return msg;
}
