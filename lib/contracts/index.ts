// The contracts, one schema each: TypeScript types, runtime validation and the published JSON Schemas come from here.
export * from "./common";
export * from "./errors";
export * from "./device";
export * from "./reading";
export * from "./command";
export * from "./query";
export * from "./alert";
export * from "./status";
export * from "./validate";
export * from "./reply-topic";
export * from "./queued-command";
export { DAY_TYPES, LocalDate, PeriodName, Tariff, TariffFile, TariffVersion, TouRule, type DayType } from "./tariff";

import { RegistryFile } from "./device";
import { Availability, GenericReading, Reading } from "./reading";
import { CommandReply, CommandRequest } from "./command";
import { QueryReply, QueryRequest } from "./query";
import { AlertEvent } from "./alert";
import { ComponentStatus } from "./status";
import { CommandLookupReply, CommandLookupRequest } from "./queued-command";
import { TariffFile } from "./tariff";
import { ScheduleDocument } from "../schedule/contract";
import type { TSchema } from "@sinclair/typebox";

/** Every published schema, by file name under schemas/ (written by scripts/export-schemas). */
export const PUBLISHED_SCHEMAS: Record<string, TSchema> = {
  "registry.schema.json": RegistryFile,
  "reading.schema.json": Reading,
  "generic-reading.schema.json": GenericReading,
  "availability.schema.json": Availability,
  "command-request.schema.json": CommandRequest,
  "command-reply.schema.json": CommandReply,
  "query-request.schema.json": QueryRequest,
  "query-reply.schema.json": QueryReply,
  "alert-event.schema.json": AlertEvent,
  "component-status.schema.json": ComponentStatus,
  "command-lookup-request.schema.json": CommandLookupRequest,
  "command-lookup-reply.schema.json": CommandLookupReply,
  "tariff.schema.json": TariffFile,
  "schedule.schema.json": ScheduleDocument,
};
