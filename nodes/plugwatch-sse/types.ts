// Types of the plugwatch-sse node: messages in, a server-sent events stream out on an HTTP path.
import type { Node, NodeDef } from "node-red";

/** What the editor saves. Numbers may be saved as text (a `${ENV_VAR}` reference substituted by Node-RED). */
export interface PlugwatchSseNodeDef extends NodeDef {
  /** Path under httpNodeRoot, e.g. /octopus/events. */
  path: string;
  /** Event type of messages without msg.event; empty = the default `message` type. */
  event: string;
  /** Concurrent clients at most. */
  maxClients: string | number;
  /** Seconds between heartbeat comments (0: none). */
  heartbeatS: string | number;
  /** Events kept for a client reconnecting with Last-Event-ID. */
  history: string | number;
}

export type PlugwatchSseNode = Node;
