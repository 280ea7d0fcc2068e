// @ts-check
/**
 * @param {import("./sandbox").Msg} msg
 * @param {import("./sandbox").NodeApi} node
 * @param {import("./sandbox").ContextStore} flow
 * @returns {import("./sandbox").Result}
 */
export default function commandReply(msg, node, flow) {
  // Command replies: apply the confirmed relay state at once (the next reading confirms it again); failures to the sidebar.
  const r = /** @type {import("./sandbox").CommandReply | null | undefined} */ (msg.payload);
  if (!r || !Array.isArray(r.results)) return null;
  /** @type {Record<string, import("./sandbox").DeviceState>} */
  const devices = flow.get("devices") || {};
  for (const res of r.results) {
    const d = devices[res.device];
    if (res.ok && d && typeof res.relay === "boolean") {
      d.relay = res.relay;
      if (!res.relay) d.power = 0;
    } else if (!res.ok) {
      node.warn("switching " + res.device + " failed: " + (res.error ? res.error.code + " " + res.error.message : "unknown error"));
    }
  }
  flow.set("devices", devices);
  return null;
}
