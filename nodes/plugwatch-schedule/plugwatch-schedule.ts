// Config node: the schedule document's source (inline JSON or a file in userDir); plugwatch-scheduler reads and checks it.
import type { NodeAPI } from "node-red";
import { scheduleSource, type ScheduleSource } from "../../lib/schedule/store";
import { defineNode, type ParseEnv } from "../shared/kit";
import type { PlugwatchScheduleNode, PlugwatchScheduleNodeDef } from "./types";

const parse = (def: PlugwatchScheduleNodeDef, env: ParseEnv): ScheduleSource => scheduleSource(def, def.id, env.userDir);

export = (RED: NodeAPI) =>
  defineNode<PlugwatchScheduleNodeDef, ScheduleSource, object, PlugwatchScheduleNode>(RED, "plugwatch-schedule", parse, (node, src, kit) => {
    node.scheduleSource = src;
    if (src.source === "file" && !src.label) {
      // Nodes that name this one (scheduler, tariff) report it with this reason.
      node.startError = kit.t("errors.noFile");
      node.error(node.startError);
    }
  });
