// alert: glue between Node-RED messages and lib/alerts/engine.ts (plug/generic readings, availability in; retained alert events out).
import type { NodeAPI, NodeMessage, NodeMessageInFlow, NodeStatus } from "node-red";
import { AlertEngine } from "../../lib/alerts/engine";
import { alertMessages } from "../../lib/alerts/messages";
import { AlertRulesError, parseRules } from "../../lib/alerts/rules";
import { tickMs } from "../../lib/alerts/tick";
import type { DeviceInfo, EngineOutput, InputMeta } from "../../lib/alerts/types";
import type { AlertEvent } from "../../lib/contracts/alert";
import { Location } from "../../lib/contracts/device";
import { PlugwatchError } from "../../lib/contracts/errors";
import { decodePayload, validate } from "../../lib/contracts/validate";
import { checkRoot, DEFAULT_ROOT, parseDeviceTopic } from "../../lib/topics";
import { status } from "../shared/node-kit";
import type { PlugwatchRegistryNode } from "../plugwatch-registry/types";
import type { PlugwatchAlertNode, PlugwatchAlertNodeDef } from "./types";

/** Context key of the persisted engine snapshot. */
const CONTEXT_KEY = "alerts";
/** Context store used when settings.js defines one with this name; otherwise the default store. */
const PERSIST_STORE = "file";
/** At most one save per this many ms while only counters/timers change (events are saved at once). */
const SAVE_EVERY_MS = 10_000;
/** While the configuration is invalid, input errors reach Catch nodes at most once per this many ms. */
const CONFIG_ERROR_EVERY_MS = 60_000;

type Send = (msg: Array<NodeMessage | NodeMessage[] | null>) => void;

const isListAction = (p: unknown): boolean => p !== null && typeof p === "object" && (p as { action?: unknown }).action === "list";

export = (RED: NodeAPI) => {
  function Alert(this: PlugwatchAlertNode, def: PlugwatchAlertNodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let engine: AlertEngine | undefined;
    let configError: Error | undefined;
    let root = DEFAULT_ROOT;
    let interval = 1000;
    try {
      root = checkRoot((def.root || DEFAULT_ROOT).trim());
      interval = tickMs(def.tickInterval);
      const rules = parseRules(def.rules ?? "[]");
      let devices: DeviceInfo[] = [];
      let admit: ((id: string, meta: InputMeta) => boolean) | undefined;
      if (def.registry) {
        const registryNode = RED.nodes.getNode(def.registry) as PlugwatchRegistryNode | null;
        if (!registryNode) throw new PlugwatchError("REGISTRY_INVALID", "the selected registry config node does not exist");
        devices = registryNode.require().devices.map((d) => ({ id: d.id, kind: d.kind, location: d.location, idleWatts: d.idleWatts }));
        // With a registry, only its devices (and backup health, {root}/backup/{id}/availability) get alert state.
        const backups = `${root}/backup/`;
        admit = (_id, meta) => meta.source?.startsWith(backups) === true;
      }
      engine = new AlertEngine({ rules, devices, ...(admit ? { admit } : {}) });
    } catch (err) {
      configError = err instanceof Error ? err : new Error(String(err));
      const details = err instanceof AlertRulesError && err.details ? err.details.map((i) => `${i.path}: ${i.message}`).join("; ") : configError.message;
      node.error(`alert node configuration: ${details}`);
      node.status(status.error(err instanceof AlertRulesError ? "invalid rules" : err instanceof PlugwatchError ? err.code : "invalid config"));
    }

    const persist = def.persist !== false && (def.persist as unknown) !== "false";
    const contextStorage = (RED.settings as unknown as { contextStorage?: Record<string, unknown> }).contextStorage;
    const store = contextStorage && PERSIST_STORE in contextStorage ? PERSIST_STORE : undefined;
    const context = node.context();
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let badInputs = 0;
    let lastStatus = "";
    let dirty = false;
    let lastSave = 0;
    let lastConfigErrorAt = -Infinity;
    /** Restored active alerts, re-published at the first tick (when the flow's nodes are all running). */
    let republish: AlertEvent[] = [];

    const updateStatus = () => {
      if (!engine) return;
      const count = engine.activeCount;
      const sev = engine.highestSeverity();
      const text = badInputs ? RED._("plugwatch-alert.status.activeBad", { count, bad: badInputs }) : RED._("plugwatch-alert.status.active", { count });
      const s: NodeStatus = { fill: sev === "critical" ? "red" : sev === "warning" ? "yellow" : "green", shape: "dot", text };
      const key = `${s.fill}|${text}`;
      if (key !== lastStatus) {
        lastStatus = key;
        node.status(s);
      }
    };

    const save = (done?: () => void) => {
      if (!engine || !persist) return done?.();
      dirty = false;
      lastSave = Date.now();
      context.set(CONTEXT_KEY, engine.snapshot(), store, (err?: Error) => {
        if (err) node.warn(`could not save alert state: ${err.message}`);
        done?.();
      });
    };

    const emit = (events: AlertEvent[], send: Send) => {
      if (!events.length) return;
      send([alertMessages(root, events), null]);
      updateStatus();
      save();
    };

    const ready: Promise<void> = new Promise((resolve) => {
      if (!engine || !persist) return resolve();
      node.status(status.busy(RED._("plugwatch-alert.status.restoring")));
      context.get(CONTEXT_KEY, store, (err: Error | undefined, saved: unknown) => {
        try {
          if (err) throw err;
          if (saved !== undefined && engine && !closed) {
            const cleared = engine.restore(saved);
            if (cleared.length) emit(cleared, (m) => node.send(m));
            // Restored alerts are re-published retained, unchanged (same id and ts, so no new "raised"): an embedded
            // broker restarts empty, and on a broker that kept them the identical retained message changes nothing.
            republish = engine.activeAlerts();
          }
        } catch (e) {
          node.warn(`stored alert state ignored: ${(e as Error).message}`);
        }
        resolve();
      });
    });

    void ready.then(() => {
      if (!engine || closed) return;
      lastStatus = "";
      updateStatus();
      const e = engine;
      timer = setInterval(() => {
        if (republish.length) {
          const active = new Set(e.activeAlerts().map((a) => a.id));
          const still = republish.filter((a) => active.has(a.id));
          republish = [];
          if (still.length) node.send([alertMessages(root, still), null]);
        }
        emit(e.tick(), (m) => node.send(m));
        if (dirty && Date.now() - lastSave >= SAVE_EVERY_MS) save();
      }, interval);
    });

    const handle = (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
      if (!engine) {
        const now = Date.now();
        if (now - lastConfigErrorAt >= CONFIG_ERROR_EVERY_MS) {
          lastConfigErrorAt = now;
          done(new PlugwatchError("INVALID_REQUEST", `alert node configuration: ${configError?.message ?? "invalid"}`));
        } else done();
        return;
      }
      let data: unknown = msg.payload;
      try {
        data = decodePayload(msg.payload);
      } catch {
        // not JSON: the engine rejects it (reported once per topic)
      }
      if (isListAction(data)) {
        send([null, { ...msg, payload: engine.activeAlerts() }]);
        done();
        return;
      }
      const topic = typeof msg.topic === "string" ? msg.topic : "";
      const parsed = parseDeviceTopic(root, topic);
      const location = parsed ? { building: parsed.building, floor: parsed.floor, room: parsed.room } : undefined;
      const meta: InputMeta = { source: topic || "(no topic)", ...(location && validate(Location, location).ok ? { location } : {}) };
      const stream =
        parsed?.stream ??
        (topic.endsWith("/availability")
          ? "availability"
          : topic.endsWith("/reading")
            ? "reading"
            : data !== null && typeof data === "object" && "online" in data
              ? "availability"
              : "reading");
      const out: EngineOutput = stream === "availability" ? engine.onAvailability(data, meta) : engine.onReading(data, meta);
      emit(out.events, send);
      if (out.accepted) {
        // A rule that cannot use a valid reading (boolean field): a configuration problem, logged once per rule and device.
        for (const w of out.warnings) node.warn(`${w.code}: ${w.message}`);
        dirty = true;
        done();
        return;
      }
      badInputs++;
      updateStatus();
      const warning = out.warnings[0];
      // Reported once per device (until it sends a valid one); repeats are counted in the status only.
      if (warning) done(new PlugwatchError(warning.code, warning.message));
      else done();
    };

    node.on("input", (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
      ready.then(
        () => handle(msg, send, done),
        (err: Error) => done(err),
      );
    });

    node.on("close", (removed: boolean, done: () => void) => {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      // A removed node's context is deleted by Node-RED; otherwise keep the state for the next start.
      if (removed) done();
      else void ready.then(() => save(done));
    });
  }
  RED.nodes.registerType("plugwatch-alert", Alert);
};
