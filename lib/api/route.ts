// The API's one route handler: settings.js httpNodeMiddleware first, then the API; body-parser failures answered as problems.
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { HttpHandler } from "./http";

/** httpNodeMiddleware as settings.js may give it: one handler, a list, or nothing. */
export function middlewareList(extra: unknown): RequestHandler[] {
  if (typeof extra === "function") return [extra as RequestHandler];
  return Array.isArray(extra) ? extra.filter((m): m is RequestHandler => typeof m === "function") : [];
}

const PARSE_ERRORS = new Set(["entity.parse.failed", "entity.too.large", "encoding.unsupported"]);

/**
 * Runs `middleware` in order, then `api`. When the editor shares the server (httpAdminRoot = httpNodeRoot), the
 * admin app's JSON body parser runs first and hands a malformed body to express as an error: it is answered as a
 * problem (400/413), not as an HTML page.
 */
export function apiRoute(api: HttpHandler, middleware: readonly RequestHandler[]): (req: Request, res: Response, next: NextFunction) => void {
  const parseErrors = (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    const e = err as { type?: string; message?: string } | undefined;
    if (e?.type && PARSE_ERRORS.has(e.type)) {
      api.reject(req, res, e.type === "entity.too.large" ? "PAYLOAD_TOO_LARGE" : "INVALID_REQUEST", String(e.message)).catch((x: unknown) => next(x));
      return;
    }
    next(err);
  };
  return (req, res, next) => {
    let i = 0;
    const step = (err?: unknown): void => {
      if (err) return parseErrors(err, req, res, next);
      const mw = middleware[i++];
      if (mw) return void mw(req, res, step);
      api(req, res).catch((e: unknown) => parseErrors(e, req, res, next));
    };
    step();
  };
}
