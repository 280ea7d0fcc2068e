// Config node: loads and validates the tariffs once (file in the user directory or inline JSON); the query component prices with them.
import { readFileSync } from "node:fs";
import type { NodeAPI } from "node-red";
import { loadTariffSource, TariffError, type TariffSource } from "../../lib/tariff/load";
import { ScheduleHolidays, withExtraHolidays } from "../../lib/tariff/schedule-holidays";
import { ScheduleStore } from "../../lib/schedule/store";
import { scheduleLinkProblem } from "../../lib/tariff/schedule-link";
import { PlugwatchError } from "../../lib/contracts/errors";
import type { PlugwatchScheduleNode } from "../plugwatch-schedule/types";
import { resolveRegistryPath } from "../../lib/registry";
import { defineNode, type ParseEnv } from "../shared/kit";
import type { PlugwatchTariffNode, PlugwatchTariffNodeDef } from "./types";

interface TariffConfig extends TariffSource {
  /** plugwatch-schedule config node whose holidays are joined ('' = none). */
  schedule: string;
}

function parseTariffConfig(def: PlugwatchTariffNodeDef, env: ParseEnv): TariffConfig {
  const schedule = def.schedule ?? "";
  if (def.source === "json") return { source: "json", label: `tariff '${def.name || def.id}' (inline JSON)`, json: def.json || "", schedule };
  return { source: "file", label: def.file ? resolveRegistryPath(def.file, env.userDir) : "", json: "", schedule };
}

export = (RED: NodeAPI) =>
  defineNode<PlugwatchTariffNodeDef, TariffConfig, object, PlugwatchTariffNode>(RED, "plugwatch-tariff", parseTariffConfig, (node, src, kit) => {
    try {
      node.book = loadTariffSource(src);
      node.log(kit.t("log.loaded", { count: node.book.tariffs.size, file: src.label }));
    } catch (err) {
      node.loadError = err instanceof TariffError ? err : new TariffError(src.label, [{ file: src.label, path: "$", message: String(err) }]);
      // An invalid tariff must not stop Node-RED: every issue is logged, nothing is priced (never half a tariff).
      for (const issue of node.loadError.issues) node.error(`${issue.file} ${issue.path}: ${issue.message}`);
      kit.status.text("error", "TARIFF_INVALID");
    }
    // The schedule's holidays (dates and ICS files), re-read at each use: a PUT /api/v1/schedules counts from the next query.
    let holidays: ScheduleHolidays | undefined;
    const scheduleHolidays = (): ScheduleHolidays | undefined => {
      if (!src.schedule) return undefined;
      const found = RED.nodes.getNode(src.schedule) as PlugwatchScheduleNode | null;
      const startError = found && !found.scheduleSource ? kit.t("errors.scheduleNoSource") : found?.startError;
      const linked = found ? { type: found.type, name: found.name, startError } : undefined;
      const check = (loadProblem?: string): void => {
        const p = scheduleLinkProblem(src.schedule, linked, loadProblem);
        if (p) throw new PlugwatchError("INVALID_SCHEDULE", kit.t(p.key, p.subs));
      };
      check();
      if (!holidays) {
        const store = new ScheduleStore((found as PlugwatchScheduleNode).scheduleSource);
        holidays = new ScheduleHolidays({
          read: () => store.read(),
          readFile: (f) => readFileSync(f, "utf8"),
          baseDir: kit.userDir,
          warn: (m) => kit.warnLimited("holidays", m),
        });
      }
      holidays.refresh();
      check(holidays.unavailable);
      return holidays;
    };
    node.require = () => {
      if (!node.book) throw node.loadError ?? new TariffError(src.label, [{ file: src.label, path: "$", message: kit.t("errors.notLoaded") }]);
      const extra = scheduleHolidays();
      return extra ? withExtraHolidays(node.book, extra.isHoliday) : node.book;
    };
  });
