// plugwatch-topic-map node: a plain value on a topic matching a template (23.5 on home/kitchen/temperature) → a generic reading. Glue only; logic in lib/topic-template.
import type { NodeAPI } from "node-red";
import { isReading, outputTopic, readingFromTopic } from "../../lib/topic-template";
import { defineNode, errorText } from "../shared/kit";
import { parseTopicMapConfig } from "./config";

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-topic-map", parseTopicMapConfig, (_node, config, kit) => {
    const { options } = config;
    const counts = { mapped: 0, refused: 0 };
    kit.status.text("idle", options.template.source.slice(0, 20));
    kit.onInput((msg, send, done) => {
      if (isReading(msg.payload)) {
        send(msg); // already a contract reading: passed on unchanged
        return done();
      }
      const topic = String(msg.topic ?? "");
      try {
        const reading = readingFromTopic(options, topic, msg.payload, kit.clock.now());
        counts.mapped++;
        if (counts.refused) kit.status.show("ok", "status.mappedBad", counts);
        else kit.status.show("ok", "status.mapped", counts);
        send({ ...msg, topic: outputTopic(config.outTopic, options.template, topic, reading.device) ?? topic, payload: reading });
        done();
      } catch (err) {
        counts.refused++;
        kit.status.text("warn", `${counts.mapped} mapped, ${counts.refused} bad: ${errorText(err)}`.slice(0, 30));
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
