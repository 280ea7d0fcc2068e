// The shipped flow patched for the self-alert e2e tests: a metrics token, a small spool and thresholds of seconds.
import type { SelfAlertSettings } from "../../lib/metrics/self-alerts";
import type { FlowNode } from "../../scripts/harness/nodered";

/**
 * A patch for startPipeline: the API ("pw-api") gets `metricsToken`, the hook ("pw-hook") a 1 MB spool reporting its
 * stats every second, and the alert node ("pw-alert") self-alerts on with `thresholds`, checked every 0.25 s.
 */
export function selfAlertPatch(metricsToken: string, thresholds: Omit<SelfAlertSettings, "enabled">): (flow: FlowNode[]) => FlowNode[] {
  return (flow) =>
    flow.map((n) => {
      if (n.id === "pw-api") return { ...n, credentials: { ...(n.credentials as object), metricsToken } };
      if (n.id === "pw-hook") return { ...n, maxSpoolMB: 1, statsInterval: 1 };
      if (n.id === "pw-alert") return { ...n, tickInterval: 0.25, selfAlerts: true, ...thresholds };
      return n;
    });
}
