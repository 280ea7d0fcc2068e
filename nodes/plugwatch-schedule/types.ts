// Types of the plugwatch-schedule config node: where the schedule document lives (inline JSON or a file in userDir).
import type { Node, NodeDef } from "node-red";
import type { ScheduleSource } from "../../lib/schedule/store";

export interface PlugwatchScheduleNodeDef extends NodeDef {
  source: "file" | "json";
  /** Schedule file, relative to the Node-RED user directory unless absolute. */
  file: string;
  /** Inline schedule document (JSON). */
  json: string;
}

export interface PlugwatchScheduleNode extends Node {
  /** Where the document is read from and where API changes are written. */
  scheduleSource: ScheduleSource;
  /** Why the node cannot serve a document (translated), e.g. source "file" without a file; undefined when it can. */
  startError?: string;
}
