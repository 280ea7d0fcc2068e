// @ts-check
/**
 * @param {import("./sandbox").ContextStore} flow
 * @returns {import("./sandbox").Result}
 */
export default function snapshot(flow) {
  // Every second: the device list for the table and the power per room (output 1); every 5 s one chart message with a
  // point per charted room (output 2).
  /** @type {Record<string, import("./sandbox").DeviceState>} */
  const known = flow.get("devices") || {};
  const CHART_ROOMS = 20;
  const CHART_EVERY_MS = 5000;
  const devices = Object.values(known).sort((a, b) => a.id.localeCompare(b.id));
  /** @type {Record<string, number>} */
  const rooms = {};
  for (const d of devices) {
    const key = d.building + "/" + d.floor + "/" + d.room;
    rooms[key] = (rooms[key] || 0) + (d.online ? d.power : 0);
  }
  const now = Date.now();
  const roomList = Object.keys(rooms)
    .sort()
    .map((k) => ({ room: k, power: Math.round(rooms[k] * 10) / 10 }));
  const total = Math.round(roomList.reduce((s, r) => s + r.power, 0) * 10) / 10;
  const table = { payload: { devices, rooms: roomList, total, ts: now } };
  const chartedAt = /** @type {unknown} */ (flow.get("chartedAt"));
  if (typeof chartedAt === "number" && now - chartedAt < CHART_EVERY_MS && now >= chartedAt) return [table, null];
  flow.set("chartedAt", now);
  // The chart gets the 20 rooms drawing most, in one message every 5 s: Dashboard 2.0's ui-chart clones its whole
  // history for every message it receives (its datastore's get), so one message per room per second for the 200 rooms
  // of a 10 000-plug registry made each second cost more for 15 minutes and stalled the runtime (bench/fleet, issue 18).
  const charted = roomList.length > CHART_ROOMS ? [...roomList].sort((a, b) => b.power - a.power).slice(0, CHART_ROOMS) : roomList;
  return [table, { payload: charted }];
}
