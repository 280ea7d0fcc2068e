// A RetentionManager for unit tests: the default tiers (rollups on) against a 1.x InfluxDB that only the test's
// `send` answers, on a fake clock, with quiet logs.
import type { HttpResponse } from "../../lib/influx/http";
import { RetentionManager, type RetentionManagerOptions } from "../../lib/influx/retention-manager";
import { parseRetentionSettings } from "../../lib/influx/retention";
import { influxSettingsFromConfig } from "../../lib/influx/settings";
import type { FakeTime } from "./fake-time";

/** InfluxDB 1.x's answer to one statement it accepted. */
export const STATEMENT_OK: HttpResponse = { status: 200, headers: {}, body: '{"results":[{"statement_id":0}]}' };

/** The manager of the tests: `more` adds options (a store, a retry delay) or overrides these. */
export function testRetentionManager(time: FakeTime, send: RetentionManagerOptions["send"], more: Partial<RetentionManagerOptions> = {}): RetentionManager {
  return new RetentionManager({
    influx: influxSettingsFromConfig({ url: "http://127.0.0.1:1", flavour: "1.x", database: "pw" }),
    retention: parseRetentionSettings({ rollups: true }),
    send,
    clock: time.asClock,
    log: () => undefined,
    warn: () => undefined,
    ...more,
  });
}
