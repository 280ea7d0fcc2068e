// A routing indirection we own: one permanent dispatcher per path on RED.httpNode, pointing at the live handler.
// Express has no public way to remove a middleware layer; instead of editing its private router stack, the
// dispatcher is mounted once per runtime and path, and a node's close() only unplugs its handler (next() then).
import type { NextFunction, Request, Response } from "express";
import type { Node } from "node-red";
import type { NodeKit } from "./kit";

export type HttpHandler = (req: Request, res: Response, next: NextFunction) => void;
export interface HttpApp {
  use(path: string, ...handlers: HttpHandler[]): unknown;
}

interface Slot<H> {
  handler?: H;
}

const slots = new WeakMap<HttpApp, Map<string, Slot<HttpHandler>>>();

/** The slot for (app, path), mounting its dispatcher the first time. */
function slotFor<H>(table: WeakMap<HttpApp, Map<string, Slot<H>>>, app: HttpApp, path: string, dispatcher: (slot: Slot<H>) => HttpHandler): Slot<H> {
  let byPath = table.get(app);
  if (!byPath) {
    byPath = new Map();
    table.set(app, byPath);
  }
  let slot = byPath.get(path);
  if (!slot) {
    slot = {};
    byPath.set(path, slot);
    app.use(path, dispatcher(slot));
  }
  return slot;
}

/** Plugs `handler` into `slot`; the returned function unplugs it (only if it is still the live one). */
function plug<H>(slot: Slot<H>, path: string, handler: H): () => void {
  if (slot.handler) throw new Error(`path ${path} is already served by another node`);
  slot.handler = handler;
  return () => {
    if (slot.handler === handler) delete slot.handler;
  };
}

/**
 * Serves `handler` under `path` of `app` until the returned function is called. A second live handler on the
 * same path is refused (two nodes cannot both own a path); a handler plugged in after a close reuses the
 * dispatcher mounted the first time, so redeploys add no layers.
 */
export function mountHandler(app: HttpApp, path: string, handler: HttpHandler): () => void {
  const slot = slotFor(slots, app, path, (own) => (req: Request, res: Response, next: NextFunction) => {
    const live = own.handler;
    if (live) live(req, res, next);
    else next();
  });
  return plug(slot, path, handler);
}

/**
 * mountHandler for a node: a refused mount (the path is served by another node) is logged as `errors.config` with a
 * red "status.badConfig", and undefined is returned instead of the unplug function.
 */
export function serveRoute(
  app: HttpApp,
  path: string,
  handler: HttpHandler,
  node: Pick<Node, "error">,
  kit: Pick<NodeKit, "t" | "status">,
): (() => void) | undefined {
  try {
    return mountHandler(app, path, handler);
  } catch (err) {
    node.error(kit.t("errors.config", { message: err instanceof Error ? err.message : String(err) }));
    kit.status.show("error", "status.badConfig");
    return undefined;
  }
}
