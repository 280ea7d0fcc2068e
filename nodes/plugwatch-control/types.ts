// Types of the plugwatch-control node: what the editor saves and the runtime instance.
import type { Node, NodeDef } from "node-red";

export interface PlugwatchControlNodeDef extends NodeDef {
  /** Id of the plugwatch-registry config node. */
  registry: string;
  /** Id of the plugwatch-tplink-account config node (KLAP/Tapo plugs); empty = blank credentials. */
  account?: string;
  /** Most plug operations in flight at once (editor saves a number or a numeric string). */
  concurrency: number | string;
  /** Budget per device in ms for switch + read-back. */
  timeout: number | string;
  /** Most device commands waiting for offline plugs (lib/command-queue.ts); absent in flows saved before it: 1000. */
  queueSize?: number | string;
  /** Seconds between two delivery rounds for waiting commands; absent: 30. */
  queueRetry?: number | string;
}

export type PlugwatchControlNode = Node;
