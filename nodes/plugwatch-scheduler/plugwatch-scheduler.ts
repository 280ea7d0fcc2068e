// plugwatch-scheduler: glue between MQTT messages and lib/schedule/service.ts (readings, audit, API requests in; commands and replies out).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { NodeAPI } from "node-red";
import { replyTopicGuardFromSettings } from "../../lib/contracts/reply-topic";
import { ScheduleService, type OutMessage } from "../../lib/schedule/service";
import type { PriceFn } from "../../lib/schedule/savings";
import { tariffPrice } from "../../lib/schedule/tariff-price";
import { jsonFile, ScheduleStore } from "../../lib/schedule/store";
import { ConfigError, defineNode } from "../shared/kit";
import { clockTime, parseSchedulerConfig } from "./config";

export = (RED: NodeAPI) =>
  defineNode(RED, "plugwatch-scheduler", parseSchedulerConfig, (node, config, kit) => {
    const src = kit.configNode("plugwatch-schedule", config.schedule).scheduleSource;
    const registry = () => kit.configNode("plugwatch-registry", config.registry).require();
    // With clock "input", time only moves with msg.topic "clock" messages (a simulated day runs in seconds).
    let inputNow = kit.clock.now();
    const clock = config.clock === "input" ? { now: () => inputNow } : kit.clock;
    let guard;
    try {
      guard = replyTopicGuardFromSettings({ plugwatch: kit.setting("plugwatch") }, config.root);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
    // Savings priced with the tariff's periods, the schedule's holidays joined to the tariff's (lib/schedule/tariff-price.ts).
    const tariffNode = config.tariff ? kit.configNode("plugwatch-tariff", config.tariff) : undefined;
    const book = tariffNode?.book;
    const price: PriceFn | undefined = book
      ? tariffPrice(
          book,
          (b) => registry().timeZoneOf(b),
          // the schedule's calendar as it stands when a stretch is priced (a PUT may replace it)
          (d: string): boolean => service.engine.calendar.isHoliday(d),
        )
      : undefined;
    const savingsFile = path.join(kit.userDir ?? process.cwd(), `plugwatch-savings-${node.id.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`);
    const service: ScheduleService = new ScheduleService({
      root: config.root,
      registry,
      store: new ScheduleStore(src),
      clock,
      guard,
      readFile: (f) => readFileSync(f, "utf8"),
      baseDir: kit.userDir,
      savingsStore: jsonFile(savingsFile, (m) => kit.warnLimited("savings", m)),
      ...(price ? { price } : {}),
    });
    let sent = 0;
    const ready = (): void => kit.status.show("ok", "status.ready", { ...service.counts, sent });
    const publish = (out: OutMessage[], send = (m: OutMessage[]) => node.send([m])): void => {
      if (!out.length) return;
      sent += out.filter((m) => m.topic.endsWith("/api/request/command")).length;
      send(out);
      ready();
    };
    ready();
    if (config.clock === "system") kit.setInterval(() => publish(service.tick()), config.tickMs);

    kit.onInput((msg, send, done) => {
      if (msg.topic === "clock" && config.clock === "input") {
        inputNow = clockTime(msg.payload);
        publish(service.tick(), (m) => send([m]));
        return done();
      }
      const r = service.input(msg.topic, msg.payload);
      if (r.warning) kit.warnLimited(r.warning.key, r.warning.text);
      publish(r.out, (m) => send([m]));
      if (r.kind === "request") ready();
      done();
    });
  });
