// The alert node's self-alerts: lib/metrics/self-alerts.ts over the runtime's pipeline hub, persisted next to the engine's state.
import type { Node, NodeAPI } from "node-red";
import type { AlertEvent } from "../../lib/contracts/alert";
import { validate } from "../../lib/contracts/validate";
import { AlertEvent as AlertEventSchema } from "../../lib/contracts/alert";
import { pipeline } from "../../lib/metrics/hub";
import { SelfAlertMonitor, viewOf, type SelfAlertSettings } from "../../lib/metrics/self-alerts";
import { contextSlot } from "../shared/context-slot";
import type { NodeKit } from "../shared/kit";
import { watchBrokers } from "../shared/metrics";

export interface SelfAlerts {
  active(): AlertEvent[];
  /** Loads the alerts active before a restart; returns them (to re-publish). */
  restore(): Promise<AlertEvent[]>;
  save(): Promise<void>;
  /** One check of the pipeline: the events to publish now. */
  tick(): Promise<AlertEvent[]>;
  close(): void;
}

export function selfAlerts(RED: NodeAPI, node: Node, kit: NodeKit, settings: SelfAlertSettings, store: string | undefined): SelfAlerts {
  const monitor = new SelfAlertMonitor(settings);
  const slot = contextSlot(node, "selfAlerts", store);
  const unwatch = settings.enabled ? watchBrokers(RED) : () => undefined;
  let checking = false;
  return {
    active: () => monitor.active(),
    async restore() {
      const saved = await slot.load();
      if (Array.isArray(saved)) monitor.restore(saved.filter((e): e is AlertEvent => validate(AlertEventSchema, e).ok));
      return monitor.active();
    },
    save: () => slot.save(monitor.active()),
    async tick() {
      if (!settings.enabled || checking) return [];
      checking = true;
      try {
        return monitor.check(kit.clock.now(), await viewOf(pipeline));
      } finally {
        checking = false;
      }
    },
    close: unwatch,
  };
}
