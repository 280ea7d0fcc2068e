// The shared shape of every Plugwatch node: config migration + parsing, config-node lookup, i18n status,
// input → done(err) → Catch, and pending work (promises, timers) freed on close within Node-RED's 15 s.
import type { Node, NodeAPI, NodeCredentials, NodeDef, NodeMessage, NodeMessageInFlow } from "node-red";
import { systemClock, type Clock, type TimerHandle } from "../../lib/clock";
import { asPlugwatchError, PlugwatchError, type ErrorCode } from "../../lib/contracts/errors";
import type { Registry } from "../../lib/registry";
import type { PlugwatchInfluxNode } from "../plugwatch-influx/types";
import type { PlugwatchRegistryNode } from "../plugwatch-registry/types";
import type { PlugwatchTariffNode } from "../plugwatch-tariff/types";
import type { PlugwatchTplinkAccountNode } from "../plugwatch-tplink-account/types";
import type { PlugwatchScheduleNode } from "../plugwatch-schedule/types";
import type { MqttBrokerNode } from "../plugwatch-http-api/types";
import type { PlugwatchMqttNode } from "../plugwatch-mqtt/types";
import { migrate } from "./migrations";
import { RateLimitedLog } from "../../lib/rate-limited-log";
import { StatusReporter, type Translate } from "./status";

/** The config nodes a Plugwatch node may select, by type, and the error code when one is missing. */
export interface ConfigNodes {
  "plugwatch-registry": PlugwatchRegistryNode;
  "plugwatch-influx": PlugwatchInfluxNode;
  "plugwatch-tplink-account": PlugwatchTplinkAccountNode;
  "mqtt-broker": MqttBrokerNode;
  "plugwatch-mqtt": PlugwatchMqttNode;
  "plugwatch-tariff": PlugwatchTariffNode;
  "plugwatch-schedule": PlugwatchScheduleNode;
}
const MISSING: Record<keyof ConfigNodes, ErrorCode> = {
  "plugwatch-registry": "REGISTRY_INVALID",
  "plugwatch-influx": "STORAGE_UNAVAILABLE",
  "plugwatch-tplink-account": "INVALID_REQUEST",
  "mqtt-broker": "INVALID_REQUEST",
  "plugwatch-mqtt": "INVALID_REQUEST",
  "plugwatch-tariff": "TARIFF_INVALID",
  "plugwatch-schedule": "INVALID_SCHEDULE",
};

/** Node-RED waits 15 s for close(); the kit gives pending work this long, then lets go. */
export const CLOSE_GRACE_MS = 10_000;
/** While the configuration is invalid, input errors reach Catch nodes at most once per this period (ms). */
export const CONFIG_ERROR_EVERY_MS = 60_000;

/** A configuration problem found by a node's parse function; `statusKey` overrides the "status.badConfig" text. */
export class ConfigError extends PlugwatchError {
  constructor(
    message: string,
    readonly statusKey?: string,
  ) {
    super("INVALID_REQUEST", message);
    this.name = "ConfigError";
  }
}

/** Runs `fn`; a throw becomes a ConfigError with the translated "errors.config" text (a red "status.badConfig" from setup). */
export function configured<T>(t: Translate, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ConfigError(t("errors.config", { message: err instanceof Error ? err.message : String(err) }));
  }
}

/** What a parse function may use besides the saved config. */
export interface ParseEnv {
  t: Translate;
  userDir: string | undefined;
}

export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type Done = (err?: Error) => void;
export type InputHandler = (msg: NodeMessageInFlow, send: Send, done: Done) => void | Promise<void>;

export interface NodeKit {
  readonly clock: Clock;
  readonly status: StatusReporter;
  readonly userDir: string | undefined;
  /** A value of settings.js (unknown: the caller checks it). */
  setting(name: string): unknown;
  /** How long close waits for pending work, ms. */
  readonly closeGraceMs: number;
  /** True from the start of close (no new work). */
  readonly closing: boolean;
  /** Translates a key of this node's catalogue (`status.ready` → `<type>.status.ready`). */
  t: Translate;
  /** The selected config node of `type`; throws a translated error (with a stable code) when none is. */
  configNode<K extends keyof ConfigNodes>(type: K, id: string | undefined): ConfigNodes[K];
  /** Like configNode, or undefined when none is selected. */
  findConfigNode<K extends keyof ConfigNodes>(type: K, id: string | undefined): ConfigNodes[K] | undefined;
  /** The registry of the selected plugwatch-registry node, loaded now; REGISTRY_INVALID "registry unavailable: …" otherwise. */
  loadRegistry(id: string | undefined): Registry;
  /** Handles inputs; a throw or rejection sets a red status and goes to done(err) → Catch. done() runs once. */
  onInput(handler: InputHandler): void;
  /** Runs on close, before the kit waits for tracked work; `removed` as Node-RED passes it. */
  onClose(fn: (removed: boolean) => unknown): void;
  /** Tracks a promise: close waits for it (at most the grace). */
  track<T>(p: Promise<T>): Promise<T>;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Red status (the error's code or short text) and done(err). */
  fail(err: unknown, done: Done): void;
  /** A warning at most once per minute per key (repeats counted). */
  warnLimited(key: string, text: string): void;
}

export interface DefineOptions<Creds> {
  credentials?: NodeCredentials<Creds>;
  /** Minimum ms between two status events (0: every change is shown). */
  statusEveryMs?: number;
  /** How long close waits for pending work (default CLOSE_GRACE_MS). */
  closeGraceMs?: number;
  clock?: Clock;
}

/** Short status text for an error: its stable code when it has one. */
export function errorText(err: unknown): string {
  if (err instanceof PlugwatchError) return err.code;
  return err instanceof Error ? err.message.slice(0, 30) : String(err).slice(0, 30);
}

/** A translated error text; when the catalogue lacks the key (the text is the key), the detail is kept after it. */
const withDetail = (text: string, key: string, detail: string): string => (text === key ? `${key}: ${detail}` : text);

/**
 * Registers `type`: each instance's saved config is migrated, parsed by `parse`, then handed with a kit to
 * `setup`. A parse error or a throw from setup leaves the node in a red status that rejects its inputs to Catch.
 */
export function defineNode<Def extends NodeDef, Config, Creds extends object = object, N extends Node<Creds> = Node<Creds>>(
  RED: NodeAPI,
  type: string,
  parse: (def: Def, env: ParseEnv) => Config,
  setup: (node: N, config: Config, kit: NodeKit) => void,
  options: DefineOptions<Creds> = {},
): void {
  function PlugwatchNode(this: N, def: Def) {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED constructs a node as `this`; the closures below share it
    const node = this;
    const clock = options.clock ?? systemClock;
    const t: Translate = (key, subs) => RED._(`${type}.${key}`, subs);
    const setting = (name: string): unknown => Reflect.get(RED.settings, name);
    const dir = setting("userDir");
    const userDir = typeof dir === "string" ? dir : undefined;
    const reporter = new StatusReporter((s) => node.status(s), t, clock, options.statusEveryMs ?? 0);
    const warnings = new RateLimitedLog(
      (m) => node.warn(m),
      60_000,
      () => clock.now(),
    );
    const pending = new Set<Promise<unknown>>();
    const timers = new Set<TimerHandle>();
    const closers: ((removed: boolean) => unknown)[] = [];
    let input: InputHandler | undefined;
    let closing = false;
    let closed = false;

    const fail = (err: unknown, done: Done): void => {
      reporter.text("error", errorText(err));
      done(err instanceof Error ? err : new Error(String(err)));
    };
    const configNode = <K extends keyof ConfigNodes>(kind: K, id: string | undefined): ConfigNodes[K] | undefined => {
      const found = id ? RED.nodes.getNode(id) : null;
      return found && found.type === kind ? (found as ConfigNodes[K]) : undefined;
    };
    const kit: NodeKit = {
      clock,
      status: reporter,
      userDir,
      setting,
      closeGraceMs: options.closeGraceMs ?? CLOSE_GRACE_MS,
      get closing() {
        return closing;
      },
      t,
      findConfigNode: configNode,
      configNode: (kind, id) => {
        const found = configNode(kind, id);
        if (!found) throw new PlugwatchError(MISSING[kind], t("errors.noConfigNode", { type: kind }));
        return found;
      },
      loadRegistry: (id) => {
        try {
          return kit.configNode("plugwatch-registry", id).require();
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          throw new PlugwatchError("REGISTRY_INVALID", withDetail(t("errors.registry", { message }), `${type}.errors.registry`, message));
        }
      },
      onInput: (handler) => {
        input = handler;
      },
      onClose: (fn) => closers.push(fn),
      track: (p) => {
        pending.add(p);
        const forget = () => pending.delete(p);
        p.then(forget, forget);
        return p;
      },
      setTimeout: (fn, ms) => {
        const h = clock.setTimeout(() => {
          timers.delete(h);
          fn();
        }, ms);
        timers.add(h);
        return h;
      },
      setInterval: (fn, ms) => {
        const h = clock.setInterval(fn, ms);
        timers.add(h);
        return h;
      },
      clearTimer: (h) => {
        timers.delete(h);
        clock.clearTimeout(h);
        clock.clearInterval(h);
      },
      fail,
      warnLimited: (key, text) => warnings.write(key, text),
    };

    let broken: PlugwatchError | undefined;
    try {
      const config = parse(migrate(type, def) as Def, { t, userDir });
      try {
        setup(node, config, kit);
      } catch (err) {
        broken = asPlugwatchError(err);
        node.error(broken.message);
        if (err instanceof ConfigError) reporter.show("error", err.statusKey ?? "status.badConfig");
        else reporter.text("error", errorText(broken));
      }
    } catch (err) {
      const e = asPlugwatchError(err, "INVALID_REQUEST");
      broken = new PlugwatchError(e.code, withDetail(t("errors.config", { message: e.message }), `${type}.errors.config`, e.message), e.details);
      node.error(broken.message);
      reporter.show("error", err instanceof ConfigError && err.statusKey ? err.statusKey : "status.badConfig");
    }

    let lastConfigErrorAt = -Infinity;
    node.on("input", (msg: NodeMessageInFlow, send: Send, done: Done) => {
      let finished = false;
      const once: Done = (err) => {
        // After close, late work completes into nothing: no done on a closed node.
        if (finished || closed) return;
        finished = true;
        done(err);
      };
      if (broken || !input) {
        // An invalid node answers every input, but Catch nodes hear about it once a minute, not per message.
        const now = clock.now();
        if (now - lastConfigErrorAt < CONFIG_ERROR_EVERY_MS) return once();
        lastConfigErrorAt = now;
        return once(broken ?? new PlugwatchError("INTERNAL", t("errors.config", { message: "no input handler" })));
      }
      // After close, late work completes into nothing: no send on a closed node.
      const guardedSend: Send = (m) => {
        if (!closed) send(m);
      };
      try {
        const r = input(msg, guardedSend, once);
        if (r) void kit.track(r.catch((err: unknown) => (closed ? once() : fail(err, once))));
      } catch (err) {
        fail(err, once);
      }
    });

    node.on("close", (removed: boolean, done: () => void) => {
      closing = true;
      for (const h of timers) kit.clearTimer(h);
      const grace = kit.closeGraceMs;
      const work = Promise.allSettled(closers.map((fn) => Promise.resolve().then(() => fn(removed)))).then(() => Promise.allSettled([...pending]));
      let expired = false;
      let timer: TimerHandle;
      const deadline = new Promise<void>((resolve) => {
        timer = clock.setTimeout(() => {
          expired = true;
          resolve();
        }, grace);
      });
      void Promise.race([work, deadline]).then(() => {
        clock.clearTimeout(timer);
        if (expired) node.warn(t("errors.closeTimeout", { ms: grace }));
        closed = true;
        reporter.clear();
        reporter.stop();
        for (const h of timers) kit.clearTimer(h);
        done();
      });
    });
  }
  RED.nodes.registerType<N, Def, object, Creds>(type, PlugwatchNode, options.credentials ? { credentials: options.credentials } : undefined);
}
