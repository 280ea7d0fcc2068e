// alert: glue between Node-RED messages and lib/alerts/engine.ts (plug/generic readings, availability in; retained alert events out).
import type { NodeAPI } from "node-red";
import { AlertEngine } from "../../lib/alerts/engine";
import { alertScope, alertStatus, SaveSchedule, stillActive } from "../../lib/alerts/node-state";
import { classifyAlertInput } from "../../lib/alerts/input";
import { alertMessages } from "../../lib/alerts/messages";
import type { AlertEvent } from "../../lib/contracts/alert";
import { PlugwatchError } from "../../lib/contracts/errors";
import { contextSlot, namedStore } from "../shared/context-slot";
import { defineNode, type Send } from "../shared/kit";
import { parseAlertConfig } from "./config";
import { selfAlerts } from "./self-alerts";
import { pipeline } from "../../lib/metrics/hub";
import { metricLabel } from "../shared/metrics";

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-alert", parseAlertConfig, (node, config, kit) => {
    const scope = alertScope(config.root, config.registry ? kit.loadRegistry(config.registry).devices : undefined);
    const engine = new AlertEngine({ rules: config.rules, clock: () => kit.clock.now(), ...scope });
    // The engine's snapshot is kept in the context store "file" when settings.js defines one (else the default store).
    const store = namedStore(kit.setting("contextStorage"), "file");
    const slot = contextSlot(node, "alerts", store);
    const self = selfAlerts(RED, node, kit, config.self, store); // storage, spool, misses, broker: same output, status, persistence
    const active = (): AlertEvent[] => [...engine.activeAlerts(), ...self.active()];
    const unregister = pipeline.alerts.add(node.id, metricLabel(node), { active });
    const saves = new SaveSchedule();
    let badInputs = 0;
    const problem = (key: string) => (e: unknown) => node.warn(kit.t(key, { message: e instanceof Error ? e.message : String(e) }));

    const updateStatus = (): void => {
      const { kind, key, subs } = alertStatus(engine.highestSeverity(), engine.activeCount + self.active().length, badInputs);
      kit.status.show(kind, key, subs);
    };
    const save = (): Promise<void> => {
      if (!config.persist) return Promise.resolve();
      saves.saved(kit.clock.now());
      return Promise.all([slot.save(engine.snapshot()), self.save()]).then(() => undefined, problem("errors.save"));
    };
    const emit = (events: AlertEvent[], send: Send): void => {
      if (!events.length) return;
      send([alertMessages(config.root, events), null]);
      updateStatus();
      const wait = saves.afterEvents(kit.clock.now());
      if (wait === 0) void save();
      else if (wait !== undefined) kit.setTimeout(() => !kit.closing && void save(), wait);
    };

    /** Restored active alerts, re-published at the first tick (when the flow's nodes are all running). */
    let republish: AlertEvent[] = [];
    const restore = async (): Promise<void> => {
      if (!config.persist) return;
      kit.status.show("busy", "status.restoring");
      const saved = await slot.load();
      if (saved === undefined || kit.closing) return;
      emit(engine.restore(saved), (m) => node.send(m));
      // Restored alerts are re-published retained, unchanged (same id and ts, so no new "raised"): an embedded
      // broker restarts empty, and on a broker that kept them the identical retained message changes nothing.
      republish = [...engine.activeAlerts(), ...(await self.restore())];
    };
    const ready = kit.track(restore().catch(problem("errors.restore"))).then(() => {
      if (kit.closing) return;
      updateStatus();
      kit.setInterval(() => {
        const still = republish.length ? stillActive(republish.splice(0), active()) : []; // the active list only when needed
        if (still.length) node.send([alertMessages(config.root, still), null]);
        emit(engine.tick(), (m) => node.send(m));
        void kit.track(self.tick().then((events) => !kit.closing && emit(events, (m) => node.send(m)), problem("errors.self")));
        if (saves.due(kit.clock.now())) void save();
      }, config.tickMs);
    });

    kit.onInput(async (msg, send, done) => {
      await ready;
      const input = classifyAlertInput(config.root, msg.topic, msg.payload);
      if (input.kind === "list") {
        send([null, { ...msg, payload: active() }]);
        return done();
      }
      const out = input.kind === "availability" ? engine.onAvailability(input.data, input.meta) : engine.onReading(input.data, input.meta);
      emit(out.events, send);
      if (out.accepted) {
        // A rule that cannot use a valid reading (boolean field): a configuration problem, logged once per rule and device.
        for (const w of out.warnings) node.warn(`${w.code}: ${w.message}`);
        saves.dirty = true;
        return done();
      }
      badInputs++;
      updateStatus();
      // Reported once per device (until it sends a valid one); repeats are counted in the status only.
      done(out.warnings[0] && new PlugwatchError(out.warnings[0].code, out.warnings[0].message));
    });

    // A removed node's context is deleted by Node-RED; otherwise keep the state for the next start.
    kit.onClose((removed) => {
      unregister();
      self.close();
      return removed ? undefined : ready.then(save);
    });
  });
