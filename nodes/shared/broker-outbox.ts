// A durable outbox (lib/outbox.ts) that publishes through an mqtt-broker config node: messages sent before the outbox is open are kept in order.
import type { Node } from "node-red";
import { Outbox, type OutboxMessage } from "../../lib/outbox";
import { brokerUser, outboxPort } from "./broker";
import type { NodeKit } from "./kit";

/** A full or failing outbox is reported at most once per this period (ms). */
export const OUTBOX_WARN_EVERY_MS = 60_000;

export interface BrokerOutbox {
  send(m: OutboxMessage): void;
  /** Closes the outbox (its disk files stay for the next start) and leaves the broker node. */
  close(removed: boolean): Promise<void>;
}

/**
 * Opens the outbox in `o.dir` on the broker node `o.broker` (undefined when none is selected): published directly while
 * connected, kept on disk in order while the connection is down, replayed after every (re)connect.
 */
export function openBrokerOutbox(node: Node, kit: NodeKit, o: { broker: string; dir: string; maxBytes: number }): BrokerOutbox | undefined {
  const broker = kit.findConfigNode("mqtt-broker", o.broker);
  if (!broker) return undefined;
  const early: OutboxMessage[] = [];
  let box: Outbox | undefined;
  let lastFull = -Infinity;
  const send = (m: OutboxMessage): void => {
    if (!box) return void early.push(m);
    box.send(m).catch((err: Error) => {
      if (kit.clock.now() - lastFull < OUTBOX_WARN_EVERY_MS) return;
      lastFull = kit.clock.now();
      node.warn(kit.t("errors.outbox", { message: err.message }));
    });
  };
  const user = brokerUser(broker, `${node.id}:outbox`, () => void box?.resume());
  const opening = kit.track(
    Outbox.open({ dir: o.dir, maxBytes: o.maxBytes, flushMs: 0, port: outboxPort(broker), log: (m) => node.log(m) }).then((b) => {
      box = b;
      for (const m of early.splice(0)) send(m);
      if (broker.connected) void b.resume();
    }),
  );
  return {
    send,
    close: async (removed) => {
      await opening.catch(() => undefined);
      await box?.close();
      await user.release(removed);
    },
  };
}
