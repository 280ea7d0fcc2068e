// The query node's QueryService (lib/influx/query-service) wired to its config nodes: storage, registry, tariff, reply-topic
// guard and, with rollups, the kept kWh of closed days and the closed buckets of range queries (docs/queries.md), told
// about late data by the influx config node.
import { replyTopicGuardFromSettings } from "../../lib/contracts/reply-topic";
import { DayEnergyCache } from "../../lib/influx/day-energy-cache";
import { RangeBucketCache } from "../../lib/influx/range-cache";
import { QueryService } from "../../lib/influx/query-service";
import { queryStorage } from "../../lib/influx/query-storage";
import { DEFAULT_ROOT } from "../../lib/topics";
import type { NodeKit } from "../shared/kit";
import type { QueryNodeConfig } from "./config";

/** The service and what close() must undo: the abort of running queries and the late-data subscription. */
export function queryNodeService(
  kit: NodeKit,
  config: QueryNodeConfig,
  abort: AbortSignal,
): { service: QueryService; influxFound: boolean; unwatch?: () => void } {
  const influx = kit.findConfigNode("plugwatch-influx", config.influx);
  // Aborted on close: running queries end at once with STORAGE_UNAVAILABLE instead of running into their timeout.
  const storage = queryStorage(influx, { database: config.database ?? "", timeoutMs: config.timeoutMs, signal: abort }, () =>
    kit.t("errors.noConfigNode", { type: "plugwatch-influx" }),
  );
  // Kept kWh of closed days: only with rollups, whose late data this runtime's config node reports.
  const dayCache = storage.rollups.enabled ? new DayEnergyCache({ now: () => kit.clock.now() }) : undefined;
  const rangeCache = storage.rollups.enabled ? new RangeBucketCache({ now: () => kit.clock.now() }) : undefined;
  const unwatch =
    dayCache &&
    rangeCache &&
    influx?.retention?.onChange((change) => {
      dayCache.onStorageChange(change);
      rangeCache.onStorageChange(change);
    });
  const service = new QueryService({
    run: storage.run,
    registry: () => kit.configNode("plugwatch-registry", config.registry).require(),
    limits: config.limits,
    replyTopics: replyTopicGuardFromSettings({ plugwatch: kit.setting("plugwatch") }, DEFAULT_ROOT),
    rollups: storage.rollups,
    ...(config.tariff && { tariffs: () => kit.configNode("plugwatch-tariff", config.tariff).require() }),
    ...(dayCache ? { dayCache } : {}),
    ...(rangeCache ? { rangeCache } : {}),
  });
  return { service, influxFound: influx !== undefined, ...(unwatch ? { unwatch } : {}) };
}
