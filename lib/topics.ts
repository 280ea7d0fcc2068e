// MQTT topic scheme: builds and parses {root}/{building}/{floor}/{room}/{device}/{stream} and the API/alert topics.
import type { Device } from "./contracts/device";

export const DEFAULT_ROOT = "plugwatch";
export const STREAMS = ["reading", "availability"] as const;
export type Stream = (typeof STREAMS)[number];

/** A topic root: one or more levels, no wildcards, no leading/trailing slash. */
export function checkRoot(root: string): string {
  // eslint-disable-next-line no-control-regex -- NUL is deliberately excluded: MQTT forbids it in topic names
  if (!/^[^+#/\u0000]+(\/[^+#/\u0000]+)*$/.test(root)) {
    throw new Error(`invalid topic root '${root}': use levels without '+', '#' or empty parts (e.g. 'plugwatch' or 'site/plugwatch')`);
  }
  return root;
}

export function deviceTopic(root: string, device: Pick<Device, "id" | "location">, stream: Stream): string {
  const { building, floor, room } = device.location;
  return `${root}/${building}/${floor}/${room}/${device.id}/${stream}`;
}

export const commandRequestTopic = (root: string): string => `${root}/api/request/command`;
export const queryRequestTopic = (root: string): string => `${root}/api/request/query`;
/** Component status ({v, component, ts, backlog, …}, lib/contracts/status.ts) goes to {root}/status/{component}. */
export const componentStatusTopic = (root: string, component: string): string => `${root}/status/${component}`;
/**
 * Alert events go to {root}/alerts/{device}/{rule}: one retained slot per alert id, because a device can have
 * several active alerts at once and a single {root}/alerts/{device} topic would retain only the last one.
 */
export const alertTopic = (root: string, device: string, rule: string): string => `${root}/alerts/${device}/${rule}`;

/** Wildcard subscriptions for common selections. */
export const subscriptions = {
  allReadings: (root: string) => `${root}/+/+/+/+/reading`,
  allAvailability: (root: string) => `${root}/+/+/+/+/availability`,
  room: (root: string, building: string, floor: string, room: string) => `${root}/${building}/${floor}/${room}/+/+`,
  floor: (root: string, building: string, floor: string) => `${root}/${building}/${floor}/#`,
  alerts: (root: string) => `${root}/alerts/#`,
};

export interface ParsedDeviceTopic {
  building: string;
  floor: string;
  room: string;
  device: string;
  stream: Stream;
}

/** Parses a device topic under `root`; returns undefined for any other topic. */
export function parseDeviceTopic(root: string, topic: string): ParsedDeviceTopic | undefined {
  if (!topic.startsWith(root + "/")) return undefined;
  const parts = topic.slice(root.length + 1).split("/");
  if (parts.length !== 5) return undefined;
  const [building, floor, room, device, stream] = parts as [string, string, string, string, string];
  if (!(STREAMS as readonly string[]).includes(stream) || building === "api" || building === "alerts") return undefined;
  return { building, floor, room, device, stream: stream as Stream };
}
