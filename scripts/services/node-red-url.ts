// Where the demo's Node-RED answers, read from the same variables settings.js reads: its scheme (https when
// PLUGWATCH_HTTPS_KEY is set), its listen address (PLUGWATCH_HOST; a wildcard is reached on loopback) and PORT.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** The base URL start.ts probes and prints, e.g. `https://127.0.0.1:1880` or `http://[::1]:1880`. */
export function nodeRedBase(env: Readonly<Record<string, string | undefined>>): string {
  const host = env.PLUGWATCH_HOST || "127.0.0.1";
  const reach = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const scheme = env.PLUGWATCH_HTTPS_KEY ? "https" : "http";
  return `${scheme}://${reach.includes(":") ? `[${reach}]` : reach}:${env.PORT || "1880"}`;
}

/**
 * The HTTP status of GET `url` (a liveness probe of our own child process), or undefined when nothing answers
 * within `timeoutMs`. Over HTTPS the certificate is not checked: the probe sends no credentials and reads nothing
 * but the status, and the demo's certificate may come from a private CA this process was not given.
 */
export function probeStatus(url: string, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, { method: "GET", timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}
