// Types of the plugwatch-topic-map node: plain values on templated topics → generic readings.
import type { Node, NodeDef } from "node-red";

/** What the editor saves. */
export interface PlugwatchTopicMapNodeDef extends NodeDef {
  /** Topic template with named levels, e.g. office/{room}/{device}/{attribute}. */
  template: string;
  /** Device id template, e.g. {room}-{device}; empty = every named level but the attribute, joined by '-'. */
  device: string;
  /** Measurement of the readings; empty = plugwatch-influx-hook's. */
  measurement: string;
  /** Topic of the output message, e.g. plugwatch/home/0/{room}/{id}/reading ({id}: the device id); empty = unchanged. */
  outTopic: string;
}

export type PlugwatchTopicMapNode = Node;
