// @ts-check
/** @returns {import("./sandbox").Result} */
export default function costRequest() {
  // This month's cost by room and by kind (one bucket per local day of the building, so today is the bucket holding
  // "now") and this month's savings per room: two cost queries to the query component and one savings request to the
  // scheduler, over MQTT like GET /api/v1/cost and /savings. The month starts in Node-RED's local time zone (TZ).
  const now = Date.now();
  const start = new Date(now);
  start.setDate(1);
  start.setHours(0, 0, 0, 0);
  const from = start.getTime();
  const to = now > from ? now : from + 1000;
  /** @param {string} groupBy */
  const cost = (groupBy) => ({
    topic: "{{QUERY_REQUEST_TOPIC}}",
    qos: 1,
    retain: false,
    payload: {
      v: 1,
      id: "dash-cost-" + groupBy + "-" + to,
      replyTo: "{{DASHBOARD_COST_REPLY}}",
      query: { type: "cost", groupBy, from, to, interval: "day" },
    },
  });
  const month = start.getFullYear() + "-" + String(start.getMonth() + 1).padStart(2, "0");
  const savings = {
    topic: "{{SCHEDULE_REQUEST_TOPIC}}",
    qos: 1,
    retain: false,
    payload: { v: 1, id: "dash-savings-" + to, replyTo: "{{DASHBOARD_SAVINGS_REPLY}}", op: "savings", month },
  };
  return [[cost("room"), cost("kind"), savings]];
}
