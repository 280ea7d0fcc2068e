// @ts-check
/**
 * @param {import("./sandbox").Msg} msg
 * @param {import("./sandbox").NodeApi} node
 * @returns {import("./sandbox").Result}
 */
export default function switchCommand(msg, node) {
  // A switch flipped on the dashboard → a command request for the controlling agent (the same path as the REST API).
  const p = /** @type {{ device?: unknown, state?: unknown } | null | undefined} */ (msg.payload);
  if (
    !p ||
    typeof p !== "object" ||
    typeof p.device !== "string" ||
    !/^[a-z0-9][a-z0-9_-]*$/.test(p.device) ||
    typeof p.state !== "string" ||
    !["on", "off", "toggle"].includes(p.state)
  ) {
    node.warn("ignored dashboard input: " + JSON.stringify(p));
    return null;
  }
  const id = "dash-" + Date.now().toString(36) + "-" + Math.floor(Math.random() * 1e9).toString(36);
  return {
    topic: "{{COMMAND_REQUEST_TOPIC}}",
    qos: 1,
    retain: false,
    payload: { v: 1, id, replyTo: "{{DASHBOARD_COMMAND_REPLY}}", action: p.state, target: { device: p.device } },
  };
}
