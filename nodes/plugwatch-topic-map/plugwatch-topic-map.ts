// plugwatch-topic-map node: a plain value on a topic matching a template (23.5 on home/kitchen/temperature) → a generic reading. Glue only; logic in lib/topic-template.
import type { NodeAPI, NodeMessage } from "node-red";
import { isReading, outputTopic, parseTopicTemplate, readingFromTopic, type TopicMapOptions } from "../../lib/topic-template";
import { errorText, fail, status } from "../shared/node-kit";
import type { PlugwatchTopicMapNode, PlugwatchTopicMapNodeDef } from "./types";

export = (RED: NodeAPI) => {
  function PlugwatchTopicMap(this: PlugwatchTopicMapNode, def: PlugwatchTopicMapNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let opts: TopicMapOptions | undefined;
    let configError: Error | undefined;
    try {
      opts = { template: parseTopicTemplate(def.template ?? ""), device: def.device || undefined, measurement: def.measurement || undefined };
      node.status(status.idle(opts.template.source.slice(0, 20)));
    } catch (err) {
      configError = err as Error;
      node.status(status.error(RED._("plugwatch-topic-map.status.badConfig")));
      node.error(configError.message);
    }
    let mapped = 0;
    let refused = 0;
    node.on("input", (msg: NodeMessage & { topic?: string }, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      if (!opts) return fail(node, configError, done);
      if (isReading(msg.payload)) {
        send(msg); // already a contract reading: passed on unchanged
        return done();
      }
      try {
        const topic = String(msg.topic ?? "");
        const reading = readingFromTopic(opts, topic, msg.payload, Date.now());
        msg.topic = outputTopic(def.outTopic ?? "", opts.template, topic, reading.device) ?? topic;
        msg.payload = reading;
        mapped++;
        node.status(status.ok(`${mapped} mapped${refused ? `, ${refused} bad` : ""}`));
        send(msg);
        done();
      } catch (err) {
        refused++;
        node.status(status.warn(`${mapped} mapped, ${refused} bad: ${errorText(err)}`.slice(0, 30)));
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }
  RED.nodes.registerType("plugwatch-topic-map", PlugwatchTopicMap);
};
