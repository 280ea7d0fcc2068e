// The schedule operations of the REST API (GET/PUT /schedules, GET /savings): answered by plugwatch-scheduler over MQTT.
import { Type } from "@sinclair/typebox";
import { SLUG_PATTERN } from "../contracts/common";
import { SavingsReport, ScheduleDocument, ScheduleState } from "../schedule/contract";
import type { Operation } from "./spec";

const AUTH = [401, 403];
const PEER = [502, 503, 504];

export const SCHEDULE_OPERATIONS: readonly Operation[] = [
  {
    id: "listSchedules",
    method: "get",
    path: "/schedules",
    access: "control",
    tag: "schedules",
    summary: "The schedules in force",
    description:
      "The schedule document the plugwatch-scheduler node runs (weekly on/off times, standby cut-offs, holidays, neverOff), where it is kept, " +
      "and when it was last replaced through the API. Answered by the scheduler over MQTT ({root}/api/request/schedule).",
    params: [],
    success: { status: 200, description: "The document in force", schema: ScheduleState },
    errors: [...AUTH, ...PEER],
  },
  {
    id: "putSchedules",
    method: "put",
    path: "/schedules",
    access: "control",
    tag: "schedules",
    summary: "Replace the schedules",
    description:
      "Replaces the whole schedule document. The scheduler checks it against the registry (unknown devices, duplicate names, bad times, " +
      "unreadable holiday files) and answers 422 INVALID_SCHEDULE with JSON paths, changing nothing; otherwise it saves it in the user " +
      "directory and runs it from the next check on (times already passed today are not replayed). The token name is recorded.",
    params: [],
    body: ScheduleDocument,
    success: { status: 200, description: "The document now in force", schema: ScheduleState },
    errors: [400, ...AUTH, 413, 415, 422, ...PEER],
  },
  {
    id: "getSavings",
    method: "get",
    path: "/savings",
    access: "read",
    tag: "schedules",
    summary: "Energy and cost avoided by automatic offs, per room and month",
    description:
      "For every automatic off (schedule or standby cut-off) the control agent confirmed: the device's standby power (W, measured just " +
      "before the off, else its idleWatts, else the document's estimate for its kind) times the hours until the next on, split at local " +
      "month boundaries of its building. Cost from the joined tariff or the document's flat price; null when none is known. Devices still " +
      "off count up to now.",
    params: [
      { name: "month", in: "query", description: "Only this local month, YYYY-MM", schema: Type.String({ pattern: "^\\d{4}-(0[1-9]|1[0-2])$" }) },
      { name: "building", in: "query", description: "Only this building", schema: Type.String({ pattern: SLUG_PATTERN, maxLength: 64 }) },
    ],
    success: { status: 200, description: "Rows per month and room", schema: SavingsReport },
    errors: [400, ...AUTH, ...PEER],
  },
];
