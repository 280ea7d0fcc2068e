// @ts-check
/**
 * @param {import("./sandbox").Msg} msg
 * @param {import("./sandbox").ContextStore} flow
 * @returns {import("./sandbox").Result}
 */
export default function rememberDeviceState(msg, flow) {
  // Keeps the latest state of every device (flow context "devices") from readings and availability messages.
  // Topic: plugwatch/{building}/{floor}/{room}/{device}/{reading|availability}
  const parts = String(msg.topic || "").split("/");
  const p = /** @type {Record<string, unknown> | null | undefined} */ (msg.payload);
  if (parts.length !== 6 || !p || typeof p !== "object") return null;
  const [, building, floor, room, device, stream] = parts;
  /** @type {Record<string, import("./sandbox").DeviceState>} */
  const devices = flow.get("devices") || {};
  const d = devices[device] || { id: device, building, floor, room, power: 0, relay: false, online: true, ts: 0 };
  if (stream === "reading" && typeof p.power === "number") {
    d.power = p.power;
    d.relay = p.relay === true;
    d.energy = p.energy;
    d.ts = p.ts;
    d.online = true;
  } else if (stream === "availability" && typeof p.online === "boolean") {
    d.online = p.online;
    if (!d.online) d.power = 0;
  } else {
    return null;
  }
  devices[device] = d;
  flow.set("devices", devices);
  return null;
}
