// plugwatch-topic-map's editor config → typed options (the template grammar is lib/topic-template.ts's).
import { parseTopicTemplate, type TopicMapOptions } from "../../lib/topic-template";
import type { PlugwatchTopicMapNodeDef } from "./types";

export interface TopicMapConfig {
  options: TopicMapOptions;
  /** Output topic template; empty = the input topic unchanged. */
  outTopic: string;
}

export function parseTopicMapConfig(def: PlugwatchTopicMapNodeDef): TopicMapConfig {
  return {
    options: { template: parseTopicTemplate(def.template ?? ""), device: def.device || undefined, measurement: def.measurement || undefined },
    outTopic: def.outTopic ?? "",
  };
}
