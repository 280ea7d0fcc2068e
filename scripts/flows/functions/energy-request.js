// @ts-check
/** @returns {import("./sandbox").Result} */
export default function energyRequest() {
  // Today's kWh by room and by kind: two energy queries to the query component over MQTT.
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  const from = start.getTime();
  const to = Date.now();
  /** @param {string} groupBy */
  const req = (groupBy) => ({
    topic: "{{QUERY_REQUEST_TOPIC}}",
    qos: 1,
    retain: false,
    payload: {
      v: 1,
      id: "dash-energy-" + groupBy + "-" + to,
      replyTo: "{{DASHBOARD_ENERGY_REPLY}}",
      query: { type: "energy", groupBy, from, to, interval: "1h" },
    },
  });
  return [[req("room"), req("kind")]];
}
