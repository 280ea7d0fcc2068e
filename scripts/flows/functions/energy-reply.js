// @ts-check
/**
 * @param {import("./sandbox").Msg} msg
 * @returns {import("./sandbox").Result}
 */
export default function energyReply(msg) {
  // Energy replies → rows for the "by room" (output 1) and "by kind" (output 2) tables.
  const r = /** @type {import("./sandbox").EnergyReply | null | undefined} */ (msg.payload);
  if (!r || typeof r !== "object") return null;
  const by = typeof r.id === "string" && r.id.startsWith("dash-energy-kind-") ? "kind" : "room";
  let rows;
  if (!r.ok || !r.data || !Array.isArray(r.data.rows)) {
    const e = r.error || {};
    rows = [{ [by]: "unavailable", kWh: "", note: (e.code || "ERROR") + ": " + (e.message || "no data") }];
  } else {
    /** @type {Record<string, number>} */
    const sum = {};
    for (const row of r.data.rows) sum[row.group] = (sum[row.group] || 0) + row.kWh;
    rows = Object.keys(sum)
      .sort()
      .map((g) => ({ [by]: g, kWh: Math.round(sum[g] * 1000) / 1000 }));
    if (rows.length === 0) rows = [{ [by]: "no data yet", kWh: 0 }];
  }
  return by === "room" ? [{ payload: rows }, null] : [null, { payload: rows }];
}
