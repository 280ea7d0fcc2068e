// An alert node's input message → what the engine needs: a list request, or a reading/availability with its source and location.
import { Location } from "../contracts/device";
import { decodePayload, validate } from "../contracts/validate";
import { parseDeviceTopic } from "../topics";
import type { InputMeta } from "./types";

export type AlertInput = { kind: "list" } | { kind: "availability" | "reading"; data: unknown; meta: InputMeta };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object";

/**
 * Classifies `payload` received on `topic` under `root`: the topic decides the stream (…/availability, …/reading),
 * else an `online` field means availability. A payload that is not JSON is passed on as it is (the engine rejects it).
 */
export function classifyAlertInput(root: string, topic: unknown, payload: unknown): AlertInput {
  let data: unknown = payload;
  try {
    data = decodePayload(payload);
  } catch {
    // not JSON: the engine rejects it (reported once per topic)
  }
  if (isObject(data) && data.action === "list") return { kind: "list" };
  const t = typeof topic === "string" ? topic : "";
  const parsed = parseDeviceTopic(root, t);
  const location = parsed ? { building: parsed.building, floor: parsed.floor, room: parsed.room } : undefined;
  const meta: InputMeta = { source: t || "(no topic)", ...(location && validate(Location, location).ok ? { location } : {}) };
  const stream =
    parsed?.stream ??
    (t.endsWith("/availability") ? "availability" : t.endsWith("/reading") ? "reading" : isObject(data) && "online" in data ? "availability" : "reading");
  return { kind: stream === "availability" ? "availability" : "reading", data, meta };
}
