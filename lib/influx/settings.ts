// InfluxDB connection settings for the three API flavours, and the exact HTTP requests each flavour needs.
import { readFileSync } from "node:fs";
import * as path from "node:path";
export const INFLUX_FLAVOURS = ["1.x", "2.x", "3.x"] as const;
export type InfluxFlavour = (typeof INFLUX_FLAVOURS)[number];

export interface InfluxSettings {
  /** Base URL, e.g. http://127.0.0.1:8086 (no trailing slash needed). */
  url: string;
  flavour: InfluxFlavour;
  /** 1.x and 3.x: database name. 2.x: the database name mapped (DBRP) to the bucket, used by /query. */
  database: string;
  /** 1.x: retention policy ('' = default). */
  retentionPolicy?: string;
  /** 2.x: organisation and bucket. */
  org?: string;
  bucket?: string;
  /** 1.x: user and password (sent as HTTP Basic auth). */
  username?: string;
  password?: string;
  /** 2.x and 3.x: API token. */
  token?: string;
  /** Per-request timeout in ms. */
  timeoutMs: number;
  /** Compress write bodies with gzip. */
  gzip: boolean;
  tls: { rejectUnauthorized: boolean; ca?: string };
}

export const DEFAULT_SETTINGS: Omit<InfluxSettings, "url" | "database"> = {
  flavour: "1.x",
  timeoutMs: 10_000,
  gzip: true,
  tls: { rejectUnauthorized: true },
};

/** One HTTP request, described independently of how it is sent (so tests can assert it exactly). */
export interface HttpRequestSpec {
  method: "GET" | "POST" | "PATCH";
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
}

function authHeaders(s: InfluxSettings): Record<string, string> {
  if (s.flavour === "1.x") {
    if (!s.username) return {};
    const basic = Buffer.from(`${s.username}:${s.password ?? ""}`).toString("base64");
    return { Authorization: `Basic ${basic}` };
  }
  if (!s.token) return {};
  return { Authorization: s.flavour === "2.x" ? `Token ${s.token}` : `Bearer ${s.token}` };
}

/** The write request for a batch of line protocol with millisecond timestamps. */
export function writeRequest(s: InfluxSettings): HttpRequestSpec {
  const headers: Record<string, string> = { "Content-Type": "text/plain; charset=utf-8", ...authHeaders(s) };
  if (s.gzip) headers["Content-Encoding"] = "gzip";
  switch (s.flavour) {
    case "1.x": {
      const query: Record<string, string> = { db: s.database, precision: "ms" };
      if (s.retentionPolicy) query.rp = s.retentionPolicy;
      return { method: "POST", path: "/write", query, headers };
    }
    case "2.x":
      return { method: "POST", path: "/api/v2/write", query: { org: s.org ?? "", bucket: s.bucket ?? "", precision: "ms" }, headers };
    case "3.x":
      return { method: "POST", path: "/api/v3/write_lp", query: { db: s.database, precision: "millisecond" }, headers };
  }
}

/**
 * The InfluxQL query request. All flavours use the 1.x-compatible /query endpoint (2.x needs a DBRP mapping
 * for `database`; 3.x serves it natively). The query text is built only from whitelisted parts, and client
 * values travel separately as bound parameters (`params`, JSON) — never spliced into the text.
 */
export function queryRequest(s: InfluxSettings, q: string, params?: Record<string, string | number | boolean>): HttpRequestSpec {
  const query: Record<string, string> = { db: s.database, q, epoch: "ms" };
  if (s.flavour === "1.x" && s.retentionPolicy) query.rp = s.retentionPolicy;
  if (params && Object.keys(params).length) query.params = JSON.stringify(params);
  return { method: "POST", path: "/query", query, headers: { ...authHeaders(s) } };
}

/** Raw config-node values as the editor saves them (strings/booleans, credentials merged in). */
export interface InfluxConfigInput {
  url?: unknown;
  flavour?: unknown;
  database?: unknown;
  retentionPolicy?: unknown;
  org?: unknown;
  bucket?: unknown;
  timeout?: unknown;
  gzip?: unknown;
  rejectUnauthorized?: unknown;
  caFile?: unknown;
  username?: unknown;
  password?: unknown;
  token?: unknown;
}

/**
 * The URL as it may appear in messages (logs, MQTT replies, HTTP 503 bodies): its origin only, never a
 * user:password, path or query. A string that does not parse is shown with anything before an '@' masked.
 */
export function displayUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url.replace(/\/\/[^/]*@/, "//***@").replace(/[?#].*$/, "");
  }
}

const str = (v: unknown): string => (typeof v === "string" ? v.trim() : typeof v === "number" ? String(v) : "");

/**
 * Validates editor config into InfluxSettings; throws an Error naming the bad field. `caFile` is read here
 * (relative paths are resolved against `baseDir`, the Node-RED user directory).
 */
export function influxSettingsFromConfig(
  c: InfluxConfigInput,
  baseDir?: string,
  readFile: (p: string) => string = (p) => readFileSync(p, "utf8"),
): InfluxSettings {
  const problems: string[] = [];
  const url = str(c.url);
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") problems.push(`url: must be http:// or https:// (got '${displayUrl(url)}')`);
    // user:password in the URL would be shown wherever the URL is, and is never used for auth.
    else if (u.username || u.password)
      problems.push(
        `url: must not contain a user name or password (got '${displayUrl(url)}'); enter them in the Username/Password fields (1.x) or the Token field (2.x, 3.x)`,
      );
  } catch {
    problems.push(`url: '${displayUrl(url)}' is not a valid URL`);
  }
  const flavour = (str(c.flavour) || "1.x") as InfluxFlavour;
  if (!INFLUX_FLAVOURS.includes(flavour)) problems.push(`flavour: must be one of ${INFLUX_FLAVOURS.join(", ")} (got '${flavour}')`);
  const database = str(c.database);
  const org = str(c.org);
  const bucket = str(c.bucket);
  if (flavour !== "2.x" && !database) problems.push("database: required for InfluxDB " + flavour);
  if (flavour === "2.x" && !org) problems.push("org: required for InfluxDB 2.x");
  if (flavour === "2.x" && !bucket) problems.push("bucket: required for InfluxDB 2.x");
  const timeoutRaw = c.timeout === undefined || c.timeout === "" ? DEFAULT_SETTINGS.timeoutMs : Number(c.timeout);
  if (!Number.isInteger(timeoutRaw) || timeoutRaw < 100 || timeoutRaw > 600_000)
    problems.push(`timeout: must be an integer between 100 and 600000 ms (got '${str(c.timeout)}')`);
  let ca: string | undefined;
  const caFile = str(c.caFile);
  if (caFile) {
    const p = baseDir && !path.isAbsolute(caFile) ? path.join(baseDir, caFile) : caFile;
    try {
      ca = readFile(p);
    } catch (err) {
      problems.push(`caFile: cannot read '${p}': ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new Error(`invalid InfluxDB configuration: ${problems.join("; ")}`);
  const s: InfluxSettings = {
    url: url.replace(/\/+$/, ""),
    flavour,
    database: database || bucket,
    timeoutMs: timeoutRaw,
    gzip: c.gzip === undefined ? DEFAULT_SETTINGS.gzip : c.gzip === true || c.gzip === "true",
    tls: { rejectUnauthorized: !(c.rejectUnauthorized === false || c.rejectUnauthorized === "false") },
  };
  if (ca) s.tls.ca = ca;
  const rp = str(c.retentionPolicy);
  if (flavour === "1.x" && rp) s.retentionPolicy = rp;
  if (flavour === "2.x") {
    s.org = org;
    s.bucket = bucket;
  }
  const username = str(c.username);
  if (flavour === "1.x" && username) {
    s.username = username;
    s.password = typeof c.password === "string" ? c.password : "";
  }
  const token = typeof c.token === "string" ? c.token.trim() : "";
  if (flavour !== "1.x" && token) s.token = token;
  return s;
}
