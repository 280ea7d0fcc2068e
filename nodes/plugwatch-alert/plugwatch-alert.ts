// alert: glue between Node-RED messages and lib/alerts/engine.ts (plug/generic readings, availability in; retained alert events out).
import type { NodeAPI } from "node-red";
import { AlertEngine } from "../../lib/alerts/engine";
import type { InputMeta } from "../../lib/alerts/types";
import { classifyAlertInput } from "../../lib/alerts/input";
import { alertMessages } from "../../lib/alerts/messages";
import type { AlertEvent } from "../../lib/contracts/alert";
import { PlugwatchError } from "../../lib/contracts/errors";
import { contextSlot } from "../shared/context-slot";
import { defineNode, type Send } from "../shared/kit";
import { parseAlertConfig } from "./config";
import { selfAlerts } from "./self-alerts";
import { pipeline } from "../../lib/metrics/hub";
import { metricLabel } from "../shared/metrics";

/** Context key of the persisted engine snapshot, and the store used when settings.js defines one named so. */
const CONTEXT_KEY = "alerts";
const PERSIST_STORE = "file";
/** At most one save per this many ms while only counters/timers change (events are saved at once). */
const SAVE_EVERY_MS = 10_000;
/** Saves after alert events at most this often: 9000 plugs going offline must not write 9000 snapshots (issue 18). */
const SAVE_GAP_MS = 1000;

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-alert", parseAlertConfig, (node, config, kit) => {
    const devices = config.registry
      ? kit.loadRegistry(config.registry).devices.map(({ id, kind, location, idleWatts }) => ({ id, kind, location, idleWatts }))
      : [];
    // With a registry, only its devices (and backup health, {root}/backup/{id}/availability) get alert state.
    const backups = `${config.root}/backup/`;
    const admit = config.registry ? (_id: string, meta: InputMeta) => meta.source?.startsWith(backups) === true : undefined;
    const engine = new AlertEngine({ rules: config.rules, devices, clock: () => kit.clock.now(), ...(admit ? { admit } : {}) });
    const stores = kit.setting("contextStorage");
    const store = stores !== null && typeof stores === "object" && PERSIST_STORE in stores ? PERSIST_STORE : undefined;
    const slot = contextSlot(node, CONTEXT_KEY, store);
    // Self-alerts (storage, spool, collector misses, broker) leave through the same output, status and persistence.
    const self = selfAlerts(RED, node, kit, config.self, store);
    const unregister = pipeline.alerts.add(node.id, metricLabel(node), { active: () => [...engine.activeAlerts(), ...self.active()] });
    const state = { badInputs: 0, dirty: false, lastSave: 0 };
    const problem = (key: string) => (e: unknown) => node.warn(kit.t(key, { message: e instanceof Error ? e.message : String(e) }));

    const updateStatus = (): void => {
      const sev = engine.highestSeverity();
      const count = engine.activeCount + self.active().length;
      const kind = sev === "critical" ? "critical" : sev === "warning" ? "warn" : "ok";
      if (state.badInputs) kit.status.show(kind, "status.activeBad", { count, bad: state.badInputs });
      else kit.status.show(kind, "status.active", { count });
    };
    const save = (): Promise<void> => {
      if (!config.persist) return Promise.resolve();
      state.dirty = false;
      state.lastSave = kit.clock.now();
      return Promise.all([slot.save(engine.snapshot()), self.save()]).then(() => undefined, problem("errors.save"));
    };
    const emit = (events: AlertEvent[], send: Send): void => {
      if (!events.length) return;
      send([alertMessages(config.root, events), null]);
      updateStatus();
      saveSoon();
    };
    // Now when the last save is older than SAVE_GAP_MS, else once at the end of the gap (one pending save at most).
    let pendingSave = false;
    const saveSoon = (): void => {
      if (pendingSave) return;
      const wait = state.lastSave + SAVE_GAP_MS - kit.clock.now();
      if (wait <= 0) return void save();
      pendingSave = true;
      kit.setTimeout(() => {
        pendingSave = false;
        if (!kit.closing) void save();
      }, wait);
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
        if (republish.length) {
          const active = new Set([...engine.activeAlerts(), ...self.active()].map((a) => a.id));
          const still = republish.filter((a) => active.has(a.id));
          republish = [];
          if (still.length) node.send([alertMessages(config.root, still), null]);
        }
        emit(engine.tick(), (m) => node.send(m));
        void kit.track(self.tick().then((events) => !kit.closing && emit(events, (m) => node.send(m)), problem("errors.self")));
        if (state.dirty && kit.clock.now() - state.lastSave >= SAVE_EVERY_MS) void save();
      }, config.tickMs);
    });

    kit.onInput(async (msg, send, done) => {
      await ready;
      const input = classifyAlertInput(config.root, msg.topic, msg.payload);
      if (input.kind === "list") {
        send([null, { ...msg, payload: [...engine.activeAlerts(), ...self.active()] }]);
        return done();
      }
      const out = input.kind === "availability" ? engine.onAvailability(input.data, input.meta) : engine.onReading(input.data, input.meta);
      emit(out.events, send);
      if (out.accepted) {
        // A rule that cannot use a valid reading (boolean field): a configuration problem, logged once per rule and device.
        for (const w of out.warnings) node.warn(`${w.code}: ${w.message}`);
        state.dirty = true;
        return done();
      }
      state.badInputs++;
      updateStatus();
      // Reported once per device (until it sends a valid one); repeats are counted in the status only.
      const warning = out.warnings[0];
      done(warning ? new PlugwatchError(warning.code, warning.message) : undefined);
    });

    // A removed node's context is deleted by Node-RED; otherwise keep the state for the next start.
    kit.onClose((removed) => {
      unregister();
      self.close();
      return removed ? undefined : ready.then(save);
    });
  });
