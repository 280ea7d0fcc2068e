// InfluxDB connection settings for the three API flavours, and the exact HTTP requests each flavour needs.
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
  method: "GET" | "POST";
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
