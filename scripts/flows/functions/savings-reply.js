// @ts-check
/**
 * @param {import("./sandbox").Msg} msg
 * @returns {import("./sandbox").Result}
 */
export default function savingsReply(msg) {
  // The scheduler's savings reply → rows of the "savings this month" table: one per room with automatic offs.
  const r = /** @type {import("./sandbox").SavingsReply | null | undefined} */ (msg.payload);
  if (!r || typeof r !== "object") return null;
  /** @type {Record<string, unknown>[]} */
  let rows;
  if (!r.ok || !r.savings || !Array.isArray(r.savings.rows)) {
    const e = r.error || {};
    rows = [{ room: "unavailable", note: (e.code || "ERROR") + ": " + (e.message || "no data") }];
  } else {
    rows = r.savings.rows
      .map((s) => ({
        room: s.building + "/" + s.floor + "/" + s.room,
        offs: s.offs,
        "hours off": Math.round(s.hoursOff * 10) / 10,
        kWh: Math.round(s.kWh * 1000) / 1000,
        saved: s.cost === null ? "" : Math.round(s.cost * 100) / 100,
        currency: s.currency || "",
      }))
      .sort((a, b) => (a.room < b.room ? -1 : a.room > b.room ? 1 : 0));
    if (rows.length === 0) rows = [{ room: "no automatic offs this month", offs: 0, kWh: 0 }];
  }
  return { payload: rows };
}
