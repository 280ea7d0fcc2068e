// @ts-check
/**
 * @param {import("./sandbox").Msg} msg
 * @returns {import("./sandbox").Result}
 */
export default function notifyAlert(msg) {
  // Example notification: one line per raised critical alert and per cleared one.
  // Replace the debug node with an e-mail, Telegram, Teams... node; msg.payload is the alert event.
  const a = /** @type {import("./sandbox").AlertEvent | null | undefined} */ (msg.payload);
  if (!a || typeof a !== "object" || (a.state === "raised" && a.severity !== "critical")) return null;
  msg.topic = "[Plugwatch] " + a.severity + " " + a.state + ": " + a.rule + " on " + a.device;
  msg.payload = msg.topic + "\n" + (a.message || "") + "\n" + new Date(a.ts).toISOString();
  return msg;
}
