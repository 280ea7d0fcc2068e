// One key of a node's context as promises: load() and save(), in a named store when settings.js defines it.
import type { Node } from "node-red";

export interface ContextSlot {
  load(): Promise<unknown>;
  save(value: unknown): Promise<void>;
}

/** `key` of `node`'s context in `store` (undefined: the default store). */
export function contextSlot(node: Node, key: string, store: string | undefined): ContextSlot {
  const context = node.context();
  return {
    load: () => new Promise((resolve, reject) => context.get(key, store, (err: Error | undefined, value: unknown) => (err ? reject(err) : resolve(value)))),
    save: (value) => new Promise((resolve, reject) => context.set(key, value, store, (err?: Error) => (err ? reject(err) : resolve()))),
  };
}

/** `name` when settings.js `contextStorage` (passed as `stores`) defines a store so named, else undefined (the default store). */
export function namedStore(stores: unknown, name: string): string | undefined {
  return stores !== null && typeof stores === "object" && name in stores ? name : undefined;
}
