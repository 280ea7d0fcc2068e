// @ts-check
/**
 * @param {import("./sandbox").Msg} msg
 * @param {import("./sandbox").ContextStore} flow
 * @returns {import("./sandbox").Result}
 */
export default function activeAlerts(msg, flow) {
  // Active alerts from the retained alert topics plugwatch/alerts/{device}/{rule}: raised adds, cleared or "" removes.
  // The table is rebuilt once a second at most, on the inject's "render" tick and only after a change: a burst of
  // thousands of alert events (every plug of a big registry going offline at start-up) sorted and sent the whole list
  // at every event, which blocked the runtime for 20 s with a 10 000-device registry (bench/fleet, issue 18).
  /** @type {Record<string, import("./sandbox").AlertEvent>} */
  const alerts = flow.get("alerts") || {};
  const version = /** @type {number} */ (flow.get("alertsVersion") || 0);
  const p = /** @type {import("./sandbox").AlertEvent | string | { length?: unknown } | null | undefined} */ (msg.payload);
  if (!msg.topic && p === "render") {
    if (flow.get("alertsShown") === version) return null;
    flow.set("alertsShown", version);
    // The newest 100 rows, then a count: thousands of offline plugs must not make thousands of rows (toLocaleString).
    const MAX_ROWS = 100;
    const all = Object.values(alerts).sort((a, b) => b.ts - a.ts);
    const list = all
      .slice(0, MAX_ROWS)
      .map((a) => ({ device: a.device, rule: a.rule, severity: a.severity, since: new Date(a.ts).toLocaleString(), message: a.message || "" }));
    if (all.length > MAX_ROWS) list.push({ device: "…", rule: `${all.length - MAX_ROWS} more active alerts`, severity: "", since: "", message: "" });
    return { payload: list.length === 0 ? [{ device: "-", rule: "no active alerts", severity: "", since: "", message: "" }] : list };
  }
  const topic = String(msg.topic);
  // mqtt in (auto-detect) hands the zero-length retained delete over as "" (or an empty buffer from older runtimes).
  const empty = p === "" || p === null || p === undefined || (typeof p === "object" && "length" in p && typeof p.length === "number" && p.length === 0);
  if (empty || (typeof p === "object" && "state" in p && p.state === "cleared")) delete alerts[topic];
  else if (p && typeof p === "object" && "state" in p && p.state === "raised") alerts[topic] = p;
  else return null;
  flow.set("alerts", alerts);
  flow.set("alertsVersion", version + 1);
  return null;
}
