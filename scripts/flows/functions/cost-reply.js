// @ts-check
/**
 * @param {import("./sandbox").Msg} msg
 * @returns {import("./sandbox").Result}
 */
export default function costReply(msg) {
  // Cost replies → rows for the "by room" (output 1) and "by kind" (output 2) tables: today (the daily bucket holding
  // the request's time) and this month (every bucket), energy cost per group, then standing charges and the total.
  const r = /** @type {import("./sandbox").CostReply | null | undefined} */ (msg.payload);
  if (!r || typeof r !== "object" || typeof r.id !== "string" || !r.id.startsWith("dash-cost-")) return null;
  const by = r.id.startsWith("dash-cost-kind-") ? "kind" : "room";
  const at = Number(r.id.slice(r.id.lastIndexOf("-") + 1));
  /** @param {number} x */
  const money = (x) => Math.round(x * 100) / 100;
  /** @param {number} x */
  const kwh = (x) => Math.round(x * 1000) / 1000;
  /** @param {{ ts: number, end: number }} b */
  const isToday = (b) => b.ts <= at && at < b.end;
  /** @type {Record<string, unknown>[]} */
  let rows;
  if (!r.ok || !r.data || !Array.isArray(r.data.rows) || !Array.isArray(r.data.standing)) {
    const e = r.error || {};
    rows = [{ [by]: "unavailable", note: (e.code || "ERROR") + ": " + (e.message || "no data") }];
  } else {
    const currency = r.data.currency;
    /** @type {Record<string, { todayKWh: number, today: number, monthKWh: number, month: number }>} */
    const sum = {};
    const total = { todayKWh: 0, today: 0, monthKWh: 0, month: 0 };
    for (const row of r.data.rows) {
      const s = (sum[row.group] = sum[row.group] || { todayKWh: 0, today: 0, monthKWh: 0, month: 0 });
      for (const t of [s, total]) {
        t.monthKWh += row.kWh;
        t.month += row.cost;
        if (isToday(row)) {
          t.todayKWh += row.kWh;
          t.today += row.cost;
        }
      }
    }
    let standingToday = 0;
    let standingMonth = 0;
    for (const b of r.data.standing) {
      standingMonth += b.amount;
      if (isToday(b)) standingToday += b.amount;
    }
    /** @param {{ name: string, todayKWh: number, today: number, monthKWh: number, month: number }} s */
    const line = (s) => ({
      [by]: s.name,
      "today kWh": kwh(s.todayKWh),
      today: money(s.today),
      "month kWh": kwh(s.monthKWh),
      month: money(s.month),
      currency,
    });
    rows = Object.keys(sum)
      .sort()
      .map((g) => line({ name: g, ...sum[g] }));
    rows.push(line({ name: "standing charges", todayKWh: 0, today: standingToday, monthKWh: 0, month: standingMonth }));
    rows.push(
      line({ name: "total", todayKWh: total.todayKWh, today: total.today + standingToday, monthKWh: total.monthKWh, month: total.month + standingMonth }),
    );
  }
  return by === "room" ? [{ payload: rows }, null] : [null, { payload: rows }];
}
