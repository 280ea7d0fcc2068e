// Component status contract: what a component (the plugwatch-influx-hook) publishes on {root}/status/{component}; the API's /health reads it.
import { Type, type Static } from "@sinclair/typebox";
import { EpochMs, Slug, Version } from "./common";
import { ErrorCodeSchema } from "./errors";

const Count = (description: string) => Type.Integer({ minimum: 0, description });

/** Spool counters of the plugwatch-influx-hook (lib/spool.ts SpoolStats). */
const SpoolCounters = Type.Object(
  {
    backlogLines: Count("Lines spooled and not yet acknowledged"),
    backlogBytes: Count("Bytes of those lines"),
    diskBytes: Count("Size of the segment files on disk"),
    appendedLines: Count("Lines appended since the start"),
    ackedLines: Count("Lines acknowledged since the start"),
    rejectedLines: Count("Lines refused because the spool was full (policy reject)"),
    droppedLines: Count("Lines discarded to make room (policy drop-oldest)"),
    fairShareRejectedLines: Type.Optional(Count("Of rejectedLines, lines refused because their device was over its fair share")),
    maxBytes: Type.Optional(Count("The spool's size bound in bytes")),
    keys: Type.Optional(Count("Devices holding unsent lines")),
    largestKeyBytes: Type.Optional(Count("Bytes held by the device with the most unsent lines")),
    segments: Count("Segment files"),
    recovery: Type.Object(
      {
        segments: Count("Segments found at start"),
        records: Count("Records recovered"),
        lines: Count("Lines recovered"),
        skippedBytes: Count("Bytes of torn or corrupt data skipped"),
        tornBytes: Type.Optional(Count("Of those, bytes of a torn tail (an append cut by a crash)")),
        corruptRegions: Type.Optional(Count("Corrupt regions skipped by resynchronising (bytes kept in quarantine/)")),
        lostLines: Type.Optional(Count("Unsent lines lost in corrupt regions")),
        keptRecords: Type.Optional(Count("Records with unsent lines kept")),
      },
      { additionalProperties: false, description: "What the spool recovered when the node started" },
    ),
  },
  { additionalProperties: false },
);

const Tier = (description: string) => Type.String({ pattern: "^(inf|[0-9]{1,7}[hd])$", description });

/** Retention tiers kept by the plugwatch-influx config node (lib/influx/retention-manager.ts RetentionStatus). */
const RetentionCounters = Type.Object(
  {
    state: Type.Union(
      ["off", "pending", "applied", "failed", "unsupported"].map((s) => Type.Literal(s)),
      { description: "pending: not yet applied (InfluxDB unreachable, retried); failed: refused (see error); unsupported: InfluxDB 3.x" },
    ),
    tiers: Type.Object(
      { raw: Tier("Raw readings kept (30d, inf)"), "1m": Tier("1-minute rollups kept"), "1h": Tier("1-hour rollups kept") },
      { additionalProperties: false },
    ),
    changes: Count("Statements or requests the last apply ran (0 = the server was already in step)"),
    appliedAt: Type.Optional(EpochMs),
    error: Type.Optional(Type.Object({ code: ErrorCodeSchema, message: Type.String({ maxLength: 2048 }) }, { additionalProperties: false })),
    latePoints: Count("Points written too late for the continuous queries since the start"),
    reaggregated: Count("Rollup ranges re-aggregated from raw for late points"),
    pendingRanges: Count("Rollup ranges waiting to be re-aggregated"),
  },
  { additionalProperties: false, description: "Retention tiers and late-data rollups (docs/retention.md)" },
);

export const ComponentStatus = Type.Object(
  {
    v: Version,
    component: Slug,
    ts: EpochMs,
    backlog: Count("Items waiting to be stored (plugwatch-influx-hook: lines in the spool); the API's /health sums it as storage.backlog"),
    node: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "Node-RED id of the reporting node" })),
    name: Type.Optional(Type.String({ maxLength: 256, description: "Name of the reporting node" })),
    // plugwatch-influx-hook counters (optional: another component may report only the fields above)
    acceptedLines: Type.Optional(Count("Lines accepted into the spool since the start")),
    writtenLines: Type.Optional(Count("Lines written to InfluxDB since the start")),
    rejectedLines: Type.Optional(Count("Lines InfluxDB refused as bad data (400 partial write)")),
    acceptedPerSec: Type.Optional(Type.Number({ minimum: 0, description: "Accepted lines per second" })),
    writtenPerSec: Type.Optional(Type.Number({ minimum: 0, description: "Written lines per second" })),
    backlogLines: Type.Optional(Count("Same as backlog (kept for flows that read the older stats message)")),
    backlogBytes: Type.Optional(Count("Bytes waiting in the spool")),
    retries: Type.Optional(Count("Write attempts repeated since the start")),
    retrying: Type.Optional(Type.Boolean({ description: "True while a batch waits for its next attempt" })),
    inFlight: Type.Optional(Count("Write requests in flight")),
    invalidInputs: Type.Optional(Count("Input messages refused as invalid")),
    invalidElements: Type.Optional(Count("Readings inside those messages that were invalid")),
    spoolFullRefusals: Type.Optional(Count("Input messages refused with SPOOL_FULL")),
    rejectedReadings: Type.Optional(
      Type.Record(Type.String({ pattern: "^[A-Z_]{1,32}$" }), Type.Integer({ minimum: 0 }), {
        description: "Readings never stored, per reason: SCHEMA, TOPIC_MISMATCH, UNKNOWN_DEVICE, MEASUREMENT_NOT_ALLOWED, IMPLAUSIBLE",
      }),
    ),
    spoolFull: Type.Optional(Type.Boolean({ description: "True while the SPOOL_FULL alert is raised (refusals, cleared when quiet and below 80 %)" })),
    fill: Type.Optional(Type.Number({ minimum: 0, description: "Spool fill level: unsent bytes / size bound (0..1, may exceed 1 briefly)" })),
    oldestAgeMs: Type.Optional(Count("Age of the oldest unsent reading (ms, from its timestamp); absent when nothing waits")),
    writeErrors: Type.Optional(Count("Failed InfluxDB write attempts since the start")),
    lastError: Type.Optional(
      Type.Object(
        {
          code: ErrorCodeSchema,
          message: Type.String({ maxLength: 2048 }),
          status: Type.Optional(Type.Integer({ description: "HTTP status, when InfluxDB answered" })),
          at: EpochMs,
        },
        { additionalProperties: false, description: "The last write failure" },
      ),
    ),
    spool: Type.Optional(SpoolCounters),
    retention: Type.Optional(RetentionCounters),
  },
  { additionalProperties: false, description: "Status of a component on {root}/status/{component}; sent every few seconds" },
);
export type ComponentStatus = Static<typeof ComponentStatus>;
